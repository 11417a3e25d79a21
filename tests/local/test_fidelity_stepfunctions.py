"""Step Functions callback tasks on the local cloud behave as on AWS: a
SendTaskFailure fails the waiting task with the error and cause given, and
task timeouts and heartbeats run on the local time scale."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from typing import Any

import pytest

from tests.local.conftest import TEST_TIME_SCALE
from tests.local.polling import eventually

ROLE_ARN = "arn:aws:iam::123456789012:role/fidelity-state-machine"
CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


@pytest.fixture(scope="module")
def sfn(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("stepfunctions")


@pytest.fixture(scope="module")
def sqs(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("sqs")


@pytest.fixture
def token_queue(sqs: Any) -> str:
    """The queue a callback task sends its task token to."""
    return sqs.create_queue(QueueName=f"fidelity-tokens-{uuid.uuid4().hex[:8]}")["QueueUrl"]


def callback_task(queue_url: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": CALLBACK,
            "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}}, **extra}


def caught(task: dict[str, Any]) -> dict[str, Any]:
    """A definition running ``task`` and, on any error, a Pass state that
    ends with the error Catch gave it."""
    return {"StartAt": "Wait for the worker", "States": {
        "Wait for the worker": {**task, "End": True, "Catch": [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": True},
    }}


def state_machine(sfn: Any, definition: dict[str, Any]) -> str:
    return sfn.create_state_machine(name=f"fidelity-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition),
                                    roleArn=ROLE_ARN)["stateMachineArn"]


def start(sfn: Any, arn: str, payload: dict[str, Any] | None = None) -> str:
    return sfn.start_execution(stateMachineArn=arn, name=f"run-{uuid.uuid4().hex[:12]}",
                               input=json.dumps(payload or {}))["executionArn"]


def finished(sfn: Any, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    return eventually(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=execution_arn)), timeout=timeout, what="the execution's end")


def task_token(sqs: Any, queue_url: str) -> str:
    messages = eventually(lambda: sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages"),
                          what="the task token message")
    return json.loads(messages[0]["Body"])["token"]


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


# -- SendTaskFailure ------------------------------------------------------------


def test_task_failure_reaches_the_catch_with_its_error_and_cause(sfn, sqs, token_queue):
    execution = start(sfn, state_machine(sfn, caught(callback_task(token_queue))), {"order": 7})

    sfn.send_task_failure(taskToken=task_token(sqs, token_queue), error="ImageBuildFailed",
                          cause="the recipe's component failed: exit code 3")

    description = finished(sfn, execution)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"]) == {
        "order": 7, "error": {"Error": "ImageBuildFailed", "Cause": "the recipe's component failed: exit code 3"}}


def test_task_failure_is_recorded_in_the_history_with_its_error_and_cause(sfn, sqs, token_queue):
    execution = start(sfn, state_machine(sfn, caught(callback_task(token_queue))))

    sfn.send_task_failure(taskToken=task_token(sqs, token_queue), error="Refused", cause="not approved")
    finished(sfn, execution)

    (failed,) = [event for event in history(sfn, execution) if event["type"] == "TaskFailed"]
    assert failed["taskFailedEventDetails"]["error"] == "Refused"
    assert failed["taskFailedEventDetails"]["cause"] == "not approved"


def test_uncaught_task_failure_fails_the_execution_with_its_error_and_cause(sfn, sqs, token_queue):
    definition = {"StartAt": "Wait", "States": {"Wait": {**callback_task(token_queue), "End": True}}}
    execution = start(sfn, state_machine(sfn, definition))

    sfn.send_task_failure(taskToken=task_token(sqs, token_queue), error="Refused", cause="not approved")

    description = finished(sfn, execution)
    assert description["status"] == "FAILED"
    assert (description["error"], description["cause"]) == ("Refused", "not approved")


def test_catch_on_the_error_name_given_in_the_task_failure_takes_its_branch(sfn, sqs, token_queue):
    definition = {"StartAt": "Wait", "States": {
        "Wait": {**callback_task(token_queue), "End": True, "Catch": [
            {"ErrorEquals": ["Other"], "Next": "Wrong"},
            {"ErrorEquals": ["Refused"], "ResultPath": "$.refusal", "Next": "Right"}]},
        "Wrong": {"Type": "Fail", "Error": "WrongBranch"},
        "Right": {"Type": "Pass", "End": True},
    }}
    execution = start(sfn, state_machine(sfn, definition))

    sfn.send_task_failure(taskToken=task_token(sqs, token_queue), error="Refused", cause="{\"by\": \"qa\"}")

    description = finished(sfn, execution)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"])["refusal"] == {"Error": "Refused", "Cause": "{\"by\": \"qa\"}"}


# -- timeouts and heartbeats on the time scale -------------------------------------


def test_callback_task_timeout_lasts_its_seconds_times_the_time_scale(sfn, token_queue):
    seconds = 300  # 3 s at the tests' time scale, five minutes unscaled
    execution = start(sfn, state_machine(sfn, caught(callback_task(token_queue, TimeoutSeconds=seconds))))
    started = time.monotonic()

    description = finished(sfn, execution, timeout=60)

    took = time.monotonic() - started
    assert json.loads(description["output"])["error"]["Error"] == "States.Timeout"
    assert seconds * TEST_TIME_SCALE * 0.9 <= took < seconds * TEST_TIME_SCALE + 10


def test_callback_task_answered_within_its_scaled_timeout_succeeds(sfn, sqs, token_queue):
    execution = start(sfn, state_machine(sfn, caught(callback_task(token_queue, TimeoutSeconds=1000))))

    sfn.send_task_success(taskToken=task_token(sqs, token_queue), output=json.dumps({"ami": "ami-1"}))

    description = finished(sfn, execution)
    assert json.loads(description["output"]) == {"ami": "ami-1"}


def test_history_reports_the_timeout_the_definition_asked_for(sfn, token_queue):
    execution = start(sfn, state_machine(sfn, caught(callback_task(token_queue, TimeoutSeconds=200))))
    finished(sfn, execution, timeout=60)

    (scheduled,) = [event for event in history(sfn, execution) if event["type"] == "TaskScheduled"]
    assert scheduled["taskScheduledEventDetails"]["timeoutInSeconds"] == 200


def test_missing_heartbeat_times_out_after_its_seconds_times_the_time_scale(sfn, token_queue):
    heartbeat = 200  # 2 s at the tests' time scale
    task = callback_task(token_queue, TimeoutSeconds=100000, HeartbeatSeconds=heartbeat)
    execution = start(sfn, state_machine(sfn, caught(task)))
    started = time.monotonic()

    description = finished(sfn, execution, timeout=60)

    took = time.monotonic() - started
    # Step Functions documents both names for a missed heartbeat; the task's
    # own timeout (1000 s here) is far away, so the heartbeat fired.
    assert json.loads(description["output"])["error"]["Error"] in ("States.Timeout", "States.HeartbeatTimeout")
    assert heartbeat * TEST_TIME_SCALE * 0.9 <= took < heartbeat * TEST_TIME_SCALE + 10


def test_heartbeats_keep_a_task_alive_past_its_scaled_heartbeat_seconds(sfn, sqs, token_queue):
    heartbeat = 150  # 1.5 s at the tests' time scale
    task = callback_task(token_queue, TimeoutSeconds=100000, HeartbeatSeconds=heartbeat)
    execution = start(sfn, state_machine(sfn, caught(task)))
    token = task_token(sqs, token_queue)

    deadline = time.monotonic() + heartbeat * TEST_TIME_SCALE * 2.5
    while time.monotonic() < deadline:
        sfn.send_task_heartbeat(taskToken=token)
        time.sleep(heartbeat * TEST_TIME_SCALE / 4)
    sfn.send_task_success(taskToken=token, output=json.dumps({"alive": True}))

    description = finished(sfn, execution)
    assert json.loads(description["output"]) == {"alive": True}


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_lambda_task_timeout_lasts_its_seconds_times_the_time_scale(local_cloud, sfn):
    lambda_client = local_cloud.boto3_client("lambda")
    name = f"fidelity-sleeper-{uuid.uuid4().hex[:8]}"
    role = local_cloud.boto3_client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    function_arn = lambda_client.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler", Timeout=30,
        Code={"ZipFile": _zip({"index.py": "import time\n\ndef handler(event, context):\n"
                                           "    time.sleep(event['sleep'])\n    return 'done'\n"})},
    )["FunctionArn"]
    task = {"Type": "Task", "Resource": function_arn, "TimeoutSeconds": 150}  # 1.5 s at the tests' scale
    execution = start(sfn, state_machine(sfn, caught(task)), {"sleep": 8})
    started = time.monotonic()

    description = finished(sfn, execution, timeout=60)

    took = time.monotonic() - started
    assert json.loads(description["output"])["error"]["Error"] == "States.Timeout"
    assert took < 8
