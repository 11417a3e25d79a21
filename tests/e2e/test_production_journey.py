"""Approval for production on the local cloud, through the product's own entry points.

``bash deploy.sh --local`` on a free port with its own state folder, env
file and stack tag; ``api-cli.py`` (AMI_CREATE, AMI_APPROVAL_CREATE with
``--wait``) and ``get_ami.sh`` in a shell that sourced the env file; the
backup object, the AMI's tags and the production channel's SSM parameter
read back through the AWS APIs; ``python3 -m local fault`` for a failed
backup.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.test_create_journey import User, deployed_user

pytestmark = pytest.mark.e2e

STACK_TAG = "e2e-production"
PRODUCT = "billing-service"
CHANNEL = f"/ami-lifecycle/{STACK_TAG}/{PRODUCT}/production"
APPROVAL = "MARK_FOR_PRODUCTION_CREATE"
WAIT = ("--wait", "--timeout", "600", "--poll-interval", "1")
OWNER = ("--owner", "platform@example.com", "--notifications", "EMAIL::platform@example.com")


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, time_scale="0.05")


@pytest.fixture(autouse=True)
def no_faults_left(user):
    yield
    user.shell("python3 -m local fault clear")


def built(user: User) -> str:
    """A build-only lifecycle followed to its built AMI; its id."""
    result = user.api_cli("--operation", "AMI_CREATE", *OWNER, "--productName", PRODUCT, "--productVer", "1.4.2",
                          "--commitRef", "3f9c2ab", "--events", "AMI_BUILD_ONLY", *WAIT)
    return result.stdout.strip()


def decide(user: User, lifecycle_id: str, verdict: str, *extra: str) -> subprocess.CompletedProcess:
    return user.api_cli("--operation", "AMI_APPROVAL_CREATE", "--lifecycleId", lifecycle_id,
                        "--approvalStatusAmiCreation", verdict, *extra, check=False)


def entry(status: dict, event: str) -> dict | None:
    found = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == event]
    return found[-1] if found else None


def built_ami(status: dict) -> str:
    return entry(status, "BUILD_AMI")["properties"]["ami_details"][0]["image"]


def backup_bucket(user: User) -> str:
    outputs = json.loads((user.env_file.parent / f"outputs-{STACK_TAG}.json").read_text())
    return outputs[f"AmiLifecycle-{STACK_TAG}"]["amiBackupBucket"]


def channel_value(user: User) -> str | None:
    try:
        return user.aws("ssm").get_parameter(Name=CHANNEL)["Parameter"]["Value"]
    except user.aws("ssm").exceptions.ParameterNotFound:
        return None


@pytest.fixture(scope="module")
def approved(user):
    lifecycle_id = built(user)
    result = decide(user, lifecycle_id, "APPROVED", *WAIT)
    return {"lifecycle_id": lifecycle_id, "approve": result, "status": user.status(lifecycle_id)}


def test_approving_a_built_ami_waits_for_the_approval_to_complete(approved):
    result = approved["approve"]
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == f"{APPROVAL} ended COMPLETED"


def test_the_status_records_the_verdict_and_the_backups_location(user, approved):
    status = approved["status"]
    approval = entry(status, APPROVAL)
    assert approval["status"] == "COMPLETED" and approval["approval_status"] == "APPROVED"
    properties = approval["properties"]
    ami_id = built_ami(status)
    assert properties["s3_bucket"] == backup_bucket(user)
    assert properties["s3_object_key"] == f"{ami_id}.bin"
    assert properties["ami_backup_state"] == "COMPLETED"
    assert properties["production_channel"]["parameter"] == CHANNEL
    assert properties["production_channel"]["published"] is True
    assert not status.get("event_in_progress")


def test_the_backup_object_is_in_the_bucket_with_the_commit_and_product_tags(user, approved):
    properties = entry(approved["status"], APPROVAL)["properties"]
    s3 = user.aws("s3")
    body = s3.get_object(Bucket=properties["s3_bucket"], Key=properties["s3_object_key"])["Body"].read()
    assert built_ami(approved["status"]).encode() in body
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(
        Bucket=properties["s3_bucket"], Key=properties["s3_object_key"])["TagSet"]}
    assert tags == {"CommitRef": "3f9c2ab", "ProductVer": "1.4.2", "ProductName": PRODUCT}


def test_get_ami_selects_the_production_approved_ami(user, approved):
    result = user.shell("bash client/get_ami.sh --lifecycle_event PRODUCTION_APPROVED")
    assert f"Retrieved AMI ID == {built_ami(approved['status'])}" in result.stdout


def test_the_production_channel_parameter_holds_the_approved_ami(user, approved):
    parameter = user.aws("ssm").get_parameter(Name=CHANNEL)["Parameter"]
    assert parameter["Value"] == built_ami(approved["status"])
    assert parameter["DataType"] == "aws:ec2:image"
    release = json.loads(user.aws("ssm").get_parameter(Name=CHANNEL + "-release")["Parameter"]["Value"])
    assert (release["semver"], release["lifecycle_id"]) == ("1.0.0", approved["lifecycle_id"])


def test_the_ami_is_tagged_approved_with_its_backup(user, approved):
    ami_id = built_ami(approved["status"])
    (image,) = user.aws("ec2").describe_images(ImageIds=[ami_id])["Images"]
    tags = {t["Key"]: t["Value"] for t in image.get("Tags") or []}
    properties = entry(approved["status"], APPROVAL)["properties"]
    assert tags[f"AMI_LC_EVENT_{APPROVAL}_STATUS"] == "COMPLETED"
    assert tags[f"AMI_LC_EVENT_{APPROVAL}_APPROVAL_STATUS"] == "APPROVED"
    assert tags[f"AMI_LC_EVENT_{APPROVAL}_AMI_BACKUP"] == (
        f"s3://{properties['s3_bucket']}/{properties['s3_object_key']}")


def test_approving_twice_is_refused_with_409(user, approved):
    again = decide(user, approved["lifecycle_id"], "APPROVED")
    assert again.returncode != 0
    assert "409" in again.stderr and "already COMPLETED" in again.stderr


def test_a_refusal_is_recorded_and_leaves_the_channel_alone(user, approved):
    lifecycle_id = built(user)  # a newer version (2.0.0): approving it would move the channel

    result = decide(user, lifecycle_id, "NOT_APPROVED")

    assert result.returncode == 0, result.stderr
    refusal = entry(user.status(lifecycle_id), APPROVAL)
    assert refusal["status"] == "FAILED" and refusal["approval_status"] == "NOT_APPROVED"
    assert channel_value(user) == built_ami(approved["status"])
    selected = user.shell("bash client/get_ami.sh --lifecycle_event PRODUCTION_APPROVED")
    assert f"Retrieved AMI ID == {built_ami(approved['status'])}" in selected.stdout


def test_a_failed_backup_ends_the_approval_in_error_with_ec2s_reason_and_the_channel_unchanged(user, approved):
    lifecycle_id = built(user)
    user.shell("python3 -m local fault set ec2 fail --operation CreateStoreImageTask "
               "--message 'Access Denied writing the object' --count 1")

    result = decide(user, lifecycle_id, "APPROVED", *WAIT)

    assert result.returncode == 5, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"{APPROVAL} ended ERROR: AmiBackupFailed") and "Access Denied" in last
    in_progress = user.status(lifecycle_id)["event_in_progress"]
    assert (in_progress["name"], in_progress["status"]) == (APPROVAL, "ERROR")
    assert "Access Denied writing the object" in in_progress["error_message"]
    assert channel_value(user) == built_ami(approved["status"])


@pytest.fixture(scope="module")
def revoked(user, approved):
    """A newer AMI approved (the channel moves to it), then revoked with AMI_REVOKE."""
    lifecycle_id = built(user)
    assert decide(user, lifecycle_id, "APPROVED", *WAIT).returncode == 0
    newer = built_ami(user.status(lifecycle_id))
    before = channel_value(user)
    result = user.api_cli("--operation", "AMI_REVOKE", "--lifecycleId", lifecycle_id, "--reason",
                          "CVE-2026-12345 in openssl", check=False)
    return {"lifecycle_id": lifecycle_id, "ami": newer, "before": before, "revoke": result,
            "status": user.status(lifecycle_id)}


def test_revoking_the_newest_approval_restores_the_previous_one_in_the_channel(user, approved, revoked):
    assert revoked["before"] == revoked["ami"]
    assert revoked["revoke"].returncode == 0, revoked["revoke"].stderr
    assert revoked["revoke"].stdout == f"{revoked['lifecycle_id']}\n"
    assert channel_value(user) == built_ami(approved["status"])


def test_the_status_records_the_revocation_and_its_reason(revoked):
    [revocation] = revoked["status"]["revocations"]
    assert (revocation["ami_id"], revocation["reason"]) == (revoked["ami"], "CVE-2026-12345 in openssl")


def test_a_revoked_ami_is_never_selected(user, approved, revoked):
    result = user.shell("bash client/get_ami.sh --lifecycle_event PRODUCTION_APPROVED")
    assert f"Retrieved AMI ID == {built_ami(approved['status'])}" in result.stdout
    assert revoked["ami"] not in result.stdout


def test_a_revoked_ami_is_deprecated_and_tagged(user, revoked):
    (image,) = user.aws("ec2").describe_images(ImageIds=[revoked["ami"]])["Images"]
    assert image.get("DeprecationTime")
    tags = {t["Key"]: t["Value"] for t in image.get("Tags") or []}
    assert tags["AMI_LC_REVOKED_REASON"] == "CVE-2026-12345 in openssl"


def test_a_revocation_needs_a_reason(user, revoked):
    result = user.api_cli("--operation", "AMI_REVOKE", "--lifecycleId", revoked["lifecycle_id"], check=False)
    assert result.returncode == 2 and "--reason is required" in result.stderr
