"""The local Lambda runtime: deployed functions run their real handlers on
every invocation path, with Lambda's results, errors, timeouts and logs."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from local.lambda_runtime.event_sources import failed_message_ids
from local.lambda_runtime.patches import parse_event
from local.lambda_runtime.runtime import InvocationOutcome
from tests.local.apps.lambda_app import deployed_lambda_app
from tests.local.polling import eventually


# Polling with this module's own pace.
eventually = partial(eventually, timeout=20.0, interval=0.2)


@pytest.fixture(scope="module")
def app(local_cloud: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return deployed_lambda_app(local_cloud, tmp_path_factory.mktemp("lambda-app"))


@pytest.fixture(scope="module")
def lambda_client(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("lambda")


def invoke(lambda_client: Any, name: str, event: dict[str, Any], **extra: Any) -> tuple[dict[str, Any], Any]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **extra)
    return response, json.loads(response["Payload"].read() or b"null")


# -- direct invocation ----------------------------------------------------------


def test_invoke_returns_the_handler_result(app, lambda_client):
    response, payload = invoke(lambda_client, app["EchoName"], {"order": 42})

    assert "FunctionError" not in response
    assert payload["event"] == {"order": 42}


def test_handler_sees_its_template_environment_and_the_local_endpoint(app, lambda_client, local_cloud):
    _, payload = invoke(lambda_client, app["EchoName"], {})

    assert payload["greeting"] == "hello from the template"
    assert payload["endpoint"] == local_cloud.endpoint_url


def test_handler_sees_no_other_function_environment(app, lambda_client):
    _, payload = invoke(lambda_client, app["EchoName"], {})

    assert payload["table_name"] is None  # TABLE_NAME belongs to the recorder function


def test_handler_receives_a_lambda_context(app, lambda_client):
    _, payload = invoke(lambda_client, app["EchoName"], {})

    assert payload["function_name"] == app["EchoName"]
    assert payload["memory_limit_in_mb"] == "128"
    assert payload["invoked_function_arn"].endswith(f":function:{app['EchoName']}")
    uuid.UUID(payload["request_id"])
    assert 0 < payload["remaining_ms"] <= 2000


def test_empty_payload_reaches_the_handler_as_an_empty_object(app, lambda_client):
    response = lambda_client.invoke(FunctionName=app["EchoName"])

    assert json.loads(response["Payload"].read())["event"] == {}


def test_uncaught_exception_is_an_unhandled_function_error(app, lambda_client):
    response, payload = invoke(lambda_client, app["EchoName"], {"raise": "no such order"})

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "no such order"
    assert any("echo.py" in line and "in handler" in line for line in payload["stackTrace"])


def test_invocation_past_the_timeout_is_reported_as_timed_out(app, lambda_client):
    started = time.monotonic()
    response, payload = invoke(lambda_client, app["EchoName"], {"sleep": 30})

    assert time.monotonic() - started < 10
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in payload["errorMessage"]


def test_function_answers_again_after_a_timeout(app, lambda_client):
    invoke(lambda_client, app["EchoName"], {"sleep": 30})

    response, payload = invoke(lambda_client, app["EchoName"], {"after": "timeout"})

    assert "FunctionError" not in response
    assert payload["event"] == {"after": "timeout"}


def test_exit_from_the_handler_is_a_runtime_exit_error(app, lambda_client):
    response, payload = invoke(lambda_client, app["EchoName"], {"exit": 3})

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in payload["errorMessage"]


def test_log_tail_holds_the_handler_output_between_start_and_report(app, lambda_client):
    response, _ = invoke(lambda_client, app["EchoName"], {"marker": "tail"}, LogType="Tail")

    log = base64.b64decode(response["LogResult"]).decode()
    lines = log.splitlines()
    assert lines[0].startswith("START RequestId: ")
    assert 'echo received {"marker": "tail"}' in log
    assert lines[-1].startswith("REPORT RequestId: ") and "Duration:" in lines[-1]


def _log_lines(logs: Any, function_name: str, marker: str) -> list[str]:
    """The lines of the function's CloudWatch log group containing ``marker``."""
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in events if marker in event["message"]]


def test_invocation_log_is_written_to_cloudwatch_logs(app, lambda_client, local_cloud):
    marker = uuid.uuid4().hex
    invoke(lambda_client, app["EchoName"], {"marker": marker})

    assert _log_lines(local_cloud.boto3_client("logs"), app["EchoName"], marker)


