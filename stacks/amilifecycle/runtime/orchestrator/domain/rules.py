"""The rules that decide whether an event may run.

Two kinds of rule live here:

* request rules, checked before anything is stored: a request's ``events``
  list names each requestable event of its phase exactly once, and the
  enabled events form one unbroken run of the sequence (an event can only
  run after every earlier one, so enabling QA but not the vulnerability
  scans that must precede it can never succeed);
* state rules, checked against the stored record before an event starts:
  nothing else is running, every earlier event COMPLETED (prerequisites;
  for an approval: the events the owner enabled, see
  :func:`approval_prerequisites`), the event itself is not COMPLETED
  already (immutability), and a patch starts only from an approved AMI.

Request rules raise :class:`ValidationError` (400); state rules raise
:class:`Conflict` (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .errors import Conflict, ValidationError, describe_value
from .history import Record, enabled_events, event_in_progress, event_status, is_running
from .revocation import patch_base
from .sequences import auto_triggered_events, first_event, predecessors, requestable_events
from .vocabulary import (EventName, LifecycleType, Status, cli_events_for, event_for_cli, lifecycle_type_of,
                         parse_cli_event, parse_event_name)


@dataclass(frozen=True)
class EventToggle:
    """One entry of a request's ``events`` list."""

    name: EventName
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": str(self.name), "enabled": self.enabled}


# ---------------------------------------------------------------- request rules

def parse_event_toggles(raw: Any, lifecycle_type: LifecycleType, *, field: str = "events") -> tuple[EventToggle, ...]:
    """Parse ``events``: exactly one ``{name, enabled}`` per requestable event, in any order.

    The result is in sequence order whatever the input order was.
    """
    expected = requestable_events(lifecycle_type)
    shape = f"a list of {len(expected)} objects {{name, enabled}}, one for each of {', '.join(expected)}"
    if raw is None:
        raise ValidationError(f"{field}: missing (required); expected {shape}", field=field, allowed=expected)
    if not isinstance(raw, list):
        raise ValidationError(f"{field}: expected {shape}, got {describe_value(raw)}", field=field, allowed=expected)
    toggles: dict[EventName, EventToggle] = {}
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where}: expected an object {{name, enabled}}, got {describe_value(item)}",
                                  field=where, allowed=["name", "enabled"])
        unknown = sorted(set(item) - {"name", "enabled"})
        if unknown:
            raise ValidationError(f"{where}: unknown field {unknown[0]!r}; an event has only name and enabled",
                                  field=where, allowed=["name", "enabled"])
        name = parse_event_name(item.get("name"), field=f"{where}.name", allowed=expected)
        enabled = item.get("enabled")
        if not isinstance(enabled, bool):
            raise ValidationError(f"{where}.enabled: expected true or false, got {describe_value(enabled)}",
                                  field=f"{where}.enabled", allowed=["true", "false"])
        if name in toggles:
            raise ValidationError(f"{field}: {name} is listed more than once; list each event exactly once",
                                  field=field, allowed=expected)
        toggles[name] = EventToggle(name, enabled)
    missing = [name for name in expected if name not in toggles]
    if missing:
        raise ValidationError(f"{field}: missing {', '.join(missing)}; expected {shape}", field=field,
                              allowed=expected)
    return tuple(toggles[name] for name in expected)


def valid_selections(lifecycle_type: LifecycleType, *, starts_phase: bool) -> list[str]:
    """Every acceptable set of enabled events, written ``A -> B -> C``.

    A request that starts the phase (POST) enables the first event and
    optionally its followers; an update (PUT) leaves the first event off and
    enables any unbroken run of the others (possibly none).
    """
    events = requestable_events(lifecycle_type)
    if starts_phase:
        return [" -> ".join(events[:end]) for end in range(1, len(events) + 1)]
    rest = events[1:]
    runs = [" -> ".join(rest[start:end]) for start in range(len(rest)) for end in range(start + 1, len(rest) + 1)]
    return ["(none)"] + runs


