"""Revoking an approved AMI: the record first, then everything that must stop pointing at it.

1. validate the request and find the AMI (the one named, or the newest
   approved one); 409 when it is not approved;
2. record the revocation with one conditional write (the commit point),
   and notify the owners;
3. drop it from the production channel: the channel falls back to the
   previous approved release, or its parameters are deleted when none is
   left;
4. flag its lookup entry, so selection never returns it again;
5. tag it (and every AMI patched from it, naming the revoked ancestor) and
   deprecate it.

Steps 3 to 5 are idempotent. A repeated request for an AMI already revoked
records nothing new and sends no notification, but runs them again, so a
revocation that failed half-way (say, EC2 was unreachable) is completed by
its retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from aws_lambda_powertools import Logger

from ..domain.history import ami_details, phase_ami_entry
from ..domain.notifications import event_notification
from ..domain.records import ensure_stack_tag, lifecycle_response
from ..domain.revocation import (ami_chain, parse_revoke_request, record_revocation, revocation_of,
                                 revocation_tags, revocation_target)
from ..domain.vocabulary import LifecycleType, Operator
from .ports import LifecycleRepository, NotificationPublisher
from .publishing import publish_logged

logger = Logger(child=True)

Record = dict[str, Any]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RevocationService:
    """The revoke route's use case."""

    repository: LifecycleRepository
    notifier: NotificationPublisher
    channel: Any  # adapters.production_channel.ProductionChannel
    lookup: Any  # adapters.lookup_repository.LookupRepository
    tagger: Any  # adapters.ami_tags.AmiTagger
    deprecations: Any  # adapters.ami_deprecation.AmiDeprecations
    clock: Callable[[], datetime] = field(default=_utc_now)

    def revoke(self, body: Any, path_lifecycle_id: Any) -> dict[str, Any]:
        """POST /lifecycles/{id}/revoke."""
        request = parse_revoke_request(body, path_lifecycle_id)
        now = self.clock()
        record = self.repository.get(request.lifecycle_id)
        ensure_stack_tag(record, request.stack_tag)
        target = revocation_target(record, request.ami_id)
        ami_id = str(target["ami"].get("image"))
        new = revocation_of(record, ami_id) is None

        def revoke(current: Record) -> Record:
            return record_revocation(current, revocation_target(current, ami_id), request.reason, now)

        stored = self.repository.update(request.lifecycle_id, revoke, current=record)
        revoked = revocation_of(stored, ami_id) or {}
        reason = str(revoked.get("reason") or request.reason)
        if new:  # right after the commit: a later step failing cannot keep the owners uninformed
            publish_logged(self.notifier, event_notification(Operator.AMI_REVOKE_POST, stored, now,
                                                             event={"name": "REVOKE", **revoked}), stored)
        self._stop_using(stored, target, reason, now)
        logger.info("AMI revoked", extra={"lifecycle_id": request.lifecycle_id, "ami_id": ami_id, "new": new})
        return lifecycle_response(stored)

    def _stop_using(self, record: Record, target: dict[str, Any], reason: str, now: datetime) -> None:
        ami = target["ami"]
        ami_id, region = str(ami.get("image")), str(ami.get("region") or "")
        product = str(record.get("product_name") or "")
        self.channel.revoke(str(record["stack_tag"]), product, ami_id=ami_id, region=region, reason=reason, now=now)
        for copy in self._copies(record, ami_id):
            if self.tagger.is_own(copy):
                self.lookup.flag_revoked(region=str(copy.get("region")), ami_id=str(copy.get("image")),
                                         reason=reason, now=now)
            self.tagger.tag(copy, revocation_tags(reason, now))
        chain = [item["ami"] for item in ami_chain(record)]
        ids = [str(item.get("image")) for item in chain]
        for descendant in chain[ids.index(ami_id) + 1:] if ami_id in ids else []:
            self.tagger.tag(descendant, revocation_tags(reason, now, ancestor=ami_id))
        if self.tagger.is_own(ami):
            self.deprecations.deprecate(ami_id, now=now)

    @staticmethod
    def _copies(record: Record, ami_id: str) -> list[dict[str, Any]]:
        """Every distributed copy of the revoked AMI (the build's or patch's ``ami_details`` it heads)."""
        for lifecycle_type in (LifecycleType.AMI_CREATION, LifecycleType.AMI_PATCH):
            amis = ami_details(phase_ami_entry(record, lifecycle_type))
            if amis and amis[0].get("image") == ami_id:
                return amis
        for item in ami_chain(record):
            if item["ami"].get("image") == ami_id:
                return [item["ami"]]
        return []
