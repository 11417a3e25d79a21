"""Notification messages as data: what to say, to whom (by lifecycle), never how to render it.

Subscribers filter on the ``lifecycle_id`` message attribute, so every
message carries it. Subjects obey the SNS rules (printable ASCII, one line)
and stay within 98 characters. Bodies hold the *public* view of the record
(no keys, no signed URLs); templates turn them into text later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from .errors import DomainError
from .history import Record, enabled_events
from .records import public_view
from .redaction import redact
from .timestamps import iso_utc
from .vocabulary import LifecycleType, Operator

MAX_SUBJECT_LENGTH = 98
ELLIPSIS = "..."


class NotificationKind(StrEnum):
    """What a message is about; templates and filters may tell them apart."""

    EVENT = "EVENT"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True)
class NotificationMessage:
    """One message to publish on the notification topic."""

    kind: NotificationKind
    operator: Operator
    stack_tag: str
    lifecycle_id: str | None
    subject: str
    sent_at: str
    body: Mapping[str, Any] = field(default_factory=dict)

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """SNS message attributes: ``lifecycle_id`` (for subscription filters), ``kind``, ``stack_tag``."""
        attributes = {
            "kind": {"DataType": "String", "StringValue": str(self.kind)},
            "stack_tag": {"DataType": "String", "StringValue": self.stack_tag},
        }
        if self.lifecycle_id:
            attributes["lifecycle_id"] = {"DataType": "String", "StringValue": self.lifecycle_id}
        return attributes

    def template_context(self) -> dict[str, Any]:
        """Everything a template may show, as plain data."""
        return {"kind": str(self.kind), "operator": str(self.operator), "stack_tag": self.stack_tag,
                "lifecycle_id": self.lifecycle_id, "subject": self.subject, "sent_at": self.sent_at,
                **dict(self.body)}


def subject_line(text: str) -> str:
    """``text`` made a valid SNS subject: printable ASCII on one line, at most 98 characters."""
    cleaned = "".join(ch if " " <= ch <= "~" else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > MAX_SUBJECT_LENGTH:
        cleaned = cleaned[: MAX_SUBJECT_LENGTH - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return cleaned or "AMI lifecycle notification"


def event_notification(operator: Operator, record: Record, now: datetime, *,
                       event: Mapping[str, Any] | None = None) -> NotificationMessage:
    """Progress of a lifecycle: the record after the change, and the event that caused it, if any."""
    body: dict[str, Any] = {"record": public_view(record)}
    if event is not None:
        body["event"] = redact(dict(event))
    return NotificationMessage(
        kind=NotificationKind.EVENT, operator=Operator(operator), stack_tag=str(record.get("stack_tag")),
        lifecycle_id=record.get("lifecycle_id"),
        subject=subject_line(f"{operator} event for {record.get('stack_tag')}"),
        sent_at=iso_utc(now), body=body,
    )


def error_notification(operator: Operator, stack_tag: str, lifecycle_id: str | None, error: BaseException | str,
                       now: datetime) -> NotificationMessage:
    """An operation failed; the body says what failed in words the owner can act on."""
    if isinstance(error, DomainError):
        detail: dict[str, Any] = error.to_dict()
    else:
        detail = {"error": str(error), "code": type(error).__name__ if isinstance(error, BaseException) else "ERROR"}
    return NotificationMessage(
        kind=NotificationKind.ERROR, operator=Operator(operator), stack_tag=stack_tag, lifecycle_id=lifecycle_id,
        subject=subject_line(f"ERROR in {operator} event for {stack_tag}"),
        sent_at=iso_utc(now), body={"error": redact(detail)},
    )


def info_notification(operator: Operator, stack_tag: str, lifecycle_id: str | None, message: str,
                      now: datetime, *, details: Mapping[str, Any] | None = None) -> NotificationMessage:
    """Something worth knowing that needs no action."""
    return NotificationMessage(
        kind=NotificationKind.INFO, operator=Operator(operator), stack_tag=stack_tag, lifecycle_id=lifecycle_id,
        subject=subject_line(f"INFO from {operator} for {stack_tag}"),
        sent_at=iso_utc(now), body={"message": message, "details": redact(dict(details or {}))},
    )


def nothing_to_start_notification(record: Record, lifecycle_type: LifecycleType,
                                  now: datetime) -> NotificationMessage:
    """No further event is enabled: tell the owner what was asked for, and how to ask for more."""
    enabled = sorted(str(name) for name in enabled_events(record, lifecycle_type))
    route = "PUT /ami-creation/lifecycles" if LifecycleType(lifecycle_type) is LifecycleType.AMI_CREATION \
        else "PUT /ami-patch/lifecycles"
    message = (f"No further {lifecycle_type} event to start for lifecycle {record.get('lifecycle_id')}: every "
               f"enabled event has completed. Enable more events with {route}.")
    return info_notification(Operator.ORCHESTRATOR_SERVICE, str(record.get("stack_tag")), record.get("lifecycle_id"),
                             message, now, details={"enabled_events": enabled})
