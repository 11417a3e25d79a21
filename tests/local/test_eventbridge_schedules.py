"""Scheduled EventBridge rules on the local cloud: rate rules fire on scaled time, cron rules on the wall
clock, and any rule can be fired now through the admin route."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from local.services.events import schedules
from tests.local.polling import eventually


def test_rate_expressions_give_their_period_in_seconds():
    assert schedules.rate_seconds("rate(20 minutes)") == 1200
    assert schedules.rate_seconds("rate(1 hour)") == 3600
    assert schedules.rate_seconds("rate(2 days)") == 172800
    assert schedules.rate_seconds("cron(0 0/3 * * ? *)") is None


def test_a_cron_every_three_hours_is_due_on_the_hour_every_third_hour():
    due = schedules.cron_matcher("cron(0 0/3 * * ? *)")
    assert due(datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc))
    assert due(datetime(2026, 12, 2, 21, 0, tzinfo=timezone.utc))
    assert not due(datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc))
    assert not due(datetime(2026, 12, 2, 3, 1, tzinfo=timezone.utc))


def test_cron_days_of_week_count_from_sunday_and_take_names():
    due = schedules.cron_matcher("cron(30 9 ? * MON-FRI *)")
    assert due(datetime(2026, 12, 7, 9, 30, tzinfo=timezone.utc))  # a Monday
    assert not due(datetime(2026, 12, 6, 9, 30, tzinfo=timezone.utc))  # a Sunday
    assert schedules.cron_matcher("cron(0 12 ? * 1 *)")(datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc))


def test_cron_features_that_are_not_simulated_are_refused():
    with pytest.raises(schedules.UnsupportedSchedule, match="not simulated"):
        schedules.cron_matcher("cron(0 10 L * ? *)")
    with pytest.raises(schedules.UnsupportedSchedule, match="6 fields"):
        schedules.cron_matcher("cron(0 10 * *)")


def test_a_cron_rule_fires_once_in_its_minute(monkeypatch):
    fired: list[str] = []
    rule = type("Rule", (), {"name": "r", "arn": "arn:r", "state": "ENABLED",
                             "scheduled_expression": "cron(0 0/3 * * ? *)", "targets": []})()
    monkeypatch.setattr(schedules, "all_rules", lambda: iter([rule]))
    monkeypatch.setattr(schedules, "fire", lambda r: fired.append(r.name) or 0)
    moments = iter([datetime(2026, 12, 2, 3, 0, 1, tzinfo=timezone.utc),
                    datetime(2026, 12, 2, 3, 0, 40, tzinfo=timezone.utc),
                    datetime(2026, 12, 2, 3, 1, 0, tzinfo=timezone.utc)])
    scheduler = schedules.Scheduler(wall_clock=lambda: next(moments))

    assert [scheduler.tick() for _ in range(3)] == [["r"], [], []]


def test_a_rate_rule_fires_once_per_scaled_period(monkeypatch):
    from local import clock

    rule = type("Rule", (), {"name": "r", "arn": "arn:r", "state": "ENABLED",
                             "scheduled_expression": "rate(10 minutes)", "targets": []})()
    monkeypatch.setattr(schedules, "all_rules", lambda: iter([rule]))
    monkeypatch.setattr(schedules, "fire", lambda r: 0)
    monkeypatch.setattr(clock, "_scale", 0.1)  # 10 simulated minutes = 60 real seconds
    now = [1000.0]
    scheduler = schedules.Scheduler(now=lambda: now[0])

    ticks = []
    for moment in (1000.0, 1059.0, 1060.0, 1100.0, 1120.0):
        now[0] = moment
        ticks.append(scheduler.tick())

    assert ticks == [[], [], ["r"], [], ["r"]]


@pytest.fixture
def queue(local_cloud: Any) -> tuple[Any, str, str]:
    sqs = local_cloud.boto3_client("sqs")
    url = sqs.create_queue(QueueName=f"schedule-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                               WaitTimeSeconds=1).get("Messages", [])]


def test_a_rate_rule_delivers_the_scheduled_event_by_itself(local_cloud: Any, queue):
    sqs, url, arn = queue
    events = local_cloud.boto3_client("events")
    name = f"every-minute-{uuid.uuid4().hex[:8]}"
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    try:
        [event] = eventually(lambda: received(sqs, url), timeout=60, what="the scheduled event")[:1]
    finally:
        events.disable_rule(Name=name)
    assert (event["source"], event["detail-type"], event["resources"], event["detail"]) == (
        "aws.events", "Scheduled Event", [rule_arn], {})


def test_the_admin_route_fires_a_rule_now(local_cloud: Any, queue):
    sqs, url, arn = queue
    events = local_cloud.boto3_client("events")
    name = f"nightly-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=name, ScheduleExpression="cron(0 2 * * ? *)")
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn, "Input": json.dumps({"run": "now"})}])
    request = urllib.request.Request(f"{local_cloud.endpoint_url}/_local/events/rules/{name}/run", method="POST",
                                     data=b"")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())

    assert answer == {"rule": name, "arn": answer["arn"], "schedule": "cron(0 2 * * ? *)", "targets": 1}
    assert received(sqs, url) == [{"run": "now"}]


def test_firing_an_unknown_rule_names_the_scheduled_ones(local_cloud: Any):
    request = urllib.request.Request(f"{local_cloud.endpoint_url}/_local/events/rules/no-such-rule/run",
                                     method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 404
    assert "no rule named 'no-such-rule'" in json.loads(refused.value.read())["error"]
