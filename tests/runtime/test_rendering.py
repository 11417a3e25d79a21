"""Rendering: the timeline page and the plain-text notification bodies.

Records are built with the domain's own functions at several stages of a
lifecycle (nothing done, build running, build completed, build failed), so
these tests show what a reader sees at each stage.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

# The Lambda package is imported as the Lambda runtime imports it: ``orchestrator``.
RUNTIME_ROOT = Path(__file__).resolve().parents[2] / "stacks" / "amilifecycle" / "runtime"
if str(RUNTIME_ROOT) not in sys.path:
    sys.path.insert(0, str(RUNTIME_ROOT))

from orchestrator import rendering  # noqa: E402
from orchestrator.domain import records  # noqa: E402
from orchestrator.domain.errors import Conflict  # noqa: E402
from orchestrator.domain.notifications import (NotificationKind, NotificationMessage, error_notification,  # noqa: E402
                                               event_notification, info_notification)
from orchestrator.domain.results import EventError  # noqa: E402
from orchestrator.domain.timeline import build_timeline  # noqa: E402
from orchestrator.domain.vocabulary import EventName, LifecycleType, Operator, Status  # noqa: E402
from orchestrator.rendering import RenderingError, render_notification, render_timeline  # noqa: E402

from tests.unit.domain_builders import (BUILT_AMI, LIFECYCLE_ID, NOW, ami, completed, later,  # noqa: E402
                                        new_record, result)

CREATION = LifecycleType.AMI_CREATION
RENDERED_AT = datetime(2026, 11, 23, 10, 30, 0, tzinfo=timezone.utc)
SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src="x" onerror="alert(1)">'


# --------------------------------------------------------------------------- helpers

class Page(HTMLParser):
    """Elements, attributes and text of a rendered page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._chunks: list[str] = []
        self._skip = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self._chunks).split())

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def meta(self, http_equiv: str) -> str | None:
        for attrs in self.all("meta"):
            if (attrs.get("http-equiv") or "").lower() == http_equiv.lower():
                return attrs.get("content")
        return None

    def classes(self, tag: str) -> list[str]:
        return [attrs.get("class") or "" for attrs in self.all(tag)]


def page_of(record, lifecycle_type=CREATION, *, stack_tag_semver="1.0.0", **options) -> str:
    view = build_timeline(record, lifecycle_type, stack_tag_semver=stack_tag_semver)
    return render_timeline(view, rendered_at=RENDERED_AT, **options)


def building(**overrides):
    record = new_record(**overrides)
    return records.mark_event_in_progress(record, EventName.BUILD_AMI, NOW, description="Build the AMI",
                                          properties={"product_name": record["product_name"]})


def build_failed(message: str = "Image Builder: image status FAILED (component os-hardening exited 1)"):
    error = EventError(LIFECYCLE_ID, Status.ERROR, "2026-11-23T10:09:00Z", message, "Traceback ...")
    return records.record_event_error(building(), error, later(9))


def built_with(properties, **overrides):
    outcome = result(EventName.BUILD_AMI, minutes=4, properties=properties, commit_ref="3f9c2ab")
    return records.record_event_result(building(**overrides), outcome, later(4))


def badges(html: str) -> list[str]:
    return [cls for cls in Page(html).classes("span") if cls.startswith("badge ")]


# --------------------------------------------------------------------------- page basics

def test_title_names_the_creation_phase_and_the_lifecycle():
    page = Page(page_of(new_record()))

    assert f"AMI Creation Timeline - {LIFECYCLE_ID}" in page.text


def test_document_title_matches_the_heading():
    html = page_of(new_record())

    assert f"<title>AMI Creation Timeline - {LIFECYCLE_ID}</title>" in html


def test_patch_page_is_titled_as_a_patch_timeline():
    html = page_of(completed(new_record(), "BUILD_AMI"), LifecycleType.AMI_PATCH)

    assert f"<title>AMI Patch Timeline - {LIFECYCLE_ID}</title>" in html


