"""The BUILD_AMI state machine's Lambda steps and the Image Builder listener."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from orchestrator.adapters.build_waits import BuildWaits
from orchestrator.adapters.image_builder import ImageBuilder
from orchestrator.config import ConfigurationError
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.results import parse_event_result
from orchestrator import bootstrap
from orchestrator.handlers import build
from tests.runtime.conftest import PIPELINE_ARN, FakeContext
from tests.runtime.conftest_build import (BuildCloud, FakeImageBuilder, RecordingWorkflows, build_cloud,  # noqa: F401
                                          built_ami, sns_event, utc)

LIFECYCLE_ID = "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
IMAGE_BUILDER_TOPIC = "arn:aws:sns:us-east-1:123456789012:ami-lifecycle-imagebuilder-topic"


@pytest.fixture
def images() -> FakeImageBuilder:
    return FakeImageBuilder()


@pytest.fixture
def answers() -> RecordingWorkflows:
    return RecordingWorkflows()


@pytest.fixture
def steps(build_cloud: BuildCloud, images: FakeImageBuilder, answers: RecordingWorkflows,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler module with its collaborators: Image Builder and Step Functions stand-ins, moto DynamoDB."""
    bootstrap.install(bootstrap.bootstrap(build_cloud.config(), image_builder=ImageBuilder(images),
                                          build_waits=BuildWaits(build_cloud.build_waits_table), workflows=answers,
                                          clock=lambda: utc()))
    yield build
    bootstrap.reset()


def start(steps: Any, execution_name: str = "exec-1") -> str:
    answer = steps.start_pipeline({"lifecycle_id": LIFECYCLE_ID, "imagebuilder_pipeline_arn": PIPELINE_ARN,
                                   "execution_name": execution_name}, FakeContext())
    return answer["image_build_version_arn"]


def wait(steps: Any, image_arn: str, token: str = "token-1") -> dict[str, Any]:
    return steps.wait_for_build({"task_token": token, "lifecycle_id": LIFECYCLE_ID,
                                 "image_build_version_arn": image_arn}, FakeContext())


def notify(steps: Any, image: dict[str, Any]) -> dict[str, int]:
    return steps.image_build_notification(sns_event(json.dumps(image), topic_arn=IMAGE_BUILDER_TOPIC), FakeContext())


# ---------------------------------------------------------------- start

def test_starting_the_pipeline_returns_the_image_build_arn(steps: Any, images: FakeImageBuilder) -> None:
    arn = start(steps)
    assert arn in images.images
    assert images.starts[0]["imagePipelineArn"] == PIPELINE_ARN


def test_a_retried_start_of_the_same_execution_starts_one_build(steps: Any, images: FakeImageBuilder) -> None:
    assert start(steps, "exec-1") == start(steps, "exec-1")
    assert len(images.images) == 1
    assert start(steps, "exec-2") != start(steps, "exec-1")


def test_only_the_deployments_pipeline_may_be_started(steps: Any, images: FakeImageBuilder) -> None:
    other = PIPELINE_ARN.replace("ami-lifecycle-main", "someone-elses")
    with pytest.raises(ValidationError, match="this deployment builds with"):
        steps.start_pipeline({"lifecycle_id": LIFECYCLE_ID, "imagebuilder_pipeline_arn": other}, FakeContext())
    assert images.starts == []


def test_a_start_without_a_lifecycle_id_is_refused(steps: Any) -> None:
    with pytest.raises(ValidationError, match="lifecycle_id"):
        steps.start_pipeline({"imagebuilder_pipeline_arn": PIPELINE_ARN}, FakeContext())


# ----------------------------------------------------- wait and notification

def test_a_registered_wait_is_not_answered_while_the_build_runs(steps: Any, answers: RecordingWorkflows) -> None:
    assert wait(steps, start(steps))["answered"] is False
    assert answers.successes == [] and answers.failures == []


def test_an_available_image_resumes_the_waiting_build(steps: Any, images: FakeImageBuilder,
                                                      answers: RecordingWorkflows) -> None:
    arn = start(steps)
    wait(steps, arn)
    assert notify(steps, images.finish(arn, "AVAILABLE", amis=[built_ami("ami-0123456789abcdef0")])) == {
        "ended": 1, "answered": 1}
    assert answers.successes == [("token-1", {"image_build_version_arn": arn, "status": "AVAILABLE", "reason": ""})]


def test_a_failed_image_fails_the_waiting_build_with_the_reason(steps: Any, images: FakeImageBuilder,
                                                                answers: RecordingWorkflows) -> None:
    arn = start(steps)
    wait(steps, arn)
    notify(steps, images.finish(arn, "FAILED", reason="Component build failed: yum exited with 1"))
    assert answers.failures == [("token-1", "ImageBuildFailed", "Component build failed: yum exited with 1")]


def test_a_cancelled_image_fails_the_waiting_build(steps: Any, images: FakeImageBuilder,
                                                   answers: RecordingWorkflows) -> None:
    arn = start(steps)
    wait(steps, arn)
    notify(steps, images.finish(arn, "CANCELLED", reason="Image creation was cancelled."))
    assert [failure[1:] for failure in answers.failures] == [("ImageBuildFailed", "Image creation was cancelled.")]


