"""Lifecycle use cases behind the API: create, update, read status, list, timeline.

Creating a lifecycle:

1. validate the request (nothing touched yet: a 400 leaves no trace);
2. subscribe the owners' email addresses (idempotent, so a failure later
   leaves at most a subscription that the next request reuses);
3. start BUILD_AMI through the :class:`EventStarter`: the new record is
   written with the event already claimed, on the condition that the id is
   new, then the build state machine is started (service/events.py).

Updating a lifecycle (PUT) records the new owner, channels, properties and
event selection and, in the same conditional write, claims the next enabled
event, then starts it; with no event left to start it records the update
alone. Nothing is written when the next event is not deployed (501), when an
event runs (409) or when the build has not completed (409).

Status reads flag an event that has run longer than the configured maximum
as ERROR_EVENT_TIMEOUT and persist the flag with a conditional write, so a
read never overwrites a receiver's concurrent update; the owners are told
once, by the read that made the change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Protocol, Sequence

from aws_lambda_powertools import Logger

from ..adapters.notifier import email_recipients
from ..adapters.state_repository import ConcurrentUpdate, without_version
from ..config import RuntimeConfig
from ..domain.errors import Conflict
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.history import event_in_progress, event_status
from ..domain.notifications import NotificationMessage, error_notification, event_notification
from ..domain.records import apply_update, lifecycle_response, new_lifecycle, public_view, with_timeout_flag
from ..domain.requests import parse_create_request, parse_list_status_query, parse_update_request
from ..domain.revocation import with_revocation_report
from ..domain.rules import check_nothing_running, next_enabled_event
from ..domain.timeline import TimelineView, build_timeline
from ..domain.vocabulary import EventName, LifecycleType, Operator, Status
from .events import EventStarter, EventStartFailed
from .publishing import publish_to
from .ports import LifecycleRepository, NotificationPublisher

logger = Logger(child=True)

__all__ = ["EventStartFailed", "LifecycleService", "StackTagVersions", "public_status"]


class StackTagVersions(Protocol):
    """Where the newest AMI version of a stack tag is known (the lookup table)."""

    def highest_semver(self, stack_tag: str) -> str | None:
        """The highest ``ami_semver`` among the stack tag's AMIs, or ``None`` before its first build."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _new_lifecycle_id() -> str:
    return str(uuid.uuid4())


def public_status(record: Mapping[str, Any]) -> dict[str, Any]:
    """What status routes show of a record: the domain's public view without internal counters, with each
    revocation's descendants (the AMIs patched from a revoked one)."""
    return with_revocation_report(without_version(public_view(record)), record)


