"""The lifecycle record: creation, updates, events in progress, result merging, errors, timeouts."""

import copy
from dataclasses import replace
from datetime import timedelta

import pytest

from orchestrator.domain import history, records
from orchestrator.domain.errors import Conflict, NotFound, ValidationError
from orchestrator.domain.requests import (parse_create_request, parse_patch_request, parse_patch_update_request,
                                         parse_update_request)
from orchestrator.domain.results import EventError
from orchestrator.domain.vocabulary import EventName as E, Status

from .domain_builders import (BUILT_AMI, CREATION_EVENTS, LIFECYCLE_ID, NOW, PATCH_EVENTS, PATCHED_AMI,
                              SECOND_PATCHED_AMI, build_result, completed, create_body, fully_approved_record, later,
                              new_record, patch_body, patch_result, patched_record, result, toggles, update_body)


# ---------------------------------------------------------------- creation

def test_new_lifecycle_record_holds_the_request_and_iso_utc_dates():
    record = new_record()

    assert (record["lifecycle_id"], record["stack_tag"], record["creation_date"], record["commit_ref"]) == (
        LIFECYCLE_ID, "main", "2026-11-23T10:00:00Z", "3f9c2ab")
    assert record["inputs_ami_creation"]["events"][0] == {"name": "BUILD_AMI", "enabled": True}
    assert record["outputs_ami_creation"] == {"events": []}


def test_new_lifecycle_record_stores_no_api_key_or_timeline_url():
    record = records.new_lifecycle(parse_create_request(create_body(api_key="k")), LIFECYCLE_ID, NOW)

    assert "api_key" not in str(record) and "timeline" not in record


def test_new_lifecycle_refuses_a_malformed_id():
    with pytest.raises(ValidationError):
        records.new_lifecycle(parse_create_request(create_body()), "not-a-uuid", NOW)


# ----------------------------------------------------------------- updates

def test_update_replaces_owner_channels_and_events_and_stamps_update_date():
    request = parse_update_request(update_body(owner="new-owner"))

    record = records.apply_update(new_record(), request, later(5))

    assert (record["owner"], record["update_date"]) == ("new-owner", "2026-11-23T10:05:00Z")
    assert [t["name"] for t in record["inputs_ami_creation"]["events"] if t["enabled"]] == ["SMOKE_TESTS_AMI_CREATE"]


def test_update_merges_properties_with_new_values_winning():
    request = parse_update_request(update_body(properties={"team": "payments", "tier": "gold"}))

    record = records.apply_update(new_record(), request, later(5))

    assert record["properties"] == {"team": "payments", "tier": "gold"}


def test_update_under_another_stack_tag_is_not_found():
    with pytest.raises(NotFound, match="not found in stack tag other"):
        records.apply_update(new_record(), parse_update_request(update_body(stack_tag="other")), later(5))


def test_update_does_not_modify_the_given_record():
    original = new_record()
    snapshot = copy.deepcopy(original)

    records.apply_update(original, parse_update_request(update_body(owner="x")), later(5))

    assert original == snapshot


def test_patch_request_is_recorded_in_patch_inputs():
    record = records.apply_patch_request(fully_approved_record(), parse_patch_request(patch_body()), later(50))

    inputs = record["inputs_ami_patch"]
    assert (inputs["commit_ref"], inputs["properties"]["semver_bump_type"], inputs["update_date"]) == (
        "77aa01c", "MINOR", "2026-11-23T10:50:00Z")


def test_every_patch_request_updates_patch_properties_with_new_values_winning():
    record = records.apply_patch_request(fully_approved_record(), parse_patch_request(patch_body()), later(50))
    second = patch_body()
    second["properties"]["patch_change_description"] = "Update glibc"

    record = records.apply_patch_request(record, parse_patch_request(second), later(60))

    assert record["inputs_ami_patch"]["properties"]["patch_change_description"] == "Update glibc"


def test_patch_update_without_commit_ref_keeps_the_stored_one():
    record = records.apply_patch_request(fully_approved_record(), parse_patch_request(patch_body()), later(50))
    body = patch_body(commit_ref="", events=toggles(PATCH_EVENTS, {"SMOKE_TESTS_AMI_PATCH"}))

    record = records.apply_patch_request(record, parse_patch_update_request(body), later(60))

    assert record["inputs_ami_patch"]["commit_ref"] == "77aa01c"


# ------------------------------------------------------- event in progress

def test_mark_event_in_progress_claims_the_lifecycle():
    record = records.mark_event_in_progress(completed(new_record(), "BUILD_AMI"), E.SMOKE_TESTS_AMI_CREATE, later(3),
                                            description="Smoke tests", properties={"ami_id": BUILT_AMI})

    current = record["event_in_progress"]
    assert (current["name"], current["status"], current["execution_startdate"]) == (
        "SMOKE_TESTS_AMI_CREATE", "IN_PROGRESS", "2026-11-23T10:03:00Z")
    assert history.is_running(record)


