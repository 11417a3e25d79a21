"""The original AMI selection client keeps working against the lookup table.

``legacy_select`` reproduces that client's request and result handling
(docs/api.md, "Compatibility"): one Query on the ``stack_tag_index`` with
``stack_tag = :v1`` and an AND-ed FilterExpression, the first page only,
sorted by semantic version, newest first. It knows the lookup record of its
own time, whose one number is ``lifecycle_score``: it turns that into an
int and serialises the item as JSON, so any other number in an item
(``revision``, a ``Decimal``) makes it fail.

The entries are written by the runtime's own :class:`LookupRepository`,
exactly as the receivers write them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key

from orchestrator.adapters.lookup_repository import LookupRepository
from orchestrator.domain.results import EventResult
from orchestrator.domain.vocabulary import EventName, Status
from stacks.amilifecycle.storage import LEGACY_LOOKUP_ATTRIBUTES, LOOKUP_TABLE_PARTITION_KEY
from tests.runtime.conftest import REGION, STACK_TAG, Cloud
from tests.runtime.conftest_build import utc

# The original client's minimum scores per --lifecycle_event (its own table, spec 3.1).
LEGACY_CLIENT_SCORES = {"AMI_WITH_OS_HARDENING": 1, "SMOKE_TESTED": 2, "VULNERABILITY_SCANNED": 2,
                        "QA_CERTIFICATION_REQUESTED": 4, "QA_CERTIFIED": 4, "PRODUCTION_APPROVED": 6}


def legacy_select(table: Any, *, stack_tag: str = STACK_TAG, region: str = REGION, ami_semver: str = "latest",
                  product_ver: str = "any", product_name: str = "any", commit_ref: str = "any",
                  lifecycle_type: str = "any", lifecycle_event: str = "AMI_WITH_OS_HARDENING") -> dict[str, Any]:
    """The original client's query shape and result handling; returns the chosen item, decoded from its JSON."""
    conditions = []
    if ami_semver != "latest":
        conditions.append(Attr("ami_semver").eq(ami_semver))
    for name, value in (("product_ver", product_ver), ("product_name", product_name), ("commit_ref", commit_ref)):
        if value != "any":
            conditions.append(Attr(name).eq(value))
    if lifecycle_type in ("ami-creation", "ami-patch"):
        conditions.append(Attr("lifecycle_type").eq(lifecycle_type))
    conditions.append(Attr("lifecycle_score").gte(LEGACY_CLIENT_SCORES[lifecycle_event]))
    conditions.append(Attr("aws_region").eq(region))
    filter_expression = conditions[0]
    for condition in conditions[1:]:
        filter_expression = filter_expression & condition
    response = table.query(IndexName="stack_tag_index", KeyConditionExpression=Key("stack_tag").eq(stack_tag),
                           FilterExpression=filter_expression)
    items = sorted(response["Items"], reverse=True,
                   key=cmp_to_key(lambda a, b: semver_compare(a["ami_semver"], b["ami_semver"])))
    if not items:
        raise LookupError(f"no AMI matches {json.dumps({'stack_tag': stack_tag, 'region': region})}")
    chosen = dict(items[0], lifecycle_score=int(items[0]["lifecycle_score"]))
    return json.loads(json.dumps(chosen))


def semver_compare(left: str, right: str) -> int:
    import semver

    return semver.Version.parse(left).compare(right)


def record(lifecycle_id: str, **changes: str) -> dict[str, Any]:
    return {"lifecycle_id": lifecycle_id, "stack_tag": STACK_TAG, "product_ver": "2.4.1",
            "product_name": "payments-service", "commit_ref": "9fceb02", **changes}


def result(lifecycle_id: str, event: EventName, **attributes: str) -> EventResult:
    return EventResult(lifecycle_id=lifecycle_id, name=event, status=Status.COMPLETED,
                       status_date="2026-11-23T10:30:00Z", properties={}, attributes=attributes)


def ami(image: str, semver: str) -> dict[str, str]:
    return {"region": REGION, "image": image, "name": f"AmiLifecycle-main-{semver}", "ami_semver": semver}


LC_1 = "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a51"
LC_2 = "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a52"
LC_10 = "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5a"


@pytest.fixture
def table(cloud: Cloud) -> Any:
    """Three AMIs of the stack tag, written by the runtime: 2.0.0 smoke tested, 1.0.0 and 10.0.0 built only."""
    lookup = LookupRepository(cloud.lookup_table, boto3.client("dynamodb", region_name=REGION))
    lookup.record(record=record(LC_1), ami=ami("ami-0000000000000000a", "1.0.0"),
                  result=result(LC_1, EventName.BUILD_AMI), now=utc())
    second = ami("ami-0000000000000000b", "2.0.0")
    lookup.record(record=record(LC_2, product_ver="3.0.0"), ami=second, result=result(LC_2, EventName.BUILD_AMI),
                  now=utc())
    lookup.record(record=record(LC_2, product_ver="3.0.0"), ami=second,
                  result=result(LC_2, EventName.SMOKE_TESTS_AMI_CREATE), now=utc())
    lookup.record(record=record(LC_10), ami=ami("ami-0000000000000000c", "10.0.0"),
                  result=result(LC_10, EventName.BUILD_AMI), now=utc())
    return boto3.resource("dynamodb", region_name=REGION).Table(cloud.lookup_table)


def test_the_original_client_gets_the_highest_semantic_version(table):
    assert legacy_select(table)["ami_id"] == "ami-0000000000000000c"


def test_the_original_client_filters_on_its_criteria(table):
    assert legacy_select(table, lifecycle_event="SMOKE_TESTED")["ami_id"] == "ami-0000000000000000b"
    assert legacy_select(table, product_ver="2.4.1", ami_semver="1.0.0")["ami_id"] == "ami-0000000000000000a"
    assert legacy_select(table, lifecycle_type="ami-creation", commit_ref="9fceb02",
                         product_name="payments-service")["ami_id"] == "ami-0000000000000000c"


def test_the_original_client_finds_nothing_for_another_region_or_stack_tag(table):
    with pytest.raises(LookupError):
        legacy_select(table, region="eu-west-1")
    with pytest.raises(LookupError):
        legacy_select(table, stack_tag="feature-x")


def test_the_original_index_shows_only_the_original_record_attributes(table):
    items = table.query(IndexName="stack_tag_index", KeyConditionExpression=Key("stack_tag").eq(STACK_TAG))["Items"]

    assert len(items) == 3
    original = {LOOKUP_TABLE_PARTITION_KEY, "stack_tag", *LEGACY_LOOKUP_ATTRIBUTES}
    for item in items:
        assert set(item) <= original
        assert [name for name, value in item.items() if isinstance(value, Decimal)] == ["lifecycle_score"]


def test_the_full_entries_still_carry_their_revision(table):
    """The index hides the bookkeeping; the table keeps it for the writers' conditional updates."""
    entry = table.get_item(Key={LOOKUP_TABLE_PARTITION_KEY: f"{REGION}#ami-0000000000000000b"})["Item"]
    assert entry["revision"] == 2 and entry["last_event"] == "SMOKE_TESTS_AMI_CREATE"
