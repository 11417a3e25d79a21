"""Every name the orchestrator speaks, defined once.

The API, the database, the state machines, AMI tags, both CLIs and the AMI
selection client all import their names from here, so an event has one
spelling and one lookup score everywhere. :data:`EVENT_DEFINITIONS` is the
single table that ties an event to its CLI value, its selection name and its
score; the smaller enumerations below cover statuses and request values.

Input is parsed case-insensitively and stored in canonical form. A few
historical spellings are accepted as input aliases only and are never
produced: ``VULNERABILIY_SCANS_AMI_CREATE`` (a misspelling the first version
of this API used) and ``FAILED`` for an approval status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Iterable, Mapping, TypeVar

from .errors import ValidationError, describe_value


class EventName(StrEnum):
    """A lifecycle event as named in the API, records, state machines and tags."""

    BUILD_AMI = "BUILD_AMI"
    SMOKE_TESTS_AMI_CREATE = "SMOKE_TESTS_AMI_CREATE"
    VULNERABILITY_SCANS_AMI_CREATE = "VULNERABILITY_SCANS_AMI_CREATE"
    QA_CERTIFICATION_REQUEST = "QA_CERTIFICATION_REQUEST"
    QA_CERTIFICATION_RESPONSE = "QA_CERTIFICATION_RESPONSE"
    MARK_FOR_PRODUCTION_CREATE = "MARK_FOR_PRODUCTION_CREATE"
    PATCH_AMI = "PATCH_AMI"
    SMOKE_TESTS_AMI_PATCH = "SMOKE_TESTS_AMI_PATCH"
    VULNERABILITY_SCANS_AMI_PATCH = "VULNERABILITY_SCANS_AMI_PATCH"
    MARK_FOR_PRODUCTION_PATCH = "MARK_FOR_PRODUCTION_PATCH"


# Accepted on input, mapped to the canonical name, never written anywhere.
EVENT_NAME_ALIASES: Mapping[str, EventName] = MappingProxyType({
    "VULNERABILIY_SCANS_AMI_CREATE": EventName.VULNERABILITY_SCANS_AMI_CREATE,
})


class LifecycleType(StrEnum):
    """The two phases of an AMI's life; also the ``operation_type`` of shared state machines."""

    AMI_CREATION = "ami-creation"
    AMI_PATCH = "ami-patch"


class Status(StrEnum):
    """Status of an event.

    ``COMPLETED`` and ``FAILED`` are results (FAILED: QA did not certify or
    the approval was refused). ``ERROR`` and ``ERROR_EVENT_TIMEOUT`` annotate
    the event in progress when its state machine failed or ran too long.
    ``IN_PROGRESS`` marks the event being worked on; ``NOT_STARTED`` is derived
    for events with no record at all.
    """

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    ERROR_EVENT_TIMEOUT = "ERROR_EVENT_TIMEOUT"
    IN_PROGRESS = "IN_PROGRESS"
    NOT_STARTED = "NOT_STARTED"


RESULT_STATUSES: tuple[Status, ...] = (Status.COMPLETED, Status.FAILED)
ERROR_STATUSES: tuple[Status, ...] = (Status.ERROR, Status.ERROR_EVENT_TIMEOUT)


class TimelineStatus(StrEnum):
    """Statuses that exist only on the timeline page."""

    NOT_STARTED = "NOT_STARTED"
    EVENT_IN_PROGRESS = "EVENT_IN_PROGRESS"
    EVENT_IN_PROGRESS_WITH_ERROR = "EVENT_IN_PROGRESS_WITH_ERROR"


class CliEvent(StrEnum):
    """Values of the orchestrator CLI's repeatable ``--events`` flag."""

    AMI_BUILD_ONLY = "AMI_BUILD_ONLY"
    AMI_PATCH_ONLY = "AMI_PATCH_ONLY"
    SMOKE_TESTS = "SMOKE_TESTS"
    VULNERABILITY_SCANS = "VULNERABILITY_SCANS"
    QA_CERTIFICATION_REQUEST = "QA_CERTIFICATION_REQUEST"