def test_page_is_built_from_header_main_and_an_ordered_list_of_events():
    page = Page(page_of(new_record()))

    assert page.all("header") and page.all("main")
    assert page.classes("ol") == ["timeline"]
    assert len([cls for cls in page.classes("li") if cls.startswith("event ")]) == 6


def test_header_table_lists_every_summary_field():
    text = Page(page_of(new_record())).text

    for label in ("Lifecycle Id", "Stack Tag", "Last Completed Event", "Event In Progress", "Product Name",
                  "Product Version", "Commit Ref", "Lifecycle AMI Semantic Version", "Stack Tag AMI Semantic Version"):
        assert label in text


def test_page_says_when_it_was_rendered():
    assert "Rendered 2026-11-23 10:30:00 UTC" in Page(page_of(new_record())).text


# --------------------------------------------------------------------------- stages

def test_nothing_done_shows_every_event_not_started():
    html = page_of(new_record())

    assert badges(html) == ["badge badge--idle"] * 6
    assert Page(html).text.count("NOT STARTED") == 6


def test_nothing_done_says_the_version_awaits_the_build():
    assert "Awaiting BUILD_AMI event completion" in Page(page_of(new_record())).text


def test_running_build_shows_its_panel_in_progress():
    html = page_of(building())

    assert badges(html)[0] == "badge badge--running"
    assert "EVENT IN PROGRESS" in Page(html).text


def test_running_build_is_named_in_the_header():
    assert "BUILD_AMI (IN PROGRESS - check event for more details)" in Page(page_of(building())).text


def test_completed_build_shows_its_panel_completed():
    html = page_of(completed(new_record(), "BUILD_AMI"))

    assert badges(html)[:2] == ["badge badge--success", "badge badge--idle"]
    assert "BUILD AMI COMPLETED" in Page(html).text.replace("Status: ", "")


def test_completed_build_shows_the_ami_id():
    assert BUILT_AMI in Page(page_of(completed(new_record(), "BUILD_AMI"))).text


def test_completed_build_lays_the_ami_details_out_as_a_table():
    html = page_of(completed(new_record(), "BUILD_AMI"))

    for column in ("Region", "Image", "Name", "Account ID", "AMI semver"):
        assert f'<th scope="col">{column}</th>' in html


def test_completed_build_hides_the_ami_description():
    assert "built by Image Builder" not in page_of(completed(new_record(), "BUILD_AMI"))


def test_failed_build_shows_an_error_badge_and_the_cause():
    html = page_of(build_failed("pipeline failed: component os-hardening exited 1"))

    assert badges(html)[0] == "badge badge--error"
    assert "EVENT IN PROGRESS WITH ERROR" in Page(html).text
    assert "Error: pipeline failed: component os-hardening exited 1" in Page(html).text


def test_failed_build_is_flagged_in_the_header():
    assert "BUILD_AMI (ERROR - check event for more details)" in Page(page_of(build_failed())).text


@pytest.mark.parametrize(("stack_tag_semver", "tone", "words"), [
    ("1.2.0", "pill--error", "1.0.0 (behind StackTag version)"),
    ("0.9.0", "pill--running", "1.0.0 (ahead of StackTag version)"),
    ("1.0.0", "pill--success", "1.0.0 (equal to StackTag version)"),
])
def test_version_standing_is_told_in_colour_and_in_words(stack_tag_semver, tone, words):
    html = page_of(completed(new_record(), "BUILD_AMI"), stack_tag_semver=stack_tag_semver)

    assert f"pill {tone}" in " ".join(Page(html).classes("span"))
    assert words in Page(html).text


# --------------------------------------------------------------------------- hostile values

def test_markup_in_the_product_name_is_escaped():
    html = page_of(new_record(product_name=SCRIPT))

    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert SCRIPT in Page(html).text


def test_markup_in_an_event_property_is_escaped():
    html = page_of(built_with({"ami_details": [ami(BUILT_AMI, "1.0.0")], "note": IMAGE}))

    assert IMAGE not in html
    assert not Page(html).all("img")
    assert IMAGE in Page(html).text


def test_markup_in_a_property_name_is_escaped():
    html = page_of(built_with({"<b>bold</b>": "value"}))

    assert not Page(html).all("b")


