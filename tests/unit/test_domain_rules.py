"""Request rules (event lists and combinations) and state rules (may this event start?)."""

import pytest

from orchestrator.domain import records, revocation, rules
from orchestrator.domain.events import patch_parent_ami
from orchestrator.domain.errors import Conflict, ValidationError
from orchestrator.domain.requests import parse_update_request
from orchestrator.domain.results import EventError
from orchestrator.domain.vocabulary import EventName as E, LifecycleType, Status

from .domain_builders import (BUILT_AMI, CREATION_EVENTS, LIFECYCLE_ID, NOW, PATCH_EVENTS, PATCHED_AMI, completed,
                              fully_approved_record,
                              later, new_record, patched_record, result, toggles, update_body)

CREATION = LifecycleType.AMI_CREATION
PATCH = LifecycleType.AMI_PATCH


def creation(*enabled: str) -> list[dict]:
    return toggles(CREATION_EVENTS, set(enabled))


def patch(*enabled: str) -> list[dict]:
    return toggles(PATCH_EVENTS, set(enabled))


# ------------------------------------------------------------- event lists

def test_event_list_is_returned_in_sequence_order_whatever_the_input_order():
    parsed = rules.parse_event_toggles(list(reversed(creation("BUILD_AMI"))), CREATION)

    assert [t.name for t in parsed] == list(CREATION_EVENTS)


def test_event_list_must_be_a_list():
    with pytest.raises(ValidationError, match="events: expected a list of 4 objects"):
        rules.parse_event_toggles({"BUILD_AMI": True}, CREATION)


def test_duplicate_event_is_rejected():
    events = creation("BUILD_AMI") + [{"name": "BUILD_AMI", "enabled": True}]

    with pytest.raises(ValidationError, match="BUILD_AMI is listed more than once"):
        rules.parse_event_toggles(events, CREATION)


def test_duplicate_through_the_misspelt_alias_is_rejected():
    events = creation("BUILD_AMI") + [{"name": "VULNERABILIY_SCANS_AMI_CREATE", "enabled": False}]

    with pytest.raises(ValidationError, match="listed more than once"):
        rules.parse_event_toggles(events, CREATION)


def test_missing_event_is_rejected_and_named():
    with pytest.raises(ValidationError, match="missing QA_CERTIFICATION_REQUEST"):
        rules.parse_event_toggles(creation("BUILD_AMI")[:3], CREATION)


def test_event_of_the_other_phase_is_rejected_with_the_allowed_names():
    events = creation("BUILD_AMI")[:3] + [{"name": "PATCH_AMI", "enabled": False}]

    with pytest.raises(ValidationError) as caught:
        rules.parse_event_toggles(events, CREATION)

    assert caught.value.field == "events[3].name" and caught.value.allowed == list(CREATION_EVENTS)


def test_qa_response_cannot_be_requested_in_the_event_list():
    events = creation("BUILD_AMI")[:3] + [{"name": "QA_CERTIFICATION_RESPONSE", "enabled": True}]

    with pytest.raises(ValidationError):
        rules.parse_event_toggles(events, CREATION)


def test_enabled_must_be_a_boolean():
    events = creation("BUILD_AMI")
    events[0]["enabled"] = "true"

    with pytest.raises(ValidationError, match=r"events\[0\].enabled: expected true or false"):
        rules.parse_event_toggles(events, CREATION)


def test_unknown_key_in_an_event_is_rejected():
    events = creation("BUILD_AMI")
    events[0]["id"] = "x"

    with pytest.raises(ValidationError, match="unknown field 'id'"):
        rules.parse_event_toggles(events, CREATION)


def test_misspelt_name_is_stored_correctly_spelt():
    events = creation("BUILD_AMI")
    events[2]["name"] = "vulnerabiliy_scans_ami_create"

    parsed = rules.parse_event_toggles(events, CREATION)

    assert parsed[2].to_dict() == {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False}


def test_patch_list_has_exactly_three_events():
    with pytest.raises(ValidationError, match="expected a list of 3 objects"):
        rules.parse_event_toggles(patch("PATCH_AMI")[:2], PATCH)


# ------------------------------------------------------------- combinations

@pytest.mark.parametrize("enabled", [
    ("BUILD_AMI",),
    ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"),
    ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE"),
    CREATION_EVENTS,
])
def test_creation_accepts_every_unbroken_sequence_from_the_build(enabled):
    assert rules.validate_event_selection(creation(*enabled), CREATION, starts_phase=True)