class CliOperation(StrEnum):
    """Values of the orchestrator CLI's ``--operation`` flag."""

    AMI_CREATE = "AMI_CREATE"
    AMI_CREATE_UPDATE = "AMI_CREATE_UPDATE"
    AMI_PATCH = "AMI_PATCH"
    AMI_PATCH_UPDATE = "AMI_PATCH_UPDATE"
    AMI_GET_STATUS_BY_LIFECYCLE_ID = "AMI_GET_STATUS_BY_LIFECYCLE_ID"
    AMI_GET_STATUSES = "AMI_GET_STATUSES"
    AMI_TIMELINE_CREATE = "AMI_TIMELINE_CREATE"
    AMI_TIMELINE_PATCH = "AMI_TIMELINE_PATCH"
    AMI_APPROVAL_CREATE = "AMI_APPROVAL_CREATE"
    AMI_APPROVAL_PATCH = "AMI_APPROVAL_PATCH"
    AMI_QA_CERTIFICATION = "AMI_QA_CERTIFICATION"
    AMI_REVOKE = "AMI_REVOKE"


class SelectionEvent(StrEnum):
    """Values of the AMI selection client's ``--lifecycle_event`` flag: a minimum standing."""

    AMI_WITH_OS_HARDENING = "AMI_WITH_OS_HARDENING"
    SMOKE_TESTED = "SMOKE_TESTED"
    VULNERABILITY_SCANNED = "VULNERABILITY_SCANNED"
    QA_CERTIFICATION_REQUESTED = "QA_CERTIFICATION_REQUESTED"
    QA_CERTIFIED = "QA_CERTIFIED"
    PRODUCTION_APPROVED = "PRODUCTION_APPROVED"


class CertificationStatus(StrEnum):
    """The QA team's verdict on an exported AMI."""

    CERTIFIED = "CERTIFIED"
    FAILED = "FAILED"


class ApprovalStatus(StrEnum):
    """The verdict of a production approval request."""

    APPROVED = "APPROVED"
    NOT_APPROVED = "NOT_APPROVED"


APPROVAL_STATUS_ALIASES: Mapping[str, ApprovalStatus] = MappingProxyType({
    "FAILED": ApprovalStatus.NOT_APPROVED,
})


class SemverBump(StrEnum):
    """Which part of the semantic version a patch raises."""

    MINOR = "MINOR"
    PATCH = "PATCH"


class NotificationMethod(StrEnum):
    """How a lifecycle's owner is told about progress."""

    EMAIL = "EMAIL"
    HTTP = "HTTP"


class Operator(StrEnum):
    """Names of the operations that publish notifications (shown in subjects)."""

    AMI_CREATION_POST = "AMI_CREATION_POST"
    AMI_CREATION_PUT = "AMI_CREATION_PUT"
    AMI_CREATION_QA_CERTIFICATION_POST = "AMI_CREATION_QA_CERTIFICATION_POST"
    AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST = "AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST"
    AMI_PATCH_POST = "AMI_PATCH_POST"
    AMI_PATCH_PUT = "AMI_PATCH_PUT"
    AMI_PATCH_MARK_FOR_PRODUCTION_APPROVAL_POST = "AMI_PATCH_MARK_FOR_PRODUCTION_APPROVAL_POST"
    AMI_REVOKE_POST = "AMI_REVOKE_POST"
    AMI_LIFECYCLE_STATUS = "AMI_LIFECYCLE_STATUS"
    AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID = "AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID"
    AMI_CREATE_SMOKE_TEST_EXECUTION = "AMI_CREATE_SMOKE_TEST_EXECUTION"
    AMI_CREATE_VULNERABILITY_SCANS_EXECUTION = "AMI_CREATE_VULNERABILITY_SCANS_EXECUTION"
    AMI_CREATE_QA_CERTIFICATION_REQUEST = "AMI_CREATE_QA_CERTIFICATION_REQUEST"
    AMI_PATCH_SMOKE_TEST_EXECUTION = "AMI_PATCH_SMOKE_TEST_EXECUTION"
    AMI_PATCH_VULNERABILITY_SCANS_EXECUTION = "AMI_PATCH_VULNERABILITY_SCANS_EXECUTION"
    AMI_CREATION_RECEIVER = "AMI_CREATION_RECEIVER"
    AMI_PATCH_RECEIVER = "AMI_PATCH_RECEIVER"
    AMI_ERROR_RECEIVER = "AMI_ERROR_RECEIVER"
    ORCHESTRATOR_SERVICE = "ORCHESTRATOR_SERVICE"
    RECONCILER = "RECONCILER"


