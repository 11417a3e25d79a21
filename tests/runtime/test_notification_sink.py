"""The notification sink keeps every notification in its lifecycle's log stream."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest

from orchestrator.adapters.log_sink import MAX_MESSAGE_CHARACTERS, TRUNCATION_MARK, LogLine, LogSink, stream_name
from orchestrator.handlers import notification_sink
from tests.runtime.conftest import REGION, FakeContext
from tests.runtime.conftest_build import EVENT_LOG_GROUP, BuildCloud, build_cloud, sns_event  # noqa: F401

LIFECYCLE_ID = "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


def minutes_ago(minutes: int) -> str:
    moment = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture
def sink_handler(build_cloud: BuildCloud) -> Iterator[Any]:
    notification_sink.reset_sink()
    yield notification_sink
    notification_sink.reset_sink()


def stream_lines(stream: str) -> list[str]:
    logs = boto3.client("logs", region_name=REGION)
    events = logs.get_log_events(logGroupName=EVENT_LOG_GROUP, logStreamName=stream, startFromHead=True)["events"]
    return [event["message"] for event in events]


def test_a_lifecycle_notification_goes_to_the_stream_named_after_the_lifecycle(sink_handler: Any,
                                                                               build_cloud: BuildCloud) -> None:
    event = sns_event("BUILD_AMI completed for lifecycle ...", topic_arn=build_cloud.cloud.topic_arn,
                      attributes={"lifecycle_id": LIFECYCLE_ID, "kind": "EVENT"},
                      subject="AMI_CREATION_RECEIVER event for main")
    assert sink_handler.handle(event, FakeContext()) == {"written": 1}
    assert stream_lines(LIFECYCLE_ID) == ["AMI_CREATION_RECEIVER event for main\nBUILD_AMI completed for lifecycle ..."]


def test_later_notifications_are_appended_to_the_existing_stream(sink_handler: Any, build_cloud: BuildCloud) -> None:
    for text, stamp in (("first", minutes_ago(2)), ("second", minutes_ago(1))):
        sink_handler.handle(sns_event(text, topic_arn=build_cloud.cloud.topic_arn, timestamp=stamp,
                                      attributes={"lifecycle_id": LIFECYCLE_ID}), FakeContext())
    assert stream_lines(LIFECYCLE_ID) == ["first", "second"]


def test_a_notification_about_no_lifecycle_goes_to_the_general_stream(sink_handler: Any,
                                                                      build_cloud: BuildCloud) -> None:
    sink_handler.handle(sns_event("reconciliation report", topic_arn=build_cloud.cloud.topic_arn), FakeContext())
    assert stream_lines(notification_sink.GENERAL_STREAM) == ["reconciliation report"]


def test_the_line_keeps_the_time_sns_received_the_message(sink_handler: Any, build_cloud: BuildCloud) -> None:
    received = minutes_ago(5)
    sink_handler.handle(sns_event("x", topic_arn=build_cloud.cloud.topic_arn, timestamp=received,
                                  attributes={"lifecycle_id": LIFECYCLE_ID}), FakeContext())
    logs = boto3.client("logs", region_name=REGION)
    event = logs.get_log_events(logGroupName=EVENT_LOG_GROUP, logStreamName=LIFECYCLE_ID)["events"][0]
    assert event["timestamp"] == int(datetime.fromisoformat(received.replace("Z", "+00:00")).timestamp() * 1000)


def test_an_oversized_message_is_cut_and_says_so(build_cloud: BuildCloud) -> None:
    now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    LogSink(EVENT_LOG_GROUP).write("big", [LogLine(now_ms, "y" * (MAX_MESSAGE_CHARACTERS + 10))])
    (line,) = stream_lines("big")
    assert len(line) == MAX_MESSAGE_CHARACTERS and line.endswith(TRUNCATION_MARK)


def test_stream_names_never_hold_characters_cloudwatch_refuses() -> None:
    assert stream_name("a:b*c") == "a_b_c"
    assert stream_name("  ") == "unnamed"


def test_lines_cloudwatch_refuses_are_not_counted_as_written(build_cloud: BuildCloud) -> None:
    far_future_ms = int((datetime.now(timezone.utc) + timedelta(days=2)).timestamp() * 1000)
    assert LogSink(EVENT_LOG_GROUP).write("refused", [LogLine(far_future_ms, "from the future")]) == 0
