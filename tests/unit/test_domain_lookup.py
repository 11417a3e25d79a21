"""Lookup entries and standing: only success raises it, nothing lowers it."""

from decimal import Decimal

import pytest

from orchestrator.domain import lookup
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.vocabulary import EventName as E, Status

from .domain_builders import (BUILT_AMI, LIFECYCLE_ID, NOW, PATCHED_AMI, REGION, build_result, completed, later,
                              new_record, patched_record, result)


def test_lookup_id_is_region_and_ami_id():
    assert lookup.lookup_id("eu-west-1", "ami-0123456789abcdef0") == "eu-west-1#ami-0123456789abcdef0"


def test_lookup_id_rejects_malformed_ami_ids():
    with pytest.raises(ValidationError, match="ami_id"):
        lookup.lookup_id("eu-west-1", "image-1")


def test_lookup_id_rejects_malformed_regions():
    with pytest.raises(ValidationError, match="aws_region"):
        lookup.lookup_id("Europe", "ami-0123456789abcdef0")


@pytest.mark.parametrize("event, score", [(E.BUILD_AMI, 1), (E.SMOKE_TESTS_AMI_CREATE, 2),
                                          (E.VULNERABILITY_SCANS_AMI_CREATE, 3), (E.QA_CERTIFICATION_REQUEST, 4),
                                          (E.PATCH_AMI, 1), (E.VULNERABILITY_SCANS_AMI_PATCH, 3)])
def test_completed_event_earns_its_score(event, score):
    assert lookup.score_for(event, Status.COMPLETED) == score


def test_certified_qa_response_earns_five():
    assert lookup.score_for(E.QA_CERTIFICATION_RESPONSE, Status.COMPLETED, "CERTIFIED") == 5


def test_qa_response_without_certification_earns_nothing():
    assert lookup.score_for(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, "FAILED") is None


def test_completed_qa_response_that_is_not_certified_earns_nothing():
    assert lookup.score_for(E.QA_CERTIFICATION_RESPONSE, Status.COMPLETED, "FAILED") is None


def test_approved_mark_for_production_earns_six():
    assert lookup.score_for(E.MARK_FOR_PRODUCTION_PATCH, Status.COMPLETED, "APPROVED") == 6


def test_refused_approval_earns_nothing():
    assert lookup.score_for(E.MARK_FOR_PRODUCTION_CREATE, Status.FAILED, "NOT_APPROVED") is None


def test_error_statuses_earn_nothing():
    assert lookup.score_for(E.BUILD_AMI, Status.ERROR) is None


def test_outcome_is_read_from_a_results_properties():
    approved = result(E.MARK_FOR_PRODUCTION_CREATE, properties={"approval_status": "APPROVED"})

    assert lookup.result_score(approved) == 6


def build_entry():
    record = completed(new_record(), "BUILD_AMI")
    outcome = build_result()
    return record, lookup.updated_lookup_entry(None, record=record, ami=lookup.amis_for_result(record, outcome)[0],
                                               result=outcome, now=later(1))


def test_build_creates_an_entry_keyed_by_region_and_ami():
    _, entry = build_entry()

    assert {k: entry[k] for k in ("lookup_id", "ami_id", "aws_region", "stack_tag", "lifecycle_id", "lifecycle_type",
                                  "lifecycle_event", "lifecycle_score", "ami_semver", "semver_sort_key")} == {
        "lookup_id": f"{REGION}#{BUILT_AMI}", "ami_id": BUILT_AMI, "aws_region": REGION, "stack_tag": "main",
        "lifecycle_id": LIFECYCLE_ID, "lifecycle_type": "ami-creation", "lifecycle_event": "BUILD_AMI",
        "lifecycle_score": 1, "ami_semver": "1.0.0", "semver_sort_key": "000001.000000.000000~"}


def test_entry_carries_product_commit_name_and_iso_date():
    _, entry = build_entry()

    assert (entry["product_name"], entry["commit_ref"], entry["ami_name"], entry["last_modified"]) == (
        "billing-service", "3f9c2ab", f"AmiLifecycle-{BUILT_AMI}", "2026-11-23T10:01:00Z")


def test_success_raises_standing():
    record, entry = build_entry()
    smoke = result(E.SMOKE_TESTS_AMI_CREATE, minutes=2)

    updated = lookup.updated_lookup_entry(entry, record=record, ami=lookup.amis_for_result(record, smoke)[0],
                                          result=smoke, now=later(2))

    assert (updated["lifecycle_score"], updated["lifecycle_event"]) == (2, "SMOKE_TESTS_AMI_CREATE")


def test_failure_never_raises_standing_but_is_visible():
    record, entry = build_entry()
    entry = {**entry, "lifecycle_score": 4, "lifecycle_event": "QA_CERTIFICATION_REQUEST"}
    refused = result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, minutes=9, certification_status="FAILED")

    updated = lookup.updated_lookup_entry(entry, record=record, ami=lookup.amis_for_result(record, refused)[0],
                                          result=refused, now=later(9))

    assert (updated["lifecycle_score"], updated["lifecycle_event"]) == (4, "QA_CERTIFICATION_REQUEST")
    assert (updated["last_event"], updated["last_event_status"]) == ("QA_CERTIFICATION_RESPONSE", "FAILED")


def test_late_lower_result_never_lowers_standing():
    record, entry = build_entry()
    entry = {**entry, "lifecycle_score": 3, "lifecycle_event": "VULNERABILITY_SCANS_AMI_CREATE"}
    late_smoke = result(E.SMOKE_TESTS_AMI_CREATE, minutes=2)

    updated = lookup.updated_lookup_entry(entry, record=record, ami=lookup.amis_for_result(record, late_smoke)[0],
                                          result=late_smoke, now=later(20))

    assert updated["lifecycle_score"] == 3


def test_dynamodb_decimal_scores_are_compared_as_numbers():
    record, entry = build_entry()
    smoke = result(E.SMOKE_TESTS_AMI_CREATE, minutes=2)

    updated = lookup.updated_lookup_entry({**entry, "lifecycle_score": Decimal("1")}, record=record,
                                          ami=lookup.amis_for_result(record, smoke)[0], result=smoke, now=later(2))

    assert updated["lifecycle_score"] == 2


def test_unsuccessful_result_for_an_unknown_ami_writes_nothing():
    record = completed(new_record(), "BUILD_AMI")
    refused = result(E.MARK_FOR_PRODUCTION_CREATE, Status.FAILED, properties={"approval_status": "NOT_APPROVED"})

    assert lookup.updated_lookup_entry(None, record=record, ami=lookup.amis_for_result(record, refused)[0],
                                       result=refused, now=NOW) is None


def test_patch_entry_describes_the_patched_ami_with_the_patch_commit():
    record = patched_record()
    outcome = result(E.SMOKE_TESTS_AMI_PATCH, minutes=110)
    amis = lookup.amis_for_result(record, outcome)

    entry = lookup.updated_lookup_entry(None, record=record, ami=amis[0], result=outcome, now=later(110))

    assert (entry["ami_id"], entry["lifecycle_type"], entry["commit_ref"], entry["ami_semver"]) == (
        PATCHED_AMI, "ami-patch", "77aa01c", "1.1.0")


def test_creation_results_concern_the_built_ami_even_after_patching():
    record = patched_record()

    assert [a["image"] for a in lookup.amis_for_result(record, result(E.BUILD_AMI))] == [BUILT_AMI]