def test_mark_event_in_progress_applies_the_rules():
    with pytest.raises(Conflict):
        records.mark_event_in_progress(new_record(), E.VULNERABILITY_SCANS_AMI_CREATE, NOW, description="scan")


def test_second_claim_while_running_is_a_conflict():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build")

    with pytest.raises(Conflict, match="BUILD_AMI is in progress"):
        records.mark_event_in_progress(record, E.BUILD_AMI, NOW, description="build")


def test_attach_execution_records_the_execution_of_the_claimed_event():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build")

    record = records.attach_execution(record, E.BUILD_AMI, execution_arn="arn:exec:1",
                                      statemachine_input={"lifecycle_id": LIFECYCLE_ID})

    assert record["event_in_progress"]["execution_arn"] == "arn:exec:1"


def test_attach_execution_to_another_event_is_a_conflict():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build")

    with pytest.raises(Conflict):
        records.attach_execution(record, E.SMOKE_TESTS_AMI_CREATE, execution_arn="arn:exec:1")


# ------------------------------------------------------------- results

def test_result_is_appended_and_releases_the_event_in_progress():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build")

    record = records.record_event_result(record, build_result(), later(30))

    assert history.event_status(record, E.BUILD_AMI) is Status.COMPLETED
    assert "event_in_progress" not in record and record["last_modified"] == "2026-11-23T10:30:00Z"


def test_result_for_another_event_keeps_the_event_in_progress():
    record = records.mark_event_in_progress(completed(new_record(), "BUILD_AMI"), E.SMOKE_TESTS_AMI_CREATE, later(2),
                                            description="smoke")

    record = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, minutes=9,
                                                        certification_status="CERTIFIED"), later(9))

    assert record["event_in_progress"]["name"] == "SMOKE_TESTS_AMI_CREATE"


def test_result_for_another_lifecycle_is_refused():
    other = replace(result(E.BUILD_AMI), lifecycle_id="11111111-2222-4333-8444-555555555555")

    with pytest.raises(ValidationError, match="not for lifecycle"):
        records.record_event_result(new_record(), other, NOW)


def test_creation_result_replaces_a_failed_entry_of_the_same_event():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST")
    record = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, minutes=8,
                                                        certification_status="FAILED"), later(8))

    record = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, minutes=9,
                                                        certification_status="CERTIFIED"), later(9))

    responses = [e for e in history.creation_events(record) if e["name"] == "QA_CERTIFICATION_RESPONSE"]
    assert [e["status"] for e in responses] == ["COMPLETED"]


def test_creation_result_never_overwrites_a_completed_entry():
    record = completed(new_record(), "BUILD_AMI")

    record = records.record_event_result(record, build_result(semver="9.0.0", minutes=50), later(50))

    assert [e["status"] for e in history.creation_events(record)] == ["COMPLETED", "COMPLETED"]
    assert history.event_entry(record, E.BUILD_AMI)["properties"]["ami_details"][0]["ami_semver"] == "1.0.0"


def test_late_failed_result_never_undoes_a_completed_event():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST", "QA_CERTIFICATION_RESPONSE")

    again = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, minutes=20,
                                                       certification_status="FAILED"), later(20))

    assert history.creation_events(again) == history.creation_events(record)


def test_late_failed_patch_result_never_undoes_a_completed_patch_event():
    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", start=110)

    again = records.record_event_result(record, result(E.SMOKE_TESTS_AMI_PATCH, Status.FAILED, minutes=130),
                                        later(130))

    assert history.event_status(again, E.SMOKE_TESTS_AMI_PATCH) is Status.COMPLETED


def test_duplicate_delivery_of_a_result_changes_nothing():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    again = records.record_event_result(record, result(E.SMOKE_TESTS_AMI_CREATE, minutes=2), later(99))

    assert again == record


def test_duplicate_is_recognised_before_the_orchestrator_stamps_its_version():
    record = completed(new_record(), "BUILD_AMI")
    raw = build_result(minutes=1)
    unstamped = [{k: v for k, v in a.items() if k != "ami_semver"} for a in raw.properties["ami_details"]]
    raw = replace(raw, properties={**raw.properties, "ami_details": unstamped})

    assert records.result_already_recorded(record, raw)


def test_a_different_result_of_the_same_event_is_not_a_duplicate():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    assert not records.result_already_recorded(record, result(E.SMOKE_TESTS_AMI_CREATE, minutes=7))


def test_first_patch_result_opens_the_current_patch():
    record = patched_record()

    assert [e["name"] for e in history.patch_events(record)] == ["PATCH_AMI"]
    assert history.historical_patches(record) == []


