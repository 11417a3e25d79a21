"""Consumes an SQS queue: each message body ``{"id": ...}`` becomes an item
of the table. ``"fail": true`` reports the message as a batch item failure;
``"raise": true`` fails the whole batch with an exception."""

import json
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("raise"):
            raise RuntimeError(f"cannot record {body['id']}")
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        TABLE.put_item(Item={
            "pk": body["id"],
            "receive_count": int(record["attributes"]["ApproximateReceiveCount"]),
            "event_source": record["eventSource"],
        })
    return {"batchItemFailures": failures}
