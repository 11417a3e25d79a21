"""Changing a lifecycle record: creation, updates, events in progress, results, errors.

Every function takes a record (a plain dict, the state-table item) and
returns a *new* record; the input is never modified. That keeps the
functions easy to test and lets the repository write the new record
conditionally on the old one (so a concurrent writer gets a conflict
instead of a lost update). Record shape: docs/domain.md.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any, Mapping

from .errors import Conflict, NotFound, ValidationError
from .fields import lifecycle_id as parse_lifecycle_id
from .history import (Record, ami_details, current_patch, event_in_progress, historical_patches, is_running,
                      phase_ami_entry)
from .redaction import redact, redact_json_text
from .requests import (CreateLifecycleRequest, PatchLifecycleRequest, UpdateLifecycleRequest,
                       UpdatePatchRequest)
from .results import EventError, EventResult
from .rules import check_can_start
from .timestamps import iso_utc, older_than
from .vocabulary import EventName, LifecycleType, Status


def new_lifecycle(request: CreateLifecycleRequest, lifecycle_id: str, now: datetime) -> dict[str, Any]:
    """The record of a lifecycle that was just requested (nothing has run yet)."""
    stamp = iso_utc(now)
    return {
        "lifecycle_id": parse_lifecycle_id(lifecycle_id),
        "stack_tag": request.stack_tag,
        "owner": request.owner,
        "product_ver": request.product_ver,
        "product_name": request.product_name,
        "commit_ref": request.commit_ref,
        "creation_date": stamp,
        "last_modified": stamp,
        "notifications": [channel.to_dict() for channel in request.notifications],
        "properties": dict(request.properties),
        "inputs_ami_creation": {"events": [toggle.to_dict() for toggle in request.events]},
        "outputs_ami_creation": {"events": []},
    }


def ensure_stack_tag(record: Record, stack_tag: str) -> None:
    """A lifecycle is only visible under its own stack tag."""
    if record.get("stack_tag") != stack_tag:
        raise NotFound(f"lifecycle {record.get('lifecycle_id')} not found in stack tag {stack_tag}",
                       field="stack_tag")


def merge_properties(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    """Existing properties updated by the request's: a value sent now replaces the stored one."""
    return {**(old or {}), **(new or {})}


def apply_update(record: Record, request: UpdateLifecycleRequest, now: datetime) -> dict[str, Any]:
    """Record a creation update (PUT): new owner, channels, event toggles; properties merged."""
    ensure_stack_tag(record, request.stack_tag)
    updated = copy.deepcopy(dict(record))
    stamp = iso_utc(now)
    updated.update(
        owner=request.owner,
        notifications=[channel.to_dict() for channel in request.notifications],
        properties=merge_properties(record.get("properties"), request.properties),
        update_date=stamp,
        last_modified=stamp,
    )
    updated["inputs_ami_creation"] = {"events": [toggle.to_dict() for toggle in request.events]}
    return updated


def apply_patch_request(record: Record, request: PatchLifecycleRequest | UpdatePatchRequest,
                        now: datetime) -> dict[str, Any]:
    """Record a patch request (POST) or patch update (PUT) in ``inputs_ami_patch``.

    Properties are merged with new values winning, on every request (not
    only the first patch); a PUT without ``commit_ref`` keeps the stored one.
    """
    ensure_stack_tag(record, request.stack_tag)
    updated = copy.deepcopy(dict(record))
    stamp = iso_utc(now)
    previous = dict(record.get("inputs_ami_patch") or {})
    commit_ref = request.commit_ref if request.commit_ref is not None else previous.get("commit_ref")
    updated["inputs_ami_patch"] = {
        "owner": request.owner,
        "update_date": stamp,
        "notifications": [channel.to_dict() for channel in request.notifications],
        "events": [toggle.to_dict() for toggle in request.events],
        "commit_ref": commit_ref,
        "properties": merge_properties(previous.get("properties"), request.properties),
    }
    updated["last_modified"] = stamp
    return updated