@dataclass
class LifecycleService:
    """The API's use cases for one deployment."""

    config: RuntimeConfig
    repository: LifecycleRepository
    notifier: NotificationPublisher
    events: EventStarter
    versions: StackTagVersions
    clock: Callable[[], datetime] = field(default=_utc_now)
    new_id: Callable[[], str] = field(default=_new_lifecycle_id)

    # ------------------------------------------------------------- create

    def create_lifecycle(self, body: Any) -> dict[str, Any]:
        """POST /ami-creation/lifecycles: record a lifecycle and start its BUILD_AMI event."""
        request = parse_create_request(body)
        self.events.require(EventName.BUILD_AMI)
        record = new_lifecycle(request, self.new_id(), self.clock())
        self.notifier.subscribe_emails(email_recipients(record["notifications"]))
        pipeline = {"imagebuilder_pipeline_arn": self.config.imagebuilder_pipeline_arn}
        properties = {"imagebuilder_pipeline_arn": pipeline["imagebuilder_pipeline_arn"],
                      "product_ver": request.product_ver, "product_name": request.product_name,
                      "commit_ref": request.commit_ref}
        try:
            stored = self.events.start(record, EventName.BUILD_AMI, operator=Operator.AMI_CREATION_POST, new=True,
                                       properties=properties, extra_input=pipeline)
        except EventStartFailed as failed:
            raise EventStartFailed(f"{failed.message}. Create a new lifecycle to try again.",
                                   field="lifecycle_id") from failed
        logger.info("lifecycle created", extra={"lifecycle_id": stored["lifecycle_id"],
                                                "stack_tag": request.stack_tag})
        return lifecycle_response(stored)

    # ------------------------------------------------------------- update

    def update_lifecycle(self, body: Any) -> dict[str, Any]:
        """PUT /ami-creation/lifecycles: new inputs, then the next enabled creation event."""
        request = parse_update_request(body)
        now = self.clock()
        record = self.repository.get(request.lifecycle_id)

        def update(current: dict[str, Any]) -> dict[str, Any]:
            check_nothing_running(current)
            if event_status(current, EventName.BUILD_AMI) is not Status.COMPLETED:
                raise Conflict(f"lifecycle {request.lifecycle_id} cannot be updated before its "
                               f"{EventName.BUILD_AMI} has COMPLETED (it is "
                               f"{event_status(current, EventName.BUILD_AMI)})", field="lifecycle_id")
            return apply_update(current, request, now)

        updated = update(record)  # the rules and the request's own checks, before anything is written
        self.notifier.subscribe_emails(email_recipients(updated["notifications"]))
        event = next_enabled_event(updated, LifecycleType.AMI_CREATION)
        if event is None:
            stored = self.repository.update(request.lifecycle_id, update, current=record)
            self._publish(event_notification(Operator.AMI_CREATION_PUT, stored, now),
                          email_recipients(stored.get("notifications")))
        else:
            stored = self.events.start(record, event, operator=Operator.AMI_CREATION_PUT, prepare=update)
        logger.info("lifecycle updated", extra={"lifecycle_id": request.lifecycle_id,
                                                "event_started": str(event) if event else None})
        return lifecycle_response(stored, date_field="update_date")

    # ------------------------------------------------------------- status

    def get_status(self, lifecycle_id: Any, *, operator: Operator = Operator.AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID
                   ) -> dict[str, Any]:
        """GET .../{lifecycle-id}/status: the public view, with a timed-out event flagged."""
        record = self.repository.get(parse_lifecycle_id(lifecycle_id, field="lifecycle-id"))
        return public_status(self._flag_timeout(record, operator))

    def list_statuses(self, query: Mapping[str, Any] | None, *,
                      operator: Operator = Operator.AMI_LIFECYCLE_STATUS) -> tuple[list[dict[str, Any]], str | None]:
        """GET .../status: one page of lifecycles (public views), newest first: a stack tag's, or every one."""
        parsed = parse_list_status_query(query)
        if parsed.stack_tag is None:
            page = self.repository.list_all(limit=parsed.limit, next_token=parsed.next_token)
        else:
            page = self.repository.list_by_stack_tag(parsed.stack_tag, limit=parsed.limit,
                                                     next_token=parsed.next_token)
        return [public_status(self._flag_timeout(item, operator)) for item in page.items], page.next_token

    def timeline_view(self, lifecycle_id: Any, lifecycle_type: LifecycleType) -> TimelineView:
        """GET .../{lifecycle-id}/timeline: the page's view model for one phase of the lifecycle."""
        record = self.repository.get(parse_lifecycle_id(lifecycle_id, field="lifecycle-id"))
        record = self._flag_timeout(record, Operator.AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID)
        stack_tag_semver = self.versions.highest_semver(str(record["stack_tag"])) or self.config.default_semver_seed
        return build_timeline(record, lifecycle_type, stack_tag_semver=stack_tag_semver)

    def _flag_timeout(self, record: dict[str, Any], operator: Operator) -> dict[str, Any]:
        """``record`` with an over-long event flagged ERROR_EVENT_TIMEOUT, persisted when it changed."""
        now = self.clock()
        max_wait = self.config.state_machine_max_wait
        flagged = with_timeout_flag(record, now, max_wait)
        if without_version(flagged) == without_version(record):
            return record
        last_change: dict[str, Any] = {}

        def flag(current: dict[str, Any]) -> dict[str, Any]:
            changed = with_timeout_flag(current, now, max_wait)
            last_change["record"] = changed if without_version(changed) != without_version(current) else None
            return changed

        try:
            stored = self.repository.update(record["lifecycle_id"], flag, current=record)
        except ConcurrentUpdate:
            logger.warning("timeout flag not persisted (busy lifecycle)", extra={"lifecycle_id": record["lifecycle_id"]})
            return flagged
        if last_change.get("record") is not None:
            current = event_in_progress(stored) or {}
            self._publish(
                error_notification(operator, str(stored.get("stack_tag")), stored["lifecycle_id"],
                                   str(current.get("error_message", "the event timed out")), now),
                email_recipients(stored.get("notifications")))
        return stored

    # ------------------------------------------------------------ helpers

    def _publish(self, message: NotificationMessage, recipients: Sequence[str]) -> None:
        publish_to(self.notifier, message, recipients)