def test_event_invocation_is_accepted_at_once_and_runs_in_the_background(app, lambda_client, local_cloud):
    marker = uuid.uuid4().hex
    started = time.monotonic()
    response = lambda_client.invoke(FunctionName=app["EchoName"], InvocationType="Event",
                                    Payload=json.dumps({"marker": marker, "sleep": 1}).encode())
    logs = local_cloud.boto3_client("logs")

    assert response["StatusCode"] == 202
    assert time.monotonic() - started < 1
    eventually(lambda: _log_lines(logs, app["EchoName"], marker), what="the background invocation")


def test_functions_run_concurrently_in_separate_workers(app, lambda_client):
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda n: invoke(lambda_client, app["EchoName"], {"sleep": 1, "n": n}), range(3)))

    assert time.monotonic() - started < 2.8
    assert sorted(payload["event"]["n"] for _, payload in results) == [0, 1, 2]


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def role_arn(local_cloud: Any) -> str:
    iam = local_cloud.boto3_client("iam")
    return iam.create_role(RoleName=f"runtime-test-{uuid.uuid4().hex[:8]}",
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))[
        "Role"]["Arn"]


def _function(lambda_client: Any, role_arn: str, handler: str, files: dict[str, str]) -> str:
    name = f"runtime-test-{uuid.uuid4().hex[:10]}"
    lambda_client.create_function(FunctionName=name, Runtime="python3.11", Role=role_arn, Handler=handler,
                                  Code={"ZipFile": _zip(files)}, Timeout=5)
    return name


