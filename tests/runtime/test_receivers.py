"""The creation and error receivers: every record of a batch, idempotently, failures reported alone."""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

import pytest

from orchestrator.adapters.lookup_repository import LookupRepository
from orchestrator.adapters.semver_seeds import SemverSeeds
from orchestrator.adapters.state_repository import StateRepository
from orchestrator import bootstrap
from orchestrator.handlers import receivers
from tests.runtime.conftest import REGION, FakeContext
from tests.runtime.conftest_build import (BuildCloud, NotificationInbox, RecordingWorkflows,  # noqa: F401
                                          ami_tags_of, build_cloud, build_result_value, inbox, lifecycle_building,
                                          register_ami, sqs_event, sqs_record)

EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:build:exec-1"
BUILD_ONLY = [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": False},
              {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
              {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}]


@pytest.fixture
def answers() -> RecordingWorkflows:
    return RecordingWorkflows()


@pytest.fixture
def handler(build_cloud: BuildCloud, answers: RecordingWorkflows, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The receivers module with its service built from the environment; token answers recorded."""
    bootstrap.install(bootstrap.bootstrap(build_cloud.config(), workflows=answers))
    yield receivers
    bootstrap.reset()


def result_message(lifecycle_id: str, ami_id: str, *, token: str | None = "token-1", **changes: Any) -> dict:
    value = build_result_value(lifecycle_id, ami_id)
    value.update(changes)
    message: dict[str, Any] = {"task_details": {"value": value}}
    if token:
        message["task_token"] = token
    return message


def error_message(lifecycle_id: str, *, error: str = "ImageBuildFailed",
                  cause: str = "Component build failed: yum exited with 1",
                  execution_arn: str = EXECUTION_ARN) -> dict:
    return {"lifecycle_id": lifecycle_id, "name": "BUILD_AMI", "status": "ERROR",
            "status_date": "2026-11-23T10:40:00.123Z", "execution_arn": execution_arn,
            "error": {"Error": error, "Cause": cause}}


def stored(build_cloud: BuildCloud, lifecycle_id: str) -> dict[str, Any]:
    return StateRepository(build_cloud.cloud.state_table).get(lifecycle_id)


def receive(handler: Any, *records: dict) -> dict:
    return handler.creation_receiver(sqs_event(*records), FakeContext())


# --------------------------------------------------------------- creation receiver

def test_a_build_result_is_recorded_with_the_stack_tags_next_version(handler: Any, build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    ami_id = register_ami()
    assert receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], ami_id))) == {"batchItemFailures": []}
    record = stored(build_cloud, lifecycle["lifecycle_id"])
    (build,) = record["outputs_ami_creation"]["events"]
    assert (build["name"], build["status"]) == ("BUILD_AMI", "COMPLETED")
    assert build["properties"]["ami_details"][0]["ami_semver"] == "1.0.0"
    assert "event_in_progress" not in record


def test_a_recorded_build_gets_its_lookup_entry_and_tags(handler: Any, build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    ami_id = register_ami()
    receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], ami_id)))
    entry = LookupRepository(build_cloud.cloud.lookup_table).get(f"{REGION}#{ami_id}")
    assert (entry["lifecycle_score"], entry["ami_semver"], entry["lifecycle_id"]) == (1, "1.0.0",
                                                                                     lifecycle["lifecycle_id"])
    tags = ami_tags_of(ami_id)
    assert tags["AMI_LC_LIFECYCLE_ID"] == lifecycle["lifecycle_id"]
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert tags["AMI_LC_EVENT_BUILD_AMI_STATUS"] == "COMPLETED"


def test_a_recorded_result_answers_the_state_machines_token(handler: Any, build_cloud: BuildCloud,
                                                            answers: RecordingWorkflows) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], register_ami())))
    assert answers.successes == [("token-1", {"receiver_status": "COMPLETED"})]


def test_a_recorded_result_is_announced_to_the_lifecycles_recipients(handler: Any, build_cloud: BuildCloud,
                                                                     inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], register_ami())))
    announced = [m for m in inbox.messages() if m.subject == "AMI_CREATION_RECEIVER event for main"]
    assert len(announced) == 1
    assert announced[0].attributes["lifecycle_id"] == lifecycle["lifecycle_id"]
    assert json.loads(announced[0].attributes["recipients"]) == ["team@example.com"]


def test_a_batch_with_a_bad_record_reports_only_that_record(handler: Any, build_cloud: BuildCloud,
                                                            inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    good = result_message(lifecycle["lifecycle_id"], register_ami())
    bad = sqs_record({"task_details": {"value": {"lifecycle_id": lifecycle["lifecycle_id"], "name": "BUILD_AMI"}}})
    answer = receive(handler, sqs_record(good), bad, sqs_record(good))
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert len(stored(build_cloud, lifecycle["lifecycle_id"])["outputs_ami_creation"]["events"]) == 1
    assert inbox.subjects().count("AMI_CREATION_RECEIVER event for main") == 1


def test_a_duplicate_delivery_takes_no_second_version(handler: Any, build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    message = result_message(lifecycle["lifecycle_id"], register_ami())
    receive(handler, sqs_record(message))
    before = stored(build_cloud, lifecycle["lifecycle_id"])
    receive(handler, sqs_record(message))
    assert stored(build_cloud, lifecycle["lifecycle_id"]) == before
    assert SemverSeeds(build_cloud.cloud.semver_seed_table, "1.0.0").current_seed("main") == "2.0.0"


def test_builds_of_two_lifecycles_get_distinct_versions(handler: Any, build_cloud: BuildCloud) -> None:
    first = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    second = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    receive(handler, sqs_record(result_message(first["lifecycle_id"], register_ami("AmiLifecycle-a"))),
            sqs_record(result_message(second["lifecycle_id"], register_ami("AmiLifecycle-b"))))
    versions = {stored(build_cloud, lc["lifecycle_id"])["outputs_ami_creation"]["events"][0]["properties"]
                ["ami_details"][0]["ami_semver"] for lc in (first, second)}
    assert versions == {"1.0.0", "2.0.0"}


def test_a_retry_after_a_half_done_delivery_completes_it(handler: Any, build_cloud: BuildCloud,
                                                         answers: RecordingWorkflows, inbox: NotificationInbox,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    ami_id = register_ami()
    message = sqs_record(result_message(lifecycle["lifecycle_id"], ami_id))
    tagger = receivers.service().tagger
    real_tag = tagger.tag

    def ec2_down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("EC2 endpoint unreachable")

    monkeypatch.setattr(tagger, "tag", ec2_down)
    assert receive(handler, message) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}
    assert answers.successes == []
    monkeypatch.setattr(tagger, "tag", real_tag)
    assert receive(handler, message) == {"batchItemFailures": []}
    assert ami_tags_of(ami_id)["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert answers.successes == [("token-1", {"receiver_status": "COMPLETED"})]
    assert inbox.subjects().count("AMI_CREATION_RECEIVER event for main") == 1


def test_a_result_for_an_unknown_lifecycle_fails_its_token_and_its_record(handler: Any,
                                                                          answers: RecordingWorkflows) -> None:
    message = sqs_record(result_message(str(uuid.uuid4()), "ami-0123456789abcdef0"))
    assert receive(handler, message) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}
    assert [(error, "not found" in cause) for _, error, cause in answers.failures] == [("NOT_FOUND", True)]


def test_a_body_that_is_not_json_is_reported_as_failed(handler: Any) -> None:
    message = sqs_record("not json")
    assert receive(handler, message) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}


def test_a_completed_build_without_amis_is_refused(handler: Any, build_cloud: BuildCloud,
                                                   answers: RecordingWorkflows) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    body = result_message(lifecycle["lifecycle_id"], register_ami())
    body["task_details"]["value"]["properties"]["ami_details"] = []
    message = sqs_record(body)
    assert receive(handler, message) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}
    assert answers.failures[0][1] == "VALIDATION_ERROR"


def test_a_token_the_execution_no_longer_waits_for_is_not_an_error(handler: Any, build_cloud: BuildCloud,
                                                                   answers: RecordingWorkflows) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    answers.stale.add("token-1")
    assert receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], register_ami()))) == {
        "batchItemFailures": []}


def test_keys_inside_a_result_never_reach_the_record(handler: Any, build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], register_ami(), api_key="k" * 30)))
    assert "k" * 30 not in json.dumps(stored(build_cloud, lifecycle["lifecycle_id"]))


# ------------------------------------------------------------------- next event

def test_an_enabled_event_without_a_state_machine_is_recorded_as_not_available(
        handler: Any, build_cloud: BuildCloud, inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud)  # smoke tests and scans enabled
    receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], register_ami())))
    current = stored(build_cloud, lifecycle["lifecycle_id"])["event_in_progress"]
    assert (current["name"], current["status"]) == ("SMOKE_TESTS_AMI_CREATE", "ERROR")
    assert current["error_message"] == "SMOKE_TESTS_AMI_CREATE is not available in this deployment yet"
    notes = [m for m in inbox.messages() if m.subject.startswith("INFO from AMI_CREATE_SMOKE_TEST_EXECUTION")]
    assert len(notes) == 1 and "not available in this deployment yet" in notes[0].message


def test_the_unavailable_next_event_is_noted_once_across_deliveries(handler: Any, build_cloud: BuildCloud,
                                                                    inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud)
    message = result_message(lifecycle["lifecycle_id"], register_ami())
    receive(handler, sqs_record(message), sqs_record(message))
    assert sum(s.startswith("INFO from AMI_CREATE_SMOKE_TEST_EXECUTION") for s in inbox.subjects()) == 1


def test_a_build_only_lifecycle_is_told_there_is_nothing_more_to_start(handler: Any, build_cloud: BuildCloud,
                                                                       inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, events=BUILD_ONLY)
    receive(handler, sqs_record(result_message(lifecycle["lifecycle_id"], register_ami())))
    assert "INFO from ORCHESTRATOR_SERVICE for main" in inbox.subjects()
    assert "event_in_progress" not in stored(build_cloud, lifecycle["lifecycle_id"])


# ----------------------------------------------------------------- error receiver

def report(handler: Any, *records: dict) -> dict:
    return handler.error_receiver(sqs_event(*records), FakeContext())


def test_an_image_build_failure_marks_the_build_as_error_with_its_cause(handler: Any, build_cloud: BuildCloud,
                                                                        inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, execution_arn=EXECUTION_ARN)
    assert report(handler, sqs_record(error_message(lifecycle["lifecycle_id"]))) == {"batchItemFailures": []}
    current = stored(build_cloud, lifecycle["lifecycle_id"])["event_in_progress"]
    assert (current["name"], current["status"]) == ("BUILD_AMI", "ERROR")
    assert current["error_message"] == "ImageBuildFailed: Component build failed: yum exited with 1"
    assert current["status_date"] == "2026-11-23T10:40:00Z"
    errors = [m for m in inbox.messages() if m.subject == "ERROR in AMI_ERROR_RECEIVER event for main"]
    assert len(errors) == 1 and "yum exited with 1" in errors[0].message


def test_a_lambda_exception_is_recorded_with_its_message_and_stack_trace(handler: Any,
                                                                         build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, execution_arn=EXECUTION_ARN)
    cause = json.dumps({"errorMessage": "image x is AVAILABLE but lists no AMI", "errorType": "ValidationError",
                        "stackTrace": ["  File \"build.py\", line 9, in ami_details\n"]})
    report(handler, sqs_record(error_message(lifecycle["lifecycle_id"], error="ValidationError", cause=cause)))
    current = stored(build_cloud, lifecycle["lifecycle_id"])["event_in_progress"]
    assert current["error_message"] == "ValidationError: image x is AVAILABLE but lists no AMI"
    assert "build.py" in current["stack_trace"]


def test_a_timeout_without_a_cause_still_says_what_happened(handler: Any, build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, execution_arn=EXECUTION_ARN)
    report(handler, sqs_record(error_message(lifecycle["lifecycle_id"], error="States.Timeout", cause="")))
    current = stored(build_cloud, lifecycle["lifecycle_id"])["event_in_progress"]
    assert current["error_message"] == "States.Timeout: a step (or the whole execution) ran longer than its timeout"


def test_a_repeated_error_report_notifies_once(handler: Any, build_cloud: BuildCloud,
                                               inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, execution_arn=EXECUTION_ARN)
    message = error_message(lifecycle["lifecycle_id"])
    report(handler, sqs_record(message), sqs_record(message))
    assert inbox.subjects().count("ERROR in AMI_ERROR_RECEIVER event for main") == 1


def test_an_error_of_another_execution_changes_nothing(handler: Any, build_cloud: BuildCloud,
                                                       inbox: NotificationInbox) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, execution_arn=EXECUTION_ARN)
    before = stored(build_cloud, lifecycle["lifecycle_id"])
    report(handler, sqs_record(error_message(lifecycle["lifecycle_id"], execution_arn=EXECUTION_ARN + "-old")))
    assert stored(build_cloud, lifecycle["lifecycle_id"]) == before
    assert "ERROR in AMI_ERROR_RECEIVER event for main" not in inbox.subjects()


def test_an_error_batch_with_a_bad_record_reports_only_that_record(handler: Any, build_cloud: BuildCloud) -> None:
    lifecycle = lifecycle_building(build_cloud.cloud, execution_arn=EXECUTION_ARN)
    bad = sqs_record({"lifecycle_id": lifecycle["lifecycle_id"], "status": "BROKEN"}, queue_name="AmiErrorReceiverQueue")
    good = sqs_record(error_message(lifecycle["lifecycle_id"]), queue_name="AmiErrorReceiverQueue")
    assert report(handler, good, bad) == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert stored(build_cloud, lifecycle["lifecycle_id"])["event_in_progress"]["status"] == "ERROR"


def test_an_error_for_an_unknown_lifecycle_is_reported_as_failed(handler: Any) -> None:
    message = sqs_record(error_message(str(uuid.uuid4())), queue_name="AmiErrorReceiverQueue")
    assert report(handler, message) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}


def test_the_receivers_read_their_configuration_from_the_environment(build_cloud: BuildCloud) -> None:
    receivers.reset_service()
    try:
        assert receivers.service().seeds.table_name == build_cloud.cloud.semver_seed_table
    finally:
        receivers.reset_service()

