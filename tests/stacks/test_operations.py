"""The operations construct as synthesized: scheduled jobs, their permissions, the topic and the alarms."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.amilifecycle.operations import operations_log_group_name
from tests.stacks.helpers import as_list, logical_id


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def resources(templates) -> dict[str, dict[str, Any]]:
    return templates["AmiLifecycle"].to_json()["Resources"]


def of_type(resources, type_name: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in resources.items() if value["Type"] == type_name}


def role_statements(stack, resources, function) -> list[dict[str, Any]]:
    role = logical_id(stack, function.role)
    found = []
    for resource in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role} in resource["Properties"].get("Roles", []):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def rule_of(stack, resources, function) -> dict[str, Any]:
    target = logical_id(stack, function)
    [rule] = [r["Properties"] for r in of_type(resources, "AWS::Events::Rule").values()
              if any(t["Arn"] == {"Fn::GetAtt": [target, "Arn"]} for t in r["Properties"].get("Targets", []))]
    return rule


def test_the_reconciler_runs_on_the_configured_schedule(stack, resources, settings):
    rule = rule_of(stack, resources, stack.operations.reconciler)
    assert rule["ScheduleExpression"] == settings.lifecycle.reconciler_schedule
    assert rule["State"] == "ENABLED"


def test_the_garbage_collector_runs_at_the_configured_rate(stack, resources, settings):
    rule = rule_of(stack, resources, stack.operations.garbage_collector)
    minutes = settings.lifecycle.garbage_collector_rate_mins
    assert rule["ScheduleExpression"] == f"rate({minutes} minute{'s' if minutes != 1 else ''})"


def test_the_garbage_collector_is_given_the_maximum_runtime(stack, resources, settings):
    function = resources[logical_id(stack, stack.operations.garbage_collector)]["Properties"]
    assert function["Environment"]["Variables"]["TEST_INSTANCE_MAX_RUNTIME_HOURS"] == \
        str(settings.lifecycle.instance_max_runtime_hours)


def test_the_garbage_collector_may_only_terminate_this_deployments_test_instances(stack, resources, settings):
    statements = role_statements(stack, resources, stack.operations.garbage_collector)
    [terminate] = [s for s in statements if "ec2:TerminateInstances" in as_list(s["Action"])]
    assert terminate["Condition"] == {"StringEquals": {"aws:ResourceTag/AMI_LC_EVENT_INSTANCE": "TRUE",
                                                       "aws:ResourceTag/AMI_LC_STACK_TAG": settings.stack_tag}}


def test_the_reconciler_reads_lifecycles_and_writes_only_image_tags(stack, resources):
    statements = role_statements(stack, resources, stack.operations.reconciler)
    granted = {action for s in statements for action in as_list(s["Action"])}
    assert {"dynamodb:Query", "ec2:DescribeImages", "ec2:CreateTags", "sns:Publish"} <= granted
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem", "ec2:DeleteTags"} & granted
    [tagging] = [s for s in statements if "ec2:CreateTags" in as_list(s["Action"])]
    assert "image/*" in str(tagging["Resource"])


def test_reports_go_to_an_encrypted_topic_kept_in_the_operations_log(stack, resources, settings):
    topic = resources[logical_id(stack, stack.operations.topic)]["Properties"]
    assert "KmsMasterKeyId" in topic
    sink = logical_id(stack, stack.operations.sink)
    assert any(s["Properties"]["Protocol"] == "lambda" and s["Properties"]["Endpoint"] == {"Fn::GetAtt": [sink, "Arn"]}
               for s in of_type(resources, "AWS::SNS::Subscription").values())
    assert any(g["Properties"].get("LogGroupName") == operations_log_group_name(settings.stack_tag)
               for g in of_type(resources, "AWS::Logs::LogGroup").values())


def test_cloudwatch_may_use_the_operations_key_to_publish_alarms(stack, resources):
    policy = resources[logical_id(stack, stack.operations.key)]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in policy)


def test_every_dead_letter_queue_has_an_alarm_that_notifies_the_operations_topic(stack, resources):
    topic = {"Ref": logical_id(stack, stack.operations.topic)}
    queues = [receiver.dead_letter_queue for receiver in stack.messaging.receivers.values()]
    queues.append(stack.functions.dead_letter_queue)
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    for queue in queues:
        name = {"Fn::GetAtt": [logical_id(stack, queue), "QueueName"]}
        [alarm] = [a["Properties"] for a in alarms
                   if a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": name}]]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Threshold"] == 1 and alarm["AlarmActions"] == [topic]


def test_a_failed_scheduled_run_raises_an_alarm(stack, resources):
    for function in (stack.operations.reconciler, stack.operations.garbage_collector):
        name = {"Ref": logical_id(stack, function)}
        assert any(a["Properties"]["MetricName"] == "Errors"
                   and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": name}]
                   for a in of_type(resources, "AWS::CloudWatch::Alarm").values())


def test_the_topic_is_an_output(templates):
    assert "amiOrchestratorReconcilerTopicArn" in templates["AmiLifecycle"].to_json()["Outputs"]
