"""The timeline view model of both phases."""

from orchestrator.domain import records, timeline as t
from orchestrator.domain.results import EventError
from orchestrator.domain.vocabulary import EventName as E, LifecycleType, Status

from .domain_builders import LIFECYCLE_ID, NOW, completed, fully_approved_record, later, new_record, patched_record, result

CREATION = LifecycleType.AMI_CREATION
PATCH = LifecycleType.AMI_PATCH


def statuses(view):
    return [panel.status for panel in view.panels]


def test_creation_timeline_has_six_panels_titled_per_event():
    view = t.build_timeline(new_record(), CREATION, stack_tag_semver="1.0.0")

    assert [p.title for p in view.panels] == ["AMI Build and Creation", "Smoke Tests", "Vulnerability Scans",
                                              "QA Certification Request", "QA Certification Response",
                                              "Approve AMI for Production"]


def test_patch_timeline_has_four_panels():
    view = t.build_timeline(new_record(), PATCH, stack_tag_semver="1.0.0")

    assert [p.title for p in view.panels] == ["AMI Patch", "Smoke Tests", "Vulnerability Scans",
                                              "Approve AMI for Production"]


def test_page_title_names_phase_and_lifecycle():
    assert t.build_timeline(new_record(), PATCH, stack_tag_semver="1.0.0").page_title == (
        f"AMI Patch Timeline - {LIFECYCLE_ID}")


def test_new_lifecycle_shows_every_panel_not_started():
    assert set(statuses(t.build_timeline(new_record(), CREATION, stack_tag_semver="1.0.0"))) == {"NOT_STARTED"}


def test_running_event_panel_shows_in_progress():
    record = records.mark_event_in_progress(completed(new_record(), "BUILD_AMI"), E.SMOKE_TESTS_AMI_CREATE, later(2),
                                            description="smoke")

    assert statuses(t.build_timeline(record, CREATION, stack_tag_semver="1.0.0"))[:3] == [
        "COMPLETED", "EVENT_IN_PROGRESS", "NOT_STARTED"]


def test_failed_running_event_shows_in_progress_with_error_and_its_message():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build")
    record = records.record_event_error(record, EventError(LIFECYCLE_ID, Status.ERROR, "2026-11-23T10:09:00Z",
                                                           "pipeline failed", "trace"), later(9))

    view = t.build_timeline(record, CREATION, stack_tag_semver="1.0.0")

    assert (view.panels[0].status, view.panels[0].error_message) == ("EVENT_IN_PROGRESS_WITH_ERROR", "pipeline failed")
    assert view.header.event_in_progress == "BUILD_AMI (ERROR - check event for more details)"


def test_header_shows_the_running_event():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build")

    assert t.build_timeline(record, CREATION, stack_tag_semver="1.0.0").header.event_in_progress == (
        "BUILD_AMI (IN PROGRESS - check event for more details)")


def test_header_shows_none_when_nothing_runs():
    assert t.build_timeline(new_record(), CREATION, stack_tag_semver="1.0.0").header.event_in_progress == "None"


def test_last_completed_event_is_the_most_recent_completed_one():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    assert t.build_timeline(record, CREATION, stack_tag_semver="1.0.0").header.last_completed_event == (
        "SMOKE TESTS AMI CREATE (COMPLETED, 2026-11-23T10:02:00Z)")


def test_without_completed_events_the_header_says_so():
    assert t.build_timeline(new_record(), PATCH, stack_tag_semver="1.0.0").header.last_completed_event == (
        "No lifecycle events completed for current AMI Patch execution.")


def test_lifecycle_version_awaits_the_build():
    header = t.build_timeline(new_record(), CREATION, stack_tag_semver="1.0.0").header

    assert (header.lifecycle_semver, header.lifecycle_semver_text) == (None, "Awaiting BUILD_AMI event completion")


def test_lifecycle_version_behind_the_stack_tag():
    header = t.build_timeline(completed(new_record(), "BUILD_AMI"), CREATION, stack_tag_semver="3.0.0").header

    assert (header.semver_standing, header.lifecycle_semver_text) == (t.SemverStanding.BEHIND,
                                                                      "1.0.0 (behind StackTag version)")


