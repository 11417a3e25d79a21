"""AMI tags computed from a record and a result."""

import pytest

from orchestrator.domain import tags
from orchestrator.domain.history import event_entry
from orchestrator.domain.results import EventResult
from orchestrator.domain.vocabulary import EventName as E, LifecycleType, Status

from .domain_builders import (BUILT_AMI, LIFECYCLE_ID, PATCHED_AMI, build_result, completed, new_record,
                              patched_record, result)


def test_build_tags():
    record = completed(new_record(), "BUILD_AMI")

    assert tags.ami_tags(record, build_result()) == {
        "AMI_LC_EVENT_BUILD_AMI_STATUS": "COMPLETED",
        "AMI_LC_EVENT_BUILD_AMI_STATUS_DATE": "2026-11-23T10:01:00Z",
        "AMI_LC_LIFECYCLE_ID": LIFECYCLE_ID,
        "AMI_LC_CURRENT_AMI_SEMVER": "1.0.0",
        "AMI_LC_PRODUCT_VER": "1.4.2",
        "AMI_LC_PRODUCT_NAME": "billing-service",
        "AMI_LC_COMMIT_REF": "3f9c2ab",
        "AMI_LC_COMPONENTS": "amazon-cloudwatch-agent-linux/1.0.1/1, generic/1.0.0/1",
        "AMI_LC_IMAGEBUILDER_IMAGE_ARN": "arn:aws:imagebuilder:eu-west-1:123456789012:image/recipe/1.0.0/1",
    }


def test_vulnerability_scan_tags_use_the_correct_spelling_and_list_severities():
    outcome = result(E.VULNERABILITY_SCANS_AMI_CREATE, properties={
        "total_vulnerabilities": "3",
        "vulnerability_severities": {"CRITICAL": "0", "HIGH": "1", "MEDIUM": "2", "LOW": "0", "INFORMATIONAL": "0",
                                     "UNTRIAGED": "0"},
        "vulnerability_scan_report": {"S3Bucket": "findings", "S3Key": "report-1"}})

    found = tags.ami_tags(new_record(), outcome)

    assert found["AMI_LC_EVENT_VULNERABILITY_SCANS_AMI_CREATE_SEVERITIES"] == (
        "CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 0, INFORMATIONAL: 0, UNTRIAGED: 0")
    assert found["AMI_LC_EVENT_VULNERABILITY_SCANS_AMI_CREATE_SCAN_REPORT"] == "s3://findings/report-1"
    assert found["AMI_LC_EVENT_VULNERABILITY_SCANS_AMI_CREATE_TOTAL_VULNERABILITIES"] == "3"


def test_qa_request_tags_name_the_export():
    outcome = result(E.QA_CERTIFICATION_REQUEST, properties={"export_image_id": "t-1.vmdk",
                                                             "export_image_path": "s3://b/p/t-1.vmdk",
                                                             "export_image_task_id": "export-ami-1"})

    assert set(tags.ami_tags(new_record(), outcome)) == {
        "AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_STATUS", "AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_STATUS_DATE",
        "AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_EXPORT_IMAGE_ID", "AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_EXPORT_IMAGE_PATH",
        "AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_EXPORT_IMAGE_TASK_ID"}


def test_qa_response_tag_carries_the_verdict():
    outcome = result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, certification_status="FAILED")

    assert tags.ami_tags(new_record(), outcome)["AMI_LC_EVENT_QA_CERTIFICATION_RESPONSE_QA_CERTIFICATION_STATUS"] == \
        "FAILED"


def test_approval_tags_carry_status_and_backup_location():
    outcome = result(E.MARK_FOR_PRODUCTION_CREATE, properties={"approval_status": "APPROVED", "s3_bucket": "backup",
                                                               "s3_object_key": f"{BUILT_AMI}.bin"})

    found = tags.ami_tags(new_record(), outcome)

    assert (found["AMI_LC_EVENT_MARK_FOR_PRODUCTION_CREATE_APPROVAL_STATUS"],
            found["AMI_LC_EVENT_MARK_FOR_PRODUCTION_CREATE_AMI_BACKUP"]) == ("APPROVED", f"s3://backup/{BUILT_AMI}.bin")


def test_patch_tags_carry_version_ancestry_and_patch_commit():
    record = patched_record()
    patch = event_entry(record, E.PATCH_AMI)
    outcome = EventResult(LIFECYCLE_ID, E.PATCH_AMI, Status.COMPLETED, patch["status_date"], patch["properties"],
                          {"commit_ref": "77aa01c"})

    found = tags.ami_tags(record, outcome)

    assert (found["AMI_LC_CURRENT_AMI_SEMVER"], found["AMI_LC_COMMIT_REF"]) == ("1.1.0", "77aa01c")
    assert found["AMI_LC_AMI_ANCESTRY"] == f"{BUILT_AMI} (v1.0.0) -> {PATCHED_AMI} (v1.1.0)"


def test_values_are_cut_to_255_characters():
    outcome = result(E.QA_CERTIFICATION_REQUEST, properties={"export_image_path": "s3://b/" + "p" * 400})

    assert len(tags.ami_tags(new_record(), outcome)["AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_EXPORT_IMAGE_PATH"]) == 255


def test_missing_facts_produce_no_empty_tags():
    assert all(value for value in tags.ami_tags(new_record(), result(E.SMOKE_TESTS_AMI_CREATE)).values())


def test_every_key_is_a_valid_ec2_tag_key():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    assert all(len(key) <= 128 and key.startswith("AMI_LC_") for key in tags.expected_tags(
        record, LifecycleType.AMI_CREATION))


def test_invalid_tag_key_is_refused():
    with pytest.raises(ValueError):
        tags.tag_key("EVENT", "X" * 200)


def test_expected_tags_gather_every_result_of_the_phase():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    expected = tags.expected_tags(record, LifecycleType.AMI_CREATION)

    assert expected["AMI_LC_EVENT_SMOKE_TESTS_AMI_CREATE_STATUS"] == "COMPLETED"
    assert expected["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"


def test_no_expected_tags_before_the_phase_has_an_ami():
    assert tags.expected_tags(new_record(), LifecycleType.AMI_CREATION) == {}
