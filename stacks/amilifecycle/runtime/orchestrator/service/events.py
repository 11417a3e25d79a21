"""Starting any lifecycle event: one use case for create, update, next event and patch.

Starting an event touches three services; the order keeps every failure
visible and harmless:

1. find the event's state machine: an event this deployment does not run
   is refused (501) before anything is written;
2. claim the lifecycle with one conditional write: the caller's own change
   (a new record, an update of its inputs) and the event in progress with
   its attempt number and state-machine input, after every state rule
   (nothing else running, prerequisites, immutability). Two concurrent
   starts cannot both claim it: the loser gets 409;
3. start the state machine with a deterministic execution name (lifecycle,
   event, attempt), so a retried start never runs the event twice;
4. attach the execution ARN to the claimed event (unless the event's own
   result already arrived);
5. notify the owners (a failed publish is logged: the event runs).

If step 3 fails, the claimed event is marked ERROR with the cause, the
owners are notified and :class:`EventStartFailed` (500) names the lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ..adapters.workflows import Execution, execution_name
from ..domain.capabilities import event_not_available
from ..domain.errors import DomainError
from ..domain.events import execution_input, next_attempt, with_attempt
from ..domain.history import event_in_progress, is_running
from ..domain.notifications import NotificationMessage, error_notification, event_notification
from ..domain.records import attach_execution, mark_event_in_progress, record_event_error
from ..domain.results import EventError
from ..domain.timeline import DESCRIPTIONS
from ..domain.timestamps import iso_utc
from ..domain.vocabulary import EventName, Operator, Status, definition
from .publishing import publish_logged
from .ports import LifecycleRepository, NotificationPublisher, StateMachines, WorkflowEngine

logger = Logger(child=True)

Record = dict[str, Any]
# The caller's own change, applied in the same conditional write as the claim.
Prepare = Callable[[Record], Record]


class EventStartFailed(DomainError):
    """The event was claimed but its state machine could not be started; the record says so."""

    code = "INTERNAL_ERROR"
    http_status = 500


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class EventStarter:
    """Claims a lifecycle for an event and starts the event's state machine."""

    repository: LifecycleRepository
    workflows: WorkflowEngine
    notifier: NotificationPublisher
    state_machines: StateMachines
    clock: Callable[[], datetime] = field(default=_utc_now)

    def available(self, event: EventName) -> bool:
        """Whether this deployment runs ``event``."""
        return self.state_machines.state_machine_arn(event) is not None

    def require(self, event: EventName) -> str:
        """The ARN of ``event``'s state machine; :class:`NotAvailable` (501) when it is not deployed."""
        arn = self.state_machines.state_machine_arn(event)
        if arn is None:
            raise event_not_available(event)
        return arn

    def start(self, record: Record, event: EventName, *, operator: Operator | None = None,
              prepare: Prepare | None = None, new: bool = False, properties: Mapping[str, Any] | None = None,
              extra_input: Mapping[str, Any] | None = None) -> Record:
        """Start ``event`` for the lifecycle ``record`` and return the stored record.

        ``prepare`` is the caller's change of the record, written together
        with the claim; ``new`` stores ``record`` as a new lifecycle instead
        of updating one. ``properties`` become the claimed event's
        properties; ``extra_input`` is added to the state machine's input.
        ``operator`` names the notification (default: the event's own).
        """
        event = EventName(event)
        arn = self.require(event)
        now = self.clock()
        claimed_input: dict[str, Any] = {}

        def claim(current: Record) -> Record:
            changed = prepare(current) if prepare is not None else current
            attempt = next_attempt(changed, event)
            value = execution_input(changed, event, attempt=attempt, extra=extra_input)
            claimed_input.clear()
            claimed_input.update(value)
            started = mark_event_in_progress(changed, event, now, description=DESCRIPTIONS[event],
                                             properties=properties, statemachine_arn=arn,
                                             statemachine_input=value)
            return with_attempt(started, event, attempt)

        lifecycle_id = str(record["lifecycle_id"])
        stored = self.repository.create(claim(record)) if new else \
            self.repository.update(lifecycle_id, claim, current=record)
        name = execution_name(lifecycle_id, event, int(claimed_input["attempt"]))
        try:
            execution = self.workflows.start(arn, name=name, execution_input=claimed_input)
        except Exception as error:  # noqa: BLE001 - every failure to start is recorded, then re-raised
            self._record_start_failure(stored, event, operator, error)
            raise EventStartFailed(
                f"lifecycle {lifecycle_id}: {event} was claimed but its state machine could not be started "
                f"({error_code(error)}); its status shows the error", field="lifecycle_id") from error
        stored = self.repository.update(lifecycle_id, lambda current: _with_execution(current, event, execution),
                                        current=stored)
        self._publish(event_notification(operator or definition(event).start_operator, stored, now), stored)
        logger.info("event started", extra={"lifecycle_id": lifecycle_id, "event": str(event),
                                            "execution_arn": execution.execution_arn})
        return stored

    def _record_start_failure(self, record: Record, event: EventName, operator: Operator | None,
                              error: Exception) -> None:
        now = self.clock()
        report = EventError(
            lifecycle_id=record["lifecycle_id"], status=Status.ERROR, status_date=iso_utc(now),
            error_message=f"the {event} state machine could not be started: {error_code(error)}",
            stack_trace="See error_message", name=event)
        logger.exception("state machine not started", extra={"lifecycle_id": record["lifecycle_id"],
                                                              "event": str(event)})
        try:
            stored = self.repository.update(record["lifecycle_id"],
                                            lambda current: record_event_error(current, report, now))
        except Exception:  # noqa: BLE001 - the original failure is what the caller must see
            logger.exception("could not record the start failure", extra={"lifecycle_id": record["lifecycle_id"]})
            stored = dict(record)
        self._publish(error_notification(operator or definition(event).start_operator,
                                         str(stored.get("stack_tag")), stored["lifecycle_id"],
                                         report.error_message, now), stored)

    def _publish(self, message: NotificationMessage, record: Mapping[str, Any]) -> None:
        publish_logged(self.notifier, message, record)

def _with_execution(record: Record, event: EventName, execution: Execution) -> Record:
    """Attach the started execution to the claimed event, unless its result already arrived."""
    current = event_in_progress(record)
    if not current or current.get("name") != event or current.get("execution_arn"):
        return record
    if not is_running(record):
        return record
    return attach_execution(record, event, execution_arn=execution.execution_arn)


def error_code(error: Exception) -> str:
    """A failure's AWS error code (or exception type): never its message, which may quote internals."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__
