"""Distribution and tag reconciliation on the local cloud, through the product's entry points.

``bash deploy.sh --local`` with two publishing regions, a publishing
account and a sharing account (``-c projectSettings.imageBuilder...``), one
AMI_CREATE --wait: the build leaves a copy of the AMI in each region of each
account, all tagged and launchable by the sharing account. Someone then changes a tag on one copy and deletes one on a copy in
the distribution account; ``python3 -m local events run-rule`` fires the
reconciler's schedule now; the tags are back and the report in the
operations log names both copies.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.e2e.test_create_journey import User, deployed_user, read_env_file
from tests.local.polling import eventually

pytestmark = pytest.mark.e2e

STACK_TAG = "e2e-operations"
REGIONS = ["us-east-1", "eu-west-1"]
DISTRIBUTION = "210987654321"
SHARING = "410987654321"
WAIT = ("--wait", "--timeout", "600", "--poll-interval", "1")


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, "-c", f"projectSettings.imageBuilder.amiPublishingRegions={json.dumps(REGIONS)}",
        "-c", f"projectSettings.imageBuilder.amiPublishingTargetIds={json.dumps([DISTRIBUTION])}",
        "-c", f"projectSettings.imageBuilder.amiSharingIds={json.dumps([SHARING])}", time_scale="0.05")


def ec2_of(user: User, account: str, region: str):
    exported = read_env_file(user.env_file)
    sts = user.aws("sts")
    if account == sts.get_caller_identity()["Account"]:
        credentials = {"aws_access_key_id": exported["AWS_ACCESS_KEY_ID"],
                       "aws_secret_access_key": exported["AWS_SECRET_ACCESS_KEY"]}
    else:
        assumed = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/someone-else",
                                  RoleSessionName="console")["Credentials"]
        credentials = {"aws_access_key_id": assumed["AccessKeyId"],
                       "aws_secret_access_key": assumed["SecretAccessKey"],
                       "aws_session_token": assumed["SessionToken"]}
    return boto3.client("ec2", endpoint_url=exported["AWS_ENDPOINT_URL"], region_name=region, **credentials)


def lc_tags(ec2, ami_id: str) -> dict[str, str]:
    image = ec2.describe_images(ImageIds=[ami_id])["Images"][0]
    return {t["Key"]: t["Value"] for t in image.get("Tags", []) if t["Key"].startswith("AMI_LC_")}


@pytest.fixture(scope="module")
def copies(user):
    result = user.api_cli("--operation", "AMI_CREATE", "--owner", "platform@example.com",
                          "--productName", "billing-service", "--productVer", "1.4.2", "--commitRef", "3f9c2ab",
                          "--notifications", "EMAIL::platform@example.com", "--events", "AMI_BUILD_ONLY", *WAIT)
    lifecycle_id = result.stdout.strip()
    status = json.loads(user.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", lifecycle_id,
                                     "--output", "json").stdout)
    (build,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
    return build["properties"]["ami_details"]


def test_the_build_publishes_a_copy_to_each_region_of_each_account(user, copies):
    own = user.aws("sts").get_caller_identity()["Account"]
    assert sorted((c["accountId"], c["region"]) for c in copies) == sorted(
        (account, region) for account in (own, DISTRIBUTION) for region in REGIONS)


def test_every_copy_may_be_launched_by_the_sharing_account(user, copies):
    for copy in copies:
        permissions = ec2_of(user, copy["accountId"], copy["region"]).describe_image_attribute(
            ImageId=copy["image"], Attribute="launchPermission")["LaunchPermissions"]
        assert {"UserId": SHARING} in permissions, copy


def test_every_copy_carries_the_lifecycle_tags(user, copies):
    tag_sets = [lc_tags(ec2_of(user, c["accountId"], c["region"]), c["image"]) for c in copies]
    assert tag_sets[0]["AMI_LC_EVENT_BUILD_AMI_STATUS"] == "COMPLETED"
    assert all(tags == tag_sets[0] for tags in tag_sets)


def test_the_reconciler_restores_tags_changed_on_any_copy_and_reports_them(user, copies):
    own = user.aws("sts").get_caller_identity()["Account"]
    changed = next(c for c in copies if c["accountId"] == own)
    deleted = next(c for c in copies if c["accountId"] == DISTRIBUTION and c["region"] == "eu-west-1")
    changed_ec2 = ec2_of(user, own, changed["region"])
    deleted_ec2 = ec2_of(user, DISTRIBUTION, deleted["region"])
    expected = lc_tags(changed_ec2, changed["image"])
    changed_ec2.create_tags(Resources=[changed["image"]], Tags=[{"Key": "AMI_LC_PRODUCT_VER", "Value": "6.6.6"}])
    deleted_ec2.delete_tags(Resources=[deleted["image"]], Tags=[{"Key": "AMI_LC_LIFECYCLE_ID"}])

    rules = user.shell("python3 -m local events rules").stdout.splitlines()
    # The reconciler's rule is the deployment's one cron schedule (the garbage collector's is a rate).
    (reconciler,) = [line.split()[0] for line in rules if "cron(" in line]
    fired = user.shell(f"python3 -m local events run-rule {reconciler}")
    assert "1 target(s) reached" in fired.stdout

    eventually(lambda: lc_tags(changed_ec2, changed["image"]) == expected
               and lc_tags(deleted_ec2, deleted["image"]) == expected, timeout=120, what="the tags' repair")
    logs = user.aws("logs")

    def report():
        group = f"/ami-lifecycles/{STACK_TAG}/operations-reports"
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName="orchestrator")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        for event in events:
            document = json.loads(event["message"].partition("\n")[2] or "{}")
            if document.get("report") == "ami-tag-reconciliation" and document["changed"]:
                return document
        return None

    document = eventually(report, timeout=60, what="the reconciliation report")
    found = {(c["ami_id"], c["account_id"]): {t["tag_key"]: t["problem"] for t in c["tags"]}
             for c in document["changed"]}
    assert found == {(changed["image"], own): {"AMI_LC_PRODUCT_VER": "wrong value"},
                     (deleted["image"], DISTRIBUTION): {"AMI_LC_LIFECYCLE_ID": "missing"}}
    assert document["counts"]["ami_copies_checked"] == 4
