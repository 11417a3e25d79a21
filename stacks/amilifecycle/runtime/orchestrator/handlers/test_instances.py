"""The test-instance steps shared by the smoke-test and vulnerability-scan state machines.

* :func:`launch` - launch one instance of the AMI under test. For smoke
  tests (``purpose: smoke-tests``) the step waits for a task token: the
  instance's user data runs the suite and answers the token itself;
* :func:`terminate` - terminate every instance of the execution and wait
  until they are gone (success, failure and error paths alike);
* :func:`smoke_test_result` - the event result from the suite's report.

An exception raised here fails the step; the state machine terminates the
instance and reports the error, so the status says what was wrong.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..adapters.instances import Launch
from ..bootstrap import container
from ..domain.builds import result_message
from ..domain.errors import ValidationError
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.smoke_tests import smoke_test_result as shape_smoke_test_result
from ..domain.user_data import smoke_test_user_data
from .step_input import mapping, text

logger = Logger()

SMOKE_TESTS = "smoke-tests"
VULNERABILITY_SCANS = "vulnerability-scans"
_USAGE = {SMOKE_TESTS: "AMI Lifecycle Smoke Test", VULNERABILITY_SCANS: "AMI Lifecycle Vulnerability Scans"}


def smoke_log_stream(lifecycle_id: str, event: str, attempt: Any) -> str:
    """Where one run of the suite writes its output: ``<lifecycle>/<event>-<attempt>``."""
    return f"{lifecycle_id}/{event}-{attempt}"


@logger.inject_lambda_context
def launch(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{purpose, lifecycle_id, stack_tag, event, attempt, ami: {id}, execution_name[, task_token]}``
    -> ``{instance_id}``."""
    purpose = text(event, "purpose")
    if purpose not in _USAGE:
        raise ValidationError(f"purpose: expected one of {', '.join(_USAGE)}, got {purpose!r}", field="purpose",
                              allowed=list(_USAGE))
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    ami = mapping(event, "ami")
    ami_id = text(ami, "id")
    built = container()
    user_data = None
    if purpose == SMOKE_TESTS:
        config = built.config
        user_data = smoke_test_user_data(
            suite_bucket=config.require("SMOKE_TEST_SUITE_BUCKET"), suite_key=config.require("SMOKE_TEST_SUITE_KEY"),
            task_token=text(event, "task_token"), log_group=config.require("SMOKE_TEST_LOG_GROUP_NAME"),
            log_stream=smoke_log_stream(lifecycle_id, text(event, "event"), event.get("attempt", 1)),
            region=built.instances.region)
    instance_id = built.instances.launch(Launch(
        ami_id=ami_id, lifecycle_id=lifecycle_id, stack_tag=text(event, "stack_tag"),
        execution_name=text(event, "execution_name"), purpose=purpose, usage=_USAGE[purpose], user_data=user_data))
    logger.info("test instance launched", extra={"lifecycle_id": lifecycle_id, "purpose": purpose,
                                                 "ami_id": ami_id, "instance_id": instance_id})
    return {"instance_id": instance_id}


@logger.inject_lambda_context
def terminate(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, execution_name}`` -> ``{instance_ids}`` (terminated, waited for)."""
    execution = text(event, "execution_name")
    instances = container().instances
    found = instances.of_execution(execution)
    instances.terminate(found)
    logger.info("test instances terminated", extra={"lifecycle_id": event.get("lifecycle_id"),
                                                    "execution_name": execution, "instance_ids": found})
    return {"instance_ids": found}


@logger.inject_lambda_context
def smoke_test_result(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, event, outcome: {report | failure}, instance: {instance_ids}}`` -> the result message."""
    instance = mapping(event, "instance")
    outcome = mapping(event, "outcome")
    result = shape_smoke_test_result(lifecycle_id=event.get("lifecycle_id"), event=event.get("event"),
                                     outcome=outcome, instance_ids=list(instance.get("instance_ids") or []),
                                     now=container().clock())
    logger.info("smoke test result", extra={"lifecycle_id": result.lifecycle_id, "status": str(result.status),
                                            "failed_tests": result.properties.get("failed_tests")})
    return result_message(result)
