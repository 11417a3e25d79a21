"""Regenerate the documentation screenshot of the timeline page.

    python -m tests.browser.screenshot [--output docs/images/timeline.png]

Renders the completed-build sample page (without hostile values), serves it
on loopback and has headless Chromium photograph it at 1366x900, the size
of a laptop screen.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.browser.chromium import find_chromium, png_dimensions, screenshot, serve_directory
from tests.browser.sample import completed_build_page

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = PROJECT_ROOT / "docs" / "images" / "timeline.png"


def write_screenshot(output: Path, *, hostile: bool = False, width: int = 1366, height: int = 900) -> Path:
    """Photograph the sample timeline page into ``output``."""
    binary = find_chromium()
    if binary is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="timeline-page-") as folder:
        (Path(folder) / "timeline.html").write_text(completed_build_page(hostile=hostile), encoding="utf-8")
        with serve_directory(Path(folder)) as (base_url, _requested):
            return screenshot(binary, f"{base_url}/timeline.html", output, width=width, height=height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="PNG file to write")
    arguments = parser.parse_args(argv)
    written = write_screenshot(arguments.output)
    width, height = png_dimensions(written)
    print(f"wrote {written} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
