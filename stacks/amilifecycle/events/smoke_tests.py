"""SMOKE_TESTS_AMI_CREATE / SMOKE_TESTS_AMI_PATCH: one state machine, ``operation_type`` in its input.

Flow (docs/events.md has the diagram):

1. launch one instance of the AMI with user data that runs the project's
   smoke-test suite (``stacks/amilifecycle/smoke_tests/``) and answers this
   step's task token itself: SendTaskSuccess with the per-test results, or
   SendTaskFailure ``SmokeTestsFailed`` naming the failing tests. No
   polling: the step waits for the token, bounded by
   ``smokeTestEventStateMachineSqsTimeoutMins``;
2. terminate the execution's instance and wait until it is terminated, on
   success, on a failed suite and on any error;
3. shape the result (PASSED -> COMPLETED, FAILED -> FAILED with the failing
   tests) and hand it to the creation or patch receiver.

A launch failure, an instance that never answers (timeout) or a crashed
runner (``SmokeTestsError``) ends the event ERROR through the error report,
after the instance is terminated.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.amilifecycle.events.base import EventProps
from stacks.amilifecycle.events.test_instances import TestInstanceEvent, TestInstances
from stacks.vocabulary import EventName

SMOKE_TESTS_FAILED = "SmokeTestsFailed"
SMOKE_TESTS_ERROR = "SmokeTestsError"
EVENT_FAILED = "SmokeTestsEventFailed"


class SmokeTestsEvent(TestInstanceEvent):
    events = (EventName.SMOKE_TESTS_AMI_CREATE, EventName.SMOKE_TESTS_AMI_PATCH)
    summary = "run the smoke-test suite on an instance of the AMI and record the results"
    log_name = "smoke-tests"
    state_machine_id = "LifeCycleSmokeTestsStateMachineName"
    output_key = "lifeCycleSmokeTestsStateMachineName"
    failure_error = EVENT_FAILED

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration,
                 instances: TestInstances, callback_timeout: cdk.Duration) -> None:
        super().__init__(scope, construct_id, props=props, timeout=timeout, instances=instances)
        self.callback_timeout = callback_timeout
        self.result_fn = self.function(
            "SmokeTestsResultFn", handler="test_instances.smoke_test_result",
            description="Smoke tests: shapes the event result from the suite's report")
        self.finish(self._definition())
        instances.allow_task_responses(self.state_machine.state_machine_arn)

    def _definition(self) -> sfn.IChainable:
        prepare = sfn.Pass(self, "Prepare the smoke tests", result=sfn.Result.from_object({}),
                           result_path="$.outcome")
        launch = self.launch_step("Launch the instance that runs the smoke tests", "smoke-tests",
                                  result_path="$.outcome.report", wait_for_token=True, timeout=self.callback_timeout)
        terminate = self.terminate_step("Terminate the smoke test instance")
        terminate_after_error = self.terminate_step("Terminate the smoke test instance after an error",
                                                    after_error=True)
        launch.add_catch(terminate, errors=[SMOKE_TESTS_FAILED], result_path="$.outcome.failure")
        launch.add_catch(terminate_after_error, errors=[sfn.Errors.ALL], result_path="$.error")

        result = self.invoke(
            "Shape the smoke test result", self.result_fn,
            payload={
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "event": sfn.JsonPath.string_at("$.event"),
                "outcome": sfn.JsonPath.object_at("$.outcome"),
                "instance": sfn.JsonPath.object_at("$.terminated"),
            },
            result_path="$.result",
        )
        prepare.next(launch)
        launch.next(terminate)
        terminate.next(result)
        result.next(self.send_result("$.result"))
        return prepare
