"""Every receiver queue's dead-letter queue has an alarm that tells the notification topic."""

from __future__ import annotations

import json


def test_each_dead_letter_queue_has_an_alarm_on_its_first_message(app_stacks, templates):
    stack = app_stacks.lifecycle
    template = templates["AmiLifecycle"].to_json()
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    topic = {"Ref": stack.get_logical_id(stack.messaging.notifications.node.default_child)}
    for queue_id, receiver in stack.messaging.receivers.items():
        dlq = stack.get_logical_id(receiver.dead_letter_queue.node.default_child)
        [alarm] = [a for a in alarms if {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}
                   in a.get("Dimensions", [])]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible", queue_id
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["AlarmActions"] == [topic]


def test_cloudwatch_may_publish_to_the_encrypted_topic(templates):
    template = templates["AmiLifecycle"].to_json()
    policies = [json.dumps(r["Properties"]["KeyPolicy"]) for r in template["Resources"].values()
                if r["Type"] == "AWS::KMS::Key"]
    assert any('"cloudwatch.amazonaws.com"' in policy and "kms:GenerateDataKey*" in policy for policy in policies)
