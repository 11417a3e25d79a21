"""Waits tables: which Step Functions task token waits for which outside event.

An event whose completion AWS announces (an image build's notification, an
Inspector scan's EventBridge event) waits on a task token instead of
polling. One item per awaited thing (its key: an image build ARN, an
instance id). Two writers meet on it, in either order:

* the state machine's wait step registers its task token;
* the listener of the announcement records the outcome.

Each writer sets only its own attributes with one atomic ``UpdateItem`` and
reads the whole item back (``ReturnValues=ALL_NEW``). Whoever writes second
therefore sees both the token and the outcome and answers the token; the
first sees only its own half and does nothing more. An announcement that
arrives before the token is registered is thus never lost, and a token
registered again after a timeout is answered at once if the outcome is
already known. Items expire through the table's TTL (``expires_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from boto3.dynamodb.types import TypeDeserializer

from ..domain.timestamps import iso_utc
from . import aws

TTL_ATTRIBUTE = "expires_at"
# Longer than any event may run (state machine timeouts are at most a day).
RETENTION = timedelta(days=7)

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class TaskWait:
    """The item as it stands after a write: the waiting token and the known outcome, if any."""

    key: str
    task_token: str | None
    outcome: Mapping[str, str] | None
    lifecycle_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Both halves are there: the token can be answered."""
        return self.task_token is not None and self.outcome is not None


class TaskWaits:
    """Registers waiting tokens and outcomes in one waits table (partition key ``key_attribute``)."""

    def __init__(self, table_name: str, key_attribute: str, client: Any | None = None) -> None:
        if not table_name:
            raise ValueError(f"the waits table keyed by {key_attribute} needs its name")
        self.table_name = table_name
        self.key_attribute = key_attribute
        self._client = client

    client = aws.LazyClient("dynamodb")

    def _wait(self, item: Mapping[str, Any]) -> TaskWait:
        data = {name: _deserializer.deserialize(value) for name, value in item.items()}
        outcome = data.get("outcome")
        return TaskWait(key=str(data[self.key_attribute]), task_token=data.get("task_token") or None,
                        outcome={k: str(v) for k, v in outcome.items()} if outcome else None,
                        lifecycle_id=data.get("lifecycle_id") or None, attributes=data)

    def register_token(self, key: str, task_token: str, *, lifecycle_id: str, now: datetime) -> TaskWait:
        """Remember that ``task_token`` waits for ``key``; a newer token replaces an older one."""
        response = self.client.update_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": key}},
            UpdateExpression="SET task_token = :token, lifecycle_id = :lifecycle, token_registered_at = :now, "
                             "#ttl = :ttl",
            ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={
                ":token": {"S": task_token},
                ":lifecycle": {"S": lifecycle_id},
                ":now": {"S": iso_utc(now)},
                ":ttl": {"N": str(int((now + RETENTION).timestamp()))},
            },
            ReturnValues="ALL_NEW",
        )
        return self._wait(response["Attributes"])

    def record_outcome(self, key: str, outcome: Mapping[str, str], *, now: datetime) -> TaskWait:
        """Remember how ``key`` ended; the first outcome recorded stays (a late duplicate changes nothing)."""
        response = self.client.update_item(
            TableName=self.table_name,
            Key={self.key_attribute: {"S": key}},
            UpdateExpression="SET outcome = if_not_exists(outcome, :outcome), "
                             "outcome_recorded_at = if_not_exists(outcome_recorded_at, :now), "
                             "#ttl = if_not_exists(#ttl, :ttl)",
            ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={
                ":outcome": {"M": {name: {"S": str(value)} for name, value in outcome.items()}},
                ":now": {"S": iso_utc(now)},
                ":ttl": {"N": str(int((now + RETENTION).timestamp()))},
            },
            ReturnValues="ALL_NEW",
        )
        return self._wait(response["Attributes"])

    def get(self, key: str) -> TaskWait | None:
        """The item of ``key``, read consistently, or ``None``."""
        response = self.client.get_item(TableName=self.table_name, Key={self.key_attribute: {"S": key}},
                                        ConsistentRead=True)
        item = response.get("Item")
        return self._wait(item) if item else None
