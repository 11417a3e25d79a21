"""Reading a lifecycle record: which events ran, how they ended, what runs now.

A lifecycle record is a plain dict (the shape stored in the state table,
see docs/domain.md). These helpers never modify it. Creation results live in
``outputs_ami_creation.events``; patch results in
``outputs_ami_patch.patch_history.current.events`` for the patch being worked
on, earlier patches in ``...historical``.
"""

from __future__ import annotations

from typing import Any, Mapping

from .sequences import first_event
from .vocabulary import EventName, LifecycleType, Status, lifecycle_type_of

Record = Mapping[str, Any]


def creation_events(record: Record) -> list[dict[str, Any]]:
    """Results of the creation phase, oldest first."""
    return list((record.get("outputs_ami_creation") or {}).get("events") or [])


def current_patch(record: Record) -> dict[str, Any] | None:
    """The patch cycle being worked on (the latest PATCH_AMI and its follow-ups), if any."""
    history = (record.get("outputs_ami_patch") or {}).get("patch_history") or {}
    return history.get("current")


def historical_patches(record: Record) -> list[dict[str, Any]]:
    """Finished-with patch cycles, oldest first."""
    history = (record.get("outputs_ami_patch") or {}).get("patch_history") or {}
    return list(history.get("historical") or [])


def patch_events(record: Record) -> list[dict[str, Any]]:
    """Results of the current patch cycle, oldest first."""
    return list((current_patch(record) or {}).get("events") or [])


def events_of(record: Record, lifecycle_type: LifecycleType) -> list[dict[str, Any]]:
    """The results a rule looks at for ``lifecycle_type``."""
    if LifecycleType(lifecycle_type) is LifecycleType.AMI_CREATION:
        return creation_events(record)
    return patch_events(record)


def event_entry(record: Record, event: EventName) -> dict[str, Any] | None:
    """The result that decides ``event``'s status: a COMPLETED one if any, else the latest."""
    entries = [entry for entry in events_of(record, lifecycle_type_of(event)) if entry.get("name") == event]
    for entry in entries:
        if entry.get("status") == Status.COMPLETED:
            return entry
    return entries[-1] if entries else None


def event_status(record: Record, event: EventName) -> Status:
    """``event``'s recorded status, or NOT_STARTED when it never produced a result."""
    entry = event_entry(record, event)
    if entry is None:
        return Status.NOT_STARTED
    return Status(entry["status"])


def event_in_progress(record: Record) -> dict[str, Any] | None:
    """The event the orchestrator last started and has no result for yet."""
    return record.get("event_in_progress") or None


def is_running(record: Record) -> bool:
    """True while an event is in progress and no error was reported for it.

    An event whose state machine reported ERROR or timed out stays visible
    in ``event_in_progress`` but no longer blocks the lifecycle: the owner
    may start it (or another) again.
    """
    current = event_in_progress(record)
    return current is not None and current.get("status", Status.IN_PROGRESS) == Status.IN_PROGRESS


def enabled_events(record: Record, lifecycle_type: LifecycleType) -> frozenset[EventName]:
    """Events the owner enabled in the latest create/patch request of ``lifecycle_type``."""
    key = "inputs_ami_creation" if LifecycleType(lifecycle_type) is LifecycleType.AMI_CREATION else "inputs_ami_patch"
    toggles = (record.get(key) or {}).get("events") or []
    return frozenset(EventName(t["name"]) for t in toggles if t.get("enabled") is True)


def ami_details(entry: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The AMIs a BUILD_AMI or PATCH_AMI result produced."""
    if not entry:
        return []
    return list((entry.get("properties") or {}).get("ami_details") or [])


def phase_ami_entry(record: Record, lifecycle_type: LifecycleType) -> dict[str, Any] | None:
    """The COMPLETED BUILD_AMI (creation) or current PATCH_AMI (patch) result, if any."""
    entry = event_entry(record, first_event(lifecycle_type))
    if entry is None or entry.get("status") != Status.COMPLETED:
        return None
    return entry


def primary_ami(record: Record, lifecycle_type: LifecycleType) -> dict[str, Any] | None:
    """The first AMI of the phase's build/patch result: the one later events test and tag."""
    amis = ami_details(phase_ami_entry(record, lifecycle_type))
    return amis[0] if amis else None


def lifecycle_semver(record: Record) -> str | None:
    """The semantic version of the lifecycle's newest AMI (patched, else built)."""
    for lifecycle_type in (LifecycleType.AMI_PATCH, LifecycleType.AMI_CREATION):
        ami = primary_ami(record, lifecycle_type)
        if ami and ami.get("ami_semver"):
            return str(ami["ami_semver"])
    return None
