"""Recording what the event state machines report: results and errors.

A result (creation receiver) is recorded in this order:

1. validate it (the domain drops anything that is not part of a result,
   such as keys older producers put in messages);
2. for a completed BUILD_AMI, take the stack tag's next semantic version
   from the seed table (atomic: concurrent builds get distinct versions);
   for a completed PATCH_AMI (patch receiver), bump the lifecycle's newest
   version MINOR or PATCH and claim it in the seed table (conditional: a
   version another lifecycle of the stack tag holds is skipped);
3. merge it into the lifecycle record with an optimistic-concurrency write
   (re-applied after a lost race). This is the commit point;
4. notify the owners (right after the commit, so that a later step failing
   cannot keep the owners uninformed; a failed publish is logged);
5. update the AMI's lookup entry (conditional write: no lost update; only a
   successful result raises the AMI's standing);
6. write the AMI tags;
7. answer the state machine's task token;
8. start the next enabled event (or record why it cannot start).

A repeated delivery of a result already recorded changes nothing: the
record is left alone, no version is taken, no notification is sent; steps
5 to 8, which are idempotent, run again so that a delivery that failed
half-way is completed by its retry. If the function dies between
steps 2 and 3, the taken version is skipped (versions stay distinct, with
a gap).

An error report (error receiver) marks the event in progress as ERROR with
its cause (only if it is about that very event and execution) and notifies
the owners; a repeated report changes nothing and notifies nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger

from ..adapters.ami_tags import AmiTagger
from ..adapters.lookup_repository import LookupRepository
from ..adapters.semver_seeds import SemverSeeds
from ..domain.errors import Conflict, DomainError, ValidationError
from ..domain.history import ami_details, event_in_progress, lifecycle_semver, phase_ami_entry
from ..domain.lookup import amis_for_result
from ..domain.notifications import NotificationMessage, error_notification, event_notification
from ..domain.patches import bump_of
from ..domain.records import record_event_error, record_event_result, result_already_recorded
from ..domain.results import EventError, EventResult, parse_event_result
from ..domain.sequences import first_event
from ..domain.tags import ami_tags
from ..domain.vocabulary import EventName, LifecycleType, Operator, Status
from ..adapters.workflows import answered
from .next_event import NextEventService
from .publishing import publish_logged
from .ports import LifecycleRepository, NotificationPublisher, WorkflowEngine

logger = Logger(child=True)

Record = dict[str, Any]
RECEIVER_COMPLETED = {"receiver_status": "COMPLETED"}
# A token that can no longer be answered: the execution already moved on.
_RECEIVER_OPERATORS = {LifecycleType.AMI_CREATION: Operator.AMI_CREATION_RECEIVER,
                       LifecycleType.AMI_PATCH: Operator.AMI_PATCH_RECEIVER}
# Bookkeeping that every write changes; not a change of content.
_BOOKKEEPING = frozenset({"last_modified", "version"})


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _content(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in _BOOKKEEPING}


@dataclass(frozen=True)
class RecordedResult:
    """What recording one result did."""

    result: EventResult
    record: Record
    duplicate: bool
    tagged_amis: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordedError:
    """What recording one error report did (``applied``: the event in progress was annotated)."""

    error: EventError
    record: Record
    applied: bool


@dataclass
class ResultService:
    """The receivers' use cases."""

    repository: LifecycleRepository
    notifier: NotificationPublisher
    seeds: SemverSeeds
    lookup: LookupRepository
    tagger: AmiTagger
    workflows: WorkflowEngine
    next_events: NextEventService
    clock: Callable[[], datetime] = field(default=_utc_now)

    # ------------------------------------------------------------- results

    def record_result(self, value: Any, *, task_token: str | None = None) -> RecordedResult:
        """Record one result message (``task_details.value``) and answer its task token.

        A message that can never be recorded (malformed, unknown lifecycle,
        a state that forbids it) fails its token at once, so the state
        machine reports the error instead of waiting for its timeout, and
        raises so the message is retried and finally parked in the DLQ.
        Other failures raise without touching the token: the retry may
        succeed.
        """
        try:
            result = parse_event_result(value)
            recorded = self._record(result)
        except DomainError as refused:
            self._answer_failure(task_token, refused)
            raise
        self._answer_success(task_token)
        if recorded.result.status is Status.COMPLETED:
            self.next_events.continue_lifecycle(recorded.record, recorded.result.lifecycle_type,
                                                announce=not recorded.duplicate)
        return recorded

    def _record(self, result: EventResult) -> RecordedResult:
        now = self.clock()
        record = self.repository.get(result.lifecycle_id)
        duplicate = result_already_recorded(record, result)
        if not duplicate:
            if result.name is EventName.BUILD_AMI and result.status is Status.COMPLETED:
                _require_amis(result)
                result = result.with_ami_semver(self.seeds.assign(str(record["stack_tag"])))
            elif result.name is EventName.PATCH_AMI and result.status is Status.COMPLETED:
                _require_amis(result)
                result = result.with_ami_semver(self._patch_version(record, result))
            outcome: dict[str, bool] = {}

            def merge(current: Record) -> Record:
                outcome["duplicate"] = result_already_recorded(current, result)
                return current if outcome["duplicate"] else record_event_result(current, result, now)

            record = self.repository.update(result.lifecycle_id, merge, current=record)
            duplicate = outcome.get("duplicate", False)
        result = _as_recorded(record, result)
        if duplicate:
            logger.info("result already recorded", extra={"lifecycle_id": result.lifecycle_id,
                                                          "event": str(result.name)})
        else:
            logger.info("result recorded", extra={"lifecycle_id": result.lifecycle_id, "event": str(result.name),
                                                  "status": str(result.status)})
            self._publish(event_notification(_RECEIVER_OPERATORS[result.lifecycle_type], record, now,
                                             event=result.to_item()), record)
        tagged = self._update_amis(record, result)
        return RecordedResult(result=result, record=record, duplicate=duplicate, tagged_amis=tagged)

    def _patch_version(self, record: Record, result: EventResult) -> str:
        """The patched AMI's version: the lifecycle's newest AMI's version bumped as asked, claimed so that
        no other lifecycle of the stack tag ever holds it."""
        base = lifecycle_semver(record)
        if base is None:
            raise Conflict(f"{result.name} result for lifecycle {result.lifecycle_id}, whose AMI has no version yet",
                           field="lifecycle_id")
        return self.seeds.claim_patch_version(str(record["stack_tag"]), base=base, bump=bump_of(result, record),
                                              lifecycle_id=result.lifecycle_id)

    def _update_amis(self, record: Record, result: EventResult) -> tuple[str, ...]:
        """Lookup entries (this account's AMIs) and tags (every reachable copy) of the result's AMIs."""
        now = self.clock()
        tags = ami_tags(record, result)
        tagged = []
        for ami in amis_for_result(record, result):
            if self.tagger.is_own(ami):
                self.lookup.record(record=record, ami=ami, result=result, now=now)
            if self.tagger.tag(ami, tags).tagged:
                tagged.append(str(ami.get("image")))
        return tuple(tagged)

    # ------------------------------------------------------------- helpers

    def _answer_success(self, task_token: str | None) -> None:
        if task_token:
            self._answer(lambda: self.workflows.send_task_success(task_token, RECEIVER_COMPLETED))

    def _answer_failure(self, task_token: str | None, refused: DomainError) -> None:
        if not task_token:
            return
        try:
            self._answer(lambda: self.workflows.send_task_failure(task_token, error=refused.code,
                                                                  cause=refused.message))
        except Exception:  # noqa: BLE001 - the refusal itself is what must surface
            logger.exception("could not fail the task token of a refused result")

    @staticmethod
    def _answer(call: Callable[[], None]) -> None:
        if not answered(call):
            logger.info("task token already answered or expired")

    def _publish(self, message: NotificationMessage, record: Mapping[str, Any]) -> None:
        publish_logged(self.notifier, message, record)


