"""The BUILD_AMI state machine's Lambda steps, and the Image Builder listener.

Steps (stacks/amilifecycle/build_event.py wires them):

* :func:`start_pipeline` - start the pipeline; returns the build's ARN;
* :func:`wait_for_build` - register the step's task token for the build
  (the step then waits until the token is answered);
* :func:`image_build_notification` - subscribed to the Image Builder topic:
  records how a build ended and answers the waiting token;
* :func:`check_build` - the safety poll after a wait timed out;
* :func:`ami_details` - the BUILD_AMI result of the finished build.

An exception raised here fails the step; the state machine catches it and
reports it to the error receiver, so messages say what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger

from ..adapters.build_waits import BuildWait, BuildWaits
from ..adapters.image_builder import ImageBuilder, check_pipeline_arn, parse_image_notification
from ..adapters.workflows import answered
from ..bootstrap import Container, container, reset
from ..config import RuntimeConfig
from ..domain.builds import build_ami_result, result_message
from ..domain.errors import ValidationError, describe_value
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..service.ports import WorkflowEngine
from .step_input import text

logger = Logger()

IMAGE_BUILD_FAILED = "ImageBuildFailed"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class BuildSteps:
    """The collaborators of the build steps (from the execution environment's container)."""

    config: RuntimeConfig
    image_builder: ImageBuilder
    workflows: WorkflowEngine
    waits_factory: Callable[[], BuildWaits]
    clock: Callable[[], datetime] = _utc_now

    @classmethod
    def from_container(cls, built: Container) -> "BuildSteps":
        return cls(config=built.config, image_builder=built.image_builder, workflows=built.workflows,
                   waits_factory=lambda: built.build_waits, clock=built.clock)

    @property
    def waits(self) -> BuildWaits:
        """The build-waits table; only the wait step and the listener are given it."""
        return self.waits_factory()

    def answer(self, wait: BuildWait) -> bool:
        """Answer the waiting token with the build's outcome, if both are known; True when answered."""
        if not wait.ready:
            return False
        assert wait.task_token is not None and wait.outcome is not None
        outcome = wait.outcome
        token = wait.task_token
        if outcome.succeeded:
            done = answered(lambda: self.workflows.send_task_success(token, outcome.to_dict()))
        elif outcome.failed:
            done = answered(lambda: self.workflows.send_task_failure(token, error=IMAGE_BUILD_FAILED,
                                                                     cause=outcome.reason))
        else:
            return False
        if not done:
            logger.info("build wait token no longer waiting",
                        extra={"image_build_version_arn": wait.image_build_version_arn})
            return False
        logger.info("build wait answered", extra={"image_build_version_arn": wait.image_build_version_arn,
                                                  "lifecycle_id": wait.lifecycle_id, "status": outcome.status})
        return True


def steps() -> BuildSteps:
    """The collaborators of this execution environment (configuration is read on first use)."""
    return BuildSteps.from_container(container())


def reset_steps() -> None:
    """Forget the container; the next invocation reads the environment again (tests)."""
    reset()


# ----------------------------------------------------------------- handlers

@logger.inject_lambda_context
def start_pipeline(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{lifecycle_id, imagebuilder_pipeline_arn, execution_name}`` -> ``{image_build_version_arn}``."""
    current = steps()
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    pipeline_arn = check_pipeline_arn(event.get("imagebuilder_pipeline_arn"))
    if pipeline_arn != current.config.imagebuilder_pipeline_arn:
        raise ValidationError(
            f"imagebuilder_pipeline_arn: this deployment builds with {current.config.imagebuilder_pipeline_arn}, "
            f"got {describe_value(pipeline_arn)}", field="imagebuilder_pipeline_arn",
            allowed=[current.config.imagebuilder_pipeline_arn])
    request_name = event.get("execution_name") if isinstance(event.get("execution_name"), str) else None
    arn = current.image_builder.start_pipeline(pipeline_arn, request_name=request_name or lifecycle_id)
    logger.info("image build started", extra={"lifecycle_id": lifecycle_id, "image_build_version_arn": arn})
    return {"image_build_version_arn": arn}


@logger.inject_lambda_context
def wait_for_build(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{task_token, lifecycle_id, image_build_version_arn}``: register the token; answer it at once
    when the build's outcome is already known."""
    current = steps()
    token = text(event, "task_token")
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    image_arn = text(event, "image_build_version_arn")
    wait = current.waits.register_token(image_arn, token, lifecycle_id=lifecycle_id, now=current.clock())
    answered = current.answer(wait)
    logger.info("build wait registered", extra={"lifecycle_id": lifecycle_id, "image_build_version_arn": image_arn,
                                                "answered_at_once": answered})
    return {"image_build_version_arn": image_arn, "answered": answered}


@logger.inject_lambda_context
def image_build_notification(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    """SNS records of the Image Builder topic: record each ended build and resume its wait."""
    current = steps()
    ended = answered = 0
    for record in event.get("Records") or []:
        outcome, _ = parse_image_notification((record.get("Sns") or {}).get("Message"))
        if not outcome.ended:
            logger.info("image build notification ignored: build still running",
                        extra={"image_build_version_arn": outcome.image_build_version_arn, "status": outcome.status})
            continue
        ended += 1
        wait = current.waits.record_outcome(outcome, now=current.clock())
        answered += int(current.answer(wait))
    return {"ended": ended, "answered": answered}


@logger.inject_lambda_context
def check_build(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{image_build_version_arn}`` -> ``{image_build_version_arn, status, reason}`` (the safety poll)."""
    outcome = steps().image_builder.outcome(text(event, "image_build_version_arn"))
    logger.info("image build checked", extra=outcome.to_dict())
    return outcome.to_dict()


@logger.inject_lambda_context
def ami_details(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, image_build_version_arn, product_ver, product_name, commit_ref}`` -> the BUILD_AMI
    result message for the creation receiver."""
    current = steps()
    image = current.image_builder.get_image(text(event, "image_build_version_arn"))
    result = build_ami_result(
        image, lifecycle_id=parse_lifecycle_id(event.get("lifecycle_id")), product_ver=text(event, "product_ver"),
        product_name=text(event, "product_name"), commit_ref=text(event, "commit_ref"), now=current.clock())
    logger.info("AMI details read", extra={"lifecycle_id": result.lifecycle_id,
                                           "amis": [ami.get("image") for ami in result.properties["ami_details"]]})
    return result_message(result)
