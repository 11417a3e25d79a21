"""Lifecycle use cases behind the API: create, read status, list, timeline.

Creating a lifecycle touches four services; the order keeps every failure
visible and harmless:

1. validate the request (nothing touched yet: a 400 leaves no trace);
2. subscribe the owners' email addresses (idempotent, so a failure later
   leaves at most a subscription that the next request reuses);
3. write the record with BUILD_AMI already claimed as the event in
   progress, on the condition that the id is new;
4. start the build state machine with a deterministic execution name;
5. attach the execution ARN to the claimed event (an optimistic-concurrency
   update: the build's own result may already have arrived);
6. publish the "lifecycle created" notification (a failure here is logged:
   the build is running, the request succeeded).

If step 4 fails, the claimed event is marked ERROR with the cause, the
owners are notified and the caller gets a 500 that names the lifecycle.

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
from botocore.exceptions import ClientError

from ..adapters.notifier import Notifier, email_recipients
from ..adapters.state_repository import ConcurrentUpdate, StateRepository, without_version
from ..adapters.workflows import Execution, Workflows, execution_name
from ..config import RuntimeConfig
from ..domain.capabilities import event_not_available
from ..domain.errors import DomainError
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.history import event_in_progress, is_running
from ..domain.notifications import NotificationMessage, error_notification, event_notification
from ..domain.records import (attach_execution, lifecycle_response, mark_event_in_progress, new_lifecycle,
                              public_view, record_event_error, with_timeout_flag)
from ..domain.requests import parse_create_request, parse_list_status_query
from ..domain.results import EventError
from ..domain.timeline import DESCRIPTIONS, TimelineView, build_timeline
from ..domain.timestamps import iso_utc
from ..domain.vocabulary import EventName, LifecycleType, Operator, Status

logger = Logger(child=True)

FIRST_ATTEMPT = 1


class StackTagVersions(Protocol):
    """Where the newest AMI version of a stack tag is known (the lookup table)."""

    def highest_semver(self, stack_tag: str) -> str | None:
        """The highest ``ami_semver`` among the stack tag's AMIs, or ``None`` before its first build."""


class EventStartFailed(DomainError):
    """The event was claimed but its state machine could not be started; the record says so."""

    code = "INTERNAL_ERROR"
    http_status = 500


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _new_lifecycle_id() -> str:
    return str(uuid.uuid4())


def public_status(record: Mapping[str, Any]) -> dict[str, Any]:
    """What status routes show of a record: the domain's public view without internal counters."""
    return without_version(public_view(record))


@dataclass
class LifecycleService:
    """The API's use cases for one deployment."""

    config: RuntimeConfig
    repository: StateRepository
    notifier: Notifier
    workflows: Workflows
    versions: StackTagVersions
    clock: Callable[[], datetime] = field(default=_utc_now)
    new_id: Callable[[], str] = field(default=_new_lifecycle_id)

    # ------------------------------------------------------------- create

    def create_lifecycle(self, body: Any) -> dict[str, Any]:
        """POST /ami-creation/lifecycles: record a lifecycle and start its BUILD_AMI event."""
        request = parse_create_request(body)
        state_machine_arn = self.config.build_state_machine_arn
        if not state_machine_arn:
            raise event_not_available(EventName.BUILD_AMI)
        now = self.clock()
        lifecycle_id = self.new_id()
        execution_input = {
            "lifecycle_id": lifecycle_id,
            "stack_tag": request.stack_tag,
            "imagebuilder_pipeline_arn": self.config.imagebuilder_pipeline_arn,
            "product_ver": request.product_ver,
            "product_name": request.product_name,
            "commit_ref": request.commit_ref,
        }
        record = mark_event_in_progress(
            new_lifecycle(request, lifecycle_id, now), EventName.BUILD_AMI, now,
            description=DESCRIPTIONS[EventName.BUILD_AMI],
            properties={key: execution_input[key]
                        for key in ("imagebuilder_pipeline_arn", "product_ver", "product_name", "commit_ref")},
            statemachine_arn=state_machine_arn,
            statemachine_input=execution_input,
        )
        recipients = email_recipients(record["notifications"])
        self.notifier.subscribe_emails(recipients)
        stored = self.repository.create(record)
        try:
            execution = self.workflows.start(
                state_machine_arn, name=execution_name(lifecycle_id, EventName.BUILD_AMI, FIRST_ATTEMPT),
                execution_input=execution_input)
        except Exception as error:  # noqa: BLE001 - every failure to start is recorded, then re-raised
            self._record_start_failure(stored, EventName.BUILD_AMI, error)
            raise EventStartFailed(
                f"lifecycle {lifecycle_id} was recorded but its BUILD_AMI state machine could not be started "
                f"({_error_code(error)}); its status shows the error. Create a new lifecycle to try again.",
                field="lifecycle_id") from error
        stored = self.repository.update(lifecycle_id, lambda current: _with_execution(current, execution),
                                        current=stored)
        self._publish(event_notification(Operator.AMI_CREATION_POST, stored, now), recipients)
        logger.info("lifecycle created", extra={"lifecycle_id": lifecycle_id, "stack_tag": request.stack_tag,
                                                "execution_arn": execution.execution_arn})
        return lifecycle_response(stored)

    def _record_start_failure(self, record: Mapping[str, Any], event: EventName, error: Exception) -> None:
        now = self.clock()
        report = EventError(
            lifecycle_id=record["lifecycle_id"], status=Status.ERROR, status_date=iso_utc(now),
            error_message=f"the {event} state machine could not be started: {_error_code(error)}",
            stack_trace="See error_message", name=event)
        logger.exception("state machine not started", extra={"lifecycle_id": record["lifecycle_id"],
                                                              "event": str(event)})
        try:
            stored = self.repository.update(record["lifecycle_id"],
                                            lambda current: record_event_error(current, report, now))
        except Exception:  # noqa: BLE001 - the original failure is what the caller must see
            logger.exception("could not record the start failure", extra={"lifecycle_id": record["lifecycle_id"]})
            stored = dict(record)
        self._publish(
            error_notification(Operator.AMI_CREATION_POST, str(stored.get("stack_tag")), stored["lifecycle_id"],
                               report.error_message, now),
            email_recipients(stored.get("notifications")))

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
        """Publish, logging (not raising) a failure: a notification never undoes a recorded change."""
        try:
            self.notifier.publish(message, recipients)
        except Exception:  # noqa: BLE001
            logger.exception("notification not published", extra={"lifecycle_id": message.lifecycle_id,
                                                                  "operator": str(message.operator)})


def _with_execution(record: dict[str, Any], execution: Execution) -> dict[str, Any]:
    """Attach the started execution to the claimed BUILD_AMI, unless its result already arrived."""
    current = event_in_progress(record)
    if not current or current.get("name") != EventName.BUILD_AMI or current.get("execution_arn"):
        return record
    if not is_running(record):
        return record
    return attach_execution(record, EventName.BUILD_AMI, execution_arn=execution.execution_arn)


def _error_code(error: Exception) -> str:
    """A failure's AWS error code (or exception type): never its message, which may quote internals."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__
