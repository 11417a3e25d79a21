"""Starting and continuing patches (routes 8 and 9) on in-memory fakes."""

from __future__ import annotations

import pytest

from orchestrator.config import RuntimeConfig
from orchestrator.domain.capabilities import NotAvailable
from orchestrator.domain.errors import Conflict, ValidationError
from orchestrator.domain.vocabulary import EventName
from orchestrator.service.events import EventStarter
from orchestrator.service.patches import PatchService

from .domain_builders import (BUILT_AMI, LIFECYCLE_ID, NOW, PATCH_EVENTS, PATCHED_AMI, completed,
                              fully_approved_record, new_record, patch_body, patched_record, toggles)
from .fakes import MemoryNotifier, MemoryRepository, MemoryWorkflows, StaticStateMachines, machine_arn

PIPELINE = "arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/amilifecyclepipeline-main"
BUCKET = "patch-bucket"
URL = f"s3://{BUCKET}/lc/openssl.yml"
DOCUMENT = b"schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - {name: Update, action: UpdateOS}\n"


class Documents:
    def __init__(self, documents: dict[str, bytes]) -> None:
        self.documents = documents
        self.read_urls: list[str] = []

    def read(self, url: str) -> bytes:
        self.read_urls.append(url)
        if url not in self.documents:
            raise ValidationError(f"properties.patch_component_url: there is no object {url}",
                                  field="properties.patch_component_url")
        return self.documents[url]


class World:
    def __init__(self, *events: EventName, documents: dict[str, bytes] | None = None) -> None:
        deployed = events or (EventName.PATCH_AMI, EventName.SMOKE_TESTS_AMI_PATCH,
                              EventName.VULNERABILITY_SCANS_AMI_PATCH)
        self.repository = MemoryRepository()
        self.workflows = MemoryWorkflows()
        self.notifier = MemoryNotifier()
        self.documents = Documents({URL: DOCUMENT} if documents is None else documents)
        starter = EventStarter(repository=self.repository, workflows=self.workflows, notifier=self.notifier,
                               state_machines=StaticStateMachines({str(e): machine_arn(str(e).lower())
                                                                   for e in deployed}), clock=lambda: NOW)
        config = RuntimeConfig.from_env({"STACK_TAG": "main", "IMAGEBUILDER_PIPELINE_ARN": PIPELINE,
                                         "PATCH_COMPONENT_BUCKET": BUCKET})
        self.patches = PatchService(config=config, repository=self.repository, notifier=self.notifier,
                                    events=starter, components=self.documents, clock=lambda: NOW)

    def stored(self) -> dict:
        return self.repository.get(LIFECYCLE_ID)


def body(**properties):
    return patch_body(properties={"patch_component_url": URL, "patch_change_description": "Update openssl",
                                  "semver_bump_type": "MINOR", **properties})


def test_a_patch_of_an_approved_lifecycle_starts_patch_ami_on_the_built_ami():
    world = World()
    world.repository.create(fully_approved_record())

    response = world.patches.create_patch(body())

    assert response["lifecycle_id"] == LIFECYCLE_ID
    [(name, execution)] = world.workflows.executions.items()
    assert name == f"{LIFECYCLE_ID}-PATCH_AMI-1"
    assert execution["state_machine_arn"] == machine_arn("patch_ami")
    value = execution["input"]
    assert value["operation_type"] == "ami-patch"
    assert value["ami"]["id"] == BUILT_AMI and value["ami"]["semver"] == "1.0.0"
    assert value["patch"] == {"patch_component_url": URL, "patch_change_description": "Update openssl",
                              "semver_bump_type": "MINOR", "commit_ref": "77aa01c",
                              "semantic_version_dot": "2026.11.23100000",
                              "semantic_version_dash": "2026-11-23100000"}
    stored = world.stored()
    assert stored["event_in_progress"]["name"] == "PATCH_AMI"
    assert stored["event_in_progress"]["properties"]["parent_ami_id"] == BUILT_AMI
    assert stored["inputs_ami_patch"]["properties"]["patch_component_url"] == URL
    assert world.documents.read_urls == [URL]


def test_a_new_patch_starts_from_the_current_patched_ami():
    world = World()
    world.repository.create(completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH",
                                      "MARK_FOR_PRODUCTION_PATCH", start=110))

    world.patches.create_patch(body(semver_bump_type="PATCH"))

    [execution] = world.workflows.executions.values()
    assert execution["input"]["ami"]["id"] == PATCHED_AMI
    assert execution["input"]["patch"]["semver_bump_type"] == "PATCH"


def test_a_patch_while_an_event_runs_is_refused_and_changes_nothing():
    world = World()
    world.repository.create(fully_approved_record())
    world.patches.create_patch(body())
    before = world.stored()

    with pytest.raises(Conflict, match="PATCH_AMI is in progress"):
        world.patches.create_patch(body())

    assert world.stored() == before
    assert len(world.workflows.executions) == 1


def test_a_patch_of_a_lifecycle_not_approved_for_production_is_refused():
    world = World()
    world.repository.create(completed(new_record(), "BUILD_AMI"))

    with pytest.raises(Conflict, match="approved for production"):
        world.patches.create_patch(body())

    assert "inputs_ami_patch" not in world.stored()
    assert world.workflows.executions == {}


@pytest.mark.parametrize("documents, url, problem", [
    ({URL: b"schemaVersion: 1.0\nphases: []\n"}, URL, "phases must be a non-empty list"),
    ({}, URL, "there is no object"),
    ({}, "s3://another-bucket/lc/fix.yml", "patch component bucket s3://patch-bucket/"),
])
def test_a_bad_component_is_refused_before_anything_is_stored(documents, url, problem):
    world = World(documents=documents)
    world.repository.create(fully_approved_record())
    before = world.stored()

    with pytest.raises(ValidationError, match=problem):
        world.patches.create_patch(body(patch_component_url=url))

    assert world.stored() == before
    assert world.workflows.executions == {} and world.notifier.published == []


def test_a_patch_is_refused_with_501_when_patching_is_not_deployed():
    world = World(EventName.SMOKE_TESTS_AMI_PATCH)
    world.repository.create(fully_approved_record())

    with pytest.raises(NotAvailable):
        world.patches.create_patch(body())

    assert world.documents.read_urls == []


def update_body(*enabled: str):
    return patch_body(events=toggles(PATCH_EVENTS, set(enabled)), properties={})


def test_an_update_continues_the_current_patch_with_its_next_enabled_event():
    world = World()
    world.repository.create(patched_record())

    world.patches.update_patch(update_body("SMOKE_TESTS_AMI_PATCH"))

    [(name, execution)] = world.workflows.executions.items()
    assert name == f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_PATCH-1"
    assert execution["input"]["ami"]["id"] == PATCHED_AMI
    assert world.stored()["event_in_progress"]["name"] == "SMOKE_TESTS_AMI_PATCH"


def test_an_update_without_a_completed_patch_is_refused():
    world = World()
    world.repository.create(fully_approved_record())

    with pytest.raises(Conflict, match="no patch to continue"):
        world.patches.update_patch(update_body("SMOKE_TESTS_AMI_PATCH"))

    assert world.workflows.executions == {}


def test_an_update_with_nothing_to_start_records_the_inputs_and_notifies():
    world = World()
    world.repository.create(patched_record())

    world.patches.update_patch(update_body())

    assert world.workflows.executions == {}
    assert world.stored()["inputs_ami_patch"]["events"] == toggles(PATCH_EVENTS, set())
    assert world.notifier.published