def test_handler_module_that_cannot_be_imported_is_an_import_module_error(lambda_client, role_arn):
    name = _function(lambda_client, role_arn, "index.handler",
                     {"index.py": "import module_that_is_not_there\n\ndef handler(e, c):\n    return 1\n"})

    response, payload = invoke(lambda_client, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'index'" in payload["errorMessage"]
    assert "module_that_is_not_there" in payload["errorMessage"]


def test_missing_handler_function_is_a_handler_not_found_error(lambda_client, role_arn):
    name = _function(lambda_client, role_arn, "index.absent", {"index.py": "def handler(e, c):\n    return 1\n"})

    response, payload = invoke(lambda_client, name, {})

    assert payload["errorType"] == "Runtime.HandlerNotFound"
    assert payload["errorMessage"] == "Handler 'absent' missing on module 'index'"


def test_decimal_results_are_marshalled_as_numbers(lambda_client, role_arn):
    name = _function(lambda_client, role_arn, "index.handler", {
        "index.py": "from decimal import Decimal\n\ndef handler(e, c):\n"
                    "    return {'count': Decimal('3'), 'ratio': Decimal('0.5')}\n"})

    _, payload = invoke(lambda_client, name, {})

    assert payload == {"count": 3, "ratio": 0.5}


def test_unserializable_result_is_a_marshal_error(lambda_client, role_arn):
    name = _function(lambda_client, role_arn, "index.handler",
                     {"index.py": "def handler(e, c):\n    return object()\n"})

    response, payload = invoke(lambda_client, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.MarshalError"


def test_function_of_another_runtime_is_reported_not_run(lambda_client, role_arn):
    name = f"runtime-test-{uuid.uuid4().hex[:10]}"
    lambda_client.create_function(FunctionName=name, Runtime="nodejs20.x", Role=role_arn, Handler="index.handler",
                                  Code={"ZipFile": _zip({"index.js": "exports.handler = async () => 1;"})})

    response, payload = invoke(lambda_client, name, {})

    assert payload["errorType"] == "Runtime.InvalidRuntime"
    assert "nodejs20.x" in payload["errorMessage"]


# -- SQS event source mapping ----------------------------------------------------


def _item(local_cloud: Any, table: str, key: str) -> dict[str, Any] | None:
    return local_cloud.boto3_client("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}}).get("Item")


def _dead_letter_bodies(local_cloud: Any, queue_url: str) -> list[dict[str, Any]]:
    sqs = local_cloud.boto3_client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_sqs_message_drives_the_mapped_function(app, local_cloud):
    key = uuid.uuid4().hex
    local_cloud.boto3_client("sqs").send_message(QueueUrl=app["QueueUrl"], MessageBody=json.dumps({"id": key}))

    item = eventually(lambda: _item(local_cloud, app["TableName"], key), what="the recorded item")

    assert item["event_source"] == {"S": "aws:sqs"}
    assert item["receive_count"] == {"N": "1"}


def test_messages_already_waiting_in_the_queue_are_delivered(app, local_cloud):
    keys = [uuid.uuid4().hex for _ in range(3)]
    local_cloud.boto3_client("sqs").send_message_batch(QueueUrl=app["QueueUrl"], Entries=[
        {"Id": str(n), "MessageBody": json.dumps({"id": key})} for n, key in enumerate(keys)])

    for key in keys:
        eventually(lambda key=key: _item(local_cloud, app["TableName"], key), what=f"item {key}")


def test_message_reported_as_a_batch_item_failure_is_redriven_to_the_dead_letter_queue(app, local_cloud):
    key = uuid.uuid4().hex
    local_cloud.boto3_client("sqs").send_message(QueueUrl=app["QueueUrl"],
                                                 MessageBody=json.dumps({"id": key, "fail": True}))

    eventually(lambda: any(body["id"] == key for body in _dead_letter_bodies(local_cloud, app["DeadLetterQueueUrl"])),
               timeout=30, what="the redrive to the dead-letter queue")
    assert _item(local_cloud, app["TableName"], key) is None


def test_message_whose_handler_raises_is_redriven_to_the_dead_letter_queue(app, local_cloud):
    key = uuid.uuid4().hex
    local_cloud.boto3_client("sqs").send_message(QueueUrl=app["QueueUrl"],
                                                 MessageBody=json.dumps({"id": key, "raise": True}))

    eventually(lambda: any(body["id"] == key for body in _dead_letter_bodies(local_cloud, app["DeadLetterQueueUrl"])),
               timeout=30, what="the redrive to the dead-letter queue")


def test_send_message_does_not_wait_for_the_function(app, local_cloud):
    sqs = local_cloud.boto3_client("sqs")
    started = time.monotonic()

    sqs.send_message(QueueUrl=app["QueueUrl"], MessageBody=json.dumps({"id": uuid.uuid4().hex}))

    assert time.monotonic() - started < 0.5


# -- SNS subscription ----------------------------------------------------------------


def test_sns_publication_invokes_the_subscribed_function(app, local_cloud):
    sns = local_cloud.boto3_client("sns")
    lambda_client = local_cloud.boto3_client("lambda")
    topic_arn = sns.create_topic(Name=f"runtime-test-{uuid.uuid4().hex[:8]}")["TopicArn"]
    function_arn = lambda_client.get_function(FunctionName=app["EchoName"])["Configuration"]["FunctionArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn)
    marker = uuid.uuid4().hex
    logs = local_cloud.boto3_client("logs")

    sns.publish(TopicArn=topic_arn, Message=marker, Subject="hello")

    (line,) = eventually(lambda: _log_lines(logs, app["EchoName"], marker), what="the SNS delivery")
    event = json.loads(line.split("echo received ", 1)[1])
    assert event["Records"][0]["Sns"]["TopicArn"] == topic_arn
    assert event["Records"][0]["Sns"]["Subject"] == "hello"


# -- Step Functions ---------------------------------------------------------------


def _run(local_cloud: Any, state_machine_arn: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    sfn = local_cloud.boto3_client("stepfunctions")
    execution_arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=uuid.uuid4().hex,
                                        input=json.dumps(execution_input))["executionArn"]
    return eventually(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=execution_arn)), what="the execution's end")


def test_step_functions_task_returns_the_function_result(app, local_cloud):
    execution = _run(local_cloud, app["FlowArn"], {"order": 7})

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["event"] == {"order": 7}


def test_step_functions_catch_routes_a_function_error(app, local_cloud):
    execution = _run(local_cloud, app["FlowArn"], {"raise": "rejected"})

    assert execution["status"] == "SUCCEEDED"
    error = json.loads(execution["output"])["error"]
    assert error["Error"] == "ValueError"
    assert json.loads(error["Cause"])["errorMessage"] == "rejected"


# -- rules without a server ----------------------------------------------------------


def _outcome(payload: Any, function_error: str | None = None) -> InvocationOutcome:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return InvocationOutcome("request", raw, function_error, "")


def test_function_error_fails_the_whole_batch():
    assert failed_message_ids(_outcome({"errorType": "X"}, "Unhandled"), ["a", "b"], True) == {"a", "b"}


def test_batch_item_failures_are_ignored_without_report_batch_item_failures():
    assert failed_message_ids(_outcome({"batchItemFailures": [{"itemIdentifier": "a"}]}), ["a", "b"], False) == set()


def test_listed_batch_item_failures_fail_only_those_messages():
    assert failed_message_ids(_outcome({"batchItemFailures": [{"itemIdentifier": "b"}]}), ["a", "b"], True) == {"b"}


@pytest.mark.parametrize("response", [
    {"batchItemFailures": [{"itemIdentifier": "unknown"}]},
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"id": "a"}]},
    b"not json",
])
def test_unreadable_batch_response_fails_the_whole_batch(response):
    assert failed_message_ids(_outcome(response), ["a", "b"], True) == {"a", "b"}


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_empty_batch_response_is_a_complete_success(response):
    assert failed_message_ids(_outcome(response), ["a", "b"], True) == set()


