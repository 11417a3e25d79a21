"""The approve routes' use case on in-memory fakes: approval starts the event, refusal records it."""

from __future__ import annotations

import pytest

from orchestrator.domain.capabilities import NotAvailable
from orchestrator.domain.errors import Conflict, NotFound, ValidationError
from orchestrator.domain.history import event_entry
from orchestrator.domain.vocabulary import EventName, LifecycleType
from orchestrator.service.approvals import ApprovalService
from orchestrator.service.events import EventStarter

from .domain_builders import (BUILT_AMI, CREATION_EVENTS, LIFECYCLE_ID, NOW, PATCHED_AMI, completed, new_record,
                              patched_record, toggles)
from .fakes import MemoryNotifier, MemoryRepository, MemoryWorkflows, StaticStateMachines, machine_arn

MFP = EventName.MARK_FOR_PRODUCTION_CREATE
MFP_PATCH = EventName.MARK_FOR_PRODUCTION_PATCH
CREATION, PATCH = LifecycleType.AMI_CREATION, LifecycleType.AMI_PATCH


class World:
    def __init__(self, record: dict | None = None, *, deployed: bool = True) -> None:
        self.repository = MemoryRepository()
        self.workflows = MemoryWorkflows()
        self.notifier = MemoryNotifier()
        arns = {str(e): machine_arn("mark-for-production") for e in (MFP, MFP_PATCH)} if deployed else {}
        starter = EventStarter(repository=self.repository, workflows=self.workflows, notifier=self.notifier,
                               state_machines=StaticStateMachines(arns), clock=lambda: NOW)
        self.approvals = ApprovalService(repository=self.repository, notifier=self.notifier, events=starter,
                                         clock=lambda: NOW)
        if record is not None:
            self.repository.create(record)

    def decide(self, status: str, lifecycle_type: LifecycleType = CREATION, **body) -> dict:
        return self.approvals.decide({"stack_tag": "main", "approval_status": status, **body}, LIFECYCLE_ID,
                                     lifecycle_type)

    def stored(self) -> dict:
        return self.repository.get(LIFECYCLE_ID)


def smoke_tested() -> dict:
    """Built and smoke-tested, QA not enabled: ready for approval."""
    record = new_record(events=toggles(CREATION_EVENTS, {"BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"}))
    return completed(record, "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")


def test_approved_starts_the_mark_for_production_event_with_the_ami_and_the_verdict():
    world = World(smoke_tested())

    answer = world.decide("APPROVED", properties={"change_ref": "CHG-42"})

    assert answer["lifecycle_id"] == LIFECYCLE_ID
    [(name, execution)] = world.workflows.executions.items()
    assert name == f"{LIFECYCLE_ID}-MARK_FOR_PRODUCTION_CREATE-1"
    value = execution["input"]
    assert value["event"] == "MARK_FOR_PRODUCTION_CREATE" and value["operation_type"] == "ami-creation"
    assert value["ami"]["id"] == BUILT_AMI and value["ami"]["semver"] == "1.0.0"
    assert value["approval"] == {"approval_status": "APPROVED", "properties": {"change_ref": "CHG-42"}}
    claimed = world.stored()["event_in_progress"]
    assert claimed["name"] == MFP and claimed["properties"]["mark_for_production_ami_id"] == BUILT_AMI
    assert world.notifier.subjects() == ["AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST event for main"]


def test_not_approved_records_the_refusal_notifies_and_starts_nothing():
    world = World(smoke_tested())

    world.decide("NOT_APPROVED", properties={"reason": "not this sprint"})

    assert world.workflows.executions == {}
    entry = event_entry(world.stored(), MFP)
    assert entry["status"] == "FAILED" and entry["approval_status"] == "NOT_APPROVED"
    assert entry["properties"]["reason"] == "not this sprint"
    assert "event_in_progress" not in world.stored()
    assert world.notifier.subjects() == ["AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST event for main"]


def test_failed_is_the_older_clients_word_for_not_approved():
    world = World(smoke_tested())

    world.decide("FAILED")

    assert event_entry(world.stored(), MFP)["approval_status"] == "NOT_APPROVED"


def test_a_second_approval_while_the_first_runs_is_a_conflict_and_writes_nothing():
    world = World(smoke_tested())
    world.decide("APPROVED")
    writes = world.repository.writes

    with pytest.raises(Conflict, match="MARK_FOR_PRODUCTION_CREATE is in progress"):
        world.decide("APPROVED")
    with pytest.raises(Conflict, match="in progress"):
        world.decide("NOT_APPROVED")

    assert world.repository.writes == writes and len(world.workflows.executions) == 1


def test_an_approved_ami_cannot_be_approved_or_refused_again():
    world = World(completed(smoke_tested(), MFP, start=5))

    for verdict in ("APPROVED", "NOT_APPROVED"):
        with pytest.raises(Conflict, match="already COMPLETED"):
            world.decide(verdict)

    assert world.workflows.executions == {}


def test_an_approval_before_the_enabled_events_completed_is_a_conflict():
    record = completed(new_record(events=toggles(CREATION_EVENTS, {"BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"})),
                       "BUILD_AMI")
    world = World(record)

    with pytest.raises(Conflict, match=r"SMOKE_TESTS_AMI_CREATE \(NOT_STARTED\)"):
        world.decide("NOT_APPROVED")

    assert event_entry(world.stored(), MFP) is None


def test_a_refusal_may_be_followed_by_an_approval():
    world = World(smoke_tested())
    world.decide("NOT_APPROVED")

    world.decide("APPROVED")

    assert world.stored()["event_in_progress"]["name"] == MFP


def test_the_lifecycle_must_belong_to_the_stack_tag_named():
    world = World(smoke_tested())

    with pytest.raises(NotFound, match="stack tag other"):
        world.decide("APPROVED", stack_tag="other")


def test_a_bad_verdict_names_the_allowed_values():
    world = World(smoke_tested())

    with pytest.raises(ValidationError, match="approval_status: expected one of APPROVED, NOT_APPROVED"):
        world.decide("MAYBE")


def test_an_approval_this_deployment_cannot_run_is_refused_before_anything_is_written():
    world = World(smoke_tested(), deployed=False)
    writes = world.repository.writes

    with pytest.raises(NotAvailable):
        world.decide("APPROVED")

    assert world.repository.writes == writes


def test_the_patch_approval_works_on_the_current_patched_ami_and_its_commit():
    world = World(completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH", start=110))

    world.decide("APPROVED", PATCH)

    [execution] = world.workflows.executions.values()
    value = execution["input"]
    assert value["event"] == "MARK_FOR_PRODUCTION_PATCH" and value["operation_type"] == "ami-patch"
    assert value["ami"]["id"] == PATCHED_AMI and value["ami"]["semver"] == "1.1.0"
    assert value["commit_ref"] == "77aa01c"
    assert world.notifier.subjects() == ["AMI_PATCH_MARK_FOR_PRODUCTION_APPROVAL_POST event for main"]


def test_the_patch_refusal_is_recorded_in_the_current_patch():
    world = World(completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH", start=110))

    world.decide("NOT_APPROVED", PATCH)

    entry = event_entry(world.stored(), MFP_PATCH)
    assert entry["status"] == "FAILED" and entry["approval_status"] == "NOT_APPROVED"
    assert world.workflows.executions == {}


def test_the_patch_approval_needs_the_enabled_patch_events():
    world = World(patched_record())

    with pytest.raises(Conflict, match=r"SMOKE_TESTS_AMI_PATCH \(NOT_STARTED\)"):
        world.decide("APPROVED", PATCH)
