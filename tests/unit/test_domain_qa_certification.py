"""QA certification and VMDK exports in the domain: export rules, the request's result and message,
the verdict's record transform, and the certification use case on in-memory fakes."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from orchestrator.domain import lookup, tags, timeline
from orchestrator.domain.errors import Conflict, NotFound, ValidationError
from orchestrator.domain.qa_certification import (check_verdict_allowed, qa_request_message, record_verdict,
                                                  request_result, verdict_result)
from orchestrator.domain.records import mark_event_in_progress
from orchestrator.domain.requests import parse_certification_request
from orchestrator.domain.vmdk_exports import (VmdkExportFailed, VmdkExportTimedOut, check_budget, export_object_key,
                                              export_prefix, export_status, exported_image, failure_message,
                                              image_readiness, next_check_seconds, waited_seconds)
from orchestrator.domain.vocabulary import EventName, LifecycleType, Status
from orchestrator.service.certifications import CertificationService
from tests.unit.domain_builders import BUILT_AMI, LIFECYCLE_ID, NOW, REGION, completed, later, new_record
from tests.unit.fakes import MemoryNotifier, MemoryRepository

TASK = "export-ami-0123456789abcdef0"
PREFIX = f"exports/{LIFECYCLE_ID}/{BUILT_AMI}/"
SCANNED = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE")
LINK = "https://bucket.s3.amazonaws.com/x.vmdk?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc123"
AMI = {"id": BUILT_AMI, "name": "AmiLifecycle-x", "region": REGION, "owner": "123456789012", "semver": "1.0.0"}


def export(expiry: int = 604800):
    return exported_image(ami_id=BUILT_AMI, task_id=TASK, bucket="vmdk-bucket", prefix=PREFIX, expiry_secs=expiry,
                          now=NOW)


def requested_record() -> dict:
    record = completed(new_record(), *SCANNED)
    return completed_with(record, request_result(lifecycle_id=LIFECYCLE_ID, ami=AMI, export=export(), now=later(10)))


def completed_with(record, result):
    from orchestrator.domain.records import record_event_result
    return record_event_result(record, result, later(10))


def verdict(status: str = "CERTIFIED", **properties: str):
    body = {"stack_tag": new_record()["stack_tag"], "certification_status": status}
    if properties:
        body["properties"] = properties
    return parse_certification_request(body, LIFECYCLE_ID)


# ------------------------------------------------------------------ exports

def test_exports_go_under_the_lifecycle_and_the_ami_and_are_named_after_the_task():
    assert export_prefix(LIFECYCLE_ID, BUILT_AMI) == PREFIX
    assert export_object_key(PREFIX, TASK) == f"{PREFIX}{TASK}.vmdk"
    with pytest.raises(ValidationError, match="scope"):
        export_prefix("a/b", BUILT_AMI)


def test_the_wait_between_looks_doubles_from_a_minute_to_ten_minutes():
    assert [next_check_seconds(n) for n in range(6)] == [60, 120, 240, 480, 600, 600]
    assert waited_seconds(0) == 0 and waited_seconds(3) == 60 + 120 + 240
    # An hour of export is seen in about ten looks, not hundreds.
    assert sum(1 for n in range(20) if waited_seconds(n) < 3600) <= 10


def test_an_ami_is_exportable_when_available_and_not_being_exported():
    ready = image_readiness(BUILT_AMI, {"State": "available"}, [])
    pending = image_readiness(BUILT_AMI, {"State": "pending"}, [])
    busy = image_readiness(BUILT_AMI, {"State": "available"}, [
        {"ExportImageTaskId": TASK, "ImageId": BUILT_AMI, "Status": "active"},
        {"ExportImageTaskId": "export-ami-old", "ImageId": BUILT_AMI, "Status": "completed"}])

    assert ready.ready and not pending.ready and not busy.ready
    assert busy.active_exports == (TASK,)
    assert pending.to_dict()["wait_seconds"] > 0


@pytest.mark.parametrize("image,words", [(None, "does not exist"),
                                         ({"State": "failed", "StateReason": {"Message": "snapshot lost"}},
                                          "snapshot lost")])
def test_a_missing_or_failed_ami_cannot_be_exported(image, words):
    with pytest.raises(VmdkExportFailed, match=words):
        image_readiness(BUILT_AMI, image, [])


def test_a_deleted_export_is_a_failure_with_ec2s_status_message():
    status = export_status({"ExportImageTaskId": TASK, "Status": "deleted", "StatusMessage": "disk too large",
                            "S3ExportLocation": {"S3Bucket": "b", "S3Prefix": PREFIX}})
    view = status.to_dict(checks_so_far=2)

    assert view["failed"] and not view["done"]
    assert failure_message(view) == f"the export {TASK} ended deleted: disk too large"
    assert view["bucket"] == "b" and view["prefix"] == PREFIX and view["checks"] == 3


def test_an_active_export_reports_its_progress_and_the_next_wait():
    view = export_status({"ExportImageTaskId": TASK, "Status": "active", "Progress": "42"}).to_dict(checks_so_far=1)

    assert view["progress"] == 42 and not view["done"] and not view["failed"]
    assert view["wait_seconds"] == 120


def test_an_export_still_running_after_its_budget_is_given_up():
    active = export_status({"ExportImageTaskId": TASK, "Status": "active", "Progress": "10"})
    done = export_status({"ExportImageTaskId": TASK, "Status": "completed"})

    check_budget(active, 2, max_wait_seconds=181)  # 60 + 120 waited
    check_budget(done, 10, max_wait_seconds=60)
    with pytest.raises(VmdkExportTimedOut, match=r"still active, 10% done after 180 s"):
        check_budget(active, 2, max_wait_seconds=180)


def test_the_link_expires_after_the_configured_lifetime():
    exported = export(expiry=3600)
    assert exported.path == f"s3://vmdk-bucket/{PREFIX}{TASK}.vmdk"
    assert exported.link_expires_at == "2026-11-23T11:00:00Z"


# ------------------------------------------------------------------ the request

def test_the_request_result_records_the_location_and_expiry_but_never_the_link():
    result = request_result(lifecycle_id=LIFECYCLE_ID, ami=AMI, export=export(), now=NOW)
    properties = result.properties

    assert result.name is EventName.QA_CERTIFICATION_REQUEST and result.status is Status.COMPLETED
    assert properties["export_image_id"] == f"{TASK}.vmdk"
    assert properties["export_image_path"] == f"s3://vmdk-bucket/{PREFIX}{TASK}.vmdk"
    assert properties["export_image_task_id"] == TASK and properties["export_bucket_prefix"] == PREFIX
    assert properties["export_link_expiry_secs"] == 604800
    assert properties["export_link_expires_at"] == "2026-11-30T10:00:00Z"
    assert "http" not in json.dumps(properties)


def test_the_request_shows_on_the_timeline_tags_and_lookup():
    record = requested_record()
    view = timeline.build_timeline(record, LifecycleType.AMI_CREATION, stack_tag_semver="1.0.0")
    (panel,) = [p for p in view.panels if p.event is EventName.QA_CERTIFICATION_REQUEST]
    result = request_result(lifecycle_id=LIFECYCLE_ID, ami=AMI, export=export(), now=NOW)
    ami_tags = tags.ami_tags(record, result)

    assert panel.status == "COMPLETED"
    assert panel.details["export_link_expires_at"] == "2026-11-30T10:00:00Z"
    assert ami_tags["AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_EXPORT_IMAGE_PATH"].endswith(".vmdk")
    assert ami_tags["AMI_LC_EVENT_QA_CERTIFICATION_REQUEST_EXPORT_IMAGE_TASK_ID"] == TASK
    assert lookup.result_score(result) == 4


def test_the_qa_message_carries_the_link_and_how_to_answer_but_not_the_key():
    message = qa_request_message(lifecycle_id=LIFECYCLE_ID, stack_tag="main", ami=AMI, export=export(),
                                 download_url=LINK, api_url="https://api.example/prod/", now=NOW,
                                 key_secret_name="/ami-lifecycle/main/api-keys/ami_creation_qa_certification_key")
    from orchestrator.rendering import render_notification, render_qa_request
    text = render_qa_request(message)

    assert LINK in text
    assert f"POST https://api.example/prod/ami-creation/lifecycles/{LIFECYCLE_ID}/certify" in text
    assert '"certification_status": "CERTIFIED|FAILED"' in text
    assert f"--operation AMI_QA_CERTIFICATION --lifecycleId {LIFECYCLE_ID} --stackTag main" in text
    assert "/ami-lifecycle/main/api-keys/ami_creation_qa_certification_key" in text
    assert "7 days" in text and "2026-11-30 10:00:00 UTC" in text
    assert BUILT_AMI in text and f"s3://vmdk-bucket/{PREFIX}{TASK}.vmdk" in text
    # Rendered as an ordinary notification (say, by a log sink), the link is cut to its path.
    assert "X-Amz-Signature" not in render_notification(message)


def test_only_a_qa_request_is_rendered_with_its_link():
    from orchestrator.domain.notifications import info_notification
    from orchestrator.rendering import RenderingError, render_qa_request
    with pytest.raises(RenderingError):
        render_qa_request(info_notification("ORCHESTRATOR_SERVICE", "main", None, "hello", NOW))


# ------------------------------------------------------------------ the verdict

def test_a_verdict_before_the_request_completed_is_refused():
    with pytest.raises(Conflict, match="QA_CERTIFICATION_REQUEST must be COMPLETED first"):
        record_verdict(completed(new_record(), *SCANNED), verdict(), NOW)


def test_a_verdict_while_an_event_runs_is_refused():
    running = mark_event_in_progress(completed(new_record(), *SCANNED), EventName.QA_CERTIFICATION_REQUEST, NOW,
                                     description="export")
    with pytest.raises(Conflict, match="in progress"):
        check_verdict_allowed(running)


def test_a_verdict_for_another_stack_tag_is_not_found():
    request = parse_certification_request({"stack_tag": "other", "certification_status": "CERTIFIED"}, LIFECYCLE_ID)
    with pytest.raises(NotFound):
        record_verdict(requested_record(), request, NOW)


def test_a_certified_verdict_is_recorded_once_and_raises_standing_to_five():
    record = record_verdict(requested_record(), verdict(), later(20))
    (entry,) = [e for e in record["outputs_ami_creation"]["events"] if e["name"] == "QA_CERTIFICATION_RESPONSE"]

    assert entry["status"] == "COMPLETED" and entry["certification_status"] == "CERTIFIED"
    assert lookup.result_score(verdict_result(verdict(), NOW)) == 5
    assert tags.ami_tags(record, verdict_result(verdict(), NOW))[
        "AMI_LC_EVENT_QA_CERTIFICATION_RESPONSE_QA_CERTIFICATION_STATUS"] == "CERTIFIED"
    with pytest.raises(Conflict, match="already recorded"):
        record_verdict(record, verdict("FAILED"), later(30))


def test_a_failed_verdict_keeps_its_reason_never_raises_standing_and_is_final():
    record = record_verdict(requested_record(), verdict("FAILED", reason="boot loops on VMware 7"), later(20))
    result = verdict_result(verdict("FAILED", reason="boot loops on VMware 7"), NOW)
    (entry,) = [e for e in record["outputs_ami_creation"]["events"] if e["name"] == "QA_CERTIFICATION_RESPONSE"]

    assert entry["status"] == "FAILED"
    assert entry["properties"]["failure_reason"] == "boot loops on VMware 7"
    assert lookup.result_score(result) is None
    with pytest.raises(Conflict, match="already recorded"):
        record_verdict(record, verdict("CERTIFIED"), later(30))


def test_the_verdict_transform_leaves_its_input_alone():
    record = requested_record()
    before = copy.deepcopy(record)
    record_verdict(record, verdict(), NOW)
    assert record == before


# ------------------------------------------------------------------ the use case

class MemoryResults:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict] = []
        self.fail = fail

    def send(self, value):
        if self.fail:
            raise RuntimeError("queue unreachable")
        self.sent.append(dict(value))
        return "m-1"


def service(record, results=None):
    repository = MemoryRepository()
    repository.create(record)
    notifier = MemoryNotifier()
    return CertificationService(repository=repository, notifier=notifier, results=results or MemoryResults(),
                                clock=lambda: later(20)), repository, notifier


def body(status="CERTIFIED"):
    return {"stack_tag": new_record()["stack_tag"], "certification_status": status}


def test_certifying_records_the_verdict_notifies_and_hands_it_to_the_receiver():
    results = MemoryResults()
    certifications, repository, notifier = service(requested_record(), results)

    answer = certifications.certify(body(), LIFECYCLE_ID)

    stored = repository.get(LIFECYCLE_ID)
    assert answer["lifecycle_id"] == LIFECYCLE_ID
    assert [e["name"] for e in stored["outputs_ami_creation"]["events"]][-1] == "QA_CERTIFICATION_RESPONSE"
    (sent,) = results.sent
    assert sent["name"] == "QA_CERTIFICATION_RESPONSE" and sent["certification_status"] == "CERTIFIED"
    assert sent["lifecycle_id"] == LIFECYCLE_ID
    assert any("AMI_CREATION_QA_CERTIFICATION_POST" in subject for subject in notifier.subjects())


def test_a_refused_verdict_writes_nothing_and_sends_nothing():
    results = MemoryResults()
    record = completed(new_record(), *SCANNED)
    certifications, repository, notifier = service(record, results)
    stored = repository.get(LIFECYCLE_ID)

    with pytest.raises(Conflict):
        certifications.certify(body(), LIFECYCLE_ID)

    assert repository.get(LIFECYCLE_ID) == stored
    assert results.sent == [] and notifier.subjects() == []


def test_a_verdict_that_cannot_reach_the_receiver_still_stands_and_the_owners_are_told():
    certifications, repository, notifier = service(requested_record(), MemoryResults(fail=True))

    certifications.certify(body("FAILED"), LIFECYCLE_ID)

    stored = repository.get(LIFECYCLE_ID)
    assert stored["outputs_ami_creation"]["events"][-1]["status"] == "FAILED"
    assert any(subject.startswith("ERROR") for subject in notifier.subjects())


def test_a_bad_verdict_body_names_the_field():
    certifications, _, _ = service(requested_record())
    with pytest.raises(ValidationError, match="certification_status"):
        certifications.certify({"stack_tag": new_record()["stack_tag"], "certification_status": "MAYBE"},
                               LIFECYCLE_ID)


def test_the_link_lifetime_is_honest_about_days():
    assert exported_image(ami_id=BUILT_AMI, task_id=TASK, bucket="b", prefix=PREFIX, expiry_secs=86400 * 7,
                          now=NOW).link_expires_at == (NOW + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