@dataclass(frozen=True)
class EventDefinition:
    """One row of the vocabulary: every name an event goes by, and its score.

    ``score`` is the AMI's standing in the lookup table once this event
    succeeded; the selection client's ``selection_event`` asks for at least
    that score. ``cli_event`` is the ``--events`` value that enables the
    event in a request; events without one are started by their own route
    (``cli_operation``). ``start_operator`` names the notification published
    when the orchestrator starts the event.
    """

    name: EventName
    lifecycle_type: LifecycleType
    title: str
    score: int
    selection_event: SelectionEvent
    cli_event: CliEvent | None
    cli_operation: CliOperation | None
    start_operator: Operator


_C = LifecycleType.AMI_CREATION
_P = LifecycleType.AMI_PATCH
_E = EventName
_S = SelectionEvent

# In sequence order: the creation events, then the patch events.
EVENT_DEFINITIONS: tuple[EventDefinition, ...] = (
    EventDefinition(_E.BUILD_AMI, _C, "AMI Build and Creation", 1, _S.AMI_WITH_OS_HARDENING,
                    CliEvent.AMI_BUILD_ONLY, CliOperation.AMI_CREATE, Operator.AMI_CREATION_POST),
    EventDefinition(_E.SMOKE_TESTS_AMI_CREATE, _C, "Smoke Tests", 2, _S.SMOKE_TESTED,
                    CliEvent.SMOKE_TESTS, None, Operator.AMI_CREATE_SMOKE_TEST_EXECUTION),
    EventDefinition(_E.VULNERABILITY_SCANS_AMI_CREATE, _C, "Vulnerability Scans", 3, _S.VULNERABILITY_SCANNED,
                    CliEvent.VULNERABILITY_SCANS, None, Operator.AMI_CREATE_VULNERABILITY_SCANS_EXECUTION),
    EventDefinition(_E.QA_CERTIFICATION_REQUEST, _C, "QA Certification Request", 4,
                    _S.QA_CERTIFICATION_REQUESTED, CliEvent.QA_CERTIFICATION_REQUEST, None,
                    Operator.AMI_CREATE_QA_CERTIFICATION_REQUEST),
    EventDefinition(_E.QA_CERTIFICATION_RESPONSE, _C, "QA Certification Response", 5, _S.QA_CERTIFIED,
                    None, CliOperation.AMI_QA_CERTIFICATION, Operator.AMI_CREATION_QA_CERTIFICATION_POST),
    EventDefinition(_E.MARK_FOR_PRODUCTION_CREATE, _C, "Approve AMI for Production", 6, _S.PRODUCTION_APPROVED,
                    None, CliOperation.AMI_APPROVAL_CREATE, Operator.AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST),
    EventDefinition(_E.PATCH_AMI, _P, "AMI Patch", 1, _S.AMI_WITH_OS_HARDENING,
                    CliEvent.AMI_PATCH_ONLY, CliOperation.AMI_PATCH, Operator.AMI_PATCH_POST),
    EventDefinition(_E.SMOKE_TESTS_AMI_PATCH, _P, "Smoke Tests", 2, _S.SMOKE_TESTED,
                    CliEvent.SMOKE_TESTS, None, Operator.AMI_PATCH_SMOKE_TEST_EXECUTION),
    EventDefinition(_E.VULNERABILITY_SCANS_AMI_PATCH, _P, "Vulnerability Scans", 3, _S.VULNERABILITY_SCANNED,
                    CliEvent.VULNERABILITY_SCANS, None, Operator.AMI_PATCH_VULNERABILITY_SCANS_EXECUTION),
    EventDefinition(_E.MARK_FOR_PRODUCTION_PATCH, _P, "Approve AMI for Production", 6, _S.PRODUCTION_APPROVED,
                    None, CliOperation.AMI_APPROVAL_PATCH, Operator.AMI_PATCH_MARK_FOR_PRODUCTION_APPROVAL_POST),
)

_BY_NAME: Mapping[EventName, EventDefinition] = MappingProxyType({d.name: d for d in EVENT_DEFINITIONS})

# --lifecycle_event -> the lowest lookup score that satisfies it. Patch events
# reuse the creation selection names, so one table serves both phases.
SELECTION_MIN_SCORES: Mapping[SelectionEvent, int] = MappingProxyType(
    {d.selection_event: d.score for d in EVENT_DEFINITIONS if d.lifecycle_type is _C}
)


def definition(event: EventName) -> EventDefinition:
    """The vocabulary row of ``event``."""
    return _BY_NAME[EventName(event)]


def score_of(event: EventName) -> int:
    """The lookup score an AMI earns when ``event`` succeeds."""
    return definition(event).score


