"""The scheduled jobs on in-memory fakes: the tag reconciler and the garbage collector."""

from __future__ import annotations

from datetime import timedelta

from orchestrator.domain.garbage_collection import TestInstance
from orchestrator.domain.tags import expected_tags
from orchestrator.domain.vocabulary import LifecycleType
from orchestrator.service.operations import GarbageCollector, TagReconciler

from .domain_builders import BUILT_AMI, NOW, REGION, completed, new_record
from .fakes import MemoryAmiTags, MemoryFleet, MemoryLifecycles, MemoryReports

ACCOUNT = "123456789012"
DISTRIBUTION = "210987654321"


def built(lifecycle_id: str, *copies: tuple[str, str, str]) -> dict:
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")
    record["lifecycle_id"] = lifecycle_id
    details = record["outputs_ami_creation"]["events"][0]["properties"]["ami_details"]
    details.extend({**details[0], "image": image, "region": region, "accountId": account}
                   for image, region, account in copies)
    return record


def reconciler(records: list[dict], tags: MemoryAmiTags) -> tuple[TagReconciler, MemoryReports, MemoryLifecycles]:
    lifecycles, reports = MemoryLifecycles(records), MemoryReports()
    return TagReconciler("main", lifecycles, tags, reports, clock=lambda: NOW), reports, lifecycles


def test_drifted_tags_are_rewritten_and_reported():
    record = built("lc-1")
    expected = expected_tags(record, LifecycleType.AMI_CREATION)
    actual = dict(expected, AMI_LC_CURRENT_AMI_SEMVER="9.9.9")
    del actual["AMI_LC_LIFECYCLE_ID"]
    tags = MemoryAmiTags({(ACCOUNT, REGION, BUILT_AMI): actual})
    job, reports, _ = reconciler([record], tags)

    report = job.run()

    assert tags.tags[(ACCOUNT, REGION, BUILT_AMI)] == expected
    assert tags.writes == [(BUILT_AMI, {"AMI_LC_CURRENT_AMI_SEMVER": "1.0.0", "AMI_LC_LIFECYCLE_ID": "lc-1"})]
    subject, document = reports.published[0]
    assert "1 AMI copies repaired" in subject
    changed = {t["tag_key"]: t for t in document["changed"][0]["tags"]}
    assert changed["AMI_LC_LIFECYCLE_ID"]["problem"] == "missing"
    assert changed["AMI_LC_CURRENT_AMI_SEMVER"]["actual_tag_value"] == "9.9.9"
    assert report.to_dict()["counts"]["tags_missing"] == 1


def test_matching_tags_are_not_rewritten():
    record = built("lc-1")
    tags = MemoryAmiTags({(ACCOUNT, REGION, BUILT_AMI): expected_tags(record, LifecycleType.AMI_CREATION)})
    job, reports, _ = reconciler([record], tags)

    job.run()

    assert tags.writes == []
    assert reports.published[0][0].endswith("every tag matches")


def test_every_copy_is_checked_and_unreachable_ones_are_reported():
    record = built("lc-1", ("ami-0dist", "us-east-1", DISTRIBUTION), ("ami-0other", REGION, "111122223333"))
    tags = MemoryAmiTags({(ACCOUNT, REGION, BUILT_AMI): {}, (DISTRIBUTION, "us-east-1", "ami-0dist"): {}},
                         unreachable={"111122223333"})
    job, reports, _ = reconciler([record], tags)

    job.run()

    assert sorted(ami for ami, _ in tags.writes) == sorted([BUILT_AMI, "ami-0dist"])
    document = reports.published[0][1]
    assert document["counts"]["ami_copies_drifted"] == 2
    assert [c["ami_id"] for c in document["not_checked"]] == ["ami-0other"]


def test_every_page_of_lifecycles_is_reconciled():
    records = [built(f"lc-{n}") for n in range(120)]
    for n, record in enumerate(records):
        record["outputs_ami_creation"]["events"][0]["properties"]["ami_details"][0]["image"] = f"ami-{n}"
    job, reports, lifecycles = reconciler(records, MemoryAmiTags({(ACCOUNT, REGION, f"ami-{n}"): {}
                                                                  for n in range(120)}))

    job.run()

    assert lifecycles.pages_read == 3
    assert reports.published[0][1]["counts"]["ami_copies_repaired"] == 120


def test_lifecycles_without_an_ami_are_counted_not_checked():
    job, reports, _ = reconciler([new_record()], MemoryAmiTags())

    job.run()

    assert reports.published[0][1]["counts"]["lifecycles_without_ami"] == 1


def test_one_failing_lifecycle_does_not_stop_the_run():
    class Failing(MemoryAmiTags):
        def read(self, ami):
            if ami["image"] == "ami-bad":
                raise RuntimeError("EC2 said no")
            return super().read(ami)

    bad = built("lc-bad")
    bad["outputs_ami_creation"]["events"][0]["properties"]["ami_details"][0]["image"] = "ami-bad"
    job, reports, _ = reconciler([bad, built("lc-good")], Failing({(ACCOUNT, REGION, BUILT_AMI): {}}))

    job.run()

    document = reports.published[0][1]
    assert document["failed"] == [{"lifecycle_id": "lc-bad", "error": "RuntimeError: EC2 said no"}]
    assert document["counts"]["ami_copies_repaired"] == 1


def collector(*instances: TestInstance) -> tuple[GarbageCollector, MemoryFleet, MemoryReports]:
    fleet, reports = MemoryFleet(list(instances)), MemoryReports()
    return GarbageCollector("main", fleet, reports, timedelta(hours=3), clock=lambda: NOW), fleet, reports


def test_overdue_instances_are_terminated_and_reported():
    job, fleet, reports = collector(TestInstance("i-old", NOW - timedelta(days=2, hours=1), "running"),
                                    TestInstance("i-new", NOW - timedelta(minutes=30), "running"))

    job.run()

    assert fleet.terminated == ["i-old"]
    subject, document = reports.published[0]
    assert "1 instance(s) terminated" in subject
    assert [i["instance_id"] for i in document["terminated"]] == ["i-old"]


def test_a_run_that_terminates_nothing_publishes_nothing():
    job, fleet, reports = collector(TestInstance("i-new", NOW - timedelta(hours=1), "running"))

    report = job.run()

    assert fleet.terminated == [] and reports.published == [] and report.seen == 1
