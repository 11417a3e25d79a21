"""The lookup repository applies the domain's standing rule with conditional writes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from orchestrator.adapters.lookup_repository import LookupContention, LookupRepository
from orchestrator.domain.results import EventResult
from orchestrator.domain.vocabulary import EventName, Status
from tests.runtime.conftest import REGION, STACK_TAG, Cloud
from tests.runtime.conftest_build import atomic_dynamodb, utc  # noqa: F401 (fixture)

LIFECYCLE_ID = "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
AMI = {"region": REGION, "image": "ami-0123456789abcdef0", "name": "AmiLifecycle-main-1", "ami_semver": "1.0.0"}


def record() -> dict[str, Any]:
    return {"lifecycle_id": LIFECYCLE_ID, "stack_tag": STACK_TAG, "product_ver": "2.4.1",
            "product_name": "payments-service", "commit_ref": "9fceb02"}


def result(event: EventName, status: Status = Status.COMPLETED, **attributes: str) -> EventResult:
    return EventResult(lifecycle_id=LIFECYCLE_ID, name=event, status=status, status_date="2026-11-23T10:30:00Z",
                       properties={}, attributes=attributes)


@pytest.fixture
def lookup(cloud: Cloud) -> LookupRepository:
    return LookupRepository(cloud.lookup_table, boto3.client("dynamodb", region_name=REGION))


def test_a_completed_build_creates_the_entry_with_standing_one(lookup: LookupRepository) -> None:
    stored = lookup.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI), now=utc())
    entry = lookup.get(f"{REGION}#{AMI['image']}")
    assert entry == stored
    assert (entry["lifecycle_score"], entry["lifecycle_event"], entry["ami_semver"]) == (1, "BUILD_AMI", "1.0.0")
    assert entry["revision"] == 1


def test_a_later_success_raises_the_standing(lookup: LookupRepository) -> None:
    lookup.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI), now=utc())
    lookup.record(record=record(), ami=AMI, result=result(EventName.SMOKE_TESTS_AMI_CREATE), now=utc())
    entry = lookup.get(f"{REGION}#{AMI['image']}")
    assert (entry["lifecycle_score"], entry["lifecycle_event"], entry["revision"]) == (2, "SMOKE_TESTS_AMI_CREATE", 2)


def test_a_refused_certification_records_the_refusal_without_raising_the_standing(lookup: LookupRepository) -> None:
    lookup.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI), now=utc())
    lookup.record(record=record(), ami=AMI, now=utc(),
                  result=result(EventName.QA_CERTIFICATION_RESPONSE, Status.FAILED, certification_status="FAILED"))
    entry = lookup.get(f"{REGION}#{AMI['image']}")
    assert (entry["lifecycle_score"], entry["last_event"], entry["last_event_status"]) == (
        1, "QA_CERTIFICATION_RESPONSE", "FAILED")


def test_an_unsuccessful_result_for_an_unknown_ami_writes_nothing(lookup: LookupRepository) -> None:
    assert lookup.record(record=record(), ami=AMI, now=utc(),
                         result=result(EventName.MARK_FOR_PRODUCTION_CREATE, Status.FAILED,
                                       approval_status="NOT_APPROVED")) is None
    assert lookup.get(f"{REGION}#{AMI['image']}") is None


def test_recording_the_same_result_twice_changes_nothing(lookup: LookupRepository) -> None:
    first = lookup.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI), now=utc())
    again = lookup.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI),
                          now=utc("2026-11-23T11:00:00Z"))
    assert again == first
    assert lookup.get(f"{REGION}#{AMI['image']}") == first


class ReadTogether:
    """Every thread's first read happens before any thread writes: the worst interleaving."""

    def __init__(self, client: Any, threads: int) -> None:
        self.client = client
        self.barrier = threading.Barrier(threads, timeout=10)
        self.first_read = threading.local()

    def get_item(self, **kwargs: Any) -> Any:
        answer = self.client.get_item(**kwargs)
        if not getattr(self.first_read, "done", False):
            self.first_read.done = True
            self.barrier.wait()
        return answer

    def put_item(self, **kwargs: Any) -> Any:
        return self.client.put_item(**kwargs)


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_results_for_one_ami_are_all_applied(cloud: Cloud, lookup: LookupRepository) -> None:
    lookup.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI), now=utc())
    events = [EventName.QA_CERTIFICATION_REQUEST, EventName.SMOKE_TESTS_AMI_CREATE,
              EventName.VULNERABILITY_SCANS_AMI_CREATE, EventName.SMOKE_TESTS_AMI_CREATE]
    racing = LookupRepository(cloud.lookup_table, ReadTogether(boto3.client("dynamodb", region_name=REGION),
                                                                len(events)))

    def apply(event: EventName) -> None:
        racing.record(record=record(), ami=AMI, result=result(event), now=utc())

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        list(pool.map(apply, events))
    entry = lookup.get(f"{REGION}#{AMI['image']}")
    # Every writer read standing 1; only conditional writes keep the highest standing whatever the order.
    assert (entry["lifecycle_score"], entry["lifecycle_event"]) == (4, "QA_CERTIFICATION_REQUEST")


def test_a_writer_that_always_loses_the_race_gives_up_with_a_clear_error(cloud: Cloud) -> None:
    real = boto3.client("dynamodb", region_name=REGION)
    competitor = LookupRepository(cloud.lookup_table, real)
    competitor.record(record=record(), ami=AMI, result=result(EventName.BUILD_AMI), now=utc())

    class Overtaken:
        """Another writer bumps the entry between every read and our conditional write."""

        def get_item(self, **kwargs: Any) -> Any:
            answer = real.get_item(**kwargs)
            real.update_item(TableName=cloud.lookup_table, Key=kwargs["Key"],
                             UpdateExpression="ADD revision :one", ExpressionAttributeValues={":one": {"N": "1"}})
            return answer

        def put_item(self, **kwargs: Any) -> Any:
            return real.put_item(**kwargs)

    lookup = LookupRepository(cloud.lookup_table, Overtaken(), max_attempts=3, sleep=lambda _: None)
    with pytest.raises(LookupContention, match="3 attempts"):
        lookup.record(record=record(), ami=AMI, result=result(EventName.SMOKE_TESTS_AMI_CREATE), now=utc())


def test_the_highest_version_of_a_stack_tag_comes_from_the_index(lookup: LookupRepository) -> None:
    for number, version in enumerate(["2.0.0", "10.0.0", "9.1.0"], start=1):
        ami = dict(AMI, image=f"ami-0{number}23456789abcdef", ami_semver=version)
        lookup.record(record=record(), ami=ami, result=result(EventName.BUILD_AMI), now=utc())
    assert lookup.highest_semver(STACK_TAG) == "10.0.0"
    assert lookup.highest_semver("other-tag") is None
