"""The build-waits table: which task token waits for which image build.

One item per image build version ARN. Two writers meet on it, in either
order:

* the build state machine's wait step registers its task token;
* the Image Builder notification handler records the build's outcome.

Each writer sets only its own attributes with one atomic ``UpdateItem`` and
reads the whole item back (``ReturnValues=ALL_NEW``). Whoever writes second
therefore sees both the token and the outcome and answers the token; the
first sees only its own half and does nothing more. A notification that
arrives before the token is registered is thus never lost, and a token
registered again after a timeout is answered at once if the outcome is
already known. Items expire through the table's TTL (``expires_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from boto3.dynamodb.types import TypeDeserializer

from ..domain.builds import BuildOutcome
from ..domain.timestamps import iso_utc
from . import aws

PARTITION_KEY = "image_build_version_arn"
TTL_ATTRIBUTE = "expires_at"
# Longer than any build may run (the state machine timeout is at most a day).
RETENTION = timedelta(days=7)

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class BuildWait:
    """The item as it stands after a write: the waiting token and the known outcome, if any."""

    image_build_version_arn: str
    task_token: str | None
    outcome: BuildOutcome | None
    lifecycle_id: str | None = None

    @property
    def ready(self) -> bool:
        """Both halves are there: the token can be answered."""
        return self.task_token is not None and self.outcome is not None


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _wait_from_item(item: Mapping[str, Any]) -> BuildWait:
    data = _plain(item)
    outcome = data.get("outcome")
    return BuildWait(
        image_build_version_arn=str(data[PARTITION_KEY]),
        task_token=data.get("task_token") or None,
        outcome=BuildOutcome(image_build_version_arn=str(data[PARTITION_KEY]), status=str(outcome["status"]),
                             reason=str(outcome.get("reason") or "")) if outcome else None,
        lifecycle_id=data.get("lifecycle_id") or None,
    )


class BuildWaits:
    """Registers waiting tokens and build outcomes in the build-waits table."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        if not table_name:
            raise ValueError("BuildWaits needs the build-waits table name (BUILD_WAITS_TABLE_NAME)")
        self.table_name = table_name
        self._client = client

    client = aws.LazyClient("dynamodb")

    def register_token(self, image_build_version_arn: str, task_token: str, *, lifecycle_id: str,
                       now: datetime) -> BuildWait:
        """Remember that ``task_token`` waits for the build; a newer token replaces an older one."""
        response = self.client.update_item(
            TableName=self.table_name,
            Key={PARTITION_KEY: {"S": image_build_version_arn}},
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
        return _wait_from_item(response["Attributes"])

    def record_outcome(self, outcome: BuildOutcome, *, now: datetime) -> BuildWait:
        """Remember how the build ended; the first outcome recorded stays (a late duplicate changes nothing)."""
        response = self.client.update_item(
            TableName=self.table_name,
            Key={PARTITION_KEY: {"S": outcome.image_build_version_arn}},
            UpdateExpression="SET outcome = if_not_exists(outcome, :outcome), "
                             "outcome_recorded_at = if_not_exists(outcome_recorded_at, :now), "
                             "#ttl = if_not_exists(#ttl, :ttl)",
            ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={
                ":outcome": {"M": {"status": {"S": outcome.status}, "reason": {"S": outcome.reason}}},
                ":now": {"S": iso_utc(now)},
                ":ttl": {"N": str(int((now + RETENTION).timestamp()))},
            },
            ReturnValues="ALL_NEW",
        )
        return _wait_from_item(response["Attributes"])

    def get(self, image_build_version_arn: str) -> BuildWait | None:
        """The item of one build, read consistently, or ``None``."""
        response = self.client.get_item(TableName=self.table_name,
                                        Key={PARTITION_KEY: {"S": image_build_version_arn}}, ConsistentRead=True)
        item = response.get("Item")
        return _wait_from_item(item) if item else None
