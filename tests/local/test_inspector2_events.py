"""Inspector2 announces each instance's initial scan on EventBridge, as on
AWS ("Inspector2 Scan" and "Inspector2 Coverage"), and EventBridge rules
deliver the announcements; the SBOM export of an instance is CycloneDX 1.4
that cyclonedx-python-lib validates and reads."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from local import faults
from local.services.inspector2 import models, scan_events
from tests.local.polling import eventually
from tests.local.test_eventbridge_delivery import drain, new_queue, recorder_function, rule_to
from tests.local.test_inspector2 import (  # noqa: F401 - fixtures
    CURL,
    LOW,
    OPENSSL,
    destination,
    fast_clock,
    finished,
    inspector,
    new_ami,
    scanned_instance,
)

SCAN_PATTERN = {"source": ["aws.inspector2"], "detail-type": ["Inspector2 Scan"],
                "detail": {"scan-status": ["INITIAL_SCAN_COMPLETE"]}}


@pytest.fixture(scope="module")
def events(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("events")


@pytest.fixture(scope="module")
def sqs(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("sqs")


@pytest.fixture(scope="module")
def ec2(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("ec2")


@pytest.fixture
def scan_queue(events: Any, sqs: Any) -> str:
    """A queue every Inspector2 Scan event reaches (its rule removed after the test)."""
    url, arn = new_queue(sqs)
    name = rule_to(events, SCAN_PATTERN, {"Arn": arn})
    yield url
    events.remove_targets(Rule=name, Ids=["t0"])
    events.delete_rule(Name=name)


def launch(ec2: Any, ami: str) -> str:
    return ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def scan_event_of(sqs: Any, url: str, instance_id: str, seen: list[Any]) -> Any:
    seen.extend(drain(sqs, url))
    return next((event for event in seen if event["detail"]["instance-id"] == instance_id), None)


def test_a_completed_scan_is_announced_with_its_severity_counts(local_cloud, inspector, ec2, sqs, scan_queue):
    ami = new_ami(ec2, local_cloud.region)
    models.seed_findings(local_cloud.account_id, local_cloud.region, ami, [OPENSSL, CURL, LOW])
    instance_id = launch(ec2, ami)
    seen: list[Any] = []

    event = eventually(lambda: scan_event_of(sqs, scan_queue, instance_id, seen), what="the scan event")

    assert (event["source"], event["detail-type"]) == ("aws.inspector2", "Inspector2 Scan")
    assert event["resources"] == [instance_id]
    assert (event["account"], event["region"]) == (local_cloud.account_id, local_cloud.region)
    assert event["detail"] == {"scan-status": "INITIAL_SCAN_COMPLETE", "instance-id": instance_id,
                               "finding-severity-counts": {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 0, "TOTAL": 3},
                               "version": "1.0"}
    coverage = inspector.list_coverage(filterCriteria={"resourceId": [{"comparison": "EQUALS",
                                                                       "value": instance_id}]})
    assert coverage["coveredResources"][0]["scanStatus"]["reason"] == "SUCCESSFUL"


def test_the_scan_event_reaches_a_lambda_target(local_cloud, inspector, ec2, events, sqs):
    url, _ = new_queue(sqs)
    rule_to(events, {**SCAN_PATTERN, "detail": {"instance-id": [{"prefix": "i-"}]}},
            {"Arn": recorder_function(local_cloud, url)})
    instance_id = launch(ec2, new_ami(ec2, local_cloud.region))
    seen: list[Any] = []

    event = eventually(lambda: scan_event_of(sqs, url, instance_id, seen), what="the Lambda's record")

    assert event["detail"]["finding-severity-counts"] == {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "TOTAL": 0}


def test_the_coverage_change_is_announced(local_cloud, inspector, ec2, events, sqs):
    url, arn = new_queue(sqs)
    rule_to(events, {"source": ["aws.inspector2"], "detail-type": ["Inspector2 Coverage"]}, {"Arn": arn})
    instance_id = launch(ec2, new_ami(ec2, local_cloud.region))
    seen: list[Any] = []

    event = eventually(lambda: (seen.extend(drain(sqs, url)) or
                                next((e for e in seen if e["resources"] == [instance_id]), None)),
                       what="the coverage event")

    assert event["detail"]["scanStatus"] == {"statusCodeValue": "ACTIVE", "reason": "SUCCESSFUL"}
    assert event["detail"]["scanType"] == "PACKAGE" and event["detail"]["eventTimestamp"].endswith("Z")


def test_an_instance_terminated_before_its_scan_is_never_announced(local_cloud, inspector, ec2, sqs, scan_queue):
    ami = new_ami(ec2, local_cloud.region)
    gone = launch(ec2, ami)
    ec2.terminate_instances(InstanceIds=[gone])
    kept = launch(ec2, ami)
    seen: list[Any] = []

    eventually(lambda: scan_event_of(sqs, scan_queue, kept, seen), what="the kept instance's scan event")
    eventually(lambda: gone in scan_events._announced(models.backend(local_cloud.account_id, local_cloud.region)),
               what="the terminated instance's settlement")

    assert [e for e in seen + drain(sqs, scan_queue) if e["detail"]["instance-id"] == gone] == []


def test_no_scan_is_announced_where_ec2_scanning_is_disabled(local_cloud, sqs):
    region = "eu-north-1"
    client_kwargs = {**local_cloud.client_kwargs(), "region_name": region}
    ec2 = boto3.client("ec2", **client_kwargs)
    events = boto3.client("events", **client_kwargs)
    regional_sqs = boto3.client("sqs", **client_kwargs)
    url, arn = new_queue(regional_sqs)
    rule_to(events, SCAN_PATTERN, {"Arn": arn})
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    instance_id = launch(ec2, image)

    eventually(lambda: instance_id in scan_events._announced(models.backend(local_cloud.account_id, region)),
               what="the scan's settlement")
    assert drain(regional_sqs, url) == []


def test_a_hang_fault_holds_the_announcement_until_cleared(local_cloud, inspector, ec2, sqs, scan_queue):
    faults.set_fault("inspector2", "hang", operation="ListCoverage")
    instance_id = launch(ec2, new_ami(ec2, local_cloud.region))
    key = (local_cloud.account_id, local_cloud.region, instance_id)
    first_timer = scan_events._timers[key]

    eventually(lambda: scan_events._timers.get(key) not in (None, first_timer),
               what="the scan timer's firing under the hang fault")
    assert instance_id not in scan_events._announced(models.backend(local_cloud.account_id, local_cloud.region))
    assert [e for e in drain(sqs, scan_queue) if e["detail"]["instance-id"] == instance_id] == []

    faults.clear("inspector2")
    seen: list[Any] = []

    assert eventually(lambda: scan_event_of(sqs, scan_queue, instance_id, seen), what="the scan event")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_an_instance_sbom_is_cyclonedx_1_4_that_cyclonedx_python_lib_reads(local_cloud, inspector, scanned_instance,
                                                                          destination):
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    report_id = inspector.create_sbom_export(
        reportFormat="CYCLONEDX_1_4", s3Destination=destination,
        resourceFilterCriteria={"resourceId": [{"comparison": "EQUALS", "value": scanned_instance["instance"]}]},
    )["reportId"]
    assert finished(lambda: inspector.get_sbom_export(reportId=report_id))["status"] == "SUCCEEDED"
    key = f"{destination['keyPrefix']}/{report_id}/{scanned_instance['instance']}.json"
    text = local_cloud.boto3_client("s3").get_object(Bucket=destination["bucketName"], Key=key)["Body"].read().decode()

    errors = JsonStrictValidator(SchemaVersion.V1_4).validate_str(text)
    assert errors is None, errors
    bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]
    assert {(c.name, c.version) for c in bom.components} == {("openssl", "1.0.2k"), ("curl", "7.79.1")}


def test_a_restored_state_rearms_the_announcements_not_yet_made(local_cloud, inspector, ec2, sqs, scan_queue):
    faults.set_fault("inspector2", "hang", operation="ListCoverage")
    instance_id = launch(ec2, new_ami(ec2, local_cloud.region))
    scan_events.stop_all()  # what a stop does to the timers
    faults.clear("inspector2")

    models.set_state(models.get_state())
    seen: list[Any] = []

    assert eventually(lambda: scan_event_of(sqs, scan_queue, instance_id, seen), what="the scan event")
