"""Fixtures for the browser tests: the Chromium binary and a timeline page served on loopback.

Without Chromium the tests are skipped on a workstation but fail in CI
(``CI=true``), where a missing browser means a broken pipeline, not an
optional extra.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.chromium import find_chromium, serve_directory
from tests.browser.sample import completed_build_page

PAGE_NAME = "timeline.html"


@pytest.fixture(scope="session")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        reason = "headless Chromium is not installed (/usr/bin/chromium); install it with: apt-get install -y chromium"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason} (CI=true: the browser tests must run)")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="module")
def served_timeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """URL of the completed-build timeline page (hostile values included) and the paths requested so far."""
    folder: Path = tmp_path_factory.mktemp("timeline-page")
    (folder / PAGE_NAME).write_text(completed_build_page(hostile=True), encoding="utf-8")
    with serve_directory(folder) as (base_url, requested):
        yield f"{base_url}/{PAGE_NAME}", requested
