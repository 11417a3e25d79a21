"""QA certification's Lambda steps and route 5, on moto (EC2's export calls, which moto lacks, through
botocore's stubber with EC2's real shapes).

* the export steps: an AMI being exported already waits; ExportImage into
  ``exports/<lifecycle>/<ami>/`` with the role's name; a deleted export is a
  failure with EC2's message; a hung one is cancelled when its budget is spent;
* the QA notification: published on the QA topic with a working presigned
  link, the certify URL from the SSM parameter and the QA key's secret name
  (not the key); the result records no link;
* route 5: the verdict recorded once (409 before the request and for a
  second verdict), handed to the creation receiver queue.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator

import boto3
import pytest
import requests
from botocore.stub import Stubber

from orchestrator import bootstrap
from orchestrator.adapters.state_repository import StateRepository
from orchestrator.adapters.vmdk_exports import VmdkExports
from orchestrator.config import RuntimeConfig
from orchestrator.domain.records import record_event_result
from orchestrator.domain.results import parse_event_result
from orchestrator.domain.vmdk_exports import VmdkExportFailed, VmdkExportTimedOut
from orchestrator.handlers import qa_certification, vmdk_export

from .conftest import ACCOUNT, REGION, STACK_TAG, FakeContext, api_event, call
from .test_api_create import create
from .test_api_update import EVENTS

LIFECYCLE_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
AMI = "ami-0123456789abcdef0"
TASK = "export-ami-0123456789abcdef0"
BUCKET = "vmdk-export-bucket"
PREFIX = f"exports/{LIFECYCLE_ID}/{AMI}/"
QA_SECRET = f"/ami-lifecycle/{STACK_TAG}/api-keys/ami_creation_qa_certification_key"
CERTIFY = "/ami-creation/lifecycles/{lifecycle-id}/certify"


def task(status: str, **extra: Any) -> dict[str, Any]:
    return {"ExportImageTaskId": TASK, "ImageId": AMI, "Status": status,
            "S3ExportLocation": {"S3Bucket": BUCKET, "S3Prefix": PREFIX}, **extra}


@pytest.fixture
def ec2(aws_credentials) -> Iterator[Stubber]:
    client = boto3.client("ec2", region_name=REGION)
    with Stubber(client) as stubber:
        config = RuntimeConfig.from_env({"STACK_TAG": STACK_TAG, "EXPORT_BUCKET_NAME": BUCKET,
                                         "VMIMPORT_ROLE_NAME": "vmimport-main"})
        exports = VmdkExports(bucket=BUCKET, role_name="vmimport-main", ec2=client)
        bootstrap.install(bootstrap.bootstrap(config, vmdk_exports=exports))
        yield stubber
        stubber.assert_no_pending_responses()
    bootstrap.reset()


def test_an_ami_that_is_being_exported_already_waits(ec2):
    ec2.add_response("describe_images", {"Images": [{"ImageId": AMI, "State": "available"}]}, {"ImageIds": [AMI]})
    ec2.add_response("describe_export_image_tasks", {"ExportImageTasks": [task("active", Progress="30")]},
                     {"Filters": [{"Name": "image-id", "Values": [AMI]}]})

    answer = vmdk_export.check_image({"ami_id": AMI}, FakeContext())

    assert answer["ready"] is False and answer["active_exports"] == [TASK] and answer["wait_seconds"] > 0


def test_an_ami_that_does_not_exist_fails_the_step(ec2):
    ec2.add_client_error("describe_images", "InvalidAMIID.NotFound", "The image id '[ami-0123]' does not exist")
    with pytest.raises(VmdkExportFailed, match="does not exist"):
        vmdk_export.check_image({"ami_id": AMI}, FakeContext())


def test_the_export_goes_under_the_lifecycle_and_ami_with_the_roles_name(ec2):
    ec2.add_response("export_image", task("active"), {
        "ImageId": AMI, "DiskImageFormat": "VMDK", "RoleName": "vmimport-main", "Description": "QA request",
        "S3ExportLocation": {"S3Bucket": BUCKET, "S3Prefix": PREFIX}, "ClientToken": "exec-1",
        "TagSpecifications": [{"ResourceType": "export-image-task", "Tags": [
            {"Key": "AMI_LC_EXPORT_SCOPE", "Value": LIFECYCLE_ID}, {"Key": "AMI_LC_EXPORT_AMI", "Value": AMI}]}]})

    answer = vmdk_export.start_export({"ami_id": AMI, "export_scope": LIFECYCLE_ID, "description": "QA request",
                                       "execution_name": "exec-1"}, FakeContext())

    assert answer["task_id"] == TASK and answer["prefix"] == PREFIX and answer["bucket"] == BUCKET
    assert answer["checks"] == 1 and answer["wait_seconds"] == 60 and answer["failure"] == ""


def check(checks: int = 1, max_wait: int = 3600) -> dict[str, Any]:
    return vmdk_export.check_export({"task_id": TASK, "checks": checks, "max_wait_seconds": max_wait},
                                    FakeContext())


def test_a_completed_export_is_done(ec2):
    ec2.add_response("describe_export_image_tasks", {"ExportImageTasks": [task("completed")]},
                     {"ExportImageTaskIds": [TASK]})
    answer = check()
    assert answer["done"] is True and answer["failed"] is False and answer["ami_id"] == AMI


def test_a_deleted_export_fails_with_ec2s_status_message(ec2):
    ec2.add_response("describe_export_image_tasks",
                     {"ExportImageTasks": [task("deleted", StatusMessage="The image has an unsupported kernel")]},
                     {"ExportImageTaskIds": [TASK]})
    answer = check(checks=3)
    assert answer["failed"] is True and answer["done"] is False
    assert answer["failure"] == f"the export {TASK} ended deleted: The image has an unsupported kernel"


def test_an_active_export_waits_longer_each_time(ec2):
    ec2.add_response("describe_export_image_tasks", {"ExportImageTasks": [task("active", Progress="40")]},
                     {"ExportImageTaskIds": [TASK]})
    answer = check(checks=2)
    assert answer["progress"] == 40 and answer["checks"] == 3 and answer["wait_seconds"] == 240


def test_an_export_past_its_budget_is_cancelled_and_fails_the_step(ec2):
    ec2.add_response("describe_export_image_tasks", {"ExportImageTasks": [task("active", Progress="10")]},
                     {"ExportImageTaskIds": [TASK]})
    ec2.add_response("cancel_export_task", {}, {"ExportTaskId": TASK})
    with pytest.raises(VmdkExportTimedOut, match="it was cancelled"):
        check(checks=2, max_wait=180)


def test_a_bad_check_input_names_the_field(ec2):
    with pytest.raises(Exception, match="max_wait_seconds"):
        vmdk_export.check_export({"task_id": TASK, "checks": 1}, FakeContext())


# ------------------------------------------------------------------ the QA notification

@pytest.fixture
def qa_cloud(aws_credentials, monkeypatch):
    from moto import mock_aws
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{TASK}.vmdk", Body=b"KDMV-disk")
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="qa")["TopicArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        inbox = sqs.create_queue(QueueName="qa-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=f"/ami-lifecycle/{STACK_TAG}/api-url", Value="https://abc.execute-api.us-east-1.amazonaws.com/dev",
            Type="String")
        config = RuntimeConfig.from_env({
            "STACK_TAG": STACK_TAG, "QA_TOPIC_ARN": topic, "QA_KEY_SECRET_NAME": QA_SECRET,
            "API_URL_PARAMETER_NAME": f"/ami-lifecycle/{STACK_TAG}/api-url", "EXPORT_BUCKET_NAME": BUCKET,
            "EXPORT_LINK_EXPIRY_SECS": "3600"})
        bootstrap.install(bootstrap.bootstrap(
            config, clock=lambda: datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)))
        yield {"sqs": sqs, "inbox": inbox}
        bootstrap.reset()


def test_the_qa_team_gets_the_link_and_the_request_and_the_result_records_no_link(qa_cloud):
    result = qa_certification.notify_qa({
        "lifecycle_id": LIFECYCLE_ID, "stack_tag": STACK_TAG, "product_name": "billing", "product_ver": "1.4.2",
        "ami": {"id": AMI, "name": "built", "region": REGION, "owner": ACCOUNT, "semver": "1.0.0"},
        "export": {"ami_id": AMI, "task_id": TASK, "bucket": BUCKET, "prefix": PREFIX, "done": True}},
        FakeContext())

    (message,) = qa_cloud["sqs"].receive_message(QueueUrl=qa_cloud["inbox"])["Messages"]
    text = message["Body"]
    (link,) = [line for line in text.splitlines() if "X-Amz-Signature" in line]
    assert requests.get(link.strip(), timeout=10).content == b"KDMV-disk"
    assert f"https://abc.execute-api.us-east-1.amazonaws.com/dev/ami-creation/lifecycles/{LIFECYCLE_ID}/certify" \
        in text
    assert QA_SECRET in text and "valid 1 hour" in text
    assert result["name"] == "QA_CERTIFICATION_REQUEST" and result["status"] == "COMPLETED"
    assert result["properties"]["export_link_expires_at"] == "2026-11-23T11:00:00Z"
    assert "X-Amz" not in json.dumps(result)


# ------------------------------------------------------------------ route 5

@pytest.fixture
def receiver_queue(cloud, api, monkeypatch) -> str:
    url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="creation")["QueueUrl"]
    monkeypatch.setenv("CREATION_RECEIVER_QUEUE_URL", url)
    api.reset_application()
    return url


def lifecycle_up_to(api, cloud, *events: str) -> str:
    toggles = [{"name": name, "enabled": True} for name in EVENTS]
    lifecycle_id = create(api, cloud, {**_create_body(), "events": toggles}).json["lifecycle_id"]
    repository = StateRepository(cloud.state_table)
    for minute, name in enumerate(events, start=1):
        properties = {"ami_details": [{"region": REGION, "image": AMI, "name": "built", "accountId": ACCOUNT,
                                       "ami_semver": "1.0.0"}]} if name == "BUILD_AMI" else {}
        result = parse_event_result({"lifecycle_id": lifecycle_id, "name": name, "status": "COMPLETED",
                                     "status_date": f"2026-11-23T10:{minute:02d}:00Z", "properties": properties})
        repository.update(lifecycle_id, lambda record, r=result: record_event_result(
            record, r, datetime.now(timezone.utc)))
    return lifecycle_id


def _create_body():
    from .conftest import create_body
    return create_body()


def certify(api, cloud, lifecycle_id, status="CERTIFIED", **extra):
    return call(api, api_event("POST", CERTIFY, path_parameters={"lifecycle-id": lifecycle_id},
                               body={"stack_tag": STACK_TAG, "certification_status": status, **extra},
                               headers={"x-api-key": cloud.keys["ami_creation_qa_certification_secret_name"]}))


def queued(url: str) -> list[dict]:
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_verdict_is_recorded_once_and_handed_to_the_creation_receiver(api, cloud, receiver_queue):
    lifecycle_id = lifecycle_up_to(api, cloud, *EVENTS)

    first = certify(api, cloud, lifecycle_id, properties={"qa_jira_ref": "QA-987"})
    second = certify(api, cloud, lifecycle_id, "FAILED")

    assert first.status == 200 and first.json["lifecycle_id"] == lifecycle_id
    assert second.status == 409 and "already recorded" in second.json["error"]
    record = StateRepository(cloud.state_table).get(lifecycle_id)
    (response,) = [e for e in record["outputs_ami_creation"]["events"] if e["name"] == "QA_CERTIFICATION_RESPONSE"]
    assert response["status"] == "COMPLETED" and response["properties"]["qa_jira_ref"] == "QA-987"
    (handed,) = queued(receiver_queue)
    assert "task_token" not in handed
    assert handed["task_details"]["value"]["name"] == "QA_CERTIFICATION_RESPONSE"
    assert handed["task_details"]["value"]["certification_status"] == "CERTIFIED"


def test_a_verdict_before_the_request_completed_is_409_and_nothing_is_written(api, cloud, receiver_queue):
    lifecycle_id = lifecycle_up_to(api, cloud, *EVENTS[:3])
    before = StateRepository(cloud.state_table).get(lifecycle_id)

    answer = certify(api, cloud, lifecycle_id)

    assert answer.status == 409 and "QA_CERTIFICATION_REQUEST must be COMPLETED first" in answer.json["error"]
    assert StateRepository(cloud.state_table).get(lifecycle_id) == before
    assert queued(receiver_queue) == []


def test_a_verdict_with_a_bad_status_is_400_naming_the_field(api, cloud, receiver_queue):
    lifecycle_id = lifecycle_up_to(api, cloud, *EVENTS)
    answer = certify(api, cloud, lifecycle_id, "MAYBE")
    assert answer.status == 400 and answer.json["field"] == "certification_status"
    assert answer.json["allowed"] == ["CERTIFIED", "FAILED"]


# ------------------------------------------------------------------ the standalone export pipeline's trigger

BUILD_ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/ami-lifecycle-recipe-main/1.0.0/3"


class FakeImageBuilder:
    def __init__(self, tags):
        self.tags = tags

    def get_image(self, arn):
        return {"arn": arn, "state": {"status": "AVAILABLE"}, "tags": self.tags,
                "outputResources": {"amis": [{"region": REGION, "image": AMI, "name": "built",
                                              "accountId": ACCOUNT}]}}


def notification(arn: str = BUILD_ARN) -> dict:
    return {"Records": [{"Sns": {"Message": json.dumps({"arn": arn, "state": {"status": "AVAILABLE"}})}}]}


@pytest.fixture
def pipeline(aws_credentials):
    from moto import mock_aws
    with mock_aws():
        machine = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name="vmdk-export", definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass",
                                                                                            "End": True}}}),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/vmdk-export")["stateMachineArn"]
        config = RuntimeConfig.from_env({"STACK_TAG": STACK_TAG, "VMDK_EXPORT_STATE_MACHINE_ARN": machine})

        def install(tags):
            bootstrap.install(bootstrap.bootstrap(config, image_builder=FakeImageBuilder(tags)))
        yield machine, install
        bootstrap.reset()


def executions(machine):
    return boto3.client("stepfunctions", region_name=REGION).list_executions(stateMachineArn=machine)["executions"]


def test_a_tagged_build_starts_one_export_even_when_notified_twice(pipeline):
    from orchestrator.handlers import vmdk_pipeline
    machine, install = pipeline
    install({"AMI_LC_VMDK_EXPORT": "TRUE"})

    first = vmdk_pipeline.on_image_build(notification(), FakeContext())
    again = vmdk_pipeline.on_image_build(notification(), FakeContext())

    assert first == {"started": [AMI], "ignored": 0}
    assert again["ignored"] == 0  # the same name and input: Step Functions answers with the same execution
    (execution,) = executions(machine)
    assert execution["name"] == "ami-lifecycle-recipe-main-1_0_0-3"
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution["executionArn"])
    assert json.loads(described["input"])["ami"]["id"] == AMI


def test_a_lifecycles_own_build_is_not_exported_by_the_pipeline(pipeline):
    from orchestrator.handlers import vmdk_pipeline
    machine, install = pipeline
    install({"ami-lifecycle:stack-tag": STACK_TAG})

    assert vmdk_pipeline.on_image_build(notification(), FakeContext()) == {"started": [], "ignored": 1}
    assert executions(machine) == []
