"""The notification log sink: every message of the notification topic, kept per lifecycle.

Subscribed to the notification topic without a filter, it writes each
message (already rendered as plain text without keys) to the
event-notifications log group, in the stream named after the message's
``lifecycle_id`` attribute; messages about no lifecycle go to the
``orchestrator`` stream. A failure raises, so Lambda retries the
asynchronous delivery and finally sends it to the function's DLQ.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..adapters.log_sink import LogLine, LogSink
from ..bootstrap import container, reset

logger = Logger()

GENERAL_STREAM = "orchestrator"

def sink() -> LogSink:
    """The execution environment's log sink (configuration is read on first use)."""
    return container().log_sink


def reset_sink() -> None:
    """Forget the container; the next invocation reads the environment again (tests)."""
    reset()


def _timestamp_ms(value: Any) -> int:
    """SNS's ``Timestamp`` (ISO 8601) in epoch milliseconds; now when it is missing or unreadable."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return int(moment.timestamp() * 1000)
        except ValueError:
            pass
    return int(datetime.now(timezone.utc).timestamp() * 1000)


def _attribute(attributes: Any, name: str) -> str | None:
    if not isinstance(attributes, Mapping):
        return None
    value = (attributes.get(name) or {}).get("Value")
    return value if isinstance(value, str) and value.strip() else None


def stream_of(notification: Mapping[str, Any]) -> str:
    """The stream a notification belongs to: its lifecycle, else the general stream."""
    return _attribute(notification.get("MessageAttributes"), "lifecycle_id") or GENERAL_STREAM


def line_of(notification: Mapping[str, Any]) -> LogLine:
    """The log line of one notification: its subject, then its text."""
    subject = notification.get("Subject")
    message = str(notification.get("Message") or "")
    text = f"{subject}\n{message}" if isinstance(subject, str) and subject else message
    return LogLine(timestamp_ms=_timestamp_ms(notification.get("Timestamp")), message=text)


@logger.inject_lambda_context
def handle(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    """SNS records -> log lines, grouped by lifecycle stream."""
    by_stream: dict[str, list[LogLine]] = defaultdict(list)
    for record in event.get("Records") or []:
        notification = record.get("Sns") or {}
        by_stream[stream_of(notification)].append(line_of(notification))
    written = 0
    for stream, lines in by_stream.items():
        written += sink().write(stream, lines)
    logger.info("notifications kept", extra={"streams": len(by_stream), "lines": written})
    return {"written": written}