def min_score(selection_event: SelectionEvent) -> int:
    """The lowest lookup score an AMI needs to satisfy ``--lifecycle_event``."""
    return SELECTION_MIN_SCORES[SelectionEvent(selection_event)]


def lifecycle_type_of(event: EventName) -> LifecycleType:
    """The phase an event belongs to (event names are unique across phases)."""
    return definition(event).lifecycle_type


def event_for_cli(cli_event: CliEvent, lifecycle_type: LifecycleType, *, field: str = "events") -> EventName:
    """The event a CLI ``--events`` value enables in a request of ``lifecycle_type``."""
    for row in EVENT_DEFINITIONS:
        if row.lifecycle_type is lifecycle_type and row.cli_event is cli_event:
            return row.name
    allowed = [row.cli_event for row in EVENT_DEFINITIONS if row.lifecycle_type is lifecycle_type and row.cli_event]
    raise ValidationError(
        f"{field}: {cli_event} does not apply to {lifecycle_type}; expected one of {', '.join(allowed)}",
        field=field, allowed=allowed,
    )


def cli_events_for(lifecycle_type: LifecycleType) -> tuple[CliEvent, ...]:
    """The ``--events`` values that apply to ``lifecycle_type``, in sequence order."""
    return tuple(row.cli_event for row in EVENT_DEFINITIONS
                 if row.lifecycle_type is lifecycle_type and row.cli_event is not None)


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum_type: type[E], value: Any, *, field: str,
                 aliases: Mapping[str, E] | None = None, allowed: Iterable[E] | None = None) -> E:
    """Parse ``value`` into a member of ``enum_type``, case-insensitively.

    ``aliases`` adds accepted spellings that map to a canonical member;
    ``allowed`` narrows the accepted members (an alias of a member outside
    ``allowed`` is refused too). The error names the field and lists the
    canonical values only, never the aliases.
    """
    members = tuple(allowed) if allowed is not None else tuple(enum_type)
    accepted: dict[str, E] = {str(member).casefold(): member for member in members}
    for alias, member in (aliases or {}).items():
        if member in members:
            accepted[alias.casefold()] = member
    if isinstance(value, str) and value.strip().casefold() in accepted:
        return accepted[value.strip().casefold()]
    names = [str(member) for member in members]
    raise ValidationError(
        f"{field}: expected one of {', '.join(names)}, got {describe_value(value)}",
        field=field, allowed=names,
    )


def parse_event_name(value: Any, *, field: str = "name", allowed: Iterable[EventName] | None = None) -> EventName:
    """Parse an event name, accepting the historical misspelling as an alias."""
    return parse_choice(EventName, value, field=field, aliases=EVENT_NAME_ALIASES, allowed=allowed)


def parse_lifecycle_type(value: Any, *, field: str = "lifecycle_type") -> LifecycleType:
    return parse_choice(LifecycleType, value, field=field)


def parse_certification_status(value: Any, *, field: str = "certification_status") -> CertificationStatus:
    return parse_choice(CertificationStatus, value, field=field)


def parse_approval_status(value: Any, *, field: str = "approval_status") -> ApprovalStatus:
    """Parse an approval verdict; ``FAILED`` (older clients' word) means NOT_APPROVED."""
    return parse_choice(ApprovalStatus, value, field=field, aliases=APPROVAL_STATUS_ALIASES)


def parse_semver_bump(value: Any, *, field: str = "semver_bump_type") -> SemverBump:
    return parse_choice(SemverBump, value, field=field)


def parse_notification_method(value: Any, *, field: str = "method") -> NotificationMethod:
    return parse_choice(NotificationMethod, value, field=field)


def parse_selection_event(value: Any, *, field: str = "lifecycle_event") -> SelectionEvent:
    return parse_choice(SelectionEvent, value, field=field)


def parse_cli_event(value: Any, *, field: str = "events") -> CliEvent:
    return parse_choice(CliEvent, value, field=field)


def parse_cli_operation(value: Any, *, field: str = "operation") -> CliOperation:
    return parse_choice(CliOperation, value, field=field)


def parse_result_status(value: Any, *, field: str = "status") -> Status:
    """Parse the status of an event result: COMPLETED or FAILED."""
    return parse_choice(Status, value, field=field, allowed=RESULT_STATUSES)


def parse_error_status(value: Any, *, field: str = "status") -> Status:
    """Parse the status of an error report: ERROR or ERROR_EVENT_TIMEOUT."""
    return parse_choice(Status, value, field=field, allowed=ERROR_STATUSES)