def test_qa_with_smoke_but_without_vulnerability_scans_is_rejected():
    with pytest.raises(ValidationError) as caught:
        rules.validate_event_selection(creation("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"),
                                       CREATION, starts_phase=True)

    assert "VULNERABILITY_SCANS_AMI_CREATE is disabled" in caught.value.message


def test_qa_with_smoke_but_without_vulnerability_scans_is_rejected_in_an_update_too():
    with pytest.raises(ValidationError, match="VULNERABILITY_SCANS_AMI_CREATE is disabled"):
        rules.validate_event_selection(creation("SMOKE_TESTS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"),
                                       CREATION, starts_phase=False)


@pytest.mark.parametrize("later_event", ["VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"])
def test_build_followed_by_scans_or_qa_without_smoke_tests_is_rejected(later_event):
    with pytest.raises(ValidationError, match="SMOKE_TESTS_AMI_CREATE is disabled"):
        rules.validate_event_selection(creation("BUILD_AMI", later_event), CREATION, starts_phase=True)


def test_combination_error_explains_the_prerequisite_and_lists_valid_sequences():
    with pytest.raises(ValidationError) as caught:
        rules.validate_event_selection(creation("BUILD_AMI", "VULNERABILITY_SCANS_AMI_CREATE"), CREATION,
                                       starts_phase=True)

    assert "every earlier event" in caught.value.message
    assert caught.value.allowed == [
        "BUILD_AMI", "BUILD_AMI -> SMOKE_TESTS_AMI_CREATE",
        "BUILD_AMI -> SMOKE_TESTS_AMI_CREATE -> VULNERABILITY_SCANS_AMI_CREATE",
        "BUILD_AMI -> SMOKE_TESTS_AMI_CREATE -> VULNERABILITY_SCANS_AMI_CREATE -> QA_CERTIFICATION_REQUEST"]


def test_update_may_continue_with_later_events_only():
    parsed = rules.validate_event_selection(creation("VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"),
                                            CREATION, starts_phase=False)

    assert [t.name for t in parsed if t.enabled] == [E.VULNERABILITY_SCANS_AMI_CREATE, E.QA_CERTIFICATION_REQUEST]


def test_update_may_enable_nothing():
    assert rules.validate_event_selection(creation(), CREATION, starts_phase=False)


def test_creation_requires_the_build_enabled():
    with pytest.raises(ValidationError, match="BUILD_AMI must be enabled"):
        rules.validate_event_selection(creation("SMOKE_TESTS_AMI_CREATE"), CREATION, starts_phase=True)


def test_update_requires_the_build_disabled():
    with pytest.raises(ValidationError, match="BUILD_AMI must be disabled in an update"):
        rules.validate_event_selection(creation("BUILD_AMI"), CREATION, starts_phase=False)


def test_patch_followed_by_scans_without_smoke_tests_is_rejected():
    with pytest.raises(ValidationError, match="SMOKE_TESTS_AMI_PATCH is disabled"):
        rules.validate_event_selection(patch("PATCH_AMI", "VULNERABILITY_SCANS_AMI_PATCH"), PATCH,
                                       starts_phase=True)


def test_patch_request_requires_patch_enabled():
    with pytest.raises(ValidationError, match="PATCH_AMI must be enabled"):
        rules.validate_event_selection(patch("SMOKE_TESTS_AMI_PATCH"), PATCH, starts_phase=True)


def test_patch_update_requires_patch_disabled():
    with pytest.raises(ValidationError, match="PATCH_AMI must be disabled"):
        rules.validate_event_selection(patch("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH"), PATCH, starts_phase=False)


def test_valid_update_selections_are_every_unbroken_run_after_the_first_event():
    assert rules.valid_selections(PATCH, starts_phase=False) == [
        "(none)", "SMOKE_TESTS_AMI_PATCH", "SMOKE_TESTS_AMI_PATCH -> VULNERABILITY_SCANS_AMI_PATCH",
        "VULNERABILITY_SCANS_AMI_PATCH"]


# ------------------------------------------------------------- CLI values

