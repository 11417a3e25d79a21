"""DynamoDB operations are atomic, as on AWS.

moto's DynamoDB reads an item, evaluates the condition and writes in plain
Python with no lock, and the local cloud serves requests on many threads.
Two conditional writes racing on one item can then both pass their
condition (two "create if absent" both win, two "increment if still 4"
both land), an UpdateItem mutates an item in place while a GetItem reads
it, and a failed TransactWriteItems restores whole tables from a copy,
undoing whatever other requests wrote meanwhile.

:func:`install` runs every DynamoDB API operation (PutItem, UpdateItem,
DeleteItem, BatchWriteItem, TransactWriteItems, the PartiQL statements,
the reads, the table operations) under one process-wide lock, from parsing
the request through condition evaluation and write to the serialized
answer. One lock rather than one per table: a transaction spans tables,
moto replaces a table object when it rolls one back, and an operation
holds the lock for about a millisecond, which is as fast as the threads
could go under Python's GIL anyway.

A DynamoDB stream mapped to a Lambda function is delivered by moto inside
the write; the local cloud runs that function for real, and the function
may well call DynamoDB. So stream deliveries made under the lock are held
back and run right after it is released, before the write's answer is sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.RLock()
_local = threading.local()
_originals: list[tuple[type, str, Callable[..., Any]]] = []
# Stands for the function's answer to moto while the delivery waits: moto
# clears the shard's pending records on a truthy answer, as it does after a
# real invocation.
DEFERRED = b"deferred until the write is done"


def _held() -> int:
    return getattr(_local, "depth", 0)


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the DynamoDB lock (re-entrant). Stream deliveries queued while
    it is held run when the outermost holder releases it."""
    deferred: list[Callable[[], Any]] = []
    try:
        with _lock:
            _local.depth = _held() + 1
            try:
                yield
            finally:
                _local.depth -= 1
                if _local.depth == 0:
                    deferred, _local.deferred = getattr(_local, "deferred", []), []
    finally:
        for delivery in deferred:
            try:
                delivery()
            except Exception:  # noqa: BLE001 - a stream consumer never fails the write
                log.exception("DynamoDB stream delivery failed")


READS = ("GetItem", "Query", "BatchGetItem", "TransactGetItems", "Scan")


def _delay_read(handler: Any) -> None:
    """A ``dynamodb delay`` fault holds a read's answer back, after the lock (see local/faults.py)."""
    from local import faults

    target = str((getattr(handler, "headers", None) or {}).get("X-Amz-Target", ""))
    operation = target.rsplit(".", 1)[-1]
    if operation in READS and faults.active("dynamodb", operation) is not None:
        faults.check("dynamodb", operation)


def install() -> None:
    """Serialize moto's DynamoDB API (idempotent)."""
    if _originals:
        return
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.__dict__["call_action"]
    send_dynamodb_items = LambdaBackend.__dict__["send_dynamodb_items"]

    def atomic_call_action(self: Any) -> Any:
        with exclusive():
            answer = call_action(self)
        _delay_read(self)
        return answer

    def send_after_the_write(backend: Any, function_arn: str, items: list[Any], source: str) -> Any:
        if not _held():
            return send_dynamodb_items(backend, function_arn, items, source)
        records = list(items)
        pending = getattr(_local, "deferred", None)
        if pending is None:
            pending = _local.deferred = []
        pending.append(lambda: send_dynamodb_items(backend, function_arn, records, source))
        return DEFERRED

    for owner, name, original, replacement in (
        (DynamoHandler, "call_action", call_action, atomic_call_action),
        (LambdaBackend, "send_dynamodb_items", send_dynamodb_items, send_after_the_write),
    ):
        _originals.append((owner, name, original))
        setattr(owner, name, replacement)


def uninstall() -> None:
    """Give moto its methods back (tests)."""
    while _originals:
        owner, name, original = _originals.pop()
        setattr(owner, name, original)
