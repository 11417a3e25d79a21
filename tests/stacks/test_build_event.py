"""The BUILD_AMI state machine, its build-waits table and its functions, as synthesized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.amilifecycle.events.base import LAMBDA_SERVICE_ERRORS, state_machine_log_group_name
from stacks.amilifecycle.events.build import BUILD_WAIT_SLICE, build_wait_slice

REPORT = "Report the event error"
WAIT = "Wait for the image build notification"
CHECK = "Check the image build"
LAMBDA_STEPS = ("Start EC2 Image Builder pipeline execution", WAIT, CHECK, "Get AMI details")


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def resources(templates) -> dict[str, dict[str, Any]]:
    return templates["AmiLifecycle"].to_json()["Resources"]


def logical_id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def placeholder(part: Any) -> str:
    """A token of the definition as readable text: ``<Logical.Arn>`` or ``<Logical>``."""
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    logical, attribute = part["Fn::GetAtt"]
    return f"<{logical}.{attribute}>"


@pytest.fixture(scope="module")
def machine(stack, resources) -> dict[str, Any]:
    return resources[logical_id(stack, stack.build_event.state_machine)]


@pytest.fixture(scope="module")
def definition(machine) -> dict[str, Any]:
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(placeholder(part) for part in parts))


@pytest.fixture(scope="module")
def states(definition) -> dict[str, dict[str, Any]]:
    return definition["States"]


def role_statements(stack, resources, function) -> list[dict[str, Any]]:
    role = logical_id(stack, function.role)
    found = []
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", []):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------ state machine

def test_the_definition_is_jsonpath_only(machine, definition) -> None:
    text = json.dumps(definition)
    assert "JSONata" not in text and "QueryLanguage" not in machine["Properties"]


def test_the_machine_times_out_after_the_configured_build_minutes(settings, definition) -> None:
    assert definition["TimeoutSeconds"] == settings.lifecycle.state_machines.build_mins * 60


def test_the_machine_is_traced_and_logs_errors_only_without_execution_data(machine) -> None:
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ERROR"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_the_execution_log_is_encrypted_with_the_orchestrator_key_and_named_by_stack_tag(stack, resources,
                                                                                          settings) -> None:
    [group] = [r for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"
               and r["Properties"].get("LogGroupName") == state_machine_log_group_name(settings.stack_tag, "build")]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [logical_id(stack, stack.keys.orchestrator), "Arn"]}


def test_the_steps_run_in_the_documented_order(definition, states) -> None:
    assert definition["StartAt"] == "Start EC2 Image Builder pipeline execution"
    assert states["Start EC2 Image Builder pipeline execution"]["Next"] == WAIT
    assert states[WAIT]["Next"] == "Get AMI details"
    assert states["Get AMI details"]["Next"] == "Send the result to the creation receiver"
    assert states["Send the result to the creation receiver"]["Next"] == "Event success"
    assert states["Event success"]["Type"] == "Succeed"


def test_every_task_but_the_error_report_catches_every_error_into_the_report(states) -> None:
    for name, state in states.items():
        if state["Type"] != "Task" or name == REPORT:
            continue
        last = state["Catch"][-1]
        assert (last["ErrorEquals"], last["Next"], last["ResultPath"]) == (["States.ALL"], REPORT, "$.error"), name


def test_lambda_steps_retry_lambdas_transient_errors_with_backoff(states) -> None:
    for name in LAMBDA_STEPS:
        (retry,) = states[name]["Retry"]
        assert retry["ErrorEquals"] == list(LAMBDA_SERVICE_ERRORS)
        assert retry["BackoffRate"] == 2 and retry["MaxAttempts"] >= 3 and retry["IntervalSeconds"] >= 1


def test_lambda_steps_keep_the_execution_input_and_store_results_beside_it(states) -> None:
    assert [states[name]["ResultPath"] for name in LAMBDA_STEPS] == ["$.build", "$.image", "$.image", "$.result"]


def test_the_wait_is_a_task_token_with_a_timeout_slice(states, settings) -> None:
    wait = states[WAIT]
    assert wait["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert wait["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    assert wait["TimeoutSeconds"] == min(BUILD_WAIT_SLICE.to_seconds(),
                                         settings.lifecycle.state_machines.build_mins * 60)


def test_a_wait_timeout_or_a_failed_image_is_checked_before_anything_else(states) -> None:
    first = states[WAIT]["Catch"][0]
    assert set(first["ErrorEquals"]) == {"States.Timeout", "ImageBuildFailed"}
    assert first["Next"] == CHECK


def test_the_check_goes_on_fails_or_waits_again_by_image_status(states) -> None:
    assert states[CHECK]["Next"] == "Did the image build end?"
    choice = states["Did the image build end?"]
    available, failed = choice["Choices"]
    assert (available["Variable"], available["StringEquals"], available["Next"]) == (
        "$.image.status", "AVAILABLE", "Get AMI details")
    assert {c["StringEquals"] for c in failed["Or"]} == {"FAILED", "CANCELLED", "DELETED"}
    assert failed["Next"] == "Image build failed"
    assert choice["Default"] == WAIT


def test_a_failed_image_is_reported_with_the_images_own_reason(states) -> None:
    failed = states["Image build failed"]
    assert failed["Parameters"] == {"Error": "ImageBuildFailed", "Cause.$": "$.image.reason"}
    assert (failed["ResultPath"], failed["Next"]) == ("$.error", REPORT)


def test_the_result_goes_to_the_creation_receiver_queue_and_waits_for_its_answer(stack, states, settings) -> None:
    send = states["Send the result to the creation receiver"]
    assert send["Resource"].endswith(":states:::sqs:sendMessage.waitForTaskToken")
    assert send["Parameters"]["QueueUrl"] == f"<{logical_id(stack, stack.messaging.creation_receiver.queue)}>"
    assert send["Parameters"]["MessageBody"] == {"task_token.$": "$$.Task.Token",
                                                 "task_details": {"value.$": "$.result"}}
    assert send["TimeoutSeconds"] == settings.lifecycle.creation_receiver_timeout_mins * 60


def test_errors_go_to_the_error_receiver_queue_then_fail_the_execution(stack, states) -> None:
    report = states[REPORT]
    assert report["Resource"].endswith(":states:::sqs:sendMessage")
    assert report["Parameters"]["QueueUrl"] == f"<{logical_id(stack, stack.messaging.error_receiver.queue)}>"
    assert report["Parameters"]["MessageBody"] == {
        "lifecycle_id.$": "$.lifecycle_id", "name": "BUILD_AMI", "status": "ERROR",
        "status_date.$": "$$.State.EnteredTime", "execution_arn.$": "$$.Execution.Id", "error.$": "$.error"}
    assert states[report["Next"]]["Type"] == "Fail"


def test_no_step_passes_keys_or_double_encoded_input(states) -> None:
    text = json.dumps(states)
    assert "api_key" not in text and "States.JsonToString" not in text


def test_the_wait_slice_never_exceeds_the_build_timeout() -> None:
    import aws_cdk as cdk

    assert build_wait_slice(cdk.Duration.minutes(10)).to_minutes() == 10
    assert build_wait_slice(cdk.Duration.minutes(180)).to_minutes() == 30


# ----------------------------------------------------------- build waits table

def test_the_build_waits_table_is_keyed_by_image_and_expires_its_items(stack, resources) -> None:
    table = resources[logical_id(stack, stack.build_event.build_waits)]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "image_build_version_arn", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_the_build_waits_table_is_encrypted_recoverable_on_demand_and_deleted_with_the_stack(stack,
                                                                                              resources) -> None:
    table = resources[logical_id(stack, stack.build_event.build_waits)]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::GetAtt": [logical_id(stack, stack.keys.orchestrator), "Arn"]}
    assert table["DeletionPolicy"] == "Delete"


# ------------------------------------------------------------------- functions

def test_the_notification_listener_is_subscribed_to_the_image_builder_topic(stack, resources) -> None:
    listener = logical_id(stack, stack.build_event.functions["ImageBuildNotificationFn"])
    subscriptions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"
                     and r["Properties"]["Endpoint"] == {"Fn::GetAtt": [listener, "Arn"]}]
    (subscription,) = subscriptions
    assert subscription["Protocol"] == "lambda"
    assert "imagebuildertopic" in json.dumps(subscription["TopicArn"]).lower()


def test_only_the_deployments_pipeline_can_be_started(stack, resources) -> None:
    function = stack.build_event.functions["BuildStartPipelineFn"]
    statements = role_statements(stack, resources, function)
    [start] = [s for s in statements if "imagebuilder:StartImagePipelineExecution" in as_list(s["Action"])]
    configured = resources[logical_id(stack, function)]["Properties"]["Environment"]["Variables"]
    assert start["Resource"] == configured["IMAGEBUILDER_PIPELINE_ARN"]
    assert "amilifecyclepipeline" in json.dumps(start["Resource"])


def test_only_the_wait_the_listener_and_the_receivers_answer_build_tokens(stack, resources) -> None:
    machine_ref = {"Ref": logical_id(stack, stack.build_event.state_machine)}
    answering = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::IAM::Policy" and any(
        "states:SendTaskSuccess" in as_list(s["Action"]) and machine_ref in as_list(s["Resource"])
        for s in r["Properties"]["PolicyDocument"]["Statement"])]
    roles = {ref["Ref"] for policy in answering for ref in policy["Roles"]}
    functions = [stack.build_event.functions["BuildWaitFn"], stack.build_event.functions["ImageBuildNotificationFn"],
                 stack.receivers.creation_receiver, stack.receivers.patch_receiver]
    assert roles == {logical_id(stack, function.role) for function in functions}


def test_the_build_functions_know_the_build_waits_table(stack, resources) -> None:
    table_ref = {"Ref": logical_id(stack, stack.build_event.build_waits)}
    for name in ("BuildWaitFn", "ImageBuildNotificationFn"):
        function = resources[logical_id(stack, stack.build_event.functions[name])]
        assert function["Properties"]["Environment"]["Variables"]["BUILD_WAITS_TABLE_NAME"] == table_ref


def test_the_state_machine_arn_is_published_under_its_historical_key(stack, templates) -> None:
    outputs = templates["AmiLifecycle"].to_json()["Outputs"]
    assert outputs["lifeCycleAmiBuildStateMachineName"]["Value"] == {
        "Ref": logical_id(stack, stack.build_event.state_machine)}