def test_markup_inside_a_table_cell_is_escaped():
    html = page_of(built_with({"ami_details": [{"image": BUILT_AMI, "name": SCRIPT}]}))

    assert not Page(html).all("script")
    assert SCRIPT in Page(html).text


def test_credentials_in_event_properties_never_reach_the_page():
    html = page_of(built_with({"api_key": "key-value-123", "status_url": "https://x.example/s?api_key=key-value-123"}))

    assert "key-value-123" not in html


# --------------------------------------------------------------------------- self-contained

def test_page_references_no_other_resource():
    page = Page(page_of(built_with({"link": "https://evil.example/x.js", "ami_details": [ami(BUILT_AMI, "1.0.0")]})))

    referenced = [value for _tag, attrs in page.tags for name, value in attrs.items()
                  if name in ("src", "href", "action", "srcset", "poster", "data", "formaction")]
    assert referenced == []
    assert not page.all("script") and not page.all("link") and not page.all("img")


def test_content_security_policy_allows_only_inline_style_and_data_images():
    policy = Page(page_of(new_record())).meta("Content-Security-Policy")

    directives = {part.strip() for part in (policy or "").split(";")}
    assert {"default-src 'none'", "style-src 'unsafe-inline'", "img-src data:"} <= directives


def test_response_headers_repeat_the_page_policy_and_forbid_framing():
    policy = Page(page_of(new_record())).meta("Content-Security-Policy")

    header = rendering.PAGE_RESPONSE_HEADERS["Content-Security-Policy"]
    assert header == f"{policy}; frame-ancestors 'none'"


def test_page_refreshes_itself_every_twenty_seconds_by_default():
    assert Page(page_of(new_record())).meta("refresh") == "20"


def test_refresh_interval_can_be_chosen():
    assert Page(page_of(new_record(), refresh_seconds=60)).meta("refresh") == "60"


@pytest.mark.parametrize("seconds", [0, 4, 3601, True, "20", 2.5])
def test_refresh_interval_outside_five_seconds_to_an_hour_is_refused(seconds):
    with pytest.raises(RenderingError, match="refresh_seconds"):
        page_of(new_record(), refresh_seconds=seconds)


def test_rendering_something_other_than_a_timeline_view_is_refused():
    with pytest.raises(RenderingError, match="TimelineView"):
        render_timeline({"page_title": "x"})


def test_templates_load_from_beside_the_module():
    assert rendering.TEMPLATES_DIR == Path(rendering.__file__).resolve().parent / "templates"
    assert (rendering.TEMPLATES_DIR / rendering.TIMELINE_TEMPLATE).is_file()


# --------------------------------------------------------------------------- labels

@pytest.mark.parametrize(("name", "label"), [
    ("ami_details", "AMI details"),
    ("accountId", "Account ID"),
    ("componentArn", "Component ARN"),
    ("imagebuilder_image_arn", "Image Builder image ARN"),
    ("lifecycle_id", "Lifecycle ID"),
    ("HTTPStatus", "HTTPStatus"),
])
def test_field_names_are_shown_as_words(name, label):
    assert rendering.field_label(name) == label


def test_an_unknown_status_looks_neutral():
    assert rendering.status_tone("SOMETHING_NEW") == "idle"


# --------------------------------------------------------------------------- notifications

def test_event_notification_names_operation_stack_tag_and_lifecycle():
    body = render_notification(event_notification(Operator.AMI_CREATION_POST, building(), NOW))

    assert "Operation:    AMI_CREATION_POST" in body
    assert "Stack tag:    main" in body
    assert f"Lifecycle id: {LIFECYCLE_ID}" in body


def test_event_notification_says_which_event_runs():
    body = render_notification(event_notification(Operator.AMI_CREATION_POST, building(), NOW))

    assert "Event in progress: BUILD_AMI (IN_PROGRESS)" in body


def test_event_notification_outlines_the_received_event():
    body = render_notification(event_notification(Operator.AMI_CREATION_RECEIVER, building(), NOW,
                                                  event={"name": "BUILD_AMI", "status": "COMPLETED"}))

    assert "Event received\n--------------\n  name: BUILD_AMI\n  status: COMPLETED" in body