def test_a_notification_that_arrives_before_the_wait_is_answered_when_the_wait_registers(
        steps: Any, images: FakeImageBuilder, answers: RecordingWorkflows) -> None:
    arn = start(steps)
    assert notify(steps, images.finish(arn, "AVAILABLE", amis=[built_ami("ami-0123456789abcdef0")]))["answered"] == 0
    assert wait(steps, arn)["answered"] is True
    assert [token for token, _ in answers.successes] == ["token-1"]


def test_a_repeated_notification_for_an_answered_wait_changes_nothing(steps: Any, images: FakeImageBuilder,
                                                                       answers: RecordingWorkflows) -> None:
    arn = start(steps)
    wait(steps, arn)
    image = images.finish(arn, "AVAILABLE", amis=[built_ami("ami-0123456789abcdef0")])
    notify(steps, image)
    answers.stale.add("token-1")  # the execution moved on
    assert notify(steps, image) == {"ended": 1, "answered": 0}
    assert len(answers.successes) == 1


def test_a_later_failure_report_does_not_replace_the_first_outcome(steps: Any, images: FakeImageBuilder,
                                                                   answers: RecordingWorkflows) -> None:
    arn = start(steps)
    notify(steps, images.finish(arn, "AVAILABLE", amis=[built_ami("ami-0123456789abcdef0")]))
    notify(steps, images.finish(arn, "DELETED"))
    wait(steps, arn)
    assert answers.failures == [] and len(answers.successes) == 1


def test_a_wait_registered_again_after_a_timeout_is_answered_at_once(steps: Any, images: FakeImageBuilder,
                                                                     answers: RecordingWorkflows) -> None:
    arn = start(steps)
    wait(steps, arn, "token-1")
    answers.stale.add("token-1")  # timed out: the safety poll took over
    notify(steps, images.finish(arn, "AVAILABLE", amis=[built_ami("ami-0123456789abcdef0")]))
    assert wait(steps, arn, "token-2")["answered"] is True
    assert [token for token, _ in answers.successes] == ["token-2"]


def test_a_notification_of_a_running_build_is_ignored(steps: Any, images: FakeImageBuilder,
                                                      answers: RecordingWorkflows) -> None:
    arn = start(steps)
    wait(steps, arn)
    assert notify(steps, images.finish(arn, "TESTING")) == {"ended": 0, "answered": 0}
    assert answers.successes == []


def test_a_notification_that_is_not_an_image_document_is_refused(steps: Any) -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        steps.image_build_notification(sns_event("build finished!", topic_arn=IMAGE_BUILDER_TOPIC), FakeContext())


# ------------------------------------------------------------ poll and details

def test_the_safety_poll_reports_a_running_build(steps: Any) -> None:
    arn = start(steps)
    assert steps.check_build({"image_build_version_arn": arn}, FakeContext()) == {
        "image_build_version_arn": arn, "status": "BUILDING", "reason": f"Image {arn} is still BUILDING"}


def test_the_safety_poll_reports_why_a_build_failed(steps: Any, images: FakeImageBuilder) -> None:
    arn = start(steps)
    images.finish(arn, "FAILED")
    answer = steps.check_build({"image_build_version_arn": arn}, FakeContext())
    assert answer["status"] == "FAILED" and "without giving a reason" in answer["reason"]


def test_ami_details_shape_the_build_result_the_creation_receiver_records(steps: Any,
                                                                           images: FakeImageBuilder) -> None:
    arn = start(steps)
    images.finish(arn, "AVAILABLE", amis=[built_ami("ami-0123456789abcdef0")])
    message = steps.ami_details({"lifecycle_id": LIFECYCLE_ID, "image_build_version_arn": arn, "product_ver": "2.4.1",
                                 "product_name": "payments-service", "commit_ref": "9fceb02"}, FakeContext())
    result = parse_event_result(message)
    assert (result.name, result.status, result.attributes["product_name"]) == ("BUILD_AMI", "COMPLETED",
                                                                               "payments-service")
    assert result.properties["ami_details"][0]["image"] == "ami-0123456789abcdef0"
    assert result.properties["imagebuilder_image_arn"] == arn
    assert "ami_semver" not in result.properties["ami_details"][0]


def test_an_available_image_without_amis_is_an_error(steps: Any, images: FakeImageBuilder) -> None:
    arn = start(steps)
    images.finish(arn, "AVAILABLE", amis=[])
    with pytest.raises(ValidationError, match="lists no AMI"):
        steps.ami_details({"lifecycle_id": LIFECYCLE_ID, "image_build_version_arn": arn, "product_ver": "2.4.1",
                           "product_name": "payments-service", "commit_ref": "9fceb02"}, FakeContext())


def test_the_wait_needs_the_build_waits_table(build_cloud: BuildCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap.install(bootstrap.bootstrap(build_cloud.config(BUILD_WAITS_TABLE_NAME="")))
    with pytest.raises(ConfigurationError, match="BUILD_WAITS_TABLE_NAME"):
        wait(build, "arn:aws:imagebuilder:us-east-1:123456789012:image/r/1.0.0/1")


def test_the_other_steps_run_without_the_build_waits_table(build_cloud: BuildCloud, images: FakeImageBuilder,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap.install(bootstrap.bootstrap(build_cloud.config(BUILD_WAITS_TABLE_NAME=""),
                                          image_builder=ImageBuilder(images)))
    assert start(build) in images.images
    bootstrap.reset()


def test_the_steps_read_their_configuration_from_the_environment(build_cloud: BuildCloud) -> None:
    build.reset_steps()
    try:
        assert build.steps().waits.table_name == build_cloud.build_waits_table
    finally:
        build.reset_steps()