def test_lifecycle_version_equal_to_the_stack_tag():
    header = t.build_timeline(completed(new_record(), "BUILD_AMI"), CREATION, stack_tag_semver="1.0.0").header

    assert header.semver_standing is t.SemverStanding.EQUAL


def test_patched_lifecycle_is_ahead_of_an_older_stack_tag_version():
    header = t.build_timeline(patched_record(), PATCH, stack_tag_semver="1.0.0").header

    assert (header.lifecycle_semver, header.semver_standing) == ("1.1.0", t.SemverStanding.AHEAD)


def test_while_a_new_patch_runs_other_patch_panels_show_not_started():
    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH",
                       "MARK_FOR_PRODUCTION_PATCH", start=110)
    record = records.mark_event_in_progress(record, E.PATCH_AMI, later(150), description="patch")

    assert statuses(t.build_timeline(record, PATCH, stack_tag_semver="1.0.0")) == [
        "EVENT_IN_PROGRESS", "NOT_STARTED", "NOT_STARTED", "NOT_STARTED"]


def test_build_panel_details_hide_ami_descriptions():
    view = t.build_timeline(completed(new_record(), "BUILD_AMI"), CREATION, stack_tag_semver="1.0.0")

    assert all("description" not in ami for ami in view.panels[0].details["ami_details"])


def test_qa_request_panel_shows_the_export_path_but_never_a_presigned_url():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE")
    record = records.record_event_result(record, result(E.QA_CERTIFICATION_REQUEST, minutes=5, properties={
        "export_image_path": "s3://b/x.vmdk", "export_presign_s3_url": "https://b/x?X-Amz-Signature=s",
        "ami_id": "ami-1"}), later(5))

    details = t.build_timeline(record, CREATION, stack_tag_semver="1.0.0").panels[3].details

    assert details == {"ami_id": "ami-1", "export_image_path": "s3://b/x.vmdk"}


def test_refused_approval_panel_shows_failed():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST", "QA_CERTIFICATION_RESPONSE")
    record = records.record_event_result(record, result(E.MARK_FOR_PRODUCTION_CREATE, Status.FAILED, minutes=9,
                                                        properties={"approval_status": "NOT_APPROVED"}), later(9))

    assert statuses(t.build_timeline(record, CREATION, stack_tag_semver="1.0.0"))[-1] == "FAILED"


def test_page_refreshes_every_20_seconds():
    assert t.build_timeline(fully_approved_record(), CREATION, stack_tag_semver="1.0.0").refresh_seconds == 20


# ------------------------------------------------------------------ ancestry

def test_the_patch_timeline_lists_the_built_ami_then_each_patch_oldest_first():
    from orchestrator.domain.requests import parse_patch_request
    from .domain_builders import BUILT_AMI, PATCHED_AMI, SECOND_PATCHED_AMI, patch_body, patch_result

    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", start=110)
    record = records.apply_patch_request(record, parse_patch_request(patch_body()), later(150))
    record = records.record_event_result(record, patch_result(semver="1.1.1", image=SECOND_PATCHED_AMI, minutes=200),
                                         later(200))

    view = t.build_timeline(record, LifecycleType.AMI_PATCH, stack_tag_semver="1.1.1")

    links = [(link.produced_by, link.ami_id, link.ami_semver, link.current) for link in view.ancestry]
    assert links == [("BUILD_AMI", BUILT_AMI, "1.0.0", False), ("PATCH_AMI", PATCHED_AMI, "1.1.0", False),
                     ("PATCH_AMI", SECOND_PATCHED_AMI, "1.1.1", True)]
    assert view.ancestry[1].events == (("PATCH_AMI", "COMPLETED"), ("SMOKE_TESTS_AMI_PATCH", "COMPLETED"))


def test_the_creation_timeline_has_no_ancestry_section():
    assert t.build_timeline(patched_record(), LifecycleType.AMI_CREATION, stack_tag_semver="1.0.0").ancestry == ()


def test_the_rendered_patch_timeline_shows_the_ancestry():
    from orchestrator.rendering import render_timeline
    from .domain_builders import BUILT_AMI, PATCHED_AMI

    page = render_timeline(t.build_timeline(patched_record(), LifecycleType.AMI_PATCH, stack_tag_semver="1.1.0"))

    section = page[page.index('id="ancestry-title"'):]
    assert BUILT_AMI in section and PATCHED_AMI in section and "1.1.0" in section