def test_patch_result_records_the_ami_ancestry():
    entry = history.event_entry(patched_record(), E.PATCH_AMI)

    assert entry["properties"]["ami_ancestry"] == f"{BUILT_AMI} (v1.0.0) -> {PATCHED_AMI} (v1.1.0)"


def test_new_patch_moves_the_current_patch_into_history():
    record = completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", start=110)

    record = records.record_event_result(record, patch_result("1.2.0", SECOND_PATCHED_AMI, minutes=200), later(200))

    assert [[e["name"] for e in c["events"]] for c in history.historical_patches(record)] == [
        ["PATCH_AMI", "SMOKE_TESTS_AMI_PATCH"]]
    assert history.event_entry(record, E.PATCH_AMI)["properties"]["ami_ancestry"] == (
        f"{BUILT_AMI} (v1.0.0) -> {PATCHED_AMI} (v1.1.0) -> {SECOND_PATCHED_AMI} (v1.2.0)")


def test_rerun_of_a_patch_event_replaces_its_earlier_result():
    record = records.record_event_result(patched_record(), result(E.SMOKE_TESTS_AMI_PATCH, minutes=110,
                                                                  properties={"run": "1"}), later(110))

    record = records.record_event_result(record, result(E.SMOKE_TESTS_AMI_PATCH, minutes=120,
                                                        properties={"run": "2"}), later(120))

    smoke = [e for e in history.patch_events(record) if e["name"] == "SMOKE_TESTS_AMI_PATCH"]
    assert [e["properties"]["run"] for e in smoke] == ["2"]


def test_duplicate_patch_result_does_not_open_another_patch():
    record = patched_record()

    again = records.record_event_result(record, patch_result(minutes=100), later(300))

    assert again == record


def test_patch_event_result_without_a_patch_is_a_conflict():
    with pytest.raises(Conflict, match="has no patch yet"):
        records.record_event_result(fully_approved_record(), result(E.SMOKE_TESTS_AMI_PATCH), later(5))


# ------------------------------------------------------------- errors

def running_build():
    return records.attach_execution(records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="b"),
                                    E.BUILD_AMI, execution_arn="arn:exec:1")


def error(**overrides):
    fields = {"lifecycle_id": LIFECYCLE_ID, "status": Status.ERROR, "status_date": "2026-11-23T10:07:00Z",
              "error_message": "Image Builder failed", "stack_trace": "Traceback"}
    fields.update(overrides)
    return EventError(**fields)


def test_error_annotates_the_event_in_progress():
    record = records.record_event_error(running_build(), error(), later(7))

    current = record["event_in_progress"]
    assert (current["status"], current["error_message"], current["status_date"]) == (
        "ERROR", "Image Builder failed", "2026-11-23T10:07:00Z")


def test_error_leaves_outputs_untouched():
    record = records.record_event_error(running_build(), error(), later(7))

    assert record["outputs_ami_creation"] == {"events": []}


def test_error_for_another_event_is_ignored():
    record = running_build()

    assert records.record_event_error(record, error(name=E.SMOKE_TESTS_AMI_CREATE), later(7)) == record


def test_error_from_an_older_execution_is_ignored():
    record = running_build()

    assert not records.error_applies(record, error(execution_arn="arn:exec:0"))


def test_error_without_an_event_in_progress_changes_nothing():
    record = new_record()

    assert records.record_event_error(record, error(), later(7)) == record


def test_running_event_past_the_maximum_wait_is_shown_as_timed_out():
    record = records.with_timeout_flag(running_build(), later(241), timedelta(minutes=240))

    current = record["event_in_progress"]
    assert (current["status"], current["stack_trace"]) == ("ERROR_EVENT_TIMEOUT", "See error_message")
    assert "240 minutes" in current["error_message"] and "arn:exec:1" in current["error_message"]


def test_running_event_within_the_maximum_wait_is_left_alone():
    record = running_build()

    assert records.with_timeout_flag(record, later(239), timedelta(minutes=240)) == record


def test_timeout_flag_does_not_modify_the_stored_record():
    record = running_build()

    records.with_timeout_flag(record, later(500), timedelta(minutes=240))

    assert record["event_in_progress"]["status"] == "IN_PROGRESS"


# ------------------------------------------------------------- responses

def test_lifecycle_response_of_an_update_uses_the_update_date():
    record = records.apply_update(new_record(), parse_update_request(update_body()), later(5))

    assert records.lifecycle_response(record, date_field="update_date") == {
        "lifecycle_id": LIFECYCLE_ID, "owner": "platform-team", "creation_date": "2026-11-23T10:05:00Z",
        "notification_channels": [{"method": "EMAIL", "target": "owner@example.com"}]}


def test_unused_creation_event_names_stay_canonical():
    assert {t["name"] for t in new_record()["inputs_ami_creation"]["events"]} == set(CREATION_EVENTS)
