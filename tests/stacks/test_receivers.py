"""The receiver functions and the notification log sink, as synthesized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.amilifecycle.messaging import RECEIVER_FUNCTION_TIMEOUT


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def resources(templates) -> dict[str, dict[str, Any]]:
    return templates["AmiLifecycle"].to_json()["Resources"]


def logical_id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(stack, resources, function) -> list[dict[str, Any]]:
    role = logical_id(stack, function.role)
    found = []
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", []):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def event_source(stack, resources, function) -> dict[str, Any]:
    target = {"Ref": logical_id(stack, function)}
    (mapping,) = [r["Properties"] for r in resources.values()
                  if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == target]
    return mapping


@pytest.mark.parametrize("function_name, queue_name", [("creation_receiver", "creation_receiver"),
                                                       ("patch_receiver", "patch_receiver"),
                                                       ("error_receiver", "error_receiver")])
def test_each_receiver_consumes_its_queue_in_batches_of_ten_with_partial_failures(stack, resources, function_name,
                                                                                  queue_name) -> None:
    mapping = event_source(stack, resources, getattr(stack.receivers, function_name))
    queue = getattr(stack.messaging, queue_name).queue
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [logical_id(stack, queue), "Arn"]}
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}


@pytest.mark.parametrize("function_name, handler", [("creation_receiver", "receivers.creation_receiver"),
                                                    ("patch_receiver", "receivers.patch_receiver"),
                                                    ("error_receiver", "receivers.error_receiver"),
                                                    ("notification_sink", "notification_sink.handle")])
def test_each_function_runs_its_handler(stack, resources, function_name, handler) -> None:
    function = resources[logical_id(stack, getattr(stack.receivers, function_name))]["Properties"]
    assert function["Handler"] == f"orchestrator.handlers.{handler}"


def test_receivers_finish_well_within_the_queue_visibility(stack, resources) -> None:
    for function in (stack.receivers.creation_receiver, stack.receivers.patch_receiver,
                     stack.receivers.error_receiver):
        assert resources[logical_id(stack, function)]["Properties"]["Timeout"] == \
            RECEIVER_FUNCTION_TIMEOUT.to_seconds() == 120


@pytest.mark.parametrize("receiver", ["creation_receiver", "patch_receiver"])
def test_each_result_receiver_may_tag_images_and_nothing_else_in_ec2(stack, resources, receiver) -> None:
    statements = role_statements(stack, resources, getattr(stack.receivers, receiver))
    ec2 = [s for s in statements if any(a.startswith("ec2:") for a in as_list(s["Action"]))]
    (tagging,) = ec2
    assert as_list(tagging["Action"]) == ["ec2:CreateTags"]
    assert tagging["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:*::image/*"]]}


def test_the_creation_receiver_assumes_no_role_without_distribution_accounts(settings, stack, resources) -> None:
    assert settings.image_builder.ami_publishing_target_ids == ()
    assert "sts:AssumeRole" not in actions(role_statements(stack, resources, stack.receivers.creation_receiver))


@pytest.mark.parametrize("receiver", ["creation_receiver", "patch_receiver"])
def test_each_result_receiver_writes_the_three_lifecycle_tables(stack, resources, receiver) -> None:
    statements = role_statements(stack, resources, getattr(stack.receivers, receiver))
    written = {json.dumps(s["Resource"]) for s in statements if "dynamodb:PutItem" in as_list(s["Action"])}
    for table in (stack.tables.state, stack.tables.semver_seed, stack.tables.lookup):
        assert any(logical_id(stack, table) in resource for resource in written)


@pytest.mark.parametrize("receiver", ["creation_receiver", "patch_receiver"])
def test_each_result_receiver_answers_the_tokens_of_the_event_state_machines_only(stack, resources, receiver) -> None:
    statements = role_statements(stack, resources, getattr(stack.receivers, receiver))
    answering = [s for s in statements if "states:SendTaskSuccess" in as_list(s["Action"])]
    machines = {json.dumps({"Ref": logical_id(stack, event.state_machine)}) for event in stack.events}
    answered = {json.dumps(resource) for s in answering for resource in as_list(s["Resource"])}
    assert answering and answered == machines


def test_the_error_receiver_touches_only_the_state_table(stack, resources) -> None:
    statements = role_statements(stack, resources, stack.receivers.error_receiver)
    text = json.dumps(statements)
    assert logical_id(stack, stack.tables.state) in text
    for table in (stack.tables.semver_seed, stack.tables.lookup):
        assert logical_id(stack, table) not in text
    assert not any(a.startswith(("ec2:", "states:", "sts:")) for a in actions(statements))


def test_the_sink_is_subscribed_to_every_notification_unfiltered(stack, resources) -> None:
    sink = {"Fn::GetAtt": [logical_id(stack, stack.receivers.notification_sink), "Arn"]}
    (subscription,) = [r["Properties"] for r in resources.values()
                       if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Endpoint"] == sink]
    assert subscription["TopicArn"] == {"Ref": logical_id(stack, stack.messaging.notifications)}
    assert "FilterPolicy" not in subscription


def test_the_sink_writes_only_to_the_event_notifications_log_group(stack, resources) -> None:
    statements = role_statements(stack, resources, stack.receivers.notification_sink)
    logs = [s for s in statements if any(a.startswith("logs:") for a in as_list(s["Action"]))]
    (writing,) = logs
    assert set(as_list(writing["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert writing["Resource"] == {"Fn::GetAtt": [logical_id(stack, stack.log_groups.event_notifications), "Arn"]}
