"""Handing a result the API recorded itself to the creation receiver, which applies it to the AMIs.

The receiver finds the result already recorded and does only what a
repeated delivery does: the AMI's lookup entry and tags (its permissions,
not the API's). The message has the receivers' shape, without a task token.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from . import aws


class ResultQueue:
    """The creation receiver queue."""

    def __init__(self, queue_url: str, *, sqs: Any | None = None) -> None:
        self._queue_url = queue_url
        self._client = sqs

    _sqs = aws.LazyClient("sqs")

    def send(self, value: Mapping[str, Any]) -> str:
        """Send ``{"task_details": {"value": value}}``; returns the message id."""
        response = self._sqs.send_message(QueueUrl=self._queue_url,
                                          MessageBody=json.dumps({"task_details": {"value": dict(value)}}))
        return str(response["MessageId"])
