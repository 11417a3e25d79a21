"""Patch use cases behind the API: start a patch (POST), continue it with more events (PUT).

Starting a patch:

1. validate the request, then read the component document from the patch
   component bucket and check it is one Image Builder accepts (a 400 names
   what is wrong; nothing is written and nothing is created);
2. subscribe the owners' email addresses;
3. start PATCH_AMI through the :class:`EventStarter`: the patch inputs and
   the claimed event are one conditional write, after the rules (nothing
   in progress, the AMI to patch approved for production), then the patch
   state machine starts with the AMI to patch and the patch's Image Builder
   version (``versioning.image_builder_version`` of the request time).

Continuing a patch (PUT) records the new inputs and starts the next enabled
patch event, as the creation update does; nothing is written when an event
runs (409) or the current patch has no completed PATCH_AMI (409).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from aws_lambda_powertools import Logger

from ..adapters.notifier import email_recipients
from ..config import RuntimeConfig
from ..domain.errors import Conflict, ValidationError
from ..domain.events import patch_parent_ami
from ..domain.history import event_status
from ..domain.notifications import event_notification
from ..domain.patches import check_component_document, split_s3_url
from ..domain.records import apply_patch_request, lifecycle_response
from ..domain.requests import parse_patch_request, parse_patch_update_request
from ..domain.rules import check_nothing_running, next_enabled_event
from ..domain.versioning import image_builder_version
from ..domain.vocabulary import EventName, LifecycleType, Operator, Status
from .events import EventStarter
from .ports import ComponentReader, LifecycleRepository, NotificationPublisher
from .publishing import publish_to

logger = Logger(child=True)

Record = dict[str, Any]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class PatchService:
    """The API's patch use cases for one deployment."""

    config: RuntimeConfig
    repository: LifecycleRepository
    notifier: NotificationPublisher
    events: EventStarter
    components: ComponentReader
    clock: Callable[[], datetime] = field(default=_utc_now)

    def create_patch(self, body: Any) -> dict[str, Any]:
        """POST /ami-patch/lifecycles: record the patch request and start PATCH_AMI."""
        request = parse_patch_request(body)
        self.events.require(EventName.PATCH_AMI)
        self._check_component(request.patch_component_url)
        now = self.clock()
        record = self.repository.get(request.lifecycle_id)

        def prepare(current: Record) -> Record:
            check_nothing_running(current)
            return apply_patch_request(current, request, now)

        prepare(record)  # the rules and the request's own checks, before anything is written
        parent = patch_parent_ami(record)
        version_dot, version_dash = image_builder_version(now)
        patch = {"patch_component_url": request.patch_component_url,
                 "patch_change_description": request.patch_change_description,
                 "semver_bump_type": str(request.semver_bump_type), "commit_ref": request.commit_ref,
                 "semantic_version_dot": version_dot, "semantic_version_dash": version_dash}
        properties = {**patch, "parent_ami_id": parent["id"], "parent_ami_name": parent["name"],
                      "parent_ami_region": parent["region"], "parent_ami_owner": parent["owner"],
                      "parent_ami_semver": parent["semver"]}
        self.notifier.subscribe_emails(email_recipients([c.to_dict() for c in request.notifications]))
        stored = self.events.start(record, EventName.PATCH_AMI, operator=Operator.AMI_PATCH_POST, prepare=prepare,
                                   properties=properties, extra_input={"patch": patch, "ami": parent})
        logger.info("patch started", extra={"lifecycle_id": request.lifecycle_id, "parent_ami": parent["id"]})
        return _patch_response(stored)

    def update_patch(self, body: Any) -> dict[str, Any]:
        """PUT /ami-patch/lifecycles: new patch inputs, then the next enabled patch event."""
        request = parse_patch_update_request(body)
        now = self.clock()
        record = self.repository.get(request.lifecycle_id)

        def update(current: Record) -> Record:
            check_nothing_running(current)
            if event_status(current, EventName.PATCH_AMI) is not Status.COMPLETED:
                raise Conflict(f"lifecycle {request.lifecycle_id} has no patch to continue: its current "
                               f"{EventName.PATCH_AMI} is {event_status(current, EventName.PATCH_AMI)}; start one "
                               "with POST /ami-patch/lifecycles", field="lifecycle_id")
            return apply_patch_request(current, request, now)

        updated = update(record)
        self.notifier.subscribe_emails(email_recipients([c.to_dict() for c in request.notifications]))
        event = next_enabled_event(updated, LifecycleType.AMI_PATCH)
        if event is None:
            stored = self.repository.update(request.lifecycle_id, update, current=record)
            publish_to(self.notifier, event_notification(Operator.AMI_PATCH_PUT, stored, now),
                       email_recipients(stored.get("notifications")))
        else:
            stored = self.events.start(record, event, operator=Operator.AMI_PATCH_PUT, prepare=update)
        logger.info("patch updated", extra={"lifecycle_id": request.lifecycle_id,
                                            "event_started": str(event) if event else None})
        return _patch_response(stored)

    def _check_component(self, url: str) -> None:
        bucket, _ = split_s3_url(url)
        expected = self.config.patch_component_bucket
        if bucket != expected:
            raise ValidationError(
                f"properties.patch_component_url: the component document must be in this deployment's patch "
                f"component bucket s3://{expected}/, got {url}", field="properties.patch_component_url",
                allowed=[f"s3://{expected}/<key>"])
        check_component_document(self.components.read(url), url=url)


def _patch_response(record: Record) -> dict[str, Any]:
    response = lifecycle_response(record)
    response["creation_date"] = (record.get("inputs_ami_patch") or {}).get("update_date") or response["creation_date"]
    return response
