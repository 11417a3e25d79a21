"""Event results and error reports: the messages the receivers record.

A state machine ends each event by sending a *result* (the event COMPLETED,
or FAILED for a refused certification or approval) to the receiver queue
of its phase, or an *error report* to the error queue. Both are parsed here
into immutable values. Anything that is not part of the result, notably the
``api_key`` and ``task_token`` earlier versions put inside the message, is
dropped on parsing and so never reaches the database.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from .errors import ValidationError, describe_value
from .fields import lifecycle_id as parse_lifecycle_id
from .timestamps import iso_utc, normalize_timestamp
from .vocabulary import (ApprovalStatus, CertificationStatus, EventName, LifecycleType, Status,
                         lifecycle_type_of, parse_error_status, parse_event_name, parse_result_status)

# Top-level fields a result may carry besides name/status/status_date/properties.
RESULT_ATTRIBUTES = ("product_ver", "product_name", "commit_ref", "semver_bump_type",
                     "certification_status", "approval_status", "operation_type")
MAX_ERROR_MESSAGE = 4096
MAX_STACK_TRACE = 16384


@dataclass(frozen=True)
class EventResult:
    """The outcome of one event, as stored in the lifecycle record."""

    lifecycle_id: str
    name: EventName
    status: Status
    status_date: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def lifecycle_type(self) -> LifecycleType:
        return lifecycle_type_of(self.name)

    def to_item(self) -> dict[str, Any]:
        """The entry written into the record's event list (a fresh copy)."""
        item: dict[str, Any] = {"name": str(self.name), "status": str(self.status),
                                "status_date": self.status_date,
                                "properties": copy.deepcopy(dict(self.properties))}
        item.update(self.attributes)
        return item

    def with_properties(self, **extra: Any) -> "EventResult":
        """A copy with ``extra`` added to (or replacing entries of) ``properties``."""
        merged: dict[str, Any] = copy.deepcopy(dict(self.properties))
        merged.update(copy.deepcopy(extra))
        return replace(self, properties=merged)

    def with_ami_semver(self, version: str) -> "EventResult":
        """A copy whose every ``ami_details`` entry carries ``ami_semver = version``."""
        amis = [dict(ami, ami_semver=version) for ami in self.properties.get("ami_details") or []]
        return self.with_properties(ami_details=amis)


@dataclass(frozen=True)
class EventError:
    """A state machine's report that the event in progress failed."""

    lifecycle_id: str
    status: Status
    status_date: str
    error_message: str
    stack_trace: str
    name: EventName | None = None
    execution_arn: str | None = None


def _object(payload: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise ValidationError(f"{what}: expected a JSON object, got {describe_value(payload)}")
    return payload


def _required_text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        state = "missing (required)" if value is None else f"got {describe_value(value)}"
        raise ValidationError(f"{name}: expected a non-empty string, {state}", field=name)
    return value


def parse_event_result(payload: Any) -> EventResult:
    """Validate a result message body (``task_details.value`` of a receiver message)."""
    body = _object(payload, "event result")
    properties = body.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        raise ValidationError(f"properties: expected an object, got {describe_value(properties)}",
                              field="properties")
    attributes: dict[str, str] = {}
    for name in RESULT_ATTRIBUTES:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationError(f"{name}: expected a string, got {describe_value(value)}", field=name)
        attributes[name] = value
    return EventResult(
        lifecycle_id=parse_lifecycle_id(body.get("lifecycle_id")),
        name=parse_event_name(body.get("name")),
        status=parse_result_status(body.get("status")),
        status_date=normalize_timestamp(body.get("status_date"), field="status_date"),
        properties=copy.deepcopy(dict(properties)),
        attributes=attributes,
    )


def parse_event_error(payload: Any) -> EventError:
    """Validate an error report; overlong texts are cut, never refused (the report must land)."""
    body = _object(payload, "error report")
    name = body.get("name")
    execution_arn = body.get("execution_arn")
    if execution_arn is not None and (not isinstance(execution_arn, str) or not execution_arn.strip()):
        raise ValidationError(f"execution_arn: expected a non-empty string, got {describe_value(execution_arn)}",
                              field="execution_arn")
    return EventError(
        lifecycle_id=parse_lifecycle_id(body.get("lifecycle_id")),
        status=parse_error_status(body.get("status")),
        status_date=normalize_timestamp(body.get("status_date"), field="status_date"),
        error_message=_required_text(body, "error_message")[:MAX_ERROR_MESSAGE],
        stack_trace=_required_text(body, "stack_trace")[:MAX_STACK_TRACE],
        name=parse_event_name(name) if name is not None else None,
        execution_arn=execution_arn,
    )


def qa_certification_result(lifecycle_id: str, certification: CertificationStatus,
                            properties: Mapping[str, str], now: datetime) -> EventResult:
    """The QA_CERTIFICATION_RESPONSE result for the QA team's verdict."""
    verdict = CertificationStatus(certification)
    return EventResult(
        lifecycle_id=lifecycle_id,
        name=EventName.QA_CERTIFICATION_RESPONSE,
        status=Status.COMPLETED if verdict is CertificationStatus.CERTIFIED else Status.FAILED,
        status_date=iso_utc(now),
        properties={**properties, "certification_status": str(verdict)},
        attributes={"certification_status": str(verdict)},
    )


def approval_refused_result(lifecycle_id: str, lifecycle_type: LifecycleType,
                            properties: Mapping[str, str], now: datetime) -> EventResult:
    """The FAILED mark-for-production result recorded when approval is refused."""
    name = (EventName.MARK_FOR_PRODUCTION_CREATE if LifecycleType(lifecycle_type) is LifecycleType.AMI_CREATION
            else EventName.MARK_FOR_PRODUCTION_PATCH)
    refused = str(ApprovalStatus.NOT_APPROVED)
    return EventResult(
        lifecycle_id=lifecycle_id,
        name=name,
        status=Status.FAILED,
        status_date=iso_utc(now),
        properties={**properties, "approval_status": refused},
        attributes={"approval_status": refused},
    )
