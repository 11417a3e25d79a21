"""The order of events in each lifecycle phase.

Both sequences come from the vocabulary table, so adding an event means
adding one row there. A request's ``events`` list toggles only the
*requestable* events (those with a CLI ``--events`` value); the QA response
and the approvals are started by their own routes. Of the requestable
events, all but the first are started automatically, one after another,
when the previous one completes.
"""

from __future__ import annotations

from .vocabulary import EVENT_DEFINITIONS, EventName, LifecycleType, lifecycle_type_of

CREATION_SEQUENCE: tuple[EventName, ...] = tuple(
    d.name for d in EVENT_DEFINITIONS if d.lifecycle_type is LifecycleType.AMI_CREATION
)
PATCH_SEQUENCE: tuple[EventName, ...] = tuple(
    d.name for d in EVENT_DEFINITIONS if d.lifecycle_type is LifecycleType.AMI_PATCH
)

_REQUESTABLE = {d.name for d in EVENT_DEFINITIONS if d.cli_event is not None}


def sequence_for(lifecycle_type: LifecycleType) -> tuple[EventName, ...]:
    """Every event of a phase, in the order they must complete."""
    return CREATION_SEQUENCE if LifecycleType(lifecycle_type) is LifecycleType.AMI_CREATION else PATCH_SEQUENCE


def requestable_events(lifecycle_type: LifecycleType) -> tuple[EventName, ...]:
    """The events a create/patch request lists in ``events`` (4 for creation, 3 for patch)."""
    return tuple(name for name in sequence_for(lifecycle_type) if name in _REQUESTABLE)


def first_event(lifecycle_type: LifecycleType) -> EventName:
    """BUILD_AMI or PATCH_AMI: the event that produces the phase's AMI."""
    return sequence_for(lifecycle_type)[0]


def auto_triggered_events(lifecycle_type: LifecycleType) -> tuple[EventName, ...]:
    """Events started by the orchestrator itself once their predecessor completed."""
    return requestable_events(lifecycle_type)[1:]


def predecessors(event: EventName) -> tuple[EventName, ...]:
    """The events that must all be COMPLETED before ``event`` may start."""
    sequence = sequence_for(lifecycle_type_of(event))
    return sequence[: sequence.index(event)]
