"""Starting event state machines and answering their callback tasks.

Executions get deterministic names (lifecycle id, event, attempt): Step
Functions refuses a second execution of the same name, so a retried request
can never start the same event twice, and an execution is found from the
lifecycle record alone. Inputs are plain JSON objects (the first version
double-encoded them into a string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from botocore.exceptions import ClientError

from ..domain.errors import Conflict
from ..domain.vocabulary import EventName
from . import aws

MAX_EXECUTION_NAME_LENGTH = 80
MAX_TASK_ERROR_LENGTH = 256
MAX_TASK_CAUSE_LENGTH = 32768
_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Execution:
    """A started state-machine execution."""

    execution_arn: str
    start_date: datetime


def execution_name(lifecycle_id: str, event: EventName, attempt: int) -> str:
    """``<lifecycle id>-<EVENT>-<attempt>``: unique per attempt, valid as a Step Functions name."""
    if attempt < 1:
        raise ValueError(f"attempt: expected 1 or more, got {attempt}")
    name = f"{lifecycle_id}-{EventName(event)}-{attempt}"
    name = _NAME_CHARACTERS.sub("_", name)
    if len(name) > MAX_EXECUTION_NAME_LENGTH:
        raise ValueError(f"execution name {name!r} is longer than {MAX_EXECUTION_NAME_LENGTH} characters")
    return name


class Workflows:
    """The Step Functions side of the orchestrator."""

    def __init__(self, *, stepfunctions: Any | None = None) -> None:
        self._client = stepfunctions

    _sfn = aws.LazyClient("stepfunctions")

    def start(self, state_machine_arn: str, *, name: str, execution_input: Mapping[str, Any]) -> Execution:
        """Start an execution with a plain JSON input.

        Starting again with the same name and input while the first one runs
        returns that execution (Step Functions' own idempotency); a name
        already used for another input, or by a finished execution, is a
        :class:`Conflict`.
        """
        try:
            response = self._sfn.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(dict(execution_input)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                raise Conflict(f"an execution named {name} was already started; the event was started before",
                               field="lifecycle_id") from None
            raise
        started = response.get("startDate")
        if not isinstance(started, datetime):
            started = datetime.now(timezone.utc)
        elif started.tzinfo is None:
            started = started.replace(tzinfo=timezone.utc)
        return Execution(execution_arn=str(response["executionArn"]), start_date=started)

    def send_task_success(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Resume a callback task with ``output`` (a JSON object)."""
        self._sfn.send_task_success(taskToken=task_token, output=json.dumps(dict(output)))

    def send_task_failure(self, task_token: str, *, error: str, cause: str) -> None:
        """Fail a callback task; ``error`` and ``cause`` are cut to Step Functions' limits."""
        self._sfn.send_task_failure(taskToken=task_token, error=error[:MAX_TASK_ERROR_LENGTH],
                                    cause=cause[:MAX_TASK_CAUSE_LENGTH])


# A token that can no longer be answered: the execution already moved on (timed out, answered, ended).
STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def answered(call: Any) -> bool:
    """Run ``call`` (a task-token answer); ``False`` when the token was no longer waiting, which is not an
    error: a duplicate announcement, or a wait that already timed out (its safety check takes over)."""
    try:
        call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in STALE_TOKEN_ERRORS:
            raise
        return False
    return True
