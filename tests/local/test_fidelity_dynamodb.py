"""DynamoDB writes on the local cloud are atomic per item, as on AWS: racing
conditional writes through the threaded endpoint never both pass their
condition, and a failed transaction undoes nothing that others wrote."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

THREADS = 6
INCREMENTS_PER_THREAD = 15


@pytest.fixture(autouse=True)
def eager_thread_switching() -> Iterator[None]:
    """The server runs in this process: switching threads every few
    microseconds instead of every 5 ms opens every race window moto has."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


@pytest.fixture(scope="module")
def table(local_cloud: Any) -> str:
    name = f"fidelity-atomic-{uuid.uuid4().hex[:8]}"
    client = local_cloud.boto3_client("dynamodb")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return name


def in_threads(local_cloud: Any, work: Callable[[Any, int], Any], threads: int = THREADS) -> list[Any]:
    """Run ``work(client, index)`` on ``threads`` threads that start together,
    each with its own client; their results in index order."""
    barrier = threading.Barrier(threads)

    def run(index: int) -> Any:
        client = local_cloud.boto3_client("dynamodb")
        barrier.wait(timeout=30)
        return work(client, index)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def is_conditional_check_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def counter(client: Any, table: str, key: str) -> int:
    item = client.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_conditional_increments_racing_on_one_item_end_with_the_exact_count(local_cloud, table):
    key = f"counter-{uuid.uuid4().hex}"
    local_cloud.boto3_client("dynamodb").put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": "0"}})

    def increment(client: Any, _: int) -> int:
        conflicts = 0
        for _ in range(INCREMENTS_PER_THREAD):
            while True:
                seen = counter(client, table, key)
                try:
                    client.update_item(TableName=table, Key={"pk": {"S": key}}, UpdateExpression="SET n = :next",
                                       ConditionExpression="n = :seen",
                                       ExpressionAttributeValues={":seen": {"N": str(seen)},
                                                                  ":next": {"N": str(seen + 1)}})
                    break
                except ClientError as error:
                    if not is_conditional_check_failure(error):
                        raise
                    conflicts += 1
        return conflicts

    in_threads(local_cloud, increment)

    assert counter(local_cloud.boto3_client("dynamodb"), table, key) == THREADS * INCREMENTS_PER_THREAD


def test_conditional_puts_racing_on_one_item_end_with_the_exact_count(local_cloud, table):
    key = f"versioned-{uuid.uuid4().hex}"
    local_cloud.boto3_client("dynamodb").put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": "0"}})

    def increment(client: Any, index: int) -> None:
        for _ in range(INCREMENTS_PER_THREAD):
            while True:
                seen = counter(client, table, key)
                try:
                    client.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": str(seen + 1)},
                                                           "writer": {"N": str(index)}},
                                    ConditionExpression="n = :seen",
                                    ExpressionAttributeValues={":seen": {"N": str(seen)}})
                    break
                except ClientError as error:
                    if not is_conditional_check_failure(error):
                        raise

    in_threads(local_cloud, increment)

    assert counter(local_cloud.boto3_client("dynamodb"), table, key) == THREADS * INCREMENTS_PER_THREAD


def test_create_if_not_exists_racing_on_one_key_has_exactly_one_winner(local_cloud, table):
    for _ in range(10):
        key = f"lease-{uuid.uuid4().hex}"

        def create(client: Any, index: int) -> bool:
            try:
                client.put_item(TableName=table, Item={"pk": {"S": key}, "owner": {"S": f"worker-{index}"}},
                                ConditionExpression="attribute_not_exists(pk)")
                return True
            except ClientError as error:
                if not is_conditional_check_failure(error):
                    raise
                return False

        won = in_threads(local_cloud, create, threads=8)

        assert won.count(True) == 1
        item = local_cloud.boto3_client("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}},
                                                             ConsistentRead=True)["Item"]
        assert item["owner"]["S"] == f"worker-{won.index(True)}"


def test_update_expression_increments_racing_on_one_item_all_land(local_cloud, table):
    key = f"adder-{uuid.uuid4().hex}"

    def add(client: Any, _: int) -> None:
        for _ in range(INCREMENTS_PER_THREAD):
            client.update_item(TableName=table, Key={"pk": {"S": key}}, UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})

    in_threads(local_cloud, add)

    assert counter(local_cloud.boto3_client("dynamodb"), table, key) == THREADS * INCREMENTS_PER_THREAD


def test_failed_transactions_undo_nothing_that_other_writers_wrote(local_cloud, table):
    key = f"busy-{uuid.uuid4().hex}"
    missing = f"missing-{uuid.uuid4().hex}"

    def work(client: Any, index: int) -> int:
        refused = 0
        for _ in range(INCREMENTS_PER_THREAD):
            if index % 2:
                client.update_item(TableName=table, Key={"pk": {"S": key}}, UpdateExpression="ADD n :one",
                                   ExpressionAttributeValues={":one": {"N": "1"}})
                continue
            try:
                client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"side-{uuid.uuid4().hex}"}}}},
                    {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": missing}},
                                        "ConditionExpression": "attribute_exists(pk)"}},
                ])
            except ClientError as error:
                assert error.response["Error"]["Code"] == "TransactionCanceledException"
                refused += 1
        return refused

    refusals = in_threads(local_cloud, work)

    adders = THREADS // 2
    assert sum(refusals) == (THREADS - adders) * INCREMENTS_PER_THREAD
    assert counter(local_cloud.boto3_client("dynamodb"), table, key) == adders * INCREMENTS_PER_THREAD


# Writes an item recording each new item the stream shows it, into the same table.
STREAM_RECORDER = """\
import os

import boto3


def handler(event, context):
    client = boto3.client("dynamodb")
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        if record["eventName"] == "INSERT" and not key.startswith("seen-"):
            client.put_item(TableName=os.environ["TABLE"], Item={"pk": {"S": "seen-" + key}})
"""


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_stream_function_writing_to_its_own_table_runs_once_the_write_is_done(local_cloud):
    client = local_cloud.boto3_client("dynamodb")
    name = f"fidelity-stream-{uuid.uuid4().hex[:8]}"
    stream_arn = client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    role = local_cloud.boto3_client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    lambda_client = local_cloud.boto3_client("lambda")
    lambda_client.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
                                  Timeout=10, Code={"ZipFile": _zip({"index.py": STREAM_RECORDER})},
                                  Environment={"Variables": {"TABLE": name}})
    lambda_client.create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn,
                                              StartingPosition="LATEST")
    started = time.monotonic()

    client.put_item(TableName=name, Item={"pk": {"S": "image-1"}})

    assert time.monotonic() - started < 8  # the function did not wait for the write to let go
    assert client.get_item(TableName=name, Key={"pk": {"S": "seen-image-1"}}, ConsistentRead=True).get("Item")
