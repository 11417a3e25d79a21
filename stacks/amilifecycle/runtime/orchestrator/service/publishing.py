"""Notifying after a recorded change: a failed publish is logged, never raised.

A notification never undoes what was recorded: the change stands, and the
failure is in the function's log with the lifecycle and the operator.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from aws_lambda_powertools import Logger

from ..adapters.notifier import email_recipients
from ..domain.notifications import NotificationMessage
from .ports import NotificationPublisher

logger = Logger(child=True)


def publish_to(notifier: NotificationPublisher, message: NotificationMessage, recipients: Sequence[str]) -> None:
    """Publish ``message`` to ``recipients``, logging (not raising) a failure."""
    try:
        notifier.publish(message, recipients)
    except Exception:  # noqa: BLE001 - see the module docstring
        logger.exception("notification not published", extra={"lifecycle_id": message.lifecycle_id,
                                                              "operator": str(message.operator)})


def publish_logged(notifier: NotificationPublisher, message: NotificationMessage, record: Mapping[str, Any]) -> None:
    """Publish ``message`` to the owners of ``record``, logging (not raising) a failure."""
    publish_to(notifier, message, email_recipients(record.get("notifications")))
