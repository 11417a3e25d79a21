"""Starting an event: the attempt number and the state machine's input.

Every event's state machine gets the same kind of input, derived from the
lifecycle record alone, so any use case (create, update, next event, patch)
starts any event the same way:

``{lifecycle_id, stack_tag, event, operation_type, attempt, product_ver,
product_name, commit_ref, properties}`` (``properties``: the lifecycle's own,
e.g. a ``vulnerability_gate``), plus ``ami`` (the AMI the event works on:
``{id, name, region, owner, semver}``) for every event after the phase's
build or patch, plus what the event's own starter adds (BUILD_AMI: the
Image Builder pipeline).

Attempts are counted per event in the record (``event_attempts``): a retried
event gets the next number, so its execution name (lifecycle, event,
attempt) is new, while a repeated request for the same attempt reuses the
name and Step Functions refuses to run it twice.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from .errors import Conflict
from .history import Record, primary_ami
from .revocation import patch_base
from .sequences import first_event
from .vocabulary import EventName, LifecycleType, lifecycle_type_of

ATTEMPTS_FIELD = "event_attempts"


def attempts(record: Record, event: EventName) -> int:
    """How many times ``event`` was started for this lifecycle (its current patch, for a patch event)."""
    counts = record.get(ATTEMPTS_FIELD) or {}
    value = counts.get(str(EventName(event)), 0)
    return int(value) if isinstance(value, (int, float)) or str(value).isdigit() else 0


def next_attempt(record: Record, event: EventName) -> int:
    return attempts(record, event) + 1


def with_attempt(record: Record, event: EventName, attempt: int) -> dict[str, Any]:
    """``record`` counting ``attempt`` as the latest start of ``event``."""
    updated = copy.deepcopy(dict(record))
    counts = dict(updated.get(ATTEMPTS_FIELD) or {})
    counts[str(EventName(event))] = attempt
    updated[ATTEMPTS_FIELD] = counts
    return updated


def event_ami(record: Record, event: EventName) -> dict[str, Any]:
    """The AMI ``event`` works on: the first AMI of its phase's build (or current patch)."""
    lifecycle_type = lifecycle_type_of(event)
    ami = primary_ami(record, lifecycle_type)
    if not ami or not ami.get("image"):
        raise Conflict(f"{event} cannot start: the lifecycle has no {first_event(lifecycle_type)} AMI yet")
    return _summary(ami)


def patch_parent_ami(record: Record) -> dict[str, Any]:
    """The AMI a new patch starts from: the newest AMI approved for production and not revoked."""
    ami = patch_base(record)
    if not ami or not ami.get("image"):
        raise Conflict(f"{EventName.PATCH_AMI} cannot start: the lifecycle has no AMI approved for production "
                       f"that is not revoked")
    return _summary(ami)


def _summary(ami: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(ami["image"]),
        "name": str(ami.get("name") or ""),
        "region": str(ami.get("region") or ""),
        "owner": str(ami.get("accountId") or ami.get("owner") or ""),
        "semver": str(ami.get("ami_semver") or ""),
    }


def execution_input(record: Record, event: EventName, *, attempt: int,
                    extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The input of ``event``'s state machine for this lifecycle (see the module docstring)."""
    event = EventName(event)
    lifecycle_type = lifecycle_type_of(event)
    value: dict[str, Any] = {
        "lifecycle_id": str(record["lifecycle_id"]),
        "stack_tag": str(record["stack_tag"]),
        "event": str(event),
        "operation_type": str(lifecycle_type),
        "attempt": attempt,
        "product_ver": str(record.get("product_ver") or ""),
        "product_name": str(record.get("product_name") or ""),
        "commit_ref": str(record.get("commit_ref") or ""),
        "properties": dict(record.get("properties") or {}),
    }
    if event is not first_event(lifecycle_type):
        value["ami"] = event_ami(record, event)
    value.update(dict(extra or {}))
    return value
