"""Execution logs in the log group a state machine's logging configuration
names, as Step Functions writes them.

moto's interpreter has the machinery (it filters each history event by the
configured level and shapes the log record) but starts every execution
without a logging session, and its session writes in a shape moto's own
CloudWatch Logs backend refuses. :func:`install` gives each execution of a
state machine whose ``loggingConfiguration`` has a level other than
``OFF`` and a log-group destination a session that writes to that group:
one JSON record per event the level covers (for ``ERROR``: the failed,
timed-out and aborted events), in Step Functions' format::

    {"id":"7","type":"ExecutionFailed","details":{"error":"...","cause":"..."},
     "previous_event_id":"6","event_timestamp":"1796222910417",
     "execution_arn":"arn:aws:states:...:execution:..."}

``includeExecutionData: false`` leaves inputs and outputs out of
``details``. The stream is ``states/<state machine ARN>`` (Step Functions
names its streams with the date and a serial; the group is what matters).
A destination group that does not exist gets nothing, as on AWS.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from typing import Any

from moto.backends import get_backend
from moto.stepfunctions.parser.asl.eval.event.logging import (
    CloudWatchLoggingConfiguration,
    CloudWatchLoggingSession,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

log = logging.getLogger(__name__)

_installed = False


def _millis(value: Any) -> int:
    """An event time (datetime, ISO 8601 text or epoch seconds) in epoch
    milliseconds; now when there is none."""
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return int(moment.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return int(value * 1000)
    if isinstance(value, str) and value:
        return _millis(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")))
    return int(time.time() * 1000)


class LogGroupSession(CloudWatchLoggingSession):  # type: ignore[misc]
    """moto's session, writing through the logs backend's own API. It looks
    the backend up at each write (moto's keeps a reference), so it pickles
    with the execution and still writes after a restore."""

    def __init__(self, execution_arn: str, configuration: Any) -> None:
        self.execution_arn = execution_arn
        self.configuration = configuration

    def publish_history_log(self, history_log: Any) -> None:
        configuration = self.configuration
        try:
            timestamp = _millis(history_log.get("event_timestamp"))
            record = {
                "id": str(history_log["id"]),
                "type": str(getattr(history_log["type"], "value", history_log["type"])),
                "details": history_log.get("details") or {},
                "previous_event_id": str(history_log["previous_event_id"]),
                "event_timestamp": str(timestamp),
                "execution_arn": history_log["execution_arn"],
            }
            backend = get_backend("logs")[configuration.log_account_id][configuration.log_region]
            if configuration.log_group_name not in backend.groups:
                log.warning("execution log of %s: log group %s does not exist", self.execution_arn,
                            configuration.log_group_name)
                return
            backend.ensure_log_stream(configuration.log_group_name, configuration.log_stream_name)
            backend.put_log_events(configuration.log_group_name, configuration.log_stream_name,
                                   [{"timestamp": timestamp, "message": to_json_str(record, separators=(",", ":"))}])
        except Exception:  # noqa: BLE001 - a lost log line must not fail the execution
            log.exception("could not write the execution log of %s", self.execution_arn)


def logging_session(execution_arn: str, state_machine: Any) -> Any:
    """The session an execution of ``state_machine`` logs through, or None
    when its logging is off or names no log group."""
    configuration = getattr(state_machine, "loggingConfiguration", None) or \
        getattr(state_machine, "logging_config", None)
    if isinstance(configuration, str):
        configuration = json.loads(configuration)
    if not configuration:
        return None
    configuration = {"includeExecutionData": False, **configuration}
    cloudwatch = CloudWatchLoggingConfiguration.from_logging_configuration(
        state_machine_arn=state_machine.arn, logging_configuration=configuration)
    if cloudwatch is None:
        return None
    return LogGroupSession(execution_arn, cloudwatch)


def install() -> None:
    """Give new executions their logging session (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.stepfunctions.parser.backend.execution import Execution

    original_init = Execution.__dict__.get("__init__")
    if original_init is None:
        raise RuntimeError("moto's stepfunctions parser Execution has changed: this moto is not the version the "
                           "local cloud was written for (see requirements.txt)")

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self._cloud_watch_logging_session is None:
            self._cloud_watch_logging_session = logging_session(self.exec_arn, self.state_machine)

    Execution.__init__ = init  # type: ignore[method-assign]
    _installed = True
