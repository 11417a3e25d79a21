"""Revocation on moto: the route end to end (record, channel, lookup, tags), the channel restoring the previous
release, the lookup flag, and the deprecation request (botocore's stubber: moto has no EnableImageDeprecation)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber

from orchestrator import bootstrap
from orchestrator.adapters.ami_deprecation import AmiDeprecations
from orchestrator.adapters.lookup_repository import LookupRepository
from orchestrator.adapters.production_channel import ProductionChannel
from orchestrator.adapters.state_repository import StateRepository
from orchestrator.config import RuntimeConfig
from orchestrator.domain.production import release_for
from orchestrator.domain.records import record_event_result
from orchestrator.domain.results import parse_event_result
from orchestrator.domain.selection import SelectionCriteria
from stacks.amilifecycle.events.production import CHANNEL_TABLE_PARTITION_KEY

from .conftest import REGION, STACK_TAG, api_event, call
from .test_api_update import built_lifecycle

CHANNELS = "ProductionChannels"
PRODUCT = "payments-service"
PARAMETER = f"/ami-lifecycle/{STACK_TAG}/{PRODUCT}/production"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
AMI_ID = "ami-0123456789abcdef0"  # the AMI built_lifecycle records


def create_channel_table() -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=CHANNELS, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": CHANNEL_TABLE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": CHANNEL_TABLE_PARTITION_KEY, "AttributeType": "S"}])


def channel() -> ProductionChannel:
    return ProductionChannel(CHANNELS, dynamodb=boto3.client("dynamodb", region_name=REGION),
                             ssm=boto3.client("ssm", region_name=REGION))


def release(semver: str, ami_id: str, lifecycle_id: str = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"):
    return release_for(ami={"id": ami_id, "region": REGION, "semver": semver}, lifecycle_id=lifecycle_id,
                       event="MARK_FOR_PRODUCTION_CREATE", now=NOW)


def parameter_value() -> str | None:
    ssm = boto3.client("ssm", region_name=REGION)
    try:
        return ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def test_revoking_the_head_restores_the_previous_release_then_deletes_the_parameters(cloud):
    create_channel_table()
    channel().publish(STACK_TAG, PRODUCT, release("1.0.0", "ami-00000000000000001"))
    channel().publish(STACK_TAG, PRODUCT, release("2.0.0", "ami-00000000000000002"))

    head = channel().revoke(STACK_TAG, PRODUCT, ami_id="ami-00000000000000002", region=REGION, reason="CVE",
                            now=NOW)

    assert head.ami_id == "ami-00000000000000001" and parameter_value() == "ami-00000000000000001"
    assert channel().revoke(STACK_TAG, PRODUCT, ami_id="ami-00000000000000001", region=REGION, reason="CVE",
                            now=NOW) is None
    assert parameter_value() is None


def test_a_flagged_lookup_entry_is_no_longer_selected(cloud):
    lookup = LookupRepository(cloud.lookup_table, boto3.client("dynamodb", region_name=REGION))
    record = {"lifecycle_id": "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "stack_tag": STACK_TAG,
              "product_ver": "1", "product_name": PRODUCT, "commit_ref": "abc"}
    result = parse_event_result({"lifecycle_id": record["lifecycle_id"], "name": "MARK_FOR_PRODUCTION_CREATE",
                                 "status": "COMPLETED", "status_date": "2026-11-23T10:00:00Z",
                                 "approval_status": "APPROVED"})
    lookup.record(record=record, ami={"region": REGION, "image": AMI_ID, "ami_semver": "1.0.0"}, result=result,
                  now=NOW)
    criteria = SelectionCriteria.parse(stack_tag=STACK_TAG, region=REGION, lifecycle_event="PRODUCTION_APPROVED")
    assert criteria.matches(lookup.get(f"{REGION}#{AMI_ID}"))

    flagged = lookup.flag_revoked(region=REGION, ami_id=AMI_ID, reason="CVE", now=NOW)

    assert flagged["revoked"]["lifecycle_score"] == 6
    assert not criteria.matches(lookup.get(f"{REGION}#{AMI_ID}"))
    assert lookup.flag_revoked(region=REGION, ami_id=AMI_ID, reason="again", now=NOW) is None


def test_the_deprecation_asks_ec2_for_the_soonest_time_it_accepts():
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ec2) as stub:
        stub.add_response("enable_image_deprecation", {"Return": True},
                          {"ImageId": AMI_ID, "DeprecateAt": NOW + timedelta(minutes=1)})
        at = AmiDeprecations(ec2).deprecate(AMI_ID, now=NOW)

    assert at == "2026-11-23T10:01:00Z"


class FakeDeprecations:
    def __init__(self) -> None:
        self.deprecated: list[str] = []

    def deprecate(self, ami_id: str, *, now: datetime) -> str:
        self.deprecated.append(ami_id)
        return "soon"


@pytest.fixture
def revoking(api, cloud, monkeypatch) -> Iterator[FakeDeprecations]:
    create_channel_table()
    monkeypatch.setenv("PRODUCTION_CHANNEL_TABLE_NAME", CHANNELS)
    api.reset_application()
    deprecations = FakeDeprecations()
    bootstrap.install(bootstrap.bootstrap(RuntimeConfig.from_env(), deprecations=deprecations))
    yield deprecations
    bootstrap.reset()


def approved_lifecycle(api, cloud) -> str:
    """A built lifecycle whose AMI (a real moto image) was approved and published."""
    image = boto3.client("ec2", region_name=REGION).register_image(Name="payments", RootDeviceName="/dev/xvda")
    lifecycle_id = built_lifecycle(api, cloud)
    repository = StateRepository(cloud.state_table)
    now = datetime.now(timezone.utc)

    def approved(record: dict) -> dict:
        record = dict(record, product_name=PRODUCT)
        build = record["outputs_ami_creation"]["events"][0]
        build["properties"]["ami_details"][0]["image"] = image["ImageId"]
        result = parse_event_result({"lifecycle_id": lifecycle_id, "name": "MARK_FOR_PRODUCTION_CREATE",
                                     "status": "COMPLETED", "status_date": "2026-11-23T11:00:00Z",
                                     "approval_status": "APPROVED"})
        return record_event_result(record, result, now)

    stored = repository.update(lifecycle_id, approved)
    ami = stored["outputs_ami_creation"]["events"][0]["properties"]["ami_details"][0]
    LookupRepository(cloud.lookup_table).record(
        record=stored, ami=ami, now=now,
        result=parse_event_result({"lifecycle_id": lifecycle_id, "name": "MARK_FOR_PRODUCTION_CREATE",
                                   "status": "COMPLETED", "status_date": "2026-11-23T11:00:00Z",
                                   "approval_status": "APPROVED"}))
    channel().publish(STACK_TAG, PRODUCT, release("1.0.0", image["ImageId"], lifecycle_id))
    return lifecycle_id


def revoke(api, cloud, lifecycle_id: str, **body: Any):
    return call(api, api_event("POST", "/lifecycles/{lifecycle-id}/revoke",
                               path_parameters={"lifecycle-id": lifecycle_id},
                               body={"stack_tag": STACK_TAG, **body},
                               headers={"x-api-key": cloud.keys["ami_revoke_secret_name"]}))


def test_the_revoke_route_withdraws_the_ami_everywhere(api, cloud, revoking):
    lifecycle_id = approved_lifecycle(api, cloud)
    stored = StateRepository(cloud.state_table).get(lifecycle_id)
    ami_id = stored["outputs_ami_creation"]["events"][0]["properties"]["ami_details"][0]["image"]
    assert parameter_value() == ami_id

    answer = revoke(api, cloud, lifecycle_id, reason="CVE-2026-1 in openssl")

    assert answer.status == 200, answer.text
    [entry] = StateRepository(cloud.state_table).get(lifecycle_id)["revocations"]
    assert (entry["ami_id"], entry["reason"]) == (ami_id, "CVE-2026-1 in openssl")
    assert parameter_value() is None
    assert LookupRepository(cloud.lookup_table).get(f"{REGION}#{ami_id}")["revoked"]["reason"] == \
        "CVE-2026-1 in openssl"
    tags = {t["Key"]: t["Value"] for t in boto3.client("ec2", region_name=REGION).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [ami_id]}])["Tags"]}
    assert tags["AMI_LC_REVOKED_REASON"] == "CVE-2026-1 in openssl"
    assert revoking.deprecated == [ami_id]


def test_the_revoke_route_needs_a_reason_and_its_own_key(api, cloud, revoking):
    lifecycle_id = approved_lifecycle(api, cloud)

    missing = revoke(api, cloud, lifecycle_id)
    assert missing.status == 400 and missing.json["error"].startswith("reason: missing (required)")
    wrong_key = call(api, api_event("POST", "/lifecycles/{lifecycle-id}/revoke",
                                    path_parameters={"lifecycle-id": lifecycle_id},
                                    body={"stack_tag": STACK_TAG, "reason": "x"},
                                    headers={"x-api-key": cloud.keys["ami_creation_mark_for_production_secret_name"]}))
    assert wrong_key.status == 403


def test_an_unapproved_lifecycle_cannot_be_revoked(api, cloud, revoking):
    lifecycle_id = built_lifecycle(api, cloud)

    answer = revoke(api, cloud, lifecycle_id, reason="CVE")

    assert answer.status == 409 and "no AMI approved for production" in answer.json["error"]
