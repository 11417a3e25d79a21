"""The patch receiver on moto: a PATCH_AMI result gets its patch version, ancestry, lookup entry and tags."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import pytest

from orchestrator import bootstrap
from orchestrator.adapters.lookup_repository import LookupRepository
from orchestrator.adapters.state_repository import StateRepository
from orchestrator.domain.builds import result_message
from orchestrator.domain.patches import patch_ami_result
from orchestrator.domain.records import apply_patch_request, mark_event_in_progress, record_event_result
from orchestrator.domain.requests import parse_patch_request
from orchestrator.domain.results import EventResult
from orchestrator.domain.sequences import CREATION_SEQUENCE
from orchestrator.domain.vocabulary import EventName, Status
from orchestrator.handlers import receivers
from tests.runtime.conftest import ACCOUNT, REGION, FakeContext
from tests.runtime.conftest_build import (BuildCloud, RecordingWorkflows, ami_tags_of, build_cloud,  # noqa: F401
                                          build_result_value, built_ami, image_document, lifecycle_building,
                                          register_ami, sqs_event, sqs_record, utc)

BUILD_ONLY = [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": False},
              {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
              {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}]
PATCH_ONLY = [{"name": "PATCH_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_PATCH", "enabled": False},
              {"name": "VULNERABILITY_SCANS_AMI_PATCH", "enabled": False}]


@pytest.fixture
def answers() -> RecordingWorkflows:
    return RecordingWorkflows()


@pytest.fixture
def handler(build_cloud: BuildCloud, answers: RecordingWorkflows) -> Iterator[Any]:
    bootstrap.install(bootstrap.bootstrap(build_cloud.config(), workflows=answers))
    yield receivers
    bootstrap.reset()


def approved_lifecycle(handler: Any, build_cloud: BuildCloud) -> tuple[str, str]:
    """A lifecycle built through the creation receiver, then every creation event recorded COMPLETED."""
    lifecycle_id = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)["lifecycle_id"]
    built = register_ami()
    handler.creation_receiver(sqs_event(sqs_record({"task_details": {"value": build_result_value(
        lifecycle_id, built)}})), FakeContext())

    def approve(record: dict) -> dict:
        for event in CREATION_SEQUENCE[1:]:
            record = record_event_result(record, EventResult(
                lifecycle_id=lifecycle_id, name=event, status=Status.COMPLETED, status_date="2026-11-23T11:00:00Z",
                attributes={"certification_status": "CERTIFIED"} if event is EventName.QA_CERTIFICATION_RESPONSE
                else {}), utc())
        return record

    StateRepository(build_cloud.cloud.state_table).update(lifecycle_id, approve)
    return lifecycle_id, built


def start_patch(build_cloud: BuildCloud, lifecycle_id: str, bump: str) -> None:
    request = parse_patch_request({
        "lifecycle_id": lifecycle_id, "stack_tag": "main", "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "owner@example.com"}], "events": PATCH_ONLY,
        "commit_ref": "77aa01c", "properties": {"patch_component_url": "s3://patch-bucket/lc/fix.yml",
                                                "patch_change_description": "fix", "semver_bump_type": bump}})
    StateRepository(build_cloud.cloud.state_table).update(lifecycle_id, lambda record: mark_event_in_progress(
        apply_patch_request(record, request, utc()), EventName.PATCH_AMI, utc(), description="patch"))


def patch_message(lifecycle_id: str, ami_id: str, bump: str, minutes: int) -> dict:
    arn = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/amilc-main-patch-x/2026.11.23100000/{minutes}"
    result = patch_ami_result(image_document(arn, "AVAILABLE", amis=[built_ami(ami_id)]), lifecycle_id=lifecycle_id,
                              semver_bump_type=bump, commit_ref="77aa01c", pipeline_name="amilc-main-patch-x",
                              now=utc() + timedelta(minutes=minutes), change_description="fix")
    return {"task_token": f"patch-token-{minutes}", "task_details": {"value": result_message(result)}}


def test_a_patch_result_gets_the_bumped_version_ancestry_lookup_entry_and_tags(handler, build_cloud, answers):
    lifecycle_id, built = approved_lifecycle(handler, build_cloud)
    start_patch(build_cloud, lifecycle_id, "MINOR")
    patched = register_ami("AmiLifecycle-main-patch-1")

    answer = handler.patch_receiver(sqs_event(sqs_record(patch_message(lifecycle_id, patched, "MINOR", 10))),
                                    FakeContext())

    assert answer == {"batchItemFailures": []}
    record = StateRepository(build_cloud.cloud.state_table).get(lifecycle_id)
    (entry,) = record["outputs_ami_patch"]["patch_history"]["current"]["events"]
    assert entry["properties"]["ami_details"][0]["ami_semver"] == "1.1.0"
    assert entry["properties"]["ami_ancestry"] == f"{built} (v1.0.0) -> {patched} (v1.1.0)"
    assert "event_in_progress" not in record
    lookup = LookupRepository(build_cloud.cloud.lookup_table).get(f"{REGION}#{patched}")
    assert (lookup["lifecycle_type"], lookup["ami_semver"], lookup["last_event"]) == ("ami-patch", "1.1.0",
                                                                                     "PATCH_AMI")
    tags = ami_tags_of(patched)
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.1.0"
    assert tags["AMI_LC_AMI_ANCESTRY"] == f"{built} (v1.0.0) -> {patched} (v1.1.0)"
    assert ("patch-token-10", {"receiver_status": "COMPLETED"}) in answers.successes


def test_a_second_patch_bumps_from_the_first_and_a_redelivery_keeps_its_version(handler, build_cloud):
    lifecycle_id, built = approved_lifecycle(handler, build_cloud)
    first, second = register_ami("AmiLifecycle-main-patch-1"), register_ami("AmiLifecycle-main-patch-2")
    start_patch(build_cloud, lifecycle_id, "MINOR")
    handler.patch_receiver(sqs_event(sqs_record(patch_message(lifecycle_id, first, "MINOR", 10))), FakeContext())
    StateRepository(build_cloud.cloud.state_table).update(lifecycle_id, lambda record: record_event_result(
        record, EventResult(lifecycle_id=lifecycle_id, name=EventName.MARK_FOR_PRODUCTION_PATCH,
                            status=Status.COMPLETED, status_date="2026-11-23T12:00:00Z"), utc()))
    start_patch(build_cloud, lifecycle_id, "PATCH")
    message = patch_message(lifecycle_id, second, "PATCH", 20)

    handler.patch_receiver(sqs_event(sqs_record(message)), FakeContext())
    handler.patch_receiver(sqs_event(sqs_record(message)), FakeContext())

    record = StateRepository(build_cloud.cloud.state_table).get(lifecycle_id)
    history = record["outputs_ami_patch"]["patch_history"]
    (current,) = history["current"]["events"]
    assert current["properties"]["ami_details"][0]["ami_semver"] == "1.1.1"
    assert current["properties"]["ami_ancestry"].endswith(f"{first} (v1.1.0) -> {second} (v1.1.1)")
    assert len(history["historical"]) == 1
