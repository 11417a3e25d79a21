"""Waiting for something the local cloud does in the background."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest


def eventually(probe: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05,
               what: str = "the condition") -> Any:
    """Call ``probe`` until it returns something truthy, and return that;
    fail the test if ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(interval)
