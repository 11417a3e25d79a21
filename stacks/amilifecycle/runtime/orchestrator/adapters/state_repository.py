"""Lifecycle records in the state table, written with optimistic concurrency.

The API and the receivers change the same records at the same time (a
status read flags a timeout while a build result arrives). Every record
therefore carries an integer ``version``; a write is a ``PutItem`` on the
condition that the stored version is still the one that was read, and
bumps it. A writer that loses the race gets :class:`ConcurrentUpdate` and
re-applies its change to a fresh read (:meth:`StateRepository.update` does
that loop), so no update is ever lost and no read-modify-write overwrites
another one.

Lists of a stack tag's lifecycles are paginated Queries on the
``stack_tag_index`` (newest first); lists of every lifecycle are paginated
Queries on the ``creation_date_index``, whose partition key
``record_kind`` this repository writes on every record (the same value on
all of them; it is storage bookkeeping, so reads leave it out, like
``version``'s meaning is the repository's own). The page token is the
Query's ``LastEvaluatedKey``, encoded, and checked when it comes back
against the listing it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ..domain.errors import Conflict, NotFound, ValidationError
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from . import aws

PARTITION_KEY = "lifecycle_id"
STACK_TAG_INDEX = "stack_tag_index"
STACK_TAG_INDEX_SORT_KEY = "creation_date"
# stacks/amilifecycle/storage.py: STATE_TABLE_CREATION_DATE_INDEX and its partition attribute and value.
CREATION_DATE_INDEX = "creation_date_index"
RECORD_KIND_ATTRIBUTE = "record_kind"
RECORD_KIND = "lifecycle"
VERSION_ATTRIBUTE = "version"
DEFAULT_UPDATE_ATTEMPTS = 5

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Record = dict[str, Any]
Mutation = Callable[[Record], "Record | None"]


class ConcurrentUpdate(Conflict):
    """Another writer changed the lifecycle between this writer's read and its write."""


@dataclass(frozen=True)
class Page:
    """One page of a listing; ``next_token`` is ``None`` on the last page."""

    items: list[Record]
    next_token: str | None


def version_of(record: Mapping[str, Any]) -> int:
    """The record's version; records written before versioning count as version 0."""
    value = record.get(VERSION_ATTRIBUTE, 0)
    return int(value) if isinstance(value, (int, Decimal)) and not isinstance(value, bool) else 0


def without_version(record: Mapping[str, Any]) -> Record:
    """The record's content: everything but the concurrency counter."""
    return {key: value for key, value in record.items() if key != VERSION_ATTRIBUTE}