def test_cli_create_always_enables_the_build():
    parsed = rules.toggles_from_cli(["SMOKE_TESTS"], CREATION, starts_phase=True)

    assert [t.name for t in parsed if t.enabled] == [E.BUILD_AMI, E.SMOKE_TESTS_AMI_CREATE]


def test_cli_build_only_enables_the_build_alone():
    parsed = rules.toggles_from_cli(["AMI_BUILD_ONLY"], CREATION, starts_phase=True)

    assert [t.name for t in parsed if t.enabled] == [E.BUILD_AMI]


def test_cli_update_refuses_build_only():
    with pytest.raises(ValidationError) as caught:
        rules.toggles_from_cli(["AMI_BUILD_ONLY", "SMOKE_TESTS"], CREATION, starts_phase=False)

    assert caught.value.allowed == ["SMOKE_TESTS", "VULNERABILITY_SCANS", "QA_CERTIFICATION_REQUEST"]


def test_cli_values_get_the_combination_rules():
    with pytest.raises(ValidationError, match="SMOKE_TESTS_AMI_PATCH is disabled"):
        rules.toggles_from_cli(["VULNERABILITY_SCANS"], PATCH, starts_phase=True)


def test_cli_value_of_the_other_phase_is_refused():
    with pytest.raises(ValidationError, match="does not apply to ami-patch"):
        rules.toggles_from_cli(["QA_CERTIFICATION_REQUEST"], PATCH, starts_phase=False)


# ------------------------------------------------------------- state rules

def test_smoke_tests_may_start_once_the_build_completed():
    rules.check_can_start(completed(new_record(), "BUILD_AMI"), E.SMOKE_TESTS_AMI_CREATE)


def test_prerequisite_rule_names_each_unfinished_earlier_event_and_its_status():
    record = completed(new_record(), "BUILD_AMI")

    with pytest.raises(Conflict) as caught:
        rules.check_can_start(record, E.QA_CERTIFICATION_REQUEST)

    assert ("SMOKE_TESTS_AMI_CREATE (NOT_STARTED), VULNERABILITY_SCANS_AMI_CREATE (NOT_STARTED)"
            in caught.value.message)


def test_a_failed_earlier_event_does_not_satisfy_prerequisites():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST")
    record = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, minutes=9,
                                                        certification_status="FAILED"), later(9))

    with pytest.raises(Conflict, match=r"QA_CERTIFICATION_RESPONSE \(FAILED\)"):
        rules.check_can_start(record, E.MARK_FOR_PRODUCTION_CREATE)


def test_completed_event_is_immutable():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    with pytest.raises(Conflict, match="SMOKE_TESTS_AMI_CREATE is already COMPLETED"):
        rules.check_can_start(record, E.SMOKE_TESTS_AMI_CREATE)


def test_completed_build_cannot_run_again():
    with pytest.raises(Conflict, match="BUILD_AMI is already COMPLETED"):
        rules.check_can_start(completed(new_record(), "BUILD_AMI"), E.BUILD_AMI)


def test_a_failed_verdict_may_be_followed_by_a_new_one():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST")
    record = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, minutes=9,
                                                        certification_status="FAILED"), later(9))

    rules.check_can_start(record, E.QA_CERTIFICATION_RESPONSE)


def test_no_second_event_while_one_is_in_progress():
    record = records.mark_event_in_progress(completed(new_record(), "BUILD_AMI"), E.SMOKE_TESTS_AMI_CREATE, NOW,
                                            description="smoke tests")

    with pytest.raises(Conflict, match="SMOKE_TESTS_AMI_CREATE is in progress since 2026-11-23T10:00:00Z"):
        rules.check_can_start(record, E.SMOKE_TESTS_AMI_CREATE)


def test_an_event_that_reported_an_error_no_longer_blocks_the_lifecycle():
    record = records.mark_event_in_progress(completed(new_record(), "BUILD_AMI"), E.SMOKE_TESTS_AMI_CREATE, NOW,
                                            description="smoke tests")
    record = records.record_event_error(record, EventError(LIFECYCLE_ID, Status.ERROR, "2026-11-23T10:05:00Z",
                                                           "instance failed", "trace"), later(5))

    rules.check_can_start(record, E.SMOKE_TESTS_AMI_CREATE)


def test_patch_needs_the_whole_creation_sequence_completed():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    with pytest.raises(Conflict, match=r"MARK_FOR_PRODUCTION_CREATE \(NOT_STARTED\)"):
        rules.check_can_start(record, E.PATCH_AMI)


