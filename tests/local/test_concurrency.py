"""Races on the deployed product, on the local cloud: the conditional writes, not luck, keep them apart.

A ``dynamodb delay`` fault holds every read's answer back (after the lock that
makes each DynamoDB operation atomic), so concurrent requests all read the
same record or seed before any of them writes: without the condition on the
write, every one of them would win.

* 20 concurrent PUTs on one built lifecycle start exactly one event; 19 are 409;
* 100 concurrent creates through the API on one stack tag are 100 lifecycles, and
  100 concurrent version assignments for one stack tag (what each build's
  result does when the build completes, through the deployed seed table) are
  100 distinct semantic versions;
* an error report delivered three times changes the record once;
* a message no receiver can read ends in the dead-letter queue.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from local import faults
from tests.local.polling import eventually

TIMEOUT = 60
# Simulated seconds; the session's time scale (0.01) makes this 0.3 s of real time per read.
READ_DELAY = 30.0


@dataclass(frozen=True)
class Product:
    cloud: Any
    outputs: dict[str, str]
    keys: dict[str, str]

    @property
    def url(self) -> str:
        return self.outputs["amiOrchestratorApiGatewayUrl"].rstrip("/")

    def call(self, method: str, path: str, setting: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", json=body, timeout=TIMEOUT,
                                headers={"x-api-key": self.keys[setting]})

    def status(self, lifecycle_id: str) -> dict[str, Any]:
        answer = self.call("GET", f"/ami-creation/lifecycles/{lifecycle_id}/status", "ami_creation_status_secret_name")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def record(self, lifecycle_id: str) -> dict[str, Any]:
        table = self.cloud.boto3_resource("dynamodb").Table(self.outputs["amiLifecycleStateTableName"])
        return table.get_item(Key={"lifecycle_id": lifecycle_id}, ConsistentRead=True)["Item"]


@pytest.fixture(scope="module")
def product(local_cloud: Any, product_deployment: dict[str, dict[str, str]]) -> Product:
    from stacks.settings import load_settings

    outputs = next(o for o in product_deployment.values() if "amiOrchestratorApiGatewayUrl" in o)
    secrets = local_cloud.boto3_client("secretsmanager")
    keys = {setting: secrets.get_secret_value(SecretId=outputs["apiKeySecretPrefix"] + leaf)["SecretString"]
            for setting, leaf in load_settings().lifecycle.api.all_key_names.items()}
    return Product(local_cloud, outputs, keys)


@pytest.fixture
def slow_reads():
    faults.set_fault("dynamodb", "delay", seconds=READ_DELAY)
    try:
        yield
    finally:
        faults.clear("dynamodb")


@pytest.fixture
def builds_never_finish():
    faults.set_fault("imagebuilder", "hang")
    try:
        yield
    finally:
        faults.clear("imagebuilder")


def events(**enabled: bool) -> list[dict[str, Any]]:
    names = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")
    return [{"name": name, "enabled": enabled.get(name, False)} for name in names]


def create_body(stack_tag: str) -> dict[str, Any]:
    return {"stack_tag": stack_tag, "owner": "race-team", "product_ver": "1.0.0", "product_name": "race",
            "commit_ref": "9fceb02", "notifications": [{"method": "HTTP", "target": "https://hooks.example.com/x"}],
            "events": events(BUILD_AMI=True)}


def build_event(status: dict[str, Any]) -> dict[str, Any] | None:
    done = (status.get("outputs_ami_creation") or {}).get("events") or []
    return next((event for event in done if event.get("name") == "BUILD_AMI"), None)


def test_concurrent_updates_of_one_lifecycle_start_exactly_one_event(product):
    stack_tag = f"race-{uuid.uuid4().hex[:8]}"
    created = product.call("POST", "/ami-creation/lifecycles", "ami_creation_post_secret_name", create_body(stack_tag))
    assert created.status_code == 200, created.text
    lifecycle_id = created.json()["lifecycle_id"]
    eventually(lambda: (build_event(product.status(lifecycle_id)) or {}).get("status") == "COMPLETED",
               timeout=180, interval=0.5, what="the build")
    update = {"lifecycle_id": lifecycle_id, "stack_tag": stack_tag, "owner": "race-team",
              "notifications": [{"method": "HTTP", "target": "https://hooks.example.com/x"}],
              "events": events(SMOKE_TESTS_AMI_CREATE=True)}

    faults.set_fault("dynamodb", "delay", seconds=READ_DELAY)  # the build ran at full speed; the race does not
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda _: product.call("PUT", "/ami-creation/lifecycles",
                                                           "ami_creation_put_secret_name", update), range(20)))
    finally:
        faults.clear("dynamodb")

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * 19, [(a.status_code, a.text[:120]) for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"CONFLICT"}
    # The losers lost the claim on the record (the conditional write), not the later race to start the
    # execution (whose name, the same for every claimant of one attempt, Step Functions refuses twice).
    assert not [a.text for a in answers if "was already started" in a.text]
    in_progress = product.record(lifecycle_id).get("event_in_progress") or {}
    assert in_progress.get("name") == "SMOKE_TESTS_AMI_CREATE"
    sfn = product.cloud.boto3_client("stepfunctions")
    started = [execution for machine in sfn.list_state_machines()["stateMachines"]
               for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
               if lifecycle_id in json.loads(sfn.describe_execution(
                   executionArn=execution["executionArn"]).get("input") or "{}").get("lifecycle_id", "")]
    assert len(started) == 2  # the build, and one smoke-test run


def test_concurrent_creates_on_one_stack_tag_are_distinct_lifecycles_with_distinct_versions(
        product, slow_reads, builds_never_finish):
    from orchestrator.adapters.semver_seeds import SeedContention, SemverSeeds

    stack_tag = f"race-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: product.call("POST", "/ami-creation/lifecycles",
                                                       "ami_creation_post_secret_name", create_body(stack_tag)),
                                range(100)))
    assert [a.status_code for a in answers] == [200] * 100, {a.status_code: a.text[:200] for a in answers}
    assert len({a.json()["lifecycle_id"] for a in answers}) == 100

    # What each of those builds' results does when it completes: take the stack tag's next version.
    # A receiver that loses too many races in a row gives up (SeedContention) and its message is
    # delivered again: here, the worker tries again.
    seeds = SemverSeeds(product.outputs["amiSemverSeedTableName"], "1.0.0",
                        client=product.cloud.boto3_client("dynamodb"))
    redeliveries = []

    def assign(_: int) -> str:
        while True:
            try:
                return seeds.assign(stack_tag)
            except SeedContention:
                redeliveries.append(1)

    with ThreadPoolExecutor(max_workers=20) as pool:
        versions = list(pool.map(assign, range(100)))

    assert len(set(versions)) == 100, sorted(versions)


def test_an_error_report_delivered_three_times_changes_the_record_once(product, builds_never_finish):
    stack_tag = f"race-{uuid.uuid4().hex[:8]}"
    created = product.call("POST", "/ami-creation/lifecycles", "ami_creation_post_secret_name", create_body(stack_tag))
    lifecycle_id = created.json()["lifecycle_id"]
    before = eventually(lambda: (r := product.record(lifecycle_id)).get("event_in_progress", {}).get(
        "execution_arn") and r, timeout=60, what="the build's execution on the record")
    report = {"lifecycle_id": lifecycle_id, "api_key": product.keys["ami_error_receiver_secret_name"],
              "status": "ERROR", "status_date": "2026-12-02T10:00:00Z", "error_message": "the build broke",
              "stack_trace": "Traceback: the build broke"}
    sqs = product.cloud.boto3_client("sqs")
    queue = product.outputs["amiErrorReceiverQueueUrl"]

    for _ in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(report))

    def drained() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return all(value == "0" for value in attributes.values())

    eventually(drained, timeout=90, interval=0.2, what="the three deliveries")
    after = product.record(lifecycle_id)
    assert int(after["version"]) == int(before["version"]) + 1
    assert "the build broke" in json.dumps(after, default=str)


def test_a_message_no_receiver_can_read_ends_in_the_dead_letter_queue(product):
    sqs = product.cloud.boto3_client("sqs")
    queue = product.outputs["amiErrorReceiverQueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    dead_letters = sqs.get_queue_url(QueueName=json.loads(arn)["deadLetterTargetArn"].rsplit(":", 1)[-1])["QueueUrl"]
    poison = f"not json {uuid.uuid4()}"

    sqs.send_message(QueueUrl=queue, MessageBody=poison)

    def arrived() -> bool:
        messages = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                       WaitTimeSeconds=1).get("Messages", [])
        return any(message["Body"] == poison for message in messages)

    eventually(arrived, timeout=180, interval=0.5, what="the poison message in the dead-letter queue")