def test_payload_that_is_not_json_is_the_callers_error():
    from moto.awslambda.exceptions import LambdaClientError

    with pytest.raises(LambdaClientError, match="Could not parse request body into json"):
        parse_event(b"{not json")


def test_custom_resource_reply_address_is_pointed_at_the_local_endpoint(tmp_path):
    from dataclasses import replace

    from local.config import load_config
    from local.lambda_runtime.runtime import LambdaRuntime

    runtime = LambdaRuntime(replace(load_config(), port=4999, state_dir=tmp_path))
    try:
        event = runtime._rewrite_custom_resource({
            "RequestType": "Create", "StackId": "stack",
            "ResponseURL": "http://host.docker.internal:5000/cloudformation_us-east-1/cfnresponse?stack=s"})
    finally:
        runtime.shutdown()

    assert event["ResponseURL"] == "http://127.0.0.1:4999/cloudformation_us-east-1/cfnresponse?stack=s"


# -- workers, without a server -------------------------------------------------------


COUNTER_CODE = "calls = 0\n\ndef handler(event, context):\n    global calls\n    calls += 1\n    return calls\n"


def _fake_function(name: str, code: str = COUNTER_CODE, reserved: int | None = None) -> Any:
    """What the runtime reads of moto's LambdaFunction."""
    from types import SimpleNamespace

    return SimpleNamespace(
        function_name=name, function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        account_id="123456789012", region="us-east-1", version="$LATEST", run_time="python3.11",
        handler="index.handler", timeout=5, memory_size=128, environment_vars={}, layers=[],
        code_bytes=_zip({"index.py": code}), reserved_concurrency=reserved,
        logs_group_name=f"/aws/lambda/{name}",
    )


@pytest.fixture
def runtime(tmp_path: Any) -> Any:
    from dataclasses import replace

    from local.config import load_config
    from local.lambda_runtime.runtime import LambdaRuntime, RuntimeSettings

    runtime = LambdaRuntime(replace(load_config(), port=4999, state_dir=tmp_path),
                            RuntimeSettings(max_total_workers=2))
    yield runtime
    runtime.shutdown()


def test_warm_worker_keeps_module_state_between_invocations(runtime):
    function = _fake_function("counter")

    results = [json.loads(runtime.invoke(function, {}).payload) for _ in range(3)]

    assert results == [1, 2, 3]


def test_idle_workers_are_stopped(runtime):
    runtime.invoke(_fake_function("idle"), {})

    runtime.pools.reap(idle_seconds=0)

    assert runtime.pools.worker_count() == 0


def test_worker_ceiling_stops_the_least_recently_used_idle_worker(runtime):
    for name in ("first", "second", "third"):
        runtime.invoke(_fake_function(name), {})

    assert runtime.pools.worker_count() == 2
    assert runtime.pools.worker_count("first") == 0


def test_function_with_reserved_concurrency_zero_is_throttled(runtime):
    from local.lambda_runtime.runtime import TooManyRequests

    with pytest.raises(TooManyRequests, match="reserved concurrency is 0"):
        runtime.invoke(_fake_function("throttled", reserved=0), {})


def test_function_without_code_is_reported_with_what_to_do(runtime):
    function = _fake_function("empty")
    function.code_bytes = b""

    outcome = runtime.invoke(function, {})

    assert outcome.function_error == "Unhandled"
    assert "publish the stack's assets" in json.loads(outcome.payload)["errorMessage"]