def test_patch_may_start_on_a_fully_approved_lifecycle():
    rules.check_can_start(fully_approved_record(), E.PATCH_AMI)


def test_a_new_patch_waits_until_the_patched_ami_is_approved_or_refused():
    with pytest.raises(Conflict, match=r"awaits its approval .*MARK_FOR_PRODUCTION_PATCH NOT_STARTED"):
        rules.check_can_start(patched_record(), E.PATCH_AMI)


def test_a_new_patch_may_start_once_the_patched_ami_is_approved():
    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH",
                       "MARK_FOR_PRODUCTION_PATCH", start=110)

    rules.check_can_start(record, E.PATCH_AMI)
    assert patch_parent_ami(record)["id"] == PATCHED_AMI


def test_after_a_refused_patch_the_next_patch_starts_from_the_last_approved_ami():
    refusal = result(E.MARK_FOR_PRODUCTION_PATCH, Status.FAILED, minutes=110,
                     properties={"approval_status": "NOT_APPROVED"})
    record = records.record_event_result(patched_record(), refusal, later(110))

    rules.check_can_start(record, E.PATCH_AMI)
    assert patch_parent_ami(record)["id"] == BUILT_AMI


def test_no_patch_starts_when_every_approved_ami_is_revoked():
    record = fully_approved_record()
    target = revocation.revocation_target(record, None)
    record = revocation.record_revocation(record, target, "CVE in the base image", later(60))

    with pytest.raises(Conflict, match="every AMI of this lifecycle approved for production is revoked"):
        rules.check_can_start(record, E.PATCH_AMI)


def test_patch_events_are_checked_against_the_current_patch():
    with pytest.raises(Conflict, match=r"SMOKE_TESTS_AMI_PATCH \(NOT_STARTED\)"):
        rules.check_can_start(patched_record(), E.VULNERABILITY_SCANS_AMI_PATCH)


def test_patch_approval_names_the_patch_predecessors():
    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", start=110)

    with pytest.raises(Conflict) as caught:
        rules.check_can_start(record, E.MARK_FOR_PRODUCTION_PATCH)

    assert caught.value.message.endswith("not completed: VULNERABILITY_SCANS_AMI_PATCH (NOT_STARTED)")


def test_a_new_patch_cannot_start_while_the_previous_one_runs():
    record = records.mark_event_in_progress(patched_record(), E.SMOKE_TESTS_AMI_PATCH, later(120),
                                            description="smoke")

    with pytest.raises(Conflict, match="in progress"):
        rules.check_can_start(record, E.PATCH_AMI)


# ------------------------------------------------------------- next event

def test_next_creation_event_after_the_build_is_the_smoke_tests():
    assert rules.next_enabled_event(completed(new_record(), "BUILD_AMI"), CREATION) is E.SMOKE_TESTS_AMI_CREATE


def test_next_creation_events_follow_smoke_then_vulnerability_then_qa_request():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")
    after_scans = completed(record, "VULNERABILITY_SCANS_AMI_CREATE", start=5)

    assert (rules.next_enabled_event(record, CREATION), rules.next_enabled_event(after_scans, CREATION)) == (
        E.VULNERABILITY_SCANS_AMI_CREATE, E.QA_CERTIFICATION_REQUEST)


def test_qa_response_and_approval_are_never_started_automatically():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST")

    assert rules.next_enabled_event(record, CREATION) is None


def test_disabled_events_are_not_started():
    record = completed(new_record(events=creation("BUILD_AMI")), "BUILD_AMI")

    assert rules.next_enabled_event(record, CREATION) is None


def test_events_enabled_by_an_update_are_started_next():
    record = completed(new_record(events=creation("BUILD_AMI")), "BUILD_AMI")
    record = records.apply_update(record, parse_update_request(update_body()), later(10))

    assert rules.next_enabled_event(record, CREATION) is E.SMOKE_TESTS_AMI_CREATE


def test_next_patch_event_after_the_patch_is_the_smoke_tests():
    assert rules.next_enabled_event(patched_record(), PATCH) is E.SMOKE_TESTS_AMI_PATCH


def test_patch_never_starts_its_approval_automatically():
    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH", start=110)

    assert rules.next_enabled_event(record, PATCH) is None
