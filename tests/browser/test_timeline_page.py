"""The timeline page as a person sees it in a real browser (headless Chromium).

The page of a lifecycle whose build just completed is served over HTTP on
loopback; Chromium loads it, and the tests read the DOM it built and the
picture it took. The product name and one event property hold markup an
attacker could have sent: it must show up as text and never become an
element.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import DomReader, dump_dom, png_dimensions, read_dom, screenshot
from tests.browser.sample import BUILT_AMI, HOSTILE_PRODUCT_NAME, HOSTILE_PROPERTY, LIFECYCLE_ID, SEMVER

pytestmark = pytest.mark.browser

LAPTOP_WIDTH, LAPTOP_HEIGHT = 1366, 900


@pytest.fixture(scope="module")
def dom(chromium: str, served_timeline: tuple[str, list[str]]) -> DomReader:
    url, _requested = served_timeline
    return read_dom(dump_dom(chromium, url))


@pytest.fixture(scope="module")
def picture(chromium: str, served_timeline: tuple[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    url, _requested = served_timeline
    return screenshot(chromium, url, tmp_path_factory.mktemp("shot") / "timeline.png",
                      width=LAPTOP_WIDTH, height=LAPTOP_HEIGHT)


def test_page_shows_the_lifecycle_id(dom: DomReader):
    assert LIFECYCLE_ID in dom.text


def test_page_shows_the_build_event_completed(dom: DomReader):
    assert "AMI Build and Creation BUILD AMI COMPLETED" in dom.text.replace("Status: ", "")


def test_page_shows_the_built_ami_id(dom: DomReader):
    assert BUILT_AMI in dom.text


def test_page_shows_the_semantic_version_and_its_standing(dom: DomReader):
    assert f"{SEMVER} (equal to StackTag version)" in dom.text


def test_hostile_product_name_is_visible_as_text(dom: DomReader):
    assert HOSTILE_PRODUCT_NAME in dom.text


def test_hostile_event_property_is_visible_as_text(dom: DomReader):
    assert HOSTILE_PROPERTY in dom.text


def test_no_script_or_image_element_exists(dom: DomReader):
    assert not {"script", "img", "iframe", "object", "embed"} & set(dom.elements)


def test_page_fetches_nothing_but_itself(dom: DomReader, served_timeline: tuple[str, list[str]]):
    _url, requested = served_timeline

    assert set(requested) == {"/timeline.html"}


def test_screenshot_is_a_laptop_sized_png(picture: Path):
    assert png_dimensions(picture) == (LAPTOP_WIDTH, LAPTOP_HEIGHT)


def test_screenshot_is_not_blank(picture: Path):
    # A blank 1366x900 PNG compresses to a few kilobytes; the styled page is tens of kilobytes.
    assert picture.stat().st_size > 30_000