def check_event_combination(toggles: tuple[EventToggle, ...], lifecycle_type: LifecycleType, *,
                            starts_phase: bool, field: str = "events") -> None:
    """Refuse an enabled set with a hole: a disabled event between two enabled ones.

    This covers every combination rule of the API: creation with QA and
    smoke tests but no vulnerability scans, creation with a build followed
    by scans or QA but no smoke tests, a patch followed by scans but no
    smoke tests.
    """
    first = first_event(lifecycle_type)
    first_enabled = any(t.enabled for t in toggles if t.name is first)
    allowed = valid_selections(lifecycle_type, starts_phase=starts_phase)
    if starts_phase and not first_enabled:
        raise ValidationError(
            f"{field}: {first} must be enabled: it produces the AMI every later event works on. "
            f"Valid selections: {'; '.join(allowed)}", field=field, allowed=allowed)
    if not starts_phase and first_enabled:
        raise ValidationError(
            f"{field}: {first} must be disabled in an update: an update continues the AMI this lifecycle "
            f"already has (start a new {'lifecycle' if first is EventName.BUILD_AMI else 'patch'} with POST "
            f"to produce another one). Valid selections: {'; '.join(allowed)}", field=field, allowed=allowed)
    enabled_positions = [i for i, t in enumerate(toggles) if t.enabled]
    if not enabled_positions:
        return
    for position in range(enabled_positions[0], enabled_positions[-1] + 1):
        hole = toggles[position]
        if not hole.enabled:
            before = next(t.name for t in reversed(toggles[:position]) if t.enabled)
            after = next(t.name for t in toggles[position + 1:] if t.enabled)
            sequence = " -> ".join(requestable_events(lifecycle_type))
            raise ValidationError(
                f"{field}: {hole.name} is disabled but {before} and {after} are enabled. An event runs only "
                f"after every earlier event of the sequence {sequence} has completed, so {after} could never "
                f"start: enable {hole.name} or disable {after}. Valid selections: {'; '.join(allowed)}",
                field=field, allowed=allowed)


def validate_event_selection(raw: Any, lifecycle_type: LifecycleType, *, starts_phase: bool,
                             field: str = "events") -> tuple[EventToggle, ...]:
    """Parse ``events`` and apply every request rule to it."""
    toggles = parse_event_toggles(raw, lifecycle_type, field=field)
    check_event_combination(toggles, lifecycle_type, starts_phase=starts_phase, field=field)
    return toggles


def toggles_from_cli(cli_values: Iterable[Any], lifecycle_type: LifecycleType, *, starts_phase: bool,
                     field: str = "events") -> tuple[EventToggle, ...]:
    """The ``events`` list of a request built from the CLI's ``--events`` values.

    Starting a phase always enables its first event, whether or not
    AMI_BUILD_ONLY / AMI_PATCH_ONLY was given; an update never enables it
    and refuses those values. The request rules apply here too, so the CLI
    reports a bad combination before calling the API.
    """
    first = first_event(lifecycle_type)
    chosen: set[EventName] = set()
    for value in cli_values:
        cli_event = parse_cli_event(value, field=field)
        event = event_for_cli(cli_event, lifecycle_type, field=field)
        if event is first and not starts_phase:
            raise ValidationError(
                f"{field}: {cli_event} starts a new {'lifecycle' if first is EventName.BUILD_AMI else 'patch'}; "
                f"leave it out of an update", field=field,
                allowed=[str(c) for c in cli_events_for(lifecycle_type)[1:]])
        chosen.add(event)
    if starts_phase:
        chosen.add(first)
    toggles = tuple(EventToggle(name, name in chosen) for name in requestable_events(lifecycle_type))
    check_event_combination(toggles, lifecycle_type, starts_phase=starts_phase, field=field)
    return toggles


# ------------------------------------------------------------------ state rules

def check_nothing_running(record: Record) -> None:
    """Refuse to start a second event while one is in progress (no lost updates, no double work)."""
    if is_running(record):
        current = event_in_progress(record) or {}
        since = current.get("execution_startdate", "an unknown time")
        raise Conflict(
            f"{current.get('name', 'an event')} is in progress since {since}; wait until it completes or "
            f"reports an error, then try again")


def check_prerequisites(record: Record, event: EventName) -> None:
    """Every earlier event of ``event``'s sequence must be COMPLETED."""
    pending = [(name, event_status(record, name)) for name in predecessors(event)]
    pending = [(name, status) for name, status in pending if status is not Status.COMPLETED]
    if pending:
        listed = ", ".join(f"{name} ({status})" for name, status in pending)
        raise Conflict(
            f"{event} cannot start: every earlier event must be COMPLETED first; not completed: {listed}")


def check_not_completed(record: Record, event: EventName) -> None:
    """A COMPLETED event is immutable: it never runs again in the same lifecycle (or patch)."""
    if event_status(record, event) is Status.COMPLETED:
        scope = "this patch" if lifecycle_type_of(event) is LifecycleType.AMI_PATCH else "this lifecycle"
        hint = " Start a new patch to run it on a new AMI." if scope == "this patch" else ""
        raise Conflict(f"{event} is already COMPLETED for {scope} and cannot run again.{hint}")


# The approval of each phase, and the QA events that gate the creation approval.
APPROVAL_EVENTS: dict[EventName, LifecycleType] = {
    EventName.MARK_FOR_PRODUCTION_CREATE: LifecycleType.AMI_CREATION,
    EventName.MARK_FOR_PRODUCTION_PATCH: LifecycleType.AMI_PATCH,
}


