"""Starting events: one use case for create, update and the next event, on in-memory fakes."""

from __future__ import annotations

import pytest

from orchestrator.config import RuntimeConfig
from orchestrator.domain.capabilities import NotAvailable
from orchestrator.domain.errors import Conflict, ValidationError
from orchestrator.domain.vocabulary import EventName, LifecycleType, Operator
from orchestrator.service.events import EventStarter, EventStartFailed
from orchestrator.service.lifecycles import LifecycleService
from orchestrator.service.next_event import NextEventService

from .domain_builders import BUILT_AMI, LIFECYCLE_ID, NOW, completed, create_body, new_record, toggles, update_body
from .fakes import MemoryNotifier, MemoryRepository, MemoryWorkflows, StaticStateMachines, machine_arn

PIPELINE = "arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/ami-lifecycle-main"
SMOKE = EventName.SMOKE_TESTS_AMI_CREATE
SCANS = EventName.VULNERABILITY_SCANS_AMI_CREATE


class World:
    def __init__(self, *events: EventName) -> None:
        deployed = events or (EventName.BUILD_AMI, SMOKE, SCANS)
        self.repository = MemoryRepository()
        self.workflows = MemoryWorkflows()
        self.notifier = MemoryNotifier()
        self.machines = StaticStateMachines({str(e): machine_arn(str(e).lower()) for e in deployed})
        self.starter = EventStarter(repository=self.repository, workflows=self.workflows, notifier=self.notifier,
                                    state_machines=self.machines, clock=lambda: NOW)
        config = RuntimeConfig.from_env({"STACK_TAG": "main", "IMAGEBUILDER_PIPELINE_ARN": PIPELINE,
                                         "STATE_MACHINE_MAX_WAIT_MINUTES": "240", "DEFAULT_SEMVER_SEED": "1.0.0"})
        self.lifecycles = LifecycleService(config=config, repository=self.repository, notifier=self.notifier,
                                           events=self.starter, versions=self, clock=lambda: NOW,
                                           new_id=lambda: LIFECYCLE_ID)
        self.next_events = NextEventService(repository=self.repository, notifier=self.notifier,
                                            events=self.starter, clock=lambda: NOW)

    def highest_semver(self, stack_tag: str) -> str | None:
        return None

    def built(self, **create_overrides) -> dict:
        """A stored lifecycle whose BUILD_AMI completed (nothing in progress)."""
        record = completed(new_record(**create_overrides), EventName.BUILD_AMI)
        return self.repository.create(record)

    def stored(self) -> dict:
        return self.repository.get(LIFECYCLE_ID)


# --------------------------------------------------------------------- start

def test_a_start_claims_the_event_then_starts_its_machine_with_a_deterministic_name():
    world = World()
    stored = world.starter.start(world.built(), SMOKE)
    [(name, execution)] = world.workflows.executions.items()
    assert name == f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-1"
    assert execution["state_machine_arn"] == machine_arn("smoke_tests_ami_create")
    claimed = stored["event_in_progress"]
    assert claimed["name"] == SMOKE and claimed["status"] == "IN_PROGRESS"
    assert claimed["execution_arn"] == execution["execution_arn"]
    assert claimed["statemachine_input"] == execution["input"]
    assert stored["event_attempts"] == {"SMOKE_TESTS_AMI_CREATE": 1}
    assert world.notifier.subjects() == ["AMI_CREATE_SMOKE_TEST_EXECUTION event for main"]


def test_the_input_names_the_event_its_phase_its_attempt_and_the_ami_it_works_on():
    world = World()
    world.starter.start(world.built(), SMOKE)
    [execution] = world.workflows.executions.values()
    value = execution["input"]
    assert value["event"] == "SMOKE_TESTS_AMI_CREATE" and value["operation_type"] == "ami-creation"
    assert value["attempt"] == 1 and value["lifecycle_id"] == LIFECYCLE_ID and value["stack_tag"] == "main"
    assert value["ami"]["id"] == BUILT_AMI and value["ami"]["semver"] == "1.0.0"
    assert value["ami"]["region"] == "eu-west-1" and value["ami"]["owner"] == "123456789012"


def test_an_event_this_deployment_does_not_run_is_refused_before_anything_is_written():
    world = World(EventName.BUILD_AMI)
    record = world.built()
    writes = world.repository.writes
    with pytest.raises(NotAvailable, match="SMOKE_TESTS_AMI_CREATE is not available"):
        world.starter.start(record, SMOKE)
    assert world.repository.writes == writes and world.workflows.executions == {}


def test_a_second_start_while_an_event_runs_is_a_conflict_and_starts_nothing():
    world = World()
    stored = world.starter.start(world.built(), SMOKE)
    with pytest.raises(Conflict, match="in progress"):
        world.starter.start(stored, SCANS)
    assert len(world.workflows.executions) == 1


def test_a_machine_that_cannot_start_leaves_the_event_in_error_and_tells_the_owners():
    world = World()
    world.workflows.fail_with = RuntimeError("throttled")
    with pytest.raises(EventStartFailed, match=LIFECYCLE_ID):
        world.starter.start(world.built(), SMOKE)
    claimed = world.stored()["event_in_progress"]
    assert claimed["status"] == "ERROR" and "RuntimeError" in claimed["error_message"]
    assert "throttled" not in claimed["error_message"]
    assert world.notifier.subjects() == ["ERROR in AMI_CREATE_SMOKE_TEST_EXECUTION event for main"]


