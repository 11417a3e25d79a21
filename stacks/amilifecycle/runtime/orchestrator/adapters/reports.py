"""The operations topic: reports of the scheduled jobs (tag reconciler, test-instance garbage collector).

A report is a JSON document; the subject says in one line what happened.
Subscribers are the platform team (email) and the operations log sink,
which keeps every report in the operations log group.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from ..domain.notifications import subject_line
from . import aws

# SNS accepts messages of up to 256 KiB; a report that large is cut to its counts.
MAX_MESSAGE_BYTES = 250_000


class ReportTopic:
    """Publishes reports to one SNS topic."""

    def __init__(self, topic_arn: str, *, sns: Any | None = None) -> None:
        if not topic_arn:
            raise ValueError("ReportTopic needs the topic ARN (OPERATIONS_TOPIC_ARN)")
        self.topic_arn = topic_arn
        self._client = sns

    client = aws.LazyClient("sns")

    def publish(self, subject: str, report: Mapping[str, Any]) -> str:
        """Publish one report; returns the message id."""
        message = json.dumps(report, indent=1, sort_keys=True, default=str)
        if len(message.encode()) > MAX_MESSAGE_BYTES:
            message = json.dumps({**{k: report[k] for k in ("report", "stack_tag", "started", "counts")
                                     if k in report},
                                  "truncated": "the full report exceeded what SNS carries; see the job's log"},
                                 indent=1, sort_keys=True, default=str)
        response = self.client.publish(TopicArn=self.topic_arn, Subject=subject_line(subject), Message=message,
                                       MessageAttributes={"report": {"DataType": "String",
                                                                     "StringValue": str(report.get("report"))}})
        return str(response["MessageId"])
