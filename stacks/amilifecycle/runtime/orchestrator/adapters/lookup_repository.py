"""The AMI lookup table: one entry per AMI with the standing it has earned.

The domain decides what an entry becomes after a result
(``domain.lookup.updated_lookup_entry``: only success raises standing,
nothing lowers it). This adapter makes that decision safe against
concurrent writers: every entry carries an integer ``revision``; a write is
conditional on the revision it read (or on the entry not existing yet),
and a writer that lost the race re-reads and re-applies the domain rule.
No update is ever lost and standing never goes down because of a stale
read. Writing the same result twice changes nothing.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any, Callable, Mapping

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ..domain.history import Record
from ..domain.lookup import lookup_id as make_lookup_id
from ..domain.lookup import revoked_lookup_entry, updated_lookup_entry
from ..domain.results import EventResult
from ..domain.versioning import version_from_sort_key
from . import aws

PARTITION_KEY = "lookup_id"
SEMVER_INDEX = "stack_tag_semver_index"
REVISION = "revision"
# Attributes that change on every write, so they do not count as a change.
_BOOKKEEPING = frozenset({"last_modified", REVISION})
DEFAULT_MAX_ATTEMPTS = 10

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class LookupContention(RuntimeError):
    """Too many concurrent writers on one entry: the write did not land in the allowed attempts."""


def _to_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in entry.items() if value is not None}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    plain = {key: _deserializer.deserialize(value) for key, value in item.items()}
    # DynamoDB numbers come back as Decimal; the lookup's numbers are whole.
    for key in ("lifecycle_score", REVISION):
        if key in plain:
            plain[key] = int(plain[key])
    return plain


def _meaningful(entry: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (entry or {}).items() if key not in _BOOKKEEPING}


class LookupRepository:
    """Reads and upserts AMI lookup entries."""

    def __init__(self, table_name: str, client: Any | None = None, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not table_name:
            raise ValueError("LookupRepository needs the lookup table name (LOOKUP_TABLE_NAME)")
        self.table_name = table_name
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._client = client

    client = aws.LazyClient("dynamodb")

    def get(self, lookup_id: str) -> dict[str, Any] | None:
        """One entry, read consistently, or ``None``."""
        response = self.client.get_item(TableName=self.table_name, Key={PARTITION_KEY: {"S": lookup_id}},
                                        ConsistentRead=True)
        item = response.get("Item")
        return _from_item(item) if item else None

    def record(self, *, record: Record, ami: Mapping[str, Any], result: EventResult,
               now: datetime) -> dict[str, Any] | None:
        """Apply ``result`` to the entry of ``ami``; returns the entry as stored (``None``: nothing to store).

        ``ami`` is an ``ami_details`` entry (``region``, ``image``, ...) of
        the record the result was merged into.
        """
        key = make_lookup_id(str(ami.get("region")), str(ami.get("image")))
        for attempt in range(self.max_attempts):
            existing = self.get(key)
            entry = updated_lookup_entry(existing, record=record, ami=ami, result=result, now=now)
            if entry is None:
                return None
            if existing is not None and _meaningful(entry) == _meaningful(existing):
                return existing
            revision = int(existing.get(REVISION, 0)) if existing else 0
            entry[REVISION] = revision + 1
            if self._put(entry, expected_revision=revision if existing else None):
                return entry
            self._sleep(random.uniform(0, min(0.05 * 2 ** attempt, 1.0)))
        raise LookupContention(
            f"lookup entry {key} changed under every one of {self.max_attempts} attempts to record "
            f"{result.name}; the message will be retried")

    def flag_revoked(self, *, region: str, ami_id: str, reason: str, now: datetime) -> dict[str, Any] | None:
        """Flag the entry of a revoked AMI (``domain.lookup.revoked_lookup_entry``); ``None``: no entry, or
        flagged already."""
        key = make_lookup_id(region, ami_id)
        for attempt in range(self.max_attempts):
            existing = self.get(key)
            entry = revoked_lookup_entry(existing, reason=reason, now=now)
            if entry is None:
                return None
            revision = int(existing.get(REVISION, 0)) if existing else 0
            entry[REVISION] = revision + 1
            if self._put(entry, expected_revision=revision):
                return entry
            self._sleep(random.uniform(0, min(0.05 * 2 ** attempt, 1.0)))
        raise LookupContention(f"lookup entry {key} changed under every one of {self.max_attempts} attempts to "
                               f"flag it revoked")

    def _put(self, entry: Mapping[str, Any], *, expected_revision: int | None) -> bool:
        if expected_revision is None:
            condition = "attribute_not_exists(#key)"
            names = {"#key": PARTITION_KEY}
            values: dict[str, Any] | None = None
        elif expected_revision == 0:
            # An entry written before revisions existed: it must still have none.
            condition = "attribute_not_exists(#revision)"
            names = {"#revision": REVISION}
            values = None
        else:
            condition = "#revision = :expected"
            names = {"#revision": REVISION}
            values = {":expected": {"N": str(expected_revision)}}
        request: dict[str, Any] = {"TableName": self.table_name, "Item": _to_item(entry),
                                   "ConditionExpression": condition, "ExpressionAttributeNames": names}
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def highest_semver(self, stack_tag: str) -> str | None:
        """The highest semantic version among the stack tag's AMIs (one descending index query)."""
        response = self.client.query(
            TableName=self.table_name,
            IndexName=SEMVER_INDEX,
            KeyConditionExpression="stack_tag = :tag",
            ExpressionAttributeValues={":tag": {"S": stack_tag}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items") or []
        if not items:
            return None
        entry = _from_item(items[0])
        return str(entry.get("ami_semver") or version_from_sort_key(entry["semver_sort_key"]))
