"""Result and error messages: parsing, credential dropping, and the verdict results the API builds."""

import pytest

from orchestrator.domain import results as r
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.timestamps import iso_utc, normalize_timestamp, older_than
from orchestrator.domain.vocabulary import CertificationStatus, EventName, LifecycleType, Status

from .domain_builders import LIFECYCLE_ID, NOW, later


def message(**overrides):
    body = {"name": "SMOKE_TESTS_AMI_CREATE", "status": "COMPLETED", "status_date": "2026-11-23T10:05:00Z",
            "lifecycle_id": LIFECYCLE_ID, "properties": {"smoke_tests_status": "PASSED"}}
    body.update(overrides)
    return body


def test_timestamps_are_iso_8601_utc_with_z():
    assert iso_utc(NOW) == "2026-11-23T10:00:00Z"


def test_naive_datetimes_are_a_programming_error():
    with pytest.raises(ValueError):
        iso_utc(NOW.replace(tzinfo=None))


def test_offsets_are_normalized_to_utc():
    assert normalize_timestamp("2026-11-23T12:00:00+02:00", field="status_date") == "2026-11-23T10:00:00Z"


def test_zone_less_timestamps_are_refused():
    with pytest.raises(ValidationError, match="status_date"):
        normalize_timestamp("11/23/2026, 10:00:00", field="status_date")


def test_older_than():
    assert older_than("2026-11-23T10:00:00Z", later(241), later(240) - NOW)


def test_result_message_is_parsed():
    parsed = r.parse_event_result(message())

    assert (parsed.name, parsed.status, parsed.lifecycle_type) == (EventName.SMOKE_TESTS_AMI_CREATE, Status.COMPLETED,
                                                                   LifecycleType.AMI_CREATION)


def test_misspelt_event_name_in_a_result_is_stored_correctly_spelt():
    parsed = r.parse_event_result(message(name="VULNERABILIY_SCANS_AMI_CREATE"))

    assert parsed.to_item()["name"] == "VULNERABILITY_SCANS_AMI_CREATE"


def test_api_key_and_task_token_in_a_result_are_dropped():
    item = r.parse_event_result(message(api_key="k", task_token="t")).to_item()

    assert "api_key" not in item and "task_token" not in item


def test_known_top_level_attributes_are_kept():
    item = r.parse_event_result(message(name="BUILD_AMI", commit_ref="3f9c2ab", product_ver="1.0")).to_item()

    assert (item["commit_ref"], item["product_ver"]) == ("3f9c2ab", "1.0")


def test_in_progress_is_not_a_result_status():
    with pytest.raises(ValidationError) as caught:
        r.parse_event_result(message(status="IN_PROGRESS"))

    assert caught.value.allowed == ["COMPLETED", "FAILED"]


def test_result_needs_a_lifecycle_id():
    body = message()
    del body["lifecycle_id"]

    with pytest.raises(ValidationError, match="lifecycle_id: missing"):
        r.parse_event_result(body)


def test_result_properties_must_be_an_object():
    with pytest.raises(ValidationError, match="properties: expected an object"):
        r.parse_event_result(message(properties=["x"]))


def test_with_ami_semver_stamps_every_ami_and_leaves_the_original_alone():
    original = r.parse_event_result(message(name="BUILD_AMI", properties={"ami_details": [{"image": "ami-1"},
                                                                                         {"image": "ami-2"}]}))

    stamped = original.with_ami_semver("2.0.0")

    assert [a["ami_semver"] for a in stamped.properties["ami_details"]] == ["2.0.0", "2.0.0"]
    assert "ami_semver" not in original.properties["ami_details"][0]


def test_error_report_is_parsed():
    error = r.parse_event_error({"lifecycle_id": LIFECYCLE_ID, "status": "ERROR", "status_date": "2026-11-23T10:05:00Z",
                                 "error_message": "boom", "stack_trace": "Traceback", "name": "BUILD_AMI"})

    assert (error.status, error.name) == (Status.ERROR, EventName.BUILD_AMI)


def test_error_report_texts_are_cut_not_refused():
    error = r.parse_event_error({"lifecycle_id": LIFECYCLE_ID, "status": "ERROR", "status_date": "2026-11-23T10:05:00Z",
                                 "error_message": "e" * 10000, "stack_trace": "t" * 50000})

    assert (len(error.error_message), len(error.stack_trace)) == (r.MAX_ERROR_MESSAGE, r.MAX_STACK_TRACE)


def test_error_report_needs_an_error_message():
    with pytest.raises(ValidationError, match="error_message"):
        r.parse_event_error({"lifecycle_id": LIFECYCLE_ID, "status": "ERROR",
                             "status_date": "2026-11-23T10:05:00Z", "stack_trace": "t"})


def test_certified_verdict_completes_the_qa_response():
    result = r.qa_certification_result(LIFECYCLE_ID, CertificationStatus.CERTIFIED, {"qa_owner": "kim"}, NOW)

    assert (result.status, result.attributes["certification_status"], result.properties["qa_owner"]) == (
        Status.COMPLETED, "CERTIFIED", "kim")


def test_failed_verdict_fails_the_qa_response():
    assert r.qa_certification_result(LIFECYCLE_ID, CertificationStatus.FAILED, {}, NOW).status is Status.FAILED


def test_refused_approval_is_a_failed_approval_of_the_right_phase():
    result = r.approval_refused_result(LIFECYCLE_ID, LifecycleType.AMI_PATCH, {"reason": "CVE"}, NOW)

    assert (result.name, result.status, result.properties["approval_status"]) == (
        EventName.MARK_FOR_PRODUCTION_PATCH, Status.FAILED, "NOT_APPROVED")
