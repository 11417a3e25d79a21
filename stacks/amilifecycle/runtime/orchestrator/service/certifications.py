"""The QA team's verdict (POST /ami-creation/lifecycles/{id}/certify).

1. validate the request (nothing touched yet: a 400 leaves no trace);
2. check the rules against the stored record (409 before any write: the
   request must have COMPLETED, no verdict may be recorded yet, nothing may
   be running, the stack tag must be the lifecycle's);
3. record QA_CERTIFICATION_RESPONSE with one conditional write (the pure
   transform ``domain.qa_certification.record_verdict``, re-applied after a
   lost race, so of two concurrent verdicts one is recorded and the other
   answered 409). This is the commit point;
4. notify the owners;
5. hand the recorded result to the creation receiver, which finds it
   recorded and, as for any repeated delivery, updates the AMI's lookup
   entry (score 5 when CERTIFIED; a FAILED verdict never raises standing)
   and its tags. A failure here is logged and the owners are told; the
   verdict stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Protocol

from aws_lambda_powertools import Logger

from ..domain.builds import result_message
from ..domain.notifications import error_notification, event_notification
from ..domain.qa_certification import record_verdict, verdict_result
from ..domain.records import lifecycle_response
from ..domain.requests import parse_certification_request
from ..domain.vocabulary import Operator
from .ports import LifecycleRepository, NotificationPublisher
from .publishing import publish_logged

logger = Logger(child=True)


class ResultHandOver(Protocol):
    """Where a recorded result goes to be applied to its AMIs (``adapters/result_queue.py``)."""

    def send(self, value: Mapping[str, Any]) -> str:
        """Send the result message; returns the message id."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class CertificationService:
    repository: LifecycleRepository
    notifier: NotificationPublisher
    results: ResultHandOver
    clock: Callable[[], datetime] = field(default=_utc_now)

    def certify(self, body: Any, path_lifecycle_id: Any) -> dict[str, Any]:
        request = parse_certification_request(body, path_lifecycle_id)
        now = self.clock()
        record = self.repository.get(request.lifecycle_id)
        record_verdict(record, request, now)  # every rule, before anything is written
        stored = self.repository.update(request.lifecycle_id, lambda current: record_verdict(current, request, now),
                                        current=record)
        result = verdict_result(request, now)
        operator = Operator.AMI_CREATION_QA_CERTIFICATION_POST
        publish_logged(self.notifier, event_notification(operator, stored, now, event=result.to_item()), stored)
        try:
            self.results.send(result_message(result))
        except Exception as error:  # noqa: BLE001 - the verdict stands; the owners learn what is missing
            logger.exception("verdict not handed to the creation receiver", extra={"lifecycle_id": result.lifecycle_id})
            publish_logged(self.notifier, error_notification(
                operator, str(stored.get("stack_tag")), result.lifecycle_id,
                f"the verdict {request.certification_status} is recorded, but the AMI's lookup entry and tags "
                f"were not updated ({type(error).__name__}); the lifecycle's status holds the verdict", now), stored)
        logger.info("verdict recorded", extra={"lifecycle_id": result.lifecycle_id,
                                               "certification_status": str(request.certification_status)})
        return lifecycle_response(stored)
