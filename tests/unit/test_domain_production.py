"""Approval for production in the domain: the approval rule, the backup's outcome, the channel's order."""

from __future__ import annotations

import pytest

from orchestrator.domain import production, records, rules, timeline
from orchestrator.domain.errors import Conflict, ValidationError
from orchestrator.domain.production import ChannelState, Release, channel_head, with_release
from orchestrator.domain.requests import parse_update_request
from orchestrator.domain.vocabulary import EventName as E
from orchestrator.domain.vocabulary import LifecycleType, Status

from .domain_builders import (CREATION_EVENTS, LIFECYCLE_ID, NOW, completed, later, new_record,
                              patched_record, result, toggles, update_body)

MFP = E.MARK_FOR_PRODUCTION_CREATE


def enabled_only(*names: str) -> dict:
    return new_record(events=toggles(CREATION_EVENTS, {"BUILD_AMI", *names}))


# ----------------------------------------------------------- the approval rule

def test_with_qa_not_enabled_the_approval_follows_the_last_enabled_event():
    record = completed(enabled_only("SMOKE_TESTS_AMI_CREATE"), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    rules.check_can_start(record, MFP)


def test_a_build_only_lifecycle_may_be_approved_once_its_build_completed():
    rules.check_can_start(completed(enabled_only(), "BUILD_AMI"), MFP)


def test_with_qa_not_enabled_an_unfinished_enabled_event_blocks_the_approval():
    record = completed(enabled_only("SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE"),
                       "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    with pytest.raises(Conflict) as caught:
        rules.check_can_start(record, MFP)

    assert "every event the owner enabled must be COMPLETED" in caught.value.message
    assert caught.value.message.endswith("not completed: VULNERABILITY_SCANS_AMI_CREATE (NOT_STARTED)")


def test_with_qa_enabled_the_approval_needs_the_qa_teams_certification():
    record = completed(new_record(), *CREATION_EVENTS)

    with pytest.raises(Conflict, match=r"must be CERTIFIED first .*QA_CERTIFICATION_RESPONSE \(NOT_STARTED\)"):
        rules.check_can_start(record, MFP)

    rules.check_can_start(completed(record, "QA_CERTIFICATION_RESPONSE", start=9), MFP)


def test_a_qa_refusal_blocks_the_approval_even_once_qa_is_disabled_again():
    record = completed(new_record(), *CREATION_EVENTS)
    record = records.record_event_result(record, result(E.QA_CERTIFICATION_RESPONSE, Status.FAILED, minutes=9,
                                                        certification_status="FAILED"), later(9))
    record = records.apply_update(record, parse_update_request(update_body(
        events=toggles(CREATION_EVENTS, {"SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE"}))), later(10))

    with pytest.raises(Conflict, match=r"QA_CERTIFICATION_RESPONSE \(FAILED\)"):
        rules.check_can_start(record, MFP)


def test_an_approved_ami_cannot_be_approved_again():
    record = completed(enabled_only(), "BUILD_AMI", MFP)

    with pytest.raises(Conflict, match="MARK_FOR_PRODUCTION_CREATE is already COMPLETED"):
        rules.check_can_start(record, MFP)


def test_no_approval_while_an_event_runs():
    record = records.mark_event_in_progress(completed(enabled_only("SMOKE_TESTS_AMI_CREATE"), "BUILD_AMI"),
                                            E.SMOKE_TESTS_AMI_CREATE, NOW, description="smoke")

    with pytest.raises(Conflict, match="in progress"):
        rules.check_can_start(record, MFP)


def test_a_refused_approval_may_be_followed_by_a_new_verdict():
    record = completed(enabled_only(), "BUILD_AMI")
    record = records.record_event_result(record, result(MFP, Status.FAILED, minutes=5, approval_status="NOT_APPROVED"),
                                         later(5))

    rules.check_can_start(record, MFP)


def test_the_patch_approval_follows_the_enabled_patch_events():
    record = patched_record()
    record["inputs_ami_patch"]["events"] = toggles(("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH",
                                                    "VULNERABILITY_SCANS_AMI_PATCH"), {"PATCH_AMI"})

    rules.check_can_start(record, E.MARK_FOR_PRODUCTION_PATCH)


def test_a_lifecycle_approved_without_qa_may_be_patched():
    record = completed(enabled_only("SMOKE_TESTS_AMI_CREATE"), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", MFP)

    rules.check_can_start(record, E.PATCH_AMI)


# ------------------------------------------------------------------ the backup

def test_the_backup_object_is_tagged_with_commit_and_product():
    assert production.backup_object_tags(commit_ref="3f9c2ab", product_ver="1.4.2", product_name="billing") == [
        {"Key": "CommitRef", "Value": "3f9c2ab"}, {"Key": "ProductVer", "Value": "1.4.2"},
        {"Key": "ProductName", "Value": "billing"}]


def test_a_completed_store_task_is_done_with_its_location():
    outcome = production.backup_outcome({"AmiId": "ami-0abc12345678", "StoreTaskState": "Completed",
                                         "Bucket": "backups", "S3objectKey": "ami-0abc12345678.bin",
                                         "ProgressPercentage": 100}, ami_id="ami-0abc12345678")

    assert outcome == {"ami_id": "ami-0abc12345678", "state": "COMPLETED", "done": True, "failed": False,
                       "bucket": "backups", "key": "ami-0abc12345678.bin", "progress": 100}


def test_a_failed_store_task_carries_ec2s_reason():
    outcome = production.backup_outcome({"StoreTaskState": "Failed", "StoreTaskFailureReason": "Access Denied"},
                                        ami_id="ami-0abc12345678")

    assert outcome["failed"] and not outcome["done"]
    assert outcome["reason"] == "the backup of ami-0abc12345678 to S3 failed: Access Denied"


def test_a_task_not_listed_yet_is_still_in_progress():
    outcome = production.backup_outcome(None, ami_id="ami-0abc12345678")

    assert outcome["state"] == "IN_PROGRESS" and not outcome["done"] and not outcome["failed"]


# ---------------------------------------------------------------- the channel

def release(semver: str, ami_id: str, minutes: int = 0) -> Release:
    return production.release_for(ami={"id": ami_id, "region": "eu-west-1", "semver": semver},
                                  lifecycle_id=LIFECYCLE_ID, event=MFP, now=later(minutes))


def test_the_channel_is_named_per_stack_tag_and_product():
    assert production.channel_parameter("main", "billing-service") == "/ami-lifecycle/main/billing-service/production"
    assert production.release_parameter("main", "billing service") == \
        "/ami-lifecycle/main/billing-service/production-release"


def test_a_newer_approval_becomes_the_head():
    state = with_release(with_release(ChannelState("main/b"), release("1.0.0", "ami-0000000001")),
                         release("2.0.0", "ami-0000000002", 1))

    assert state.head.ami_id == "ami-0000000002" and state.revision == 2


def test_an_older_approval_arriving_late_never_replaces_a_newer_head():
    state = with_release(with_release(ChannelState("main/b"), release("2.0.0", "ami-0000000002")),
                         release("1.1.0", "ami-0000000001", 1))

    assert state.head.semver == "2.0.0"
    assert [r.semver for r in state.releases] == ["2.0.0", "1.1.0"]


def test_the_head_is_the_highest_version_in_any_arrival_order():
    versions = ["1.0.0", "3.0.0", "2.0.0", "3.0.0-rc.1", "1.2.0"]
    for rotation in range(len(versions)):
        order = versions[rotation:] + versions[:rotation]
        state = ChannelState("main/b")
        for index, version in enumerate(order):
            state = with_release(state, release(version, f"ami-000000000{index}"))
        assert state.head.semver == "3.0.0"


def test_an_ami_already_in_the_channel_is_not_added_twice():
    state = with_release(ChannelState("main/b"), release("1.0.0", "ami-0000000001"))

    assert with_release(state, release("1.0.0", "ami-0000000001", 5)) is state


def test_a_revoked_release_is_never_the_head():
    kept, revoked = release("1.0.0", "ami-0000000001"), release("2.0.0", "ami-0000000002")
    revoked = Release(**{**revoked.__dict__, "revoked": {"reason": "CVE"}})

    assert channel_head([kept, revoked]) == kept
    assert channel_head([revoked]) is None


def test_the_channel_round_trips_through_its_stored_item():
    state = with_release(ChannelState("main/b"), release("1.0.0", "ami-0000000001"))

    assert ChannelState.from_item("main/b", state.to_item()) == state
    assert state.to_item()["head"]["ami_id"] == "ami-0000000001"


def test_a_release_needs_an_ami_and_a_version():
    with pytest.raises(ValidationError, match="ami.id"):
        production.release_for(ami={"id": "", "semver": "1.0.0"}, lifecycle_id=LIFECYCLE_ID, event=MFP, now=NOW)
    with pytest.raises(ValidationError, match="ami.semver"):
        production.release_for(ami={"id": "ami-0000000001", "semver": "next"}, lifecycle_id=LIFECYCLE_ID,
                               event=MFP, now=NOW)


# ------------------------------------------------------------------ the result

def test_the_result_records_verdict_backup_and_channel():
    outcome = production.backup_outcome({"StoreTaskState": "Completed", "Bucket": "backups",
                                         "S3objectKey": "ami-0000000001.bin"}, ami_id="ami-0000000001")
    result = production.production_result(lifecycle_id=LIFECYCLE_ID, event=MFP, backup=outcome,
                                          channel={"parameter": "/ami-lifecycle/main/b/production",
                                                   "published": True},
                                          approval_properties={"change_ref": "CHG-42"}, now=NOW)

    assert result.status is Status.COMPLETED and result.attributes == {"approval_status": "APPROVED"}
    props = result.properties
    assert props["s3_bucket"] == "backups" and props["s3_object_key"] == "ami-0000000001.bin"
    assert props["ami_backup_state"] == "COMPLETED" and props["change_ref"] == "CHG-42"
    assert props["production_channel"]["published"] is True


def test_the_approval_panel_shows_the_verdict_the_backup_and_the_channel():
    outcome = production.backup_outcome({"StoreTaskState": "Completed", "Bucket": "backups",
                                         "S3objectKey": "ami-0aaaaaaaaaaaaaaa1.bin"}, ami_id="ami-0aaaaaaaaaaaaaaa1")
    approval = production.production_result(lifecycle_id=LIFECYCLE_ID, event=MFP, backup=outcome,
                                            channel={"parameter": "/ami-lifecycle/main/billing-service/production",
                                                     "published": True}, approval_properties={}, now=later(9))
    record = records.record_event_result(completed(enabled_only(), "BUILD_AMI"), approval, later(9))

    [panel] = [p for p in timeline.build_timeline(record, LifecycleType.AMI_CREATION, stack_tag_semver="1.0.0").panels
               if p.event is MFP]

    assert panel.status == "COMPLETED"
    assert panel.details["approval_status"] == "APPROVED"
    assert (panel.details["s3_bucket"], panel.details["s3_object_key"]) == ("backups", "ami-0aaaaaaaaaaaaaaa1.bin")
    assert panel.details["production_channel"]["published"] is True