class StateRepository:
    """Reads and writes lifecycle records of one state table."""

    def __init__(self, table_name: str, *, dynamodb: Any | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._table = table_name
        self._client = dynamodb
        self._sleep = sleep

    _dynamodb = aws.LazyClient("dynamodb")

    # ----------------------------------------------------------------- reads

    def find(self, lifecycle_id: str) -> Record | None:
        """The record, or ``None`` when no lifecycle has this id (strongly consistent read)."""
        response = self._dynamodb.get_item(
            TableName=self._table, Key={PARTITION_KEY: {"S": lifecycle_id}}, ConsistentRead=True)
        item = response.get("Item")
        return _loaded(item) if item else None

    def get(self, lifecycle_id: str) -> Record:
        """The record; :class:`NotFound` (404) when no lifecycle has this id."""
        record = self.find(lifecycle_id)
        if record is None:
            raise NotFound(f"lifecycle {lifecycle_id}: not found", field="lifecycle_id")
        return record

    def list_by_stack_tag(self, stack_tag: str, *, limit: int, next_token: str | None = None) -> Page:
        """One page of the lifecycles of ``stack_tag``, newest first."""
        return self._page(STACK_TAG_INDEX, "stack_tag", stack_tag, limit=limit, next_token=next_token)

    def list_all(self, *, limit: int, next_token: str | None = None) -> Page:
        """One page of every lifecycle of the table, newest first."""
        return self._page(CREATION_DATE_INDEX, RECORD_KIND_ATTRIBUTE, RECORD_KIND, limit=limit,
                          next_token=next_token)

    def _page(self, index: str, partition: str, value: str, *, limit: int, next_token: str | None) -> Page:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#partition = :value",
            "ExpressionAttributeNames": {"#partition": partition},
            "ExpressionAttributeValues": {":value": {"S": value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if next_token:
            stack_tag = value if partition == "stack_tag" else None
            request["ExclusiveStartKey"] = decode_page_token(next_token, stack_tag)
        response = self._dynamodb.query(**request)
        items = [_loaded(item) for item in response.get("Items", [])]
        last_key = response.get("LastEvaluatedKey")
        return Page(items=items, next_token=encode_page_token(last_key) if last_key else None)

    # ---------------------------------------------------------------- writes

    def create(self, record: Mapping[str, Any]) -> Record:
        """Store a new lifecycle at version 1; :class:`Conflict` if the id is taken."""
        stored = dict(without_version(record), **{VERSION_ATTRIBUTE: 1})
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=_stored(stored),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": PARTITION_KEY},
            )
        except ClientError as error:
            if _conditional_check_failed(error):
                raise Conflict(f"lifecycle {record.get(PARTITION_KEY)} already exists",
                               field="lifecycle_id") from None
            raise
        return stored

    def save(self, record: Mapping[str, Any], *, expected_version: int) -> Record:
        """Replace the record if it is still at ``expected_version``; it is stored at the next version.

        Raises :class:`ConcurrentUpdate` when the stored record moved on (or vanished).
        """
        stored = dict(without_version(record), **{VERSION_ATTRIBUTE: expected_version + 1})
        names = {"#id": PARTITION_KEY, "#version": VERSION_ATTRIBUTE}
        if expected_version == 0:
            condition, values = "attribute_exists(#id) AND attribute_not_exists(#version)", None
        else:
            condition, values = "attribute_exists(#id) AND #version = :expected", {
                ":expected": {"N": str(expected_version)}}
        request: dict[str, Any] = {"TableName": self._table, "Item": _stored(stored),
                                   "ConditionExpression": condition, "ExpressionAttributeNames": names}
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._dynamodb.put_item(**request)
        except ClientError as error:
            if _conditional_check_failed(error):
                raise ConcurrentUpdate(
                    f"lifecycle {record.get(PARTITION_KEY)} was changed by another request at the same time; "
                    "try again") from None
            raise
        return stored

    def update(self, lifecycle_id: str, mutate: Mutation, *, current: Record | None = None,
               attempts: int = DEFAULT_UPDATE_ATTEMPTS) -> Record:
        """Apply ``mutate`` to the lifecycle and store the result, re-applying it after a lost race.

        ``mutate`` receives a private copy of the current record and returns
        the new record (or ``None``, or an unchanged record, to write
        nothing); it must be safe to call more than once. ``current`` spares
        the first read when the caller has just read the record. Returns the
        stored record; after ``attempts`` lost races :class:`ConcurrentUpdate`
        propagates.
        """
        record = current if current is not None else self.get(lifecycle_id)
        for attempt in range(1, attempts + 1):
            changed = mutate(copy.deepcopy(record))
            if changed is None or without_version(changed) == without_version(record):
                return record
            try:
                return self.save(changed, expected_version=version_of(record))
            except ConcurrentUpdate:
                if attempt == attempts:
                    raise
                self._sleep(random.uniform(0, min(0.05 * 2 ** attempt, 1.0)))
                record = self.get(lifecycle_id)
        raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------- page tokens

def encode_page_token(last_evaluated_key: Mapping[str, Any]) -> str:
    """An opaque, URL-safe token for the next page."""
    plain = from_attribute_map(dict(last_evaluated_key))
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_page_token(token: str, stack_tag: str | None) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` a token stands for; :class:`ValidationError` for anything else.

    Only tokens of the same listing are accepted: the three index keys,
    strings, a lifecycle id, and the stack tag being listed (``None``: the
    listing of every lifecycle).
    """
    listing = f"the lifecycles of stack tag {stack_tag}" if stack_tag else "the list of every lifecycle"
    invalid = ValidationError(
        f"next_token: not a page token of {listing}; pass the next_token of the previous page unchanged "
        "(with the same stack_tag), or leave it out to start from the newest lifecycle", field="next_token")
    partition, value = ("stack_tag", stack_tag) if stack_tag else (RECORD_KIND_ATTRIBUTE, RECORD_KIND)
    try:
        padded = token + "=" * (-len(token) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid from None
    if not isinstance(plain, dict) or set(plain) != {PARTITION_KEY, partition, STACK_TAG_INDEX_SORT_KEY} or \
            not all(isinstance(item, str) and item for item in plain.values()):
        raise invalid
    if plain[partition] != value:
        raise invalid
    try:
        parse_lifecycle_id(plain[PARTITION_KEY])
    except ValidationError:
        raise invalid from None
    return {key: {"S": value} for key, value in plain.items()}


# ------------------------------------------------------------- item mapping

def _stored(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the table holds it: with the partition attribute of the every-lifecycle index."""
    return to_attribute_map({**record, RECORD_KIND_ATTRIBUTE: RECORD_KIND})


def _loaded(item: Mapping[str, Any]) -> Record:
    """A stored item as the record the domain knows (without the index bookkeeping)."""
    record = from_attribute_map(item)
    record.pop(RECORD_KIND_ATTRIBUTE, None)
    return record


def to_attribute_map(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as DynamoDB attribute values (floats become exact decimals)."""
    return {key: _serializer.serialize(_to_dynamodb(value)) for key, value in record.items()}


def from_attribute_map(item: Mapping[str, Any]) -> Record:
    """A DynamoDB item as plain Python (whole numbers as ``int``, others as ``float``)."""
    return {key: _from_dynamodb(_deserializer.deserialize(value)) for key, value in item.items()}


def _to_dynamodb(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(key): _to_dynamodb(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamodb(item) for item in value]
    return value


def _from_dynamodb(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamodb(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamodb(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_from_dynamodb(item) for item in value)
    if isinstance(value, Binary):
        return bytes(value.value)
    return value


def _conditional_check_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
