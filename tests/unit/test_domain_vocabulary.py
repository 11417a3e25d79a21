"""The one vocabulary: names, aliases, CLI values, selection names and the score table."""

import pytest

from orchestrator.domain import vocabulary as v
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.vocabulary import (ApprovalStatus, CliEvent, EventName, LifecycleType, SelectionEvent,
                                            Status)


def test_event_names_are_the_ten_api_names():
    assert [str(e) for e in EventName] == [
        "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST",
        "QA_CERTIFICATION_RESPONSE", "MARK_FOR_PRODUCTION_CREATE", "PATCH_AMI", "SMOKE_TESTS_AMI_PATCH",
        "VULNERABILITY_SCANS_AMI_PATCH", "MARK_FOR_PRODUCTION_PATCH"]


def test_misspelt_vulnerability_event_is_parsed_to_the_correct_name():
    assert v.parse_event_name("VULNERABILIY_SCANS_AMI_CREATE") is EventName.VULNERABILITY_SCANS_AMI_CREATE


def test_misspelt_vulnerability_event_is_never_a_member():
    assert "VULNERABILIY" not in " ".join(str(e) for e in EventName)


def test_event_names_are_parsed_case_insensitively_and_stored_upper_case():
    assert str(v.parse_event_name("  smoke_tests_ami_create ")) == "SMOKE_TESTS_AMI_CREATE"


def test_unknown_event_name_error_names_field_and_lists_canonical_values_only():
    with pytest.raises(ValidationError) as caught:
        v.parse_event_name("SMOKE_TESTS", field="events[1].name")

    assert caught.value.field == "events[1].name"
    assert caught.value.allowed == [str(e) for e in EventName]
    assert "VULNERABILIY_SCANS_AMI_CREATE" not in caught.value.message


def test_parse_event_name_can_be_narrowed_to_a_subset():
    with pytest.raises(ValidationError) as caught:
        v.parse_event_name("PATCH_AMI", allowed=(EventName.BUILD_AMI, EventName.SMOKE_TESTS_AMI_CREATE))

    assert caught.value.allowed == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]


def test_alias_of_an_event_outside_the_subset_is_refused():
    with pytest.raises(ValidationError):
        v.parse_event_name("VULNERABILIY_SCANS_AMI_CREATE", allowed=(EventName.PATCH_AMI,))


def test_non_string_input_is_refused_with_its_kind():
    with pytest.raises(ValidationError, match="got number 7"):
        v.parse_semver_bump(7)


def test_lifecycle_types_are_lower_case_with_dash():
    assert [str(t) for t in LifecycleType] == ["ami-creation", "ami-patch"]


def test_lifecycle_type_is_parsed_case_insensitively():
    assert v.parse_lifecycle_type("AMI-PATCH") is LifecycleType.AMI_PATCH


def test_statuses_include_derived_and_error_statuses():
    assert {str(s) for s in Status} == {"COMPLETED", "FAILED", "ERROR", "ERROR_EVENT_TIMEOUT", "IN_PROGRESS",
                                        "NOT_STARTED"}


def test_timeline_pseudo_statuses():
    assert [str(s) for s in v.TimelineStatus] == ["NOT_STARTED", "EVENT_IN_PROGRESS", "EVENT_IN_PROGRESS_WITH_ERROR"]


def test_result_status_accepts_completed_and_failed_only():
    with pytest.raises(ValidationError) as caught:
        v.parse_result_status("IN_PROGRESS")

    assert caught.value.allowed == ["COMPLETED", "FAILED"]


def test_error_status_accepts_error_and_timeout_only():
    assert v.parse_error_status("error_event_timeout") is Status.ERROR_EVENT_TIMEOUT


@pytest.mark.parametrize("event, score", [
    ("BUILD_AMI", 1), ("SMOKE_TESTS_AMI_CREATE", 2), ("VULNERABILITY_SCANS_AMI_CREATE", 3),
    ("QA_CERTIFICATION_REQUEST", 4), ("QA_CERTIFICATION_RESPONSE", 5), ("MARK_FOR_PRODUCTION_CREATE", 6),
    ("PATCH_AMI", 1), ("SMOKE_TESTS_AMI_PATCH", 2), ("VULNERABILITY_SCANS_AMI_PATCH", 3),
    ("MARK_FOR_PRODUCTION_PATCH", 6),
])
def test_score_table(event, score):
    assert v.score_of(EventName(event)) == score


