"""Fixtures of the smoke-test suite: the root directory under test and the
expectations of ``smoke_tests.json`` (edit the data, not the tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import rootfs

SUITE_DIR = Path(__file__).resolve().parent


def load_expectations() -> dict[str, Any]:
    path = Path(os.environ.get("SMOKE_TEST_CONFIG") or SUITE_DIR / "smoke_tests.json")
    return json.loads(path.read_text(encoding="utf-8"))


EXPECTATIONS = load_expectations()


def expected(name: str, default: Any) -> Any:
    """One section of the expectations (collection-time: parametrizes tests)."""
    return EXPECTATIONS.get(name, default)


@pytest.fixture(scope="session")
def root() -> Path:
    path = rootfs.root_directory()
    if not path.is_dir():
        pytest.fail(f"SMOKE_TEST_ROOT {path} is not a directory")
    return path
