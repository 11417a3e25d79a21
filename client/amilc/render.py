"""Readable text for the API's answers (``--output text``).

``--output json`` prints the API's answer unchanged; these summaries are for
people. They read records through the domain's history helpers, so
"status of an event" means the same here as on the server.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from orchestrator.domain import history
from orchestrator.domain.sequences import requestable_events, sequence_for
from orchestrator.domain.vocabulary import EventName, LifecycleType, Status

Record = Mapping[str, Any]
_NAME_WIDTH = max(len(str(name)) for name in EventName)


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _channels(channels: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{c.get('method')} {c.get('target')}" for c in channels) or "(none)"


def accepted(answer: Mapping[str, Any], what: str) -> list[str]:
    """A mutating route's ``LifecycleResponse``."""
    return [
        f"lifecycle_id: {answer.get('lifecycle_id')}",
        f"{what} for {answer.get('owner')} at {answer.get('creation_date')}",
        f"notifications: {_channels(answer.get('notification_channels') or [])}",
    ]


def current_state(record: Record) -> str:
    """What a lifecycle is doing: the event in progress, else its latest result."""
    running = history.event_in_progress(record)
    if running:
        status = running.get("status") or Status.IN_PROGRESS
        return f"{running.get('name')} {status}"
    for lifecycle_type in (LifecycleType.AMI_PATCH, LifecycleType.AMI_CREATION):
        results = history.events_of(record, lifecycle_type)
        if results:
            last = results[-1]
            return f"{last.get('name')} {last.get('status')}"
    return "no event yet"


def _event_line(record: Record, event: EventName, requestable: tuple[EventName, ...],
                enabled: frozenset[EventName]) -> str:
    running = history.event_in_progress(record)
    if running and running.get("name") == event:
        status = running.get("status") or Status.IN_PROGRESS
        detail = f"since {running.get('execution_startdate', '?')}"
        if running.get("error_message"):
            detail += f": {running['error_message']}"
        return f"  {event:<{_NAME_WIDTH}}  {status:<19}  {detail}"
    entry = history.event_entry(record, event)
    if entry is not None:
        return f"  {event:<{_NAME_WIDTH}}  {entry.get('status', '?'):<19}  {entry.get('status_date', '')}".rstrip()
    label = "not requested" if event in requestable and event not in enabled else str(Status.NOT_STARTED)
    return f"  {event:<{_NAME_WIDTH}}  {label}"


def _phase(record: Record, lifecycle_type: LifecycleType, title: str) -> list[str]:
    requestable = requestable_events(lifecycle_type)
    enabled = history.enabled_events(record, lifecycle_type)
    return [title] + [_event_line(record, event, requestable, enabled) for event in sequence_for(lifecycle_type)]


def _amis(record: Record) -> list[str]:
    lines = []
    for lifecycle_type, label in ((LifecycleType.AMI_CREATION, "built AMI"), (LifecycleType.AMI_PATCH, "patched AMI")):
        for ami in history.ami_details(history.phase_ami_entry(record, lifecycle_type)):
            version = f" version {ami['ami_semver']}" if ami.get("ami_semver") else ""
            lines.append(f"{label}: {ami.get('image')} ({ami.get('region')}){version}")
    return lines


def status(record: Record) -> list[str]:
    """One lifecycle: who, what, which AMI and version, and every event's status."""
    lines = [
        f"lifecycle_id: {record.get('lifecycle_id')}",
        f"stack tag: {record.get('stack_tag')}    owner: {record.get('owner')}",
        f"product: {record.get('product_name')} {record.get('product_ver')}    commit: {record.get('commit_ref')}",
        f"created: {record.get('creation_date')}" + (f"    updated: {record['update_date']}"
                                                      if record.get("update_date") else ""),
    ]
    lines += _amis(record)
    lines += _phase(record, LifecycleType.AMI_CREATION, "creation events:")
    if record.get("inputs_ami_patch") or record.get("outputs_ami_patch"):
        lines += _phase(record, LifecycleType.AMI_PATCH, "current patch events:")
    for name, url in sorted((record.get("timeline") or {}).items()):
        lines.append(f"timeline ({name}): {url}")
    return lines


def statuses(page: Mapping[str, Any]) -> list[str]:
    """One page of lifecycles, one line each, newest first."""
    items = list(page.get("items") or [])
    if not items:
        return ["no lifecycles"]
    lines = [f"{'LIFECYCLE ID':<36}  {'CREATED':<20}  {'VERSION':<9}  {'OWNER':<20}  STATE"]
    for record in items:
        version = history.lifecycle_semver(record) or "-"
        lines.append(f"{record.get('lifecycle_id', '?'):<36}  {record.get('creation_date', '?'):<20}  "
                     f"{version:<9}  {str(record.get('owner', '?'))[:20]:<20}  {current_state(record)}")
    return lines