def test_a_retried_event_gets_the_next_attempt_and_a_new_execution_name():
    world = World()
    world.workflows.fail_with = RuntimeError("throttled")
    with pytest.raises(EventStartFailed):
        world.starter.start(world.built(), SMOKE)
    world.workflows.fail_with = None
    stored = world.starter.start(world.stored(), SMOKE)
    assert list(world.workflows.executions) == [f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2"]
    assert stored["event_attempts"] == {"SMOKE_TESTS_AMI_CREATE": 2}


def test_a_start_that_loses_a_race_is_reapplied_to_the_newer_record():
    world = World()
    record = world.built()

    def concurrent_writer(lifecycle_id: str) -> None:
        other = world.repository.records[lifecycle_id]
        world.repository.records[lifecycle_id] = {**other, "owner": "someone-else", "version": other["version"] + 1}

    world.repository.before_write = concurrent_writer
    stored = world.starter.start(record, SMOKE)
    assert stored["owner"] == "someone-else" and stored["event_in_progress"]["name"] == SMOKE


def test_a_race_lost_to_another_start_is_a_conflict():
    world = World()
    record = world.built()

    def other_start(lifecycle_id: str) -> None:
        world.repository.before_write = None
        world.starter.start(world.repository.get(lifecycle_id), SMOKE)

    world.repository.before_write = other_start
    with pytest.raises(Conflict):
        world.starter.start(record, SMOKE)
    assert list(world.workflows.executions) == [f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-1"]


# -------------------------------------------------------------------- create

def test_create_claims_build_ami_in_the_first_write_and_passes_the_pipeline():
    world = World()
    world.lifecycles.create_lifecycle(create_body())
    stored = world.stored()
    assert stored["version"] == 2  # created with the claim, then given its execution
    [execution] = world.workflows.executions.values()
    assert execution["input"]["imagebuilder_pipeline_arn"] == PIPELINE
    assert world.notifier.subscribed == {"owner@example.com"}
    assert world.notifier.subjects() == ["AMI_CREATION_POST event for main"]


def test_create_without_a_build_machine_writes_nothing():
    world = World(SMOKE)
    with pytest.raises(NotAvailable, match="BUILD_AMI"):
        world.lifecycles.create_lifecycle(create_body())
    assert world.repository.records == {} and world.notifier.subscribed == set()


# -------------------------------------------------------------------- update

def test_an_update_records_the_new_inputs_and_starts_the_next_enabled_event_in_one_write():
    world = World()
    world.built(events=toggles(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                                "QA_CERTIFICATION_REQUEST"), {"BUILD_AMI"}))
    writes = world.repository.writes
    response = world.lifecycles.update_lifecycle(update_body(owner="new-owner"))
    stored = world.stored()
    assert response["lifecycle_id"] == LIFECYCLE_ID
    assert stored["owner"] == "new-owner" and stored["event_in_progress"]["name"] == SMOKE
    assert world.repository.writes == writes + 2  # the update with the claim, then the execution ARN
    assert list(world.workflows.executions) == [f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-1"]
    assert world.notifier.subjects() == ["AMI_CREATION_PUT event for main"]


def test_an_update_while_an_event_runs_is_a_conflict_and_changes_nothing():
    world = World()
    world.starter.start(world.built(), SMOKE)
    before = world.stored()
    with pytest.raises(Conflict, match="in progress"):
        world.lifecycles.update_lifecycle(update_body(owner="new-owner"))
    assert world.stored() == before


def test_an_update_before_the_build_completed_is_a_conflict():
    world = World()
    world.lifecycles.create_lifecycle(create_body())
    record = world.stored()
    record["event_in_progress"]["status"] = "ERROR"
    world.repository.records[LIFECYCLE_ID] = record
    with pytest.raises(Conflict, match="BUILD_AMI has COMPLETED"):
        world.lifecycles.update_lifecycle(update_body())


def test_an_update_with_nothing_left_to_start_records_the_inputs_only():
    world = World()
    world.built()
    nothing = toggles(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST"), set())
    world.lifecycles.update_lifecycle(update_body(events=nothing, owner="new-owner"))
    assert world.stored()["owner"] == "new-owner" and "event_in_progress" not in world.stored()
    assert world.workflows.executions == {}


def test_an_update_whose_next_event_is_not_deployed_writes_nothing():
    world = World(EventName.BUILD_AMI)
    before = world.built()
    with pytest.raises(NotAvailable, match="SMOKE_TESTS_AMI_CREATE"):
        world.lifecycles.update_lifecycle(update_body(owner="new-owner"))
    assert world.stored() == before


def test_an_update_with_a_hole_in_its_events_is_a_validation_error():
    world = World()
    world.built()
    holed = toggles(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                     "QA_CERTIFICATION_REQUEST"), {"SMOKE_TESTS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"})
    with pytest.raises(ValidationError, match="VULNERABILITY_SCANS_AMI_CREATE is disabled"):
        world.lifecycles.update_lifecycle(update_body(events=holed))


# ---------------------------------------------------------------- next event

def test_after_a_result_the_next_enabled_event_is_started_by_the_same_starter():
    world = World()
    step = world.next_events.continue_lifecycle(world.built(), LifecycleType.AMI_CREATION)
    assert step.action == "started" and step.event is SMOKE
    assert step.record["event_in_progress"]["name"] == SMOKE


def test_a_next_event_whose_machine_cannot_start_is_reported_not_raised():
    world = World()
    world.workflows.fail_with = RuntimeError("throttled")
    step = world.next_events.continue_lifecycle(world.built(), LifecycleType.AMI_CREATION)
    assert step.action == "failed" and step.record["event_in_progress"]["status"] == "ERROR"


def test_a_next_event_this_deployment_does_not_run_is_noted_not_started():
    world = World(EventName.BUILD_AMI)
    step = world.next_events.continue_lifecycle(world.built(), LifecycleType.AMI_CREATION)
    assert step.action == "not_available" and world.workflows.executions == {}
    assert Operator.AMI_CREATE_SMOKE_TEST_EXECUTION in world.notifier.subjects()[0]
