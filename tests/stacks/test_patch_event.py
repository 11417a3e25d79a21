"""The PATCH_AMI state machine and its functions, as synthesized: every error path deletes the patch's
resources before the report, and the functions may touch only the patch's own Image Builder resources."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.amilifecycle.events.patch import PATCH_FAILED
from tests.stacks.test_build_event import as_list, logical_id, placeholder, role_statements

REPORT = "Report the event error"
CLEAN_UP = "Delete the patch resources"
CLEAN_UP_AFTER_ERROR = "Delete the patch resources after the error"
CREATE = "Create the patch's Image Builder resources"
START = "Start the patch pipeline"
WAIT = "Wait for the patch build notification"
CHECK = "Check the patch build"
DETAILS = "Get the patched AMI details"
SEND = "Send the result to the patch receiver"


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def patch_event(stack):
    from stacks.vocabulary import EventName
    return stack.events.by_event(EventName.PATCH_AMI)


@pytest.fixture(scope="module")
def resources(templates) -> dict[str, dict[str, Any]]:
    return templates["AmiLifecycle"].to_json()["Resources"]


@pytest.fixture(scope="module")
def states(stack, resources, patch_event) -> dict[str, dict[str, Any]]:
    machine = resources[logical_id(stack, patch_event.state_machine)]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(placeholder(part) for part in parts))["States"]


def test_the_patch_runs_create_start_wait_details_clean_up_then_the_receiver(states):
    assert states[CREATE]["Next"] == START
    assert states[START]["Next"] == WAIT
    assert states[WAIT]["Next"] == DETAILS
    assert states[DETAILS]["Next"] == CLEAN_UP
    assert states[CLEAN_UP]["Next"] == SEND
    assert states[SEND]["Resource"].endswith("sqs:sendMessage.waitForTaskToken")


def test_the_result_goes_to_the_patch_receiver_within_its_timeout(stack, states, settings):
    send = states[SEND]
    assert send["Parameters"]["QueueUrl"] == f"<{logical_id(stack, stack.messaging.patch_receiver.queue)}>"
    assert send["TimeoutSeconds"] == settings.lifecycle.patch_receiver_timeout_mins * 60


def test_every_error_deletes_the_patch_resources_before_it_is_reported(states):
    for name, state in states.items():
        if state["Type"] != "Task" or name in (CLEAN_UP_AFTER_ERROR, REPORT):
            continue
        catch_all = [c for c in state.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
        assert catch_all and catch_all[-1]["Next"] == CLEAN_UP_AFTER_ERROR, name
    assert states["Patch build failed"]["Next"] == CLEAN_UP_AFTER_ERROR
    assert states[CLEAN_UP_AFTER_ERROR]["Next"] == REPORT


def test_a_failing_clean_up_still_reports_the_original_error(states):
    clean_up = states[CLEAN_UP_AFTER_ERROR]
    assert clean_up["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.cleanup_error", "Next": REPORT}]
    assert clean_up["Parameters"] == {"execution.$": "$"}
    assert states[REPORT]["Parameters"]["MessageBody"]["error.$"] == "$.error"
    assert states["Event failure"]["Error"] == PATCH_FAILED


def test_the_wait_and_the_check_are_the_build_events_own_functions(stack, states):
    build = stack.build_event.functions
    assert states[WAIT]["Parameters"]["FunctionName"] == f"<{logical_id(stack, build['BuildWaitFn'])}.Arn>"
    assert states[CHECK]["Resource"] == f"<{logical_id(stack, build['BuildCheckImageFn'])}.Arn>"
    assert [c["ErrorEquals"] for c in states[WAIT]["Catch"]][0] == ["States.Timeout", "ImageBuildFailed"]


def test_the_build_wait_and_listener_may_answer_patch_tokens(stack, resources, patch_event):
    machine = {"Ref": logical_id(stack, patch_event.state_machine)}
    for name in ("BuildWaitFn", "ImageBuildNotificationFn"):
        statements = role_statements(stack, resources, stack.build_event.functions[name])
        assert any("states:SendTaskSuccess" in as_list(s["Action"]) and machine in as_list(s["Resource"])
                   for s in statements), name


def imagebuilder_resources(statements) -> list[str]:
    found = []
    for statement in statements:
        if any(str(a).startswith("imagebuilder:") for a in as_list(statement["Action"])):
            found += [json.dumps(r) for r in as_list(statement["Resource"])]
    return found


@pytest.mark.parametrize("name", ["PatchCreateResourcesFn", "PatchStartPipelineFn", "PatchAmiDetailsFn",
                                  "PatchDeleteResourcesFn"])
def test_patch_functions_touch_only_image_builder_resources_named_for_patches(stack, resources, patch_event, name):
    statements = role_statements(stack, resources, patch_event.functions[name])
    arns = imagebuilder_resources(statements)
    assert arns
    for arn in arns:
        assert f"/amilc-{stack.settings.stack_tag}-patch-*" in arn, arn
    assert all(s["Resource"] != "*" for s in statements
               if any(str(a).startswith("imagebuilder:") for a in as_list(s["Action"])))


def test_only_the_create_step_passes_a_role_and_only_the_image_builder_instance_role(stack, resources, patch_event):
    instance_role = stack.image_builder.instance_role
    for name, function in patch_event.functions.items():
        passing = [s for s in role_statements(stack, resources, function) if "iam:PassRole" in as_list(s["Action"])]
        if name != "PatchCreateResourcesFn":
            assert passing == [], name
            continue
        (statement,) = passing
        assert "ImageBuilderInstanceRole" in json.dumps(statement["Resource"])
        assert instance_role.node.path.startswith(stack.image_builder.node.path)


def test_the_create_step_knows_where_patch_builds_run(stack, resources, patch_event, settings):
    env = resources[logical_id(stack, patch_event.functions["PatchCreateResourcesFn"])]["Properties"][
        "Environment"]["Variables"]
    assert "PATCH_INFRASTRUCTURE_JSON" in env and "IMAGEBUILDER_PIPELINE_ARN" in env
    text = json.dumps(env["PATCH_INFRASTRUCTURE_JSON"])
    assert settings.image_builder.instance_types[0] in text


def test_the_api_reads_patch_component_documents(stack, resources):
    env = resources[logical_id(stack, stack.api.function)]["Properties"]["Environment"]["Variables"]
    assert env["PATCH_COMPONENT_BUCKET"] == {"Ref": logical_id(stack, stack.buckets.patch_components)}
    statements = role_statements(stack, resources, stack.api.function)
    assert any("s3:GetObject*" in as_list(s["Action"]) for s in statements)