def mark_event_in_progress(record: Record, event: EventName, now: datetime, *, description: str,
                           properties: Mapping[str, Any] | None = None, statemachine_arn: str | None = None,
                           statemachine_input: Mapping[str, Any] | None = None,
                           execution_arn: str | None = None) -> dict[str, Any]:
    """Claim the lifecycle for ``event`` after checking every rule that guards starting it.

    Write this (conditionally) *before* starting the state machine, then
    :func:`attach_execution`: two concurrent requests cannot both claim it.
    """
    check_can_start(record, event)
    updated = copy.deepcopy(dict(record))
    stamp = iso_utc(now)
    claimed: dict[str, Any] = {
        "name": str(EventName(event)),
        "description": description,
        "status": str(Status.IN_PROGRESS),
        "execution_startdate": stamp,
        "properties": copy.deepcopy(dict(properties or {})),
        "statemachine_arn": statemachine_arn,
        "statemachine_input": copy.deepcopy(dict(statemachine_input)) if statemachine_input is not None else None,
        "execution_arn": execution_arn,
    }
    updated["event_in_progress"] = {key: value for key, value in claimed.items() if value is not None}
    updated["last_modified"] = stamp
    return updated


def attach_execution(record: Record, event: EventName, *, execution_arn: str, statemachine_arn: str | None = None,
                     statemachine_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Remember which state-machine execution works on the claimed event."""
    current = event_in_progress(record)
    if current is None or current.get("name") != EventName(event):
        raise Conflict(f"{event} is not the event in progress; it cannot be given an execution")
    updated = copy.deepcopy(dict(record))
    target = updated["event_in_progress"]
    target["execution_arn"] = execution_arn
    if statemachine_arn is not None:
        target["statemachine_arn"] = statemachine_arn
    if statemachine_input is not None:
        target["statemachine_input"] = copy.deepcopy(dict(statemachine_input))
    return updated


# ------------------------------------------------------------------------ results

def _derived_free(item: Mapping[str, Any]) -> str:
    """A fingerprint of a result entry without the fields the orchestrator adds to it."""
    trimmed = copy.deepcopy(dict(item))
    props = trimmed.get("properties") or {}
    props.pop("ami_ancestry", None)
    for ami in props.get("ami_details") or []:
        if isinstance(ami, dict):
            ami.pop("ami_semver", None)
    return json.dumps(trimmed, sort_keys=True, default=str)


def result_already_recorded(record: Record, result: EventResult) -> bool:
    """True when this very result was recorded before (a duplicate delivery).

    Fields the orchestrator derives on recording (``ami_semver``,
    ``ami_ancestry``) are ignored, so the check also works on the raw
    message before those are computed.
    """
    fingerprint = _derived_free(result.to_item())
    if result.lifecycle_type is LifecycleType.AMI_CREATION:
        entries = (record.get("outputs_ami_creation") or {}).get("events") or []
    elif result.name is EventName.PATCH_AMI:
        cycles = [current_patch(record) or {}] + historical_patches(record)
        entries = [entry for cycle in cycles for entry in cycle.get("events") or []]
    else:
        entries = (current_patch(record) or {}).get("events") or []
    return any(_derived_free(entry) == fingerprint for entry in entries if entry.get("name") == result.name)


def ami_ancestry(record: Record, newest: Mapping[str, Any] | None = None) -> str:
    """``ami-a (v1.0.0) -> ami-b (v1.1.0) -> ...``: the built AMI, then each patched AMI, oldest first."""
    links: list[Mapping[str, Any]] = []
    built = phase_ami_entry(record, LifecycleType.AMI_CREATION)
    if built and ami_details(built):
        links.append(ami_details(built)[0])
    current = current_patch(record)
    cycles = historical_patches(record) + ([current] if current else [])
    for cycle in cycles:
        patch = next((e for e in cycle.get("events") or [] if e.get("name") == EventName.PATCH_AMI), None)
        if patch and patch.get("status") == Status.COMPLETED and ami_details(patch):
            links.append(ami_details(patch)[0])
    if newest is not None:
        links.append(newest)
    return " -> ".join(f"{ami.get('image')} (v{ami.get('ami_semver', '?')})" for ami in links)


def _merge_entry(entries: list[dict[str, Any]], item: dict[str, Any], *, replace_completed: bool) -> None:
    """Put ``item`` into a phase's result list (see :func:`record_event_result`)."""
    same = [index for index, entry in enumerate(entries) if entry.get("name") == item["name"]]
    if item["status"] != Status.COMPLETED and any(entries[i].get("status") == Status.COMPLETED for i in same):
        return
    for index in same:
        if replace_completed or entries[index].get("status") != Status.COMPLETED:
            entries[index] = item
            return
    entries.append(item)


def record_event_result(record: Record, result: EventResult, now: datetime) -> dict[str, Any]:
    """Merge ``result`` into the record; a duplicate delivery changes nothing.

    Creation: the result replaces a same-named entry that is not COMPLETED
    (a FAILED verdict can be followed by a new one), else it is appended.
    Patch: PATCH_AMI opens a new current cycle and moves the previous one
    into ``historical`` (its result gains ``ami_ancestry``); any other patch
    result replaces the same-named entry of the current cycle, else is
    appended. In both phases a COMPLETED event is immutable: a late result
    that is not COMPLETED leaves it as it is. The event in progress is
    released when the result is for it.
    """
    if result.lifecycle_id != record.get("lifecycle_id"):
        raise ValidationError(
            f"lifecycle_id: the result is for {result.lifecycle_id}, not for lifecycle {record.get('lifecycle_id')}",
            field="lifecycle_id")
    updated = copy.deepcopy(dict(record))
    if result_already_recorded(record, result):
        return updated
    if result.lifecycle_type is LifecycleType.AMI_CREATION:
        events = updated.setdefault("outputs_ami_creation", {}).setdefault("events", [])
        _merge_entry(events, result.to_item(), replace_completed=False)
    else:
        history = updated.setdefault("outputs_ami_patch", {}).setdefault("patch_history", {})
        history.setdefault("historical", [])
        if result.name is EventName.PATCH_AMI:
            amis = ami_details(result.to_item())
            item = result.with_properties(ami_ancestry=ami_ancestry(record, amis[0] if amis else None)).to_item()
            if history.get("current"):
                history["historical"].append(history["current"])
            history["current"] = {"events": [item]}
        else:
            if not history.get("current"):
                raise Conflict(f"{result.name} result for lifecycle {result.lifecycle_id}, which has no patch yet")
            _merge_entry(history["current"].setdefault("events", []), result.to_item(), replace_completed=True)
    current = updated.get("event_in_progress")
    if current and current.get("name") == result.name:
        del updated["event_in_progress"]
    updated["last_modified"] = iso_utc(now)
    return updated


# ------------------------------------------------------------------------- errors

def error_applies(record: Record, error: EventError) -> bool:
    """True when ``error`` concerns the event now in progress (not a stale or foreign report)."""
    current = event_in_progress(record)
    if current is None or error.lifecycle_id != record.get("lifecycle_id"):
        return False
    if error.name is not None and current.get("name") != error.name:
        return False
    if error.execution_arn and current.get("execution_arn") and current["execution_arn"] != error.execution_arn:
        return False
    return True


def record_event_error(record: Record, error: EventError, now: datetime) -> dict[str, Any]:
    """Annotate the event in progress with a reported error; other reports change nothing.

    The event stays visible in ``event_in_progress`` with its error, and no
    longer blocks the lifecycle, so the owner can retry.
    """
    updated = copy.deepcopy(dict(record))
    if not error_applies(record, error):
        return updated
    updated["event_in_progress"].update(
        status=str(error.status), status_date=error.status_date,
        error_message=error.error_message, stack_trace=error.stack_trace,
    )
    updated["last_modified"] = iso_utc(now)
    return updated


def with_timeout_flag(record: Record, now: datetime, max_wait: timedelta) -> dict[str, Any]:
    """The record with a running event that outlived ``max_wait`` shown as ERROR_EVENT_TIMEOUT.

    Pure: status reads show the flag without writing it; the caller may
    persist the result if it wants the flag kept.
    """
    updated = copy.deepcopy(dict(record))
    current = event_in_progress(record)
    if not is_running(record) or not current or not current.get("execution_startdate"):
        return updated
    if not older_than(current["execution_startdate"], now, max_wait):
        return updated
    minutes = int(max_wait.total_seconds() // 60)
    updated["event_in_progress"].update(
        status=str(Status.ERROR_EVENT_TIMEOUT), status_date=iso_utc(now),
        error_message=(f"{current.get('name')} did not finish within {minutes} minutes "
                       f"(execution {current.get('execution_arn') or 'not started'})"),
        stack_trace="See error_message",
    )
    return updated


# -------------------------------------------------------------------------- views

def public_view(record: Record) -> dict[str, Any]:
    """The record as status responses show it: every key- or secret-bearing field removed."""
    view: dict[str, Any] = redact(copy.deepcopy(dict(record)))
    current = view.get("event_in_progress")
    if isinstance(current, dict) and current.get("statemachine_input") is not None:
        current["statemachine_input"] = redact_json_text(record["event_in_progress"]["statemachine_input"])
    return view


def lifecycle_response(record: Record, *, date_field: str = "creation_date") -> dict[str, Any]:
    """The body mutating routes answer with: id, owner, date and notification channels."""
    return {
        "lifecycle_id": record["lifecycle_id"],
        "owner": record.get("owner"),
        "creation_date": record.get(date_field) or record.get("creation_date"),
        "notification_channels": copy.deepcopy(list(record.get("notifications") or [])),
    }
