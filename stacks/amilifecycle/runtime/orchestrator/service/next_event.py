"""After a result: start the lifecycle's next enabled event, or say why not.

Which event comes next is the domain's rule (``rules.next_enabled_event``:
smoke tests, then vulnerability scans, then the QA request, each only if
the owner enabled it). Starting it is the :class:`EventStarter`'s job, the
same as for every other start; an enabled event that this deployment does
not run is not silently skipped and never pretended done: it is
recorded on the lifecycle as the event in progress with status ERROR and
the message ``<EVENT> is not available in this deployment yet`` (visible in
the status and on the timeline, and not blocking: the owner may retry once
the capability is deployed), and the owners are notified.

Every write here is idempotent: handling the same result twice records
the same note once and notifies once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger

from ..domain.capabilities import event_not_available
from ..domain.errors import Conflict
from ..domain.history import event_in_progress
from ..domain.notifications import NotificationMessage, info_notification, nothing_to_start_notification
from ..domain.records import mark_event_in_progress, record_event_error
from ..domain.results import EventError
from ..domain.rules import next_enabled_event
from ..domain.timeline import DESCRIPTIONS
from ..domain.timestamps import iso_utc
from ..domain.vocabulary import EventName, LifecycleType, Status, definition
from .events import EventStarter, EventStartFailed
from .publishing import publish_logged
from .ports import LifecycleRepository, NotificationPublisher

logger = Logger(child=True)

Record = dict[str, Any]

NOT_AVAILABLE_TRACE = ("No state machine for this event is deployed with this version of the orchestrator; "
                       "nothing was started and the AMI is unchanged.")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class NextStep:
    """What continuing the lifecycle did: ``started``, ``failed`` (to start), ``not_available``,
    ``blocked`` or ``nothing``."""

    action: str
    event: EventName | None
    record: Record


@dataclass
class NextEventService:
    """Moves a lifecycle on to its next enabled event."""

    repository: LifecycleRepository
    notifier: NotificationPublisher
    events: EventStarter
    clock: Callable[[], datetime] = field(default=_utc_now)

    def continue_lifecycle(self, record: Record, lifecycle_type: LifecycleType, *, announce: bool = True) -> NextStep:
        """Start (or note as unavailable) the next enabled event of ``lifecycle_type``.

        ``announce=False`` (a repeated delivery) skips the "nothing more to
        start" message, which the first delivery already sent.
        """
        event = next_enabled_event(record, lifecycle_type)
        if event is None:
            if announce:
                self._publish(nothing_to_start_notification(record, lifecycle_type, self.clock()), record)
            return NextStep("nothing", None, record)
        if not self.events.available(event):
            return self._note_not_available(record, event, lifecycle_type)
        try:
            return NextStep("started", event, self.events.start(record, event))
        except EventStartFailed:
            # Recorded on the lifecycle as the event's ERROR and notified; a later request may retry it.
            return NextStep("failed", event, self.repository.get(str(record["lifecycle_id"])))
        except Conflict as refused:
            # Another event runs, or a prerequisite is missing: the lifecycle is not ours to move now.
            logger.info("next event not started", extra={"lifecycle_id": record.get("lifecycle_id"),
                                                         "event": str(event), "reason": refused.message})
            return NextStep("blocked", event, record)

    def _note_not_available(self, record: Record, event: EventName, lifecycle_type: LifecycleType) -> NextStep:
        now = self.clock()
        reason = event_not_available(event).message
        noted: dict[str, bool] = {}

        def note(current: Record) -> Record:
            noted["changed"] = False
            if next_enabled_event(current, lifecycle_type) is not event:
                return current
            claimed = event_in_progress(current)
            if claimed and claimed.get("name") == event and claimed.get("error_message") == reason:
                return current
            report = EventError(lifecycle_id=str(current["lifecycle_id"]), status=Status.ERROR,
                                status_date=iso_utc(now), error_message=reason, stack_trace=NOT_AVAILABLE_TRACE,
                                name=event)
            started = mark_event_in_progress(current, event, now, description=DESCRIPTIONS[event])
            noted["changed"] = True
            return record_event_error(started, report, now)

        stored = self.repository.update(str(record["lifecycle_id"]), note, current=record)
        if noted.get("changed"):
            logger.warning("next event not available", extra={"lifecycle_id": stored.get("lifecycle_id"),
                                                               "event": str(event)})
            self._publish(info_notification(
                definition(event).start_operator, str(stored.get("stack_tag")), stored.get("lifecycle_id"),
                f"{reason}. The lifecycle stays at its last completed event; {event} will be started when it "
                f"is requested again in a deployment that provides it.", now,
                details={"event": str(event), "status": str(Status.ERROR)}), stored)
        return NextStep("not_available", event, stored)

    def _publish(self, message: NotificationMessage, record: Mapping[str, Any]) -> None:
        publish_logged(self.notifier, message, record)