@dataclass
class ErrorService:
    """The error receiver's use case: mark the event in progress as failed, and tell the owners."""

    repository: LifecycleRepository
    notifier: NotificationPublisher
    clock: Callable[[], datetime] = field(default=_utc_now)

    def record_error(self, error: EventError) -> RecordedError:
        """Mark the event in progress as failed with the reported cause, and tell the owners."""
        now = self.clock()
        record = self.repository.get(error.lifecycle_id)
        applied: dict[str, bool] = {}

        def annotate(current: Record) -> Record:
            annotated = record_event_error(current, error, now)
            applied["changed"] = _content(annotated) != _content(current)
            return annotated if applied["changed"] else current

        stored = self.repository.update(error.lifecycle_id, annotate, current=record)
        if not applied.get("changed"):
            current = event_in_progress(stored) or {}
            logger.info("error report ignored: already recorded, or not about the event in progress",
                        extra={"lifecycle_id": error.lifecycle_id, "event": str(error.name),
                               "event_in_progress": current.get("name")})
            return RecordedError(error=error, record=stored, applied=False)
        event = error.name or (event_in_progress(stored) or {}).get("name") or "the event in progress"
        self._publish(error_notification(
            Operator.AMI_ERROR_RECEIVER, str(stored.get("stack_tag")), error.lifecycle_id,
            f"{event} ended with {error.status}: {error.error_message}", now), stored)
        logger.info("error recorded", extra={"lifecycle_id": error.lifecycle_id, "event": str(event),
                                             "status": str(error.status)})
        return RecordedError(error=error, record=stored, applied=True)

    def _publish(self, message: NotificationMessage, record: Mapping[str, Any]) -> None:
        publish_logged(self.notifier, message, record)


def _require_amis(result: EventResult) -> None:
    """A completed build names the AMIs it made; without them there is nothing to version or select."""
    amis = ami_details(result.to_item())
    if not amis or not all(isinstance(ami, Mapping) and ami.get("image") and ami.get("region") for ami in amis):
        raise ValidationError(
            f"properties.ami_details: a COMPLETED {result.name} result must list every built AMI with its "
            f"region and image id", field="properties.ami_details")


def _as_recorded(record: Mapping[str, Any], result: EventResult) -> EventResult:
    """``result`` as the record holds it: a build or patch result with the version it was given (and, for a
    patch, the ancestry the record added)."""
    if result.name is not first_event(result.lifecycle_type) or result.status is not Status.COMPLETED:
        return result
    entry = phase_ami_entry(record, result.lifecycle_type) or {}
    amis = ami_details(entry)
    version = amis[0].get("ami_semver") if amis else None
    recorded = result.with_ami_semver(str(version)) if version else result
    ancestry = (entry.get("properties") or {}).get("ami_ancestry")
    return recorded.with_properties(ami_ancestry=ancestry) if ancestry else recorded
