"""The whole creation lifecycle on the local cloud, through the README's own commands.

One lifecycle is created with every event enabled and followed with
``--wait``: build -> smoke tests -> vulnerability scans -> QA certification
request. The QA team (an SQS queue subscribed to the QA topic) downloads the
VMDK through the link in its message and ``qemu-img`` opens it; the verdict
CERTIFIED is recorded; the AMI is approved (``--wait`` follows the backup);
``get_ami.sh --lifecycle_event PRODUCTION_APPROVED`` then returns it and the
production channel's SSM parameter holds it. A second lifecycle whose QA
verdict is FAILED cannot be approved, and the channel keeps the first AMI.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import requests

from tests.e2e.test_create_journey import GET_AMI, TIMELINE, User, deployed_user
from tests.e2e.test_qa_journey import LINK, QEMU_IMG, qa_messages, topic_inbox
from tests.local.polling import eventually

pytestmark = pytest.mark.e2e

STACK_TAG = "e2e-lifecycle"
PRODUCT = "billing-service"
CHANNEL = f"/ami-lifecycle/{STACK_TAG}/{PRODUCT}/production"
TIME_SCALE = "0.05"
WAIT = ("--wait", "--timeout", "900", "--poll-interval", "1")
OWNER = ("--owner", "platform@example.com", "--notifications", "EMAIL::platform@example.com")
EVERY_EVENT = ("--events", "SMOKE_TESTS", "--events", "VULNERABILITY_SCANS", "--events", "QA_CERTIFICATION_REQUEST")


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, time_scale=TIME_SCALE)


@pytest.fixture(scope="module")
def qa_inbox(user):
    return topic_inbox(user, STACK_TAG, "QANotificationTopic", "qa-team")


def entry(status: dict, event: str) -> dict | None:
    found = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == event]
    return found[-1] if found else None


def create_with_every_event(user: User) -> str:
    result = user.api_cli("--operation", "AMI_CREATE", *OWNER, "--productName", PRODUCT, "--productVer", "1.4.2",
                          "--commitRef", "3f9c2ab", *EVERY_EVENT, *WAIT)
    return result.stdout.strip()


def channel_value(user: User) -> str | None:
    ssm = user.aws("ssm")
    try:
        return ssm.get_parameter(Name=CHANNEL)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


@pytest.fixture(scope="module")
def requested(user, qa_inbox):
    lifecycle_id = create_with_every_event(user)
    status = user.status(lifecycle_id)
    messages = eventually(lambda: qa_messages(user, qa_inbox), timeout=60, interval=1)
    return {"lifecycle_id": lifecycle_id, "status": status, "messages": messages,
            "ami_id": entry(status, "BUILD_AMI")["properties"]["ami_details"][0]["image"]}


@pytest.fixture(scope="module")
def approved(user, requested):
    certified = user.api_cli("--operation", "AMI_QA_CERTIFICATION", "--lifecycleId", requested["lifecycle_id"],
                             "--certificationStatus", "CERTIFIED", check=False)
    assert certified.returncode == 0, certified.stderr
    approval = user.api_cli("--operation", "AMI_APPROVAL_CREATE", "--lifecycleId", requested["lifecycle_id"],
                            "--approvalStatusAmiCreation", "APPROVED", *WAIT, check=False)
    assert approval.returncode == 0, approval.stderr
    return {**requested, "status": user.status(requested["lifecycle_id"])}


def test_create_with_every_event_runs_them_all_up_to_the_qa_request(requested):
    for event in ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                  "QA_CERTIFICATION_REQUEST"):
        assert entry(requested["status"], event)["status"] == "COMPLETED", event


def test_the_qa_team_downloads_the_vmdk_through_the_link_it_was_sent(requested, tmp_path):
    (message,) = requested["messages"]
    (link,) = LINK.findall(message)
    disk = tmp_path / "candidate.vmdk"
    disk.write_bytes(requests.get(link, timeout=30).content)
    info = json.loads(subprocess.run([QEMU_IMG, "info", "--output", "json", str(disk)], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["format"] == "vmdk"


def test_the_approved_ami_is_backed_up_and_every_event_is_completed(approved):
    status = approved["status"]
    assert entry(status, "QA_CERTIFICATION_RESPONSE")["certification_status"] == "CERTIFIED"
    production = entry(status, "MARK_FOR_PRODUCTION_CREATE")
    assert production["status"] == "COMPLETED"
    assert production["properties"]["ami_backup_state"] == "COMPLETED"
    assert production["properties"]["s3_object_key"]


def test_get_ami_selects_the_production_approved_ami(user, approved):
    result = user.shell(f"{GET_AMI} --lifecycle_event PRODUCTION_APPROVED")
    assert f"Retrieved AMI ID == {approved['ami_id']}" in result.stdout


def test_the_production_channel_holds_the_approved_ami(user, approved):
    assert channel_value(user) == approved["ami_id"]


def test_the_timeline_shows_the_approval_and_where_the_backup_is(user, approved):
    link = user.shell(TIMELINE, LC=approved["lifecycle_id"]).stdout.strip()
    page = requests.get(link, timeout=30)
    assert page.status_code == 200
    assert "Approve AMI for Production" in page.text
    assert approved["status"] and entry(approved["status"], "MARK_FOR_PRODUCTION_CREATE")["properties"][
        "s3_object_key"] in page.text


def test_a_failed_qa_verdict_keeps_the_ami_out_of_production(user, approved, qa_inbox):
    lifecycle_id = create_with_every_event(user)
    refused = user.api_cli("--operation", "AMI_QA_CERTIFICATION", "--lifecycleId", lifecycle_id,
                           "--certificationStatus", "FAILED", "--reason", "kernel panics on boot", check=False)
    assert refused.returncode == 0, refused.stderr

    approval = user.api_cli("--operation", "AMI_APPROVAL_CREATE", "--lifecycleId", lifecycle_id,
                            "--approvalStatusAmiCreation", "APPROVED", check=False)

    assert approval.returncode != 0 and "409" in approval.stderr
    assert entry(user.status(lifecycle_id), "QA_CERTIFICATION_RESPONSE")["status"] == "FAILED"
    assert channel_value(user) == approved["ami_id"]
