"""Event sources that invoke functions: SQS event source mappings and SNS
subscriptions, with Lambda's delivery semantics.

moto invokes an SQS-mapped function inside ``SendMessage``, one message at
a time, and forgets a failed message until the next send. Lambda polls the
queue instead. Here:

* the batch moto receives on a send is delivered in the background, so
  ``SendMessage`` answers at once, as on AWS;
* a poller watches every enabled SQS mapping, so a message whose
  invocation failed is retried once its visibility timeout (scaled by the
  time scale) has passed, until the queue's redrive policy moves it to the
  dead-letter queue; messages sent before the mapping existed are delivered
  too;
* one invocation receives the whole batch (up to the mapping's
  ``BatchSize``) with the records' real attributes;
* with ``FunctionResponseTypes: [ReportBatchItemFailures]`` only the
  messages the function lists in ``batchItemFailures`` go back to the
  queue; the others are deleted.

SNS delivers to a function asynchronously (the publisher does not wait),
with the retries of an asynchronous invocation.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from local import clock
from local.lambda_runtime.runtime import InvocationOutcome, LambdaRuntime, TooManyRequests

log = logging.getLogger("local.lambda.sqs")

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
_SQS_SOURCES = ("sqs", "sqs-fifo")


def sqs_record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS event, from moto's received message."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if message.group_id:
        attributes["MessageGroupId"] = message.group_id
    if message.deduplication_id:
        attributes["MessageDeduplicationId"] = message.deduplication_id
    if message.sequence_number:
        attributes["SequenceNumber"] = str(message.sequence_number)
    record: dict[str, Any] = {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.message_attributes or {}).items()
        },
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.message_attributes:
        record["md5OfMessageAttributes"] = message.attribute_md5
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    if isinstance(binary, bytes):
        binary = base64.b64encode(binary).decode("ascii")
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [],
                                 "dataType": value.get("DataType")}
    if value.get("StringValue") is not None:
        attribute["stringValue"] = value["StringValue"]
    if binary is not None:
        attribute["binaryValue"] = binary
    return attribute


def failed_message_ids(outcome: InvocationOutcome, message_ids: list[str],
                       reports_item_failures: bool) -> set[str]:
    """The messages of a batch that go back to the queue, by Lambda's rules:
    a function error fails the whole batch; with ReportBatchItemFailures the
    listed ones fail, and a response Lambda cannot read fails them all."""
    everything = set(message_ids)
    if outcome.function_error:
        return everything
    if not reports_item_failures:
        return set()
    try:
        response = json.loads(outcome.payload or b"null")
    except ValueError:
        return everything
    if response is None or response == "":
        return set()
    if not isinstance(response, dict):
        return everything
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return everything
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


class SqsEventSource:
    """Delivers SQS messages to mapped functions and polls for retries."""

    def __init__(self, runtime: LambdaRuntime, poll_interval_seconds: float = 0.5,
                 delivery_threads: int = 4) -> None:
        self._runtime = runtime
        self._poll_interval = poll_interval_seconds
        self._executor = ThreadPoolExecutor(delivery_threads, thread_name_prefix="lambda-sqs")
        self._in_flight: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll_forever, name="lambda-sqs-poller", daemon=True)
        self._poller.start()

    def take_batch(self, account_id: str, region: str, function_arn: str, queue_arn: str,
                   messages: list[Any]) -> None:
        """Deliver the messages moto received during a send, in the
        background."""
        if messages and not self._stopping.is_set():
            self._executor.submit(self._deliver, account_id, region, function_arn, queue_arn, list(messages))

    def _deliver(self, account_id: str, region: str, function_arn: str, queue_arn: str,
                 batch: list[Any]) -> None:
        from moto.backends import get_backend

        sqs = get_backend("sqs")[account_id][region]
        queue_name = queue_arn.rsplit(":", 1)[-1]
        message_ids = [message.id for message in batch]
        try:
            queue = sqs.get_queue(queue_name)
            mapping = queue.lambda_event_source_mappings.get(function_arn)
            reports = REPORT_BATCH_ITEM_FAILURES in (getattr(mapping, "function_response_types", None) or [])
            function = get_backend("lambda")[account_id][region].get_function(function_arn)
            event = {"Records": [sqs_record(message, queue_arn, region) for message in batch]}
            outcome = self._runtime.invoke(function, event)
            failed = failed_message_ids(outcome, message_ids, reports)
            retry_after = math.ceil(clock.scaled(float(queue.visibility_timeout or 30)))
        except TooManyRequests as error:
            log.warning("delivery from %s to %s throttled: %s", queue_name, function_arn, error.reason)
            failed, retry_after = set(message_ids), 1
        except Exception:  # noqa: BLE001 - a broken delivery must not stop the source
            log.exception("delivery from %s to %s failed inside the local cloud", queue_name, function_arn)
            failed, retry_after = set(message_ids), 1
        if failed:
            log.info("%d of %d messages from %s return to the queue for a retry in %d s",
                     len(failed), len(batch), queue_name, retry_after)
        for message in batch:
            try:
                if message.id in failed:
                    sqs.change_message_visibility(queue_name, message.receipt_handle, retry_after)
                else:
                    sqs.delete_message(queue_name, message.receipt_handle)
            except Exception as error:  # noqa: BLE001 - deleted or purged meanwhile
                log.debug("message %s of %s: %s", message.id, queue_name, error)

    def _poll_forever(self) -> None:
        while not self._stopping.wait(self._poll_interval):
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the poller must survive moto's surprises
                log.exception("polling the SQS event sources failed")

    def poll_once(self) -> None:
        """Receive a batch for every enabled SQS mapping with visible
        messages and no batch in flight."""
        from moto.backends import get_backend

        lambda_backends = get_backend("lambda")
        for account_id in list(lambda_backends.keys()):
            account = dict.get(lambda_backends, account_id)
            for region, backend in list(dict.items(account)) if account else []:
                for mapping in list(backend._event_source_mappings.values()):
                    self._poll_mapping(account_id, region, mapping)

    def _poll_mapping(self, account_id: str, region: str, mapping: Any) -> None:
        from moto.backends import get_backend

        if not mapping.enabled or mapping._get_service_source_from_arn() not in _SQS_SOURCES:
            return
        key = (account_id, region, mapping.uuid)
        with self._lock:
            if key in self._in_flight:
                return
        sqs = get_backend("sqs")[account_id][region]
        queue_name = mapping.event_source_arn.rsplit(":", 1)[-1]
        queue = sqs.queues.get(queue_name)
        if queue is None or not queue.messages:
            return
        batch = sqs.receive_message(queue_name, mapping.batch_size, 0, int(queue.visibility_timeout or 30))
        if not batch:
            return
        with self._lock:
            self._in_flight.add(key)
        future = self._executor.submit(self._deliver, account_id, region, mapping.function_arn,
                                       mapping.event_source_arn, batch)
        future.add_done_callback(lambda _: self._done(key))

    def _done(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._in_flight.discard(key)

    def stop(self) -> None:
        self._stopping.set()
        self._poller.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)


def sns_event(message: str, subject: str | None, topic_arn: str, subscription_arn: str,
              message_id: str | None = None,
              message_attributes: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """The event Lambda receives from an SNS subscription: ``message_id`` is
    the one Publish returned, ``message_attributes`` are in SNS's
    ``{name: {"Type", "Value"}}`` shape."""
    timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": timestamp,
            "Signature": "",
            "SigningCertUrl": "",
            "MessageId": message_id or str(uuid.uuid4()),
            "Message": message,
            "MessageAttributes": dict(message_attributes or {}),
            "Type": "Notification",
            "UnsubscribeUrl": "",
            "TopicArn": topic_arn,
            "Subject": subject,
        },
    }]}


def subscription_of(account_id: str, region: str, function_arn: str) -> tuple[str, str]:
    """(topic ARN, subscription ARN) of the SNS subscription that targets
    ``function_arn``; moto does not pass them along."""
    from moto.backends import get_backend

    backend = get_backend("sns")[account_id][region]
    for subscription_arn, subscription in list(backend.subscriptions.items()):
        if subscription.protocol == "lambda" and subscription.endpoint.startswith(function_arn):
            return subscription.topic.arn, subscription_arn
    return "", ""
