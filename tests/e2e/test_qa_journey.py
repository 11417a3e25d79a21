"""QA certification on the local cloud: the AMI exported to VMDK, the QA team's message, the verdict.

Through the product's entry points (``deploy.sh --local``, ``api-cli.py``,
``get_ami.sh``, ``python3 -m local fault``). The QA team's inbox is an SQS
queue the test subscribes to the QA topic, as a team may subscribe its own
queue; the download link is taken from the message the team received.

One lifecycle goes build -> smoke tests -> vulnerability scans; a verdict
then is refused (no request yet). The QA request then runs three times on
it: an export that fails (ERROR with EC2's status message), an export that
hangs (cancelled when its waiting budget is spent: ERROR), and one that
completes; its disk is downloaded and ``qemu-img info`` says vmdk; the
verdict is recorded, a second one is refused, and the lookup entry and the
AMI's tags show the certification.

The standalone export pipeline runs on the same deployment:
``execute-pipeline.sh`` builds an AMI, its export is emailed (an SQS queue
subscribed to the export topic) and the disk downloads; the lifecycles' own
builds above were not exported by it (one execution in all).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests

from tests.e2e.test_create_journey import User, deployed_user
from tests.local.polling import eventually

pytestmark = pytest.mark.e2e

STACK_TAG = "e2e-qa"
TIME_SCALE = "0.05"
# Simulated minutes: the export budget is four fifths of it (16 min, about 75 s of real waits at this scale).
QA_TIMEOUT_MINS = 20
WAIT = ("--wait", "--timeout", "600", "--poll-interval", "1")
OWNER = ("--owner", "platform@example.com", "--notifications", "EMAIL::platform@example.com")
QA = "QA_CERTIFICATION_REQUEST"
QEMU_IMG = "/usr/bin/qemu-img"
LINK = re.compile(r"^(https?://\S+X-Amz-Signature=\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, "-c", f"projectSettings.amiLifecycle.stateMachines.qaCertificationEventStateMachineTimeoutMins="
              f"{QA_TIMEOUT_MINS}", time_scale=TIME_SCALE)


def topic_inbox(user: User, stack_tag: str, topic: str, queue_name: str) -> str:
    """A queue subscribed to the deployment's topic whose logical id contains ``topic`` (raw delivery: each
    message is the email's text), as a team may subscribe its own queue; its URL."""
    resources = user.aws("cloudformation").describe_stack_resources(StackName=f"AmiLifecycle-{stack_tag}")
    (topic_arn,) = [r["PhysicalResourceId"] for r in resources["StackResources"]
                    if r["ResourceType"] == "AWS::SNS::Topic" and topic in r["LogicalResourceId"]]
    sqs = user.aws("sqs")
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    user.aws("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                              Attributes={"RawMessageDelivery": "true"})
    return queue_url


@pytest.fixture(scope="module")
def qa_inbox(user):
    """The QA team's inbox: a queue subscribed to the QA topic."""
    return topic_inbox(user, STACK_TAG, "QANotificationTopic", "qa-team-inbox")


def qa_messages(user: User, queue_url: str) -> list[str]:
    sqs = user.aws("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [message["Body"] for message in messages]


def entry(status: dict, event: str) -> dict | None:
    found = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == event]
    return found[0] if found else None


def update_with_qa(user: User, lifecycle_id: str) -> subprocess.CompletedProcess:
    return user.api_cli("--operation", "AMI_CREATE_UPDATE", "--lifecycleId", lifecycle_id, *OWNER,
                        "--events", "SMOKE_TESTS", "--events", "VULNERABILITY_SCANS", "--events", QA, *WAIT,
                        check=False)


def certify(user: User, lifecycle_id: str, verdict: str, *extra: str) -> subprocess.CompletedProcess:
    return user.api_cli("--operation", "AMI_QA_CERTIFICATION", "--lifecycleId", lifecycle_id,
                        "--certificationStatus", verdict, *extra, check=False)


@pytest.fixture(scope="module")
def scanned(user):
    """A lifecycle whose build, smoke tests and vulnerability scans completed."""
    result = user.api_cli("--operation", "AMI_CREATE", *OWNER, "--productName", "billing-service",
                          "--productVer", "1.4.2", "--commitRef", "3f9c2ab", "--events", "SMOKE_TESTS",
                          "--events", "VULNERABILITY_SCANS", *WAIT)
    lifecycle_id = result.stdout.strip()
    status = user.status(lifecycle_id)
    ami_id = entry(status, "BUILD_AMI")["properties"]["ami_details"][0]["image"]
    return {"lifecycle_id": lifecycle_id, "ami_id": ami_id}


def test_a_verdict_before_the_qa_request_is_refused(user, scanned):
    refused = certify(user, scanned["lifecycle_id"], "CERTIFIED")

    assert refused.returncode != 0
    assert "409" in refused.stderr and f"{QA} must be COMPLETED first" in refused.stderr
    assert entry(user.status(scanned["lifecycle_id"]), "QA_CERTIFICATION_RESPONSE") is None


def test_an_export_that_fails_ends_the_request_error_with_ec2s_status_message(user, scanned, qa_inbox):
    user.shell("python3 -m local fault set ec2 fail --operation ExportImage --message 'the disk could not be converted' "
               "--count 1")

    result = update_with_qa(user, scanned["lifecycle_id"])

    assert result.returncode != 0
    current = user.status(scanned["lifecycle_id"])["event_in_progress"]
    assert current["name"] == QA and current["status"] == "ERROR"
    assert current["error_message"].startswith("VmdkExportFailed: ")
    assert "the disk could not be converted" in current["error_message"]
    assert qa_messages(user, qa_inbox) == []


def test_an_export_that_hangs_is_cancelled_and_ends_the_request_error(user, scanned, qa_inbox):
    user.shell("python3 -m local fault set ec2 hang --operation ExportImage --count 1")

    result = update_with_qa(user, scanned["lifecycle_id"])

    assert result.returncode != 0
    current = user.status(scanned["lifecycle_id"])["event_in_progress"]
    assert current["name"] == QA and current["status"] == "ERROR"
    assert current["error_message"].startswith("VmdkExportTimedOut: ")
    tasks = user.aws("ec2").describe_export_image_tasks(
        Filters=[{"Name": "image-id", "Values": [scanned["ami_id"]]}])["ExportImageTasks"]
    assert tasks and all(task["Status"] != "active" for task in tasks)
    assert qa_messages(user, qa_inbox) == []


@pytest.fixture(scope="module")
def requested(user, scanned, qa_inbox):
    user.shell("python3 -m local fault clear")
    result = update_with_qa(user, scanned["lifecycle_id"])
    assert result.returncode == 0, result.stderr
    messages = eventually(lambda: qa_messages(user, qa_inbox), timeout=30, interval=1)
    return {**scanned, "status": user.status(scanned["lifecycle_id"]), "messages": messages}


def test_the_request_records_where_the_vmdk_is_but_not_the_link(requested):
    request = entry(requested["status"], QA)
    properties = request["properties"]
    assert request["status"] == "COMPLETED"
    prefix = f"exports/{requested['lifecycle_id']}/{requested['ami_id']}/"
    assert properties["export_bucket_prefix"] == prefix
    assert properties["export_image_path"] == (f"s3://{properties['export_bucket']}/{prefix}"
                                               f"{properties['export_image_task_id']}.vmdk")
    assert properties["export_link_expiry_secs"] == 604800 and properties["export_link_expires_at"]
    assert "X-Amz-Signature" not in json.dumps(requested["status"])


def test_the_qa_team_downloads_a_vmdk_through_the_link_in_their_message(requested, tmp_path):
    (message,) = requested["messages"]
    assert requested["ami_id"] in message
    assert f"POST https://" in message and f"/ami-creation/lifecycles/{requested['lifecycle_id']}/certify" in message
    assert f"/ami-lifecycle/{STACK_TAG}/api-keys/ami_creation_qa_certification_key" in message
    (link,) = LINK.findall(message)

    disk = tmp_path / "exported.vmdk"
    disk.write_bytes(requests.get(link, timeout=30).content)
    info = json.loads(subprocess.run([QEMU_IMG, "info", "--output", "json", str(disk)], check=True,
                                     capture_output=True, text=True).stdout)

    assert info["format"] == "vmdk"


def test_the_qa_message_holds_no_key(user, requested):
    (message,) = requested["messages"]
    keys = user.aws("secretsmanager")
    secret = keys.get_secret_value(SecretId=f"/ami-lifecycle/{STACK_TAG}/api-keys/ami_creation_qa_certification_key")
    assert secret["SecretString"] not in message


def test_the_verdict_is_recorded_once_and_the_ami_is_selectable_as_qa_certified(user, requested):
    lifecycle_id, ami_id = requested["lifecycle_id"], requested["ami_id"]

    first = certify(user, lifecycle_id, "CERTIFIED")
    second = certify(user, lifecycle_id, "FAILED", "--reason", "changed our mind")

    assert first.returncode == 0, first.stderr
    assert second.returncode != 0 and "409" in second.stderr and "already recorded" in second.stderr
    response = entry(user.status(lifecycle_id), "QA_CERTIFICATION_RESPONSE")
    assert response["status"] == "COMPLETED" and response["certification_status"] == "CERTIFIED"

    def selected():
        result = user.shell("bash client/get_ami.sh --lifecycle_event QA_CERTIFIED", check=False)
        return result if f"Retrieved AMI ID == {ami_id}" in result.stdout else None
    assert eventually(selected, timeout=30, interval=1)

    def tagged():
        images = user.aws("ec2").describe_images(ImageIds=[ami_id])["Images"]
        tags = {t["Key"]: t["Value"] for t in images[0].get("Tags", [])}
        return tags if tags.get("AMI_LC_EVENT_QA_CERTIFICATION_RESPONSE_QA_CERTIFICATION_STATUS") else None
    tags = eventually(tagged, timeout=30, interval=1)
    assert tags["AMI_LC_EVENT_QA_CERTIFICATION_RESPONSE_QA_CERTIFICATION_STATUS"] == "CERTIFIED"
    assert tags[f"AMI_LC_EVENT_{QA}_EXPORT_IMAGE_PATH"].endswith(".vmdk")


# ------------------------------------------------------------------ the standalone export pipeline

def test_execute_pipeline_builds_exports_and_emails_a_vmdk_link(user, tmp_path):
    outputs = {o["OutputKey"]: o["OutputValue"] for o in user.aws("cloudformation").describe_stacks(
        StackName=f"AmiLifecycle-{STACK_TAG}")["Stacks"][0]["Outputs"]}
    sqs = user.aws("sqs")
    inbox = sqs.create_queue(QueueName="export-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    user.aws("sns").subscribe(TopicArn=outputs["vmdkExportTopicArn"], Protocol="sqs", Endpoint=arn,
                              Attributes={"RawMessageDelivery": "true"})

    started = user.shell("bash execute-pipeline.sh")
    build_arn = started.stdout.strip()

    assert ":image/" in build_arn and "AMI_LC_VMDK_EXPORT=TRUE" in started.stderr
    (message,) = eventually(lambda: qa_messages(user, inbox), timeout=180, interval=2, what="the export's email")
    assert build_arn in message and ".vmdk" in message
    (link,) = LINK.findall(message)
    disk = tmp_path / "pipeline.vmdk"
    disk.write_bytes(requests.get(link, timeout=30).content)
    info = json.loads(subprocess.run([QEMU_IMG, "info", "--output", "json", str(disk)], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["format"] == "vmdk"
    executions = user.aws("stepfunctions").list_executions(
        stateMachineArn=outputs["vmdkExportStateMachineArn"])["executions"]
    assert [e["status"] for e in executions] == ["SUCCEEDED"]
