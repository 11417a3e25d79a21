"""Approving an AMI for production (or refusing it): routes 6 and 13.

APPROVED starts the phase's MARK_FOR_PRODUCTION event through the one
:class:`EventStarter` (claim, then start the state machine that backs the
AMI up and publishes it to the production channel). NOT_APPROVED records
the refusal as the event's FAILED result with one conditional write and
notifies the owners; nothing starts and the channel is untouched. Both are
refused (409) unless the approval's rule holds (``rules.check_can_start``:
nothing running, the events the owner enabled COMPLETED, QA CERTIFIED when
QA is part of the lifecycle, not approved already), and nothing is written
then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger

from ..domain.history import event_entry
from ..domain.notifications import event_notification
from ..domain.records import ensure_stack_tag, lifecycle_response, record_event_result
from ..domain.requests import parse_approval_request
from ..domain.results import approval_refused_result
from ..domain.rules import check_can_start
from ..domain.events import event_ami
from ..domain.vocabulary import ApprovalStatus, EventName, LifecycleType, definition
from .events import EventStarter
from .ports import LifecycleRepository, NotificationPublisher
from .publishing import publish_logged

logger = Logger(child=True)

Record = dict[str, Any]
APPROVAL_OF: Mapping[LifecycleType, EventName] = {
    LifecycleType.AMI_CREATION: EventName.MARK_FOR_PRODUCTION_CREATE,
    LifecycleType.AMI_PATCH: EventName.MARK_FOR_PRODUCTION_PATCH,
}


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ApprovalService:
    """The approve routes' use case."""

    repository: LifecycleRepository
    notifier: NotificationPublisher
    events: EventStarter
    clock: Callable[[], datetime] = field(default=_utc_now)

    def decide(self, body: Any, path_lifecycle_id: Any, lifecycle_type: LifecycleType) -> dict[str, Any]:
        """POST /ami-creation|ami-patch/lifecycles/{id}/approve."""
        request = parse_approval_request(body, path_lifecycle_id)
        event = APPROVAL_OF[LifecycleType(lifecycle_type)]
        if request.approval_status is ApprovalStatus.APPROVED:
            self.events.require(event)  # 501 before anything is read or written
        record = self.repository.get(request.lifecycle_id)
        ensure_stack_tag(record, request.stack_tag)
        if request.approval_status is ApprovalStatus.APPROVED:
            stored = self._approve(record, event, request.properties)
        else:
            stored = self._refuse(record, event, request.properties)
        logger.info("approval decided", extra={"lifecycle_id": request.lifecycle_id, "event": str(event),
                                               "approval_status": str(request.approval_status)})
        return lifecycle_response(stored)

    def _approve(self, record: Record, event: EventName, properties: Mapping[str, str]) -> Record:
        check_can_start(record, event)  # the rule's own message, before the AMI is looked at
        ami = event_ami(record, event)
        approval = {"approval_status": str(ApprovalStatus.APPROVED), "properties": dict(properties)}
        extra: dict[str, Any] = {"approval": approval}
        if event is EventName.MARK_FOR_PRODUCTION_PATCH:
            # The patched AMI carries its patch's commit, not the lifecycle's first one.
            patch = event_entry(record, EventName.PATCH_AMI) or {}
            commit = patch.get("commit_ref") or (record.get("inputs_ami_patch") or {}).get("commit_ref")
            if commit:
                extra["commit_ref"] = str(commit)
        claimed = {**dict(properties), "approval_status": str(ApprovalStatus.APPROVED),
                   "mark_for_production_ami_id": ami["id"], "mark_for_production_ami_name": ami["name"],
                   "mark_for_production_ami_region": ami["region"], "mark_for_production_ami_owner": ami["owner"],
                   "mark_for_production_ami_semver": ami["semver"]}
        return self.events.start(record, event, operator=definition(event).start_operator, properties=claimed,
                                 extra_input=extra)

    def _refuse(self, record: Record, event: EventName, properties: Mapping[str, str]) -> Record:
        now = self.clock()
        refusal = approval_refused_result(str(record["lifecycle_id"]), definition(event).lifecycle_type,
                                          properties, now)

        def refuse(current: Record) -> Record:
            check_can_start(current, event)
            return record_event_result(current, refusal, now)

        stored = self.repository.update(str(record["lifecycle_id"]), refuse, current=record)
        publish_logged(self.notifier, event_notification(definition(event).start_operator, stored, now,
                                                         event=refusal.to_item()), stored)
        return stored
