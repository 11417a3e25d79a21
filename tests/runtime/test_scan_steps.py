"""The vulnerability-scan steps: the wait answered by Inspector's event in either order, the gate,
the account check on moto, and the Inspector adapter's requests (botocore's stubber, real shapes)."""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from orchestrator import bootstrap
from orchestrator.adapters.inspector import Inspector, ScanningNotEnabled
from orchestrator.config import RuntimeConfig
from orchestrator.handlers import scans

from .conftest import REGION, FakeContext
from .conftest_build import RecordingWorkflows

LIFECYCLE_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
INSTANCE = "i-0123456789abcdef0"
SCAN_EVENT = {"source": "aws.inspector2", "detail-type": "Inspector2 Scan",
              "resources": [f"arn:aws:ec2:{REGION}:123456789012:instance/{INSTANCE}"],
              "detail": {"scan-status": "INITIAL_SCAN_COMPLETE", "instance-id": INSTANCE,
                         "finding-severity-counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "TOTAL": 0}}}


class FakeInspector:
    scanned: set[str] = set()

    def scan_completed(self, instance_id: str) -> bool:
        return instance_id in self.scanned


@pytest.fixture
def wired(aws_credentials, monkeypatch) -> Iterator[RecordingWorkflows]:
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="ScanWaits", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "instance_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "instance_id", "AttributeType": "S"}])
        answers = RecordingWorkflows()
        config = RuntimeConfig.from_env({"STACK_TAG": "main", "SCAN_WAITS_TABLE_NAME": "ScanWaits",
                                         "VULNERABILITY_GATE": "CRITICAL=0"})
        bootstrap.install(bootstrap.bootstrap(config, workflows=answers))
        FakeInspector.scanned = set()
        monkeypatch.setattr(scans, "_inspector", FakeInspector)
        yield answers
        bootstrap.reset()


def wait(token: str = "token-1") -> dict[str, Any]:
    return scans.wait_for_scan({"task_token": token, "lifecycle_id": LIFECYCLE_ID, "instance_id": INSTANCE},
                               FakeContext())


def test_the_scan_event_answers_a_registered_wait(wired):
    assert wait()["answered"] is False
    assert scans.scan_notification(SCAN_EVENT, FakeContext())["answered"] is True
    assert wired.successes == [("token-1", {"instance_id": INSTANCE, "scan_status": "SCANNED"})]


def test_a_scan_event_that_comes_first_is_kept_and_the_wait_is_answered_at_once(wired):
    assert scans.scan_notification(SCAN_EVENT, FakeContext())["answered"] is False
    assert wait()["answered"] is True
    assert [token for token, _ in wired.successes] == ["token-1"]


def test_a_wait_for_an_instance_already_scanned_is_answered_at_once(wired):
    FakeInspector.scanned = {INSTANCE}
    assert wait()["answered"] is True


def test_a_repeated_scan_event_answers_once_and_a_stale_token_is_not_an_error(wired):
    wait("token-1")
    wired.stale.add("token-1")
    assert scans.scan_notification(SCAN_EVENT, FakeContext())["answered"] is False
    assert scans.scan_notification(SCAN_EVENT, FakeContext())["answered"] is False
    assert wired.successes == []


def test_other_inspector_events_are_ignored(wired):
    wait()
    other = {**SCAN_EVENT, "detail": {**SCAN_EVENT["detail"], "scan-status": "SCAN_IN_PROGRESS"}}
    assert scans.scan_notification(other, FakeContext()) == {"answered": False}
    assert wired.successes == []


def test_the_result_step_applies_the_deployments_gate_unless_the_lifecycle_names_one(wired):
    summary = {"counts": {"CRITICAL": 1}, "worst": [{"title": "c", "severity": "CRITICAL"}]}
    event = {"lifecycle_id": LIFECYCLE_ID, "event": "VULNERABILITY_SCANS_AMI_CREATE", "properties": {},
             "summary": summary, "exports": {}, "instance": {"instance_ids": [INSTANCE]}}
    assert scans.scan_result(event, FakeContext())["status"] == "FAILED"
    lenient = {**event, "properties": {"vulnerability_gate": "CRITICAL=1"}}
    assert scans.scan_result(lenient, FakeContext())["status"] == "COMPLETED"


# ------------------------------------------------------------------ the adapter

def test_an_account_without_ec2_scanning_is_refused_naming_deploy_sh(aws_credentials):
    with mock_aws():
        with pytest.raises(ScanningNotEnabled, match="deploy.sh"):
            Inspector().require_ec2_scanning()
        client = boto3.client("inspector2", region_name=REGION)
        client.enable(accountIds=["123456789012"], resourceTypes=["EC2"])
        assert Inspector(client=client).require_ec2_scanning()["status"] == "ENABLED"


def test_findings_are_read_for_the_instance_alone_across_pages(aws_credentials):
    client = boto3.client("inspector2", region_name=REGION)
    criteria = {"resourceId": [{"comparison": "EQUALS", "value": INSTANCE}],
                "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}]}
    with Stubber(client) as stub:
        stub.add_response("list_findings", {"findings": [], "nextToken": "page-2"},
                          {"filterCriteria": criteria})
        stub.add_response("list_findings", {"findings": []}, {"filterCriteria": criteria, "nextToken": "page-2"})
        assert Inspector(client=client).active_findings(INSTANCE) == []
        stub.assert_no_pending_responses()


def test_the_report_and_sbom_go_to_the_findings_bucket_with_the_findings_key(aws_credentials):
    client = boto3.client("inspector2", region_name=REGION)
    destination = {"bucketName": "findings", "keyPrefix": "sbom/lc/E-1", "kmsKeyArn": "arn:aws:kms:key"}
    inspector = Inspector(client=client, findings_bucket="findings", findings_key_arn="arn:aws:kms:key")
    with Stubber(client) as stub:
        stub.add_response("create_sbom_export", {"reportId": "r-1"}, {
            "reportFormat": "CYCLONEDX_1_4", "s3Destination": destination,
            "resourceFilterCriteria": {"resourceId": [{"comparison": "EQUALS", "value": INSTANCE}]}})
        stub.add_response("get_sbom_export", {"reportId": "r-1", "status": "SUCCEEDED"}, {"reportId": "r-1"})
        started = inspector.start_sbom_export(INSTANCE, key_prefix="sbom/lc/E-1")
        finished = inspector.sbom_status(started)
    assert Inspector.location(finished) == {"S3Bucket": "findings", "S3Key": f"sbom/lc/E-1/r-1/{INSTANCE}.json",
                                            "status": "SUCCEEDED", "id": "r-1", "format": "CYCLONEDX_1_4"}