def test_event_notification_outlines_nested_record_data():
    body = render_notification(event_notification(Operator.AMI_CREATION_POST, new_record(), NOW))

    assert "  notifications:\n    - method: EMAIL\n      target: owner@example.com" in body


def test_plain_text_bodies_are_not_html_escaped():
    body = render_notification(event_notification(Operator.AMI_CREATION_POST, new_record(product_name="R&D <beta>"),
                                                  NOW))

    assert "product_name: R&D <beta>" in body


def test_notification_never_contains_keys_even_if_the_producer_forgot_to_redact():
    message = NotificationMessage(kind=NotificationKind.EVENT, operator=Operator.AMI_CREATION_POST, stack_tag="main",
                                  lifecycle_id=LIFECYCLE_ID, subject="s", sent_at="2026-11-23T10:00:00Z",
                                  body={"record": {"lifecycle_id": LIFECYCLE_ID, "api_key": "key-value-123",
                                                   "timeline": "https://api.example/t?api_key=key-value-123"}})

    assert "key-value-123" not in render_notification(message)


def test_a_multi_line_value_cannot_pose_as_a_line_of_the_message():
    record = new_record(properties={"team": "billing\nEvent in progress: NONE"})

    body = render_notification(event_notification(Operator.AMI_CREATION_POST, record, NOW))

    forged = [line for line in body.splitlines() if "Event in progress: NONE" in line]
    assert forged and all(line.startswith("      ") for line in forged)


def test_control_characters_are_removed_from_plain_text():
    body = render_notification(event_notification(Operator.AMI_CREATION_POST,
                                                  new_record(product_name="bill\x1b[31ming"), NOW))

    assert "\x1b" not in body


def test_error_notification_says_what_went_wrong_and_what_is_allowed():
    error = Conflict("SMOKE_TESTS_AMI_CREATE needs BUILD_AMI completed first", field="events",
                     allowed=["BUILD_AMI"])

    body = render_notification(error_notification(Operator.AMI_CREATION_PUT, "main", LIFECYCLE_ID, error, NOW))

    assert "What went wrong: SMOKE_TESTS_AMI_CREATE needs BUILD_AMI completed first" in body
    assert "Error code:      CONFLICT" in body
    assert "Field:           events" in body
    assert "Allowed values:  BUILD_AMI" in body


def test_error_notification_without_lifecycle_shows_a_dash():
    body = render_notification(error_notification(Operator.AMI_CREATION_POST, "main", None, "boom", NOW))

    assert "Lifecycle id: -" in body
    assert "What went wrong: boom" in body


def test_info_notification_shows_its_message_and_details():
    message = info_notification(Operator.ORCHESTRATOR_SERVICE, "main", LIFECYCLE_ID,
                                "SMOKE_TESTS_AMI_CREATE is not available in this deployment yet", NOW,
                                details={"event": "SMOKE_TESTS_AMI_CREATE"})

    body = render_notification(message)

    assert "SMOKE_TESTS_AMI_CREATE is not available in this deployment yet" in body
    assert "Details\n-------\n  event: SMOKE_TESTS_AMI_CREATE" in body


def test_warning_notification_renders_its_message():
    message = NotificationMessage(kind=NotificationKind.WARNING, operator=Operator.RECONCILER, stack_tag="main",
                                  lifecycle_id=None, subject="Tags drifted", sent_at="2026-11-23T10:00:00Z",
                                  body={"message": "3 AMI tags differ from the record"})

    body = render_notification(message)

    assert body.startswith("AMI lifecycle warning: Tags drifted")
    assert "3 AMI tags differ from the record" in body


def test_notification_bodies_point_to_the_header_not_to_a_url_with_a_key():
    body = render_notification(event_notification(Operator.AMI_CREATION_POST, new_record(), NOW))

    assert "x-api-key header" in body
    assert "api_key=" not in body and "http" not in body


def test_rendering_something_other_than_a_notification_is_refused():
    with pytest.raises(RenderingError, match="NotificationMessage"):
        render_notification({"kind": "EVENT"})