def qa_requested(record: Record) -> bool:
    """QA certification is part of this lifecycle: enabled now, or already requested once."""
    return (EventName.QA_CERTIFICATION_REQUEST in enabled_events(record, LifecycleType.AMI_CREATION)
            or event_status(record, EventName.QA_CERTIFICATION_REQUEST) is not Status.NOT_STARTED)


def approval_prerequisites(record: Record, event: EventName) -> tuple[EventName, ...]:
    """The events that must be COMPLETED before ``event`` (an approval) may be decided.

    The phase's build or patch, then every event the owner enabled in the
    phase's latest request; for creation, when QA certification is part of
    the lifecycle, also the QA team's response (COMPLETED means CERTIFIED).
    An event the owner did not enable is not required: an AMI built and
    smoke-tested only may be approved once its smoke tests completed.
    """
    lifecycle_type = APPROVAL_EVENTS[EventName(event)]
    enabled = enabled_events(record, lifecycle_type)
    required = [first_event(lifecycle_type)]
    required += [name for name in requestable_events(lifecycle_type)[1:] if name in enabled]
    if lifecycle_type is LifecycleType.AMI_CREATION and qa_requested(record):
        required += [name for name in (EventName.QA_CERTIFICATION_REQUEST, EventName.QA_CERTIFICATION_RESPONSE)
                     if name not in required]
    return tuple(required)


def check_approval_prerequisites(record: Record, event: EventName) -> None:
    """Every event :func:`approval_prerequisites` names must be COMPLETED."""
    required = approval_prerequisites(record, event)
    pending = [(name, event_status(record, name)) for name in required]
    pending = [(name, status) for name, status in pending if status is not Status.COMPLETED]
    if pending:
        listed = ", ".join(f"{name} ({status})" for name, status in pending)
        basis = ("QA certification is part of this lifecycle, so the AMI must be CERTIFIED first"
                 if EventName.QA_CERTIFICATION_RESPONSE in required
                 else "every event the owner enabled must be COMPLETED first")
        raise Conflict(f"{event} cannot start: {basis} ({' -> '.join(required)}); not completed: {listed}")


def check_patching_prerequisites(record: Record) -> None:
    """A patch starts only from an AMI approved for production and not revoked.

    The creation must be approved. A patched AMI whose approval is still
    undecided must be approved or refused first (a patch never starts from an
    AMI nobody judged); after a refusal or a failed patch, the next patch starts
    from the newest approved AMI that is not revoked.
    """
    status = event_status(record, EventName.MARK_FOR_PRODUCTION_CREATE)
    if status is not Status.COMPLETED:
        raise Conflict(
            f"{EventName.PATCH_AMI} cannot start: the lifecycle's AMI must first be approved for production; "
            f"not completed: {EventName.MARK_FOR_PRODUCTION_CREATE} ({status})")
    patched = event_status(record, EventName.PATCH_AMI)
    approval = event_status(record, EventName.MARK_FOR_PRODUCTION_PATCH)
    if patched is Status.COMPLETED and approval not in (Status.COMPLETED, Status.FAILED):
        raise Conflict(
            f"{EventName.PATCH_AMI} cannot start: the latest patched AMI awaits its approval for production "
            f"({EventName.MARK_FOR_PRODUCTION_PATCH} {approval}); approve or refuse it first (AMI_APPROVAL_PATCH)")
    if patch_base(record) is None:
        raise Conflict(
            f"{EventName.PATCH_AMI} cannot start: every AMI of this lifecycle approved for production is revoked")


def check_can_start(record: Record, event: EventName) -> None:
    """Apply every state rule that guards starting (or recording a verdict for) ``event``.

    PATCH_AMI opens a new patch cycle, so it is checked against the creation
    phase instead of its own (already completed) predecessor in the last
    patch. An approval depends on the events the owner enabled, not on
    every event of the sequence.
    """
    event = EventName(event)
    check_nothing_running(record)
    if event is EventName.PATCH_AMI:
        check_patching_prerequisites(record)
        return
    if event in APPROVAL_EVENTS:
        check_approval_prerequisites(record, event)
    else:
        check_prerequisites(record, event)
    check_not_completed(record, event)


def next_enabled_event(record: Record, lifecycle_type: LifecycleType) -> EventName | None:
    """The event the orchestrator should start next, if any.

    Creation: smoke tests, then vulnerability scans, then the QA request;
    patch: smoke tests, then vulnerability scans. The first one that the
    owner enabled and that has not COMPLETED is returned; the QA response
    and the approvals are never started automatically. The caller still
    applies :func:`check_can_start`, which explains why the event cannot
    start yet (for instance the build is still running).
    """
    enabled = enabled_events(record, lifecycle_type)
    for event in auto_triggered_events(lifecycle_type):
        if event in enabled and event_status(record, event) is not Status.COMPLETED:
            return event
    return None
