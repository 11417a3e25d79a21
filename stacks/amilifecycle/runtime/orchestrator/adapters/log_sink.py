"""CloudWatch Logs: the event-notifications log group, one stream per lifecycle.

Everything the orchestrator tells a lifecycle's owner is also kept here, so
the history of a lifecycle can be read in one log stream long after the
emails are gone. Streams are created on first use; CloudWatch Logs no
longer needs sequence tokens, so concurrent writers need no coordination.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable

from botocore.exceptions import ClientError

from . import aws

log = logging.getLogger(__name__)

# Stream names may not contain ':' or '*' and hold at most 512 characters.
_UNSAFE_STREAM_CHARACTERS = re.compile(r"[:*]")
MAX_STREAM_NAME = 512
# One event may hold 256 KiB including 26 bytes of overhead; leave room for UTF-8.
MAX_MESSAGE_CHARACTERS = 60_000
TRUNCATION_MARK = "\n[... truncated]"
# PutLogEvents takes at most 10,000 events and 1 MiB per call.
MAX_EVENTS_PER_CALL = 500


@dataclass(frozen=True)
class LogLine:
    """One message to keep: when it happened (epoch milliseconds) and what it said."""

    timestamp_ms: int
    message: str


def stream_name(name: str) -> str:
    """``name`` made a valid log stream name."""
    cleaned = _UNSAFE_STREAM_CHARACTERS.sub("_", name.strip()) or "unnamed"
    return cleaned[:MAX_STREAM_NAME]


def fit_message(message: str) -> str:
    """``message`` cut to what one log event may hold, saying so when it was cut."""
    if len(message) <= MAX_MESSAGE_CHARACTERS:
        return message
    return message[: MAX_MESSAGE_CHARACTERS - len(TRUNCATION_MARK)] + TRUNCATION_MARK


def _rejected(info: dict[str, Any], count: int) -> dict[int, str]:
    """Index -> reason of the events a PutLogEvents answer says it refused."""
    refused: dict[int, str] = {}
    if "tooNewLogEventStartIndex" in info:
        refused.update({i: "too new" for i in range(int(info["tooNewLogEventStartIndex"]), count)})
    if "tooOldLogEventEndIndex" in info:
        refused.update({i: "too old" for i in range(0, int(info["tooOldLogEventEndIndex"]) + 1)})
    if "expiredLogEventEndIndex" in info:
        refused.update({i: "expired" for i in range(0, int(info["expiredLogEventEndIndex"]) + 1)})
    return refused


class LogSink:
    """Appends lines to streams of one log group."""

    def __init__(self, log_group_name: str, client: Any | None = None) -> None:
        if not log_group_name:
            raise ValueError("LogSink needs the log group name (EVENT_LOG_GROUP_NAME)")
        self.log_group_name = log_group_name
        self._client = client

    client = aws.LazyClient("logs")

    def write(self, stream: str, lines: Iterable[LogLine]) -> int:
        """Append ``lines`` (in time order) to ``stream``; returns how many were written."""
        name = stream_name(stream)
        events = [{"timestamp": line.timestamp_ms, "message": fit_message(line.message)}
                  for line in sorted(lines, key=lambda line: line.timestamp_ms)]
        written = 0
        for start in range(0, len(events), MAX_EVENTS_PER_CALL):
            written += self._put(name, events[start:start + MAX_EVENTS_PER_CALL])
        return written

    def _put(self, stream: str, events: list[dict[str, Any]]) -> int:
        """Write one batch; returns how many events CloudWatch accepted."""
        try:
            response = self.client.put_log_events(logGroupName=self.log_group_name, logStreamName=stream,
                                                  logEvents=events)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            self._create_stream(stream)
            response = self.client.put_log_events(logGroupName=self.log_group_name, logStreamName=stream,
                                                  logEvents=events)
        rejected = _rejected(response.get("rejectedLogEventsInfo") or {}, len(events))
        if rejected:
            # CloudWatch refuses events older than the retention or more than two hours ahead.
            log.warning("CloudWatch Logs refused %d of %d lines for stream %s (%s)", len(rejected), len(events),
                        stream, ", ".join(sorted({reason for reason in rejected.values()})))
        return len(events) - len(rejected)

    def _create_stream(self, stream: str) -> None:
        try:
            self.client.create_log_stream(logGroupName=self.log_group_name, logStreamName=stream)
        except ClientError as error:
            # Another invocation created it between our two calls.
            if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                raise