@pytest.mark.parametrize("selection, score", [
    ("AMI_WITH_OS_HARDENING", 1), ("SMOKE_TESTED", 2), ("VULNERABILITY_SCANNED", 3),
    ("QA_CERTIFICATION_REQUESTED", 4), ("QA_CERTIFIED", 5), ("PRODUCTION_APPROVED", 6),
])
def test_selection_name_to_minimum_score(selection, score):
    assert v.min_score(SelectionEvent(selection)) == score


def test_every_selection_name_has_exactly_one_minimum_score():
    assert set(v.SELECTION_MIN_SCORES) == set(SelectionEvent)


def test_selection_score_equals_the_score_of_the_event_it_names():
    for row in v.EVENT_DEFINITIONS:
        assert v.min_score(row.selection_event) == row.score


@pytest.mark.parametrize("cli, lifecycle_type, event", [
    ("AMI_BUILD_ONLY", "ami-creation", "BUILD_AMI"),
    ("SMOKE_TESTS", "ami-creation", "SMOKE_TESTS_AMI_CREATE"),
    ("VULNERABILITY_SCANS", "ami-creation", "VULNERABILITY_SCANS_AMI_CREATE"),
    ("QA_CERTIFICATION_REQUEST", "ami-creation", "QA_CERTIFICATION_REQUEST"),
    ("AMI_PATCH_ONLY", "ami-patch", "PATCH_AMI"),
    ("SMOKE_TESTS", "ami-patch", "SMOKE_TESTS_AMI_PATCH"),
    ("VULNERABILITY_SCANS", "ami-patch", "VULNERABILITY_SCANS_AMI_PATCH"),
])
def test_cli_event_maps_to_event_name_per_lifecycle_type(cli, lifecycle_type, event):
    assert v.event_for_cli(CliEvent(cli), LifecycleType(lifecycle_type)) is EventName(event)


def test_cli_event_of_the_other_phase_is_refused_with_the_valid_values():
    with pytest.raises(ValidationError) as caught:
        v.event_for_cli(CliEvent.QA_CERTIFICATION_REQUEST, LifecycleType.AMI_PATCH)

    assert caught.value.allowed == ["AMI_PATCH_ONLY", "SMOKE_TESTS", "VULNERABILITY_SCANS"]


def test_cli_events_per_lifecycle_type_are_in_sequence_order():
    assert v.cli_events_for(LifecycleType.AMI_CREATION) == (
        CliEvent.AMI_BUILD_ONLY, CliEvent.SMOKE_TESTS, CliEvent.VULNERABILITY_SCANS, CliEvent.QA_CERTIFICATION_REQUEST)


def test_cli_operations_are_the_eleven_batch_operations_and_the_revocation():
    assert len(v.CliOperation) == 12 and v.parse_cli_operation("ami_qa_certification") is \
        v.CliOperation.AMI_QA_CERTIFICATION


def test_certification_status_values():
    assert [str(s) for s in v.CertificationStatus] == ["CERTIFIED", "FAILED"]


def test_approval_failed_is_an_alias_of_not_approved():
    assert v.parse_approval_status("FAILED") is ApprovalStatus.NOT_APPROVED


def test_approval_error_lists_canonical_values_without_the_alias():
    with pytest.raises(ValidationError) as caught:
        v.parse_approval_status("YES")

    assert caught.value.allowed == ["APPROVED", "NOT_APPROVED"]


def test_semver_bump_and_notification_method_values():
    assert (v.parse_semver_bump("minor"), v.parse_notification_method("http")) == (v.SemverBump.MINOR,
                                                                                    v.NotificationMethod.HTTP)


def test_every_event_belongs_to_the_phase_its_name_says():
    assert [v.lifecycle_type_of(e) for e in (EventName.BUILD_AMI, EventName.MARK_FOR_PRODUCTION_PATCH)] == [
        LifecycleType.AMI_CREATION, LifecycleType.AMI_PATCH]


def test_vocabulary_table_has_one_row_per_event():
    assert [row.name for row in v.EVENT_DEFINITIONS] == list(EventName)
