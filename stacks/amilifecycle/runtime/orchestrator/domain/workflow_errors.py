"""Error reports as state machines send them, turned into the domain's error reports.

An event state machine catches every error of its steps and sends the
caught error object to the error receiver queue as it is:

``{lifecycle_id, name, status: ERROR, status_date, execution_arn,
error: {Error, Cause}}``

Step Functions fills ``Error`` with the error name (``ImageBuildFailed``,
``States.Timeout``, a Lambda exception's type, ...) and ``Cause`` with free
text, which for a Lambda exception is itself JSON (``errorMessage``,
``errorType``, ``stackTrace``). :func:`error_report_from_workflow` flattens
that into the fields :func:`orchestrator.domain.results.parse_event_error`
validates (``error_message``, ``stack_trace``), so the lifecycle's status
shows a readable cause. Reports already in the flat form pass through.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from .errors import ValidationError, describe_value
from .results import EventError, parse_event_error

# What Step Functions' own error names mean, for causes that say nothing.
_STATES_ERRORS: Mapping[str, str] = {
    "States.Timeout": "a step (or the whole execution) ran longer than its timeout",
    "States.TaskFailed": "a step failed",
    "States.Permissions": "the state machine is not allowed to run one of its steps",
    "States.HeartbeatTimeout": "a step stopped reporting progress",
    "States.Runtime": "the state machine could not process a step's input or output",
}


def _lambda_cause(cause: str) -> tuple[str, str] | None:
    """``(message, stack trace)`` of a Lambda exception's JSON cause, else ``None``."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return None
    if not isinstance(parsed, Mapping) or not isinstance(parsed.get("errorMessage"), str):
        return None
    frames = parsed.get("stackTrace")
    if isinstance(frames, list):
        trace = "".join(str(frame) if str(frame).endswith("\n") else f"{frame}\n" for frame in frames).rstrip()
    else:
        trace = ""
    return parsed["errorMessage"], trace


def describe_workflow_error(error: Any) -> tuple[str, str]:
    """``(error_message, stack_trace)`` for a caught ``{Error, Cause}`` object; never empty."""
    if not isinstance(error, Mapping):
        raise ValidationError(f"error: expected the caught error object {{Error, Cause}}, got "
                              f"{describe_value(error)}", field="error")
    name = str(error.get("Error") or "").strip() or "UnknownError"
    cause = str(error.get("Cause") or "").strip()
    from_lambda = _lambda_cause(cause) if cause else None
    if from_lambda is not None:
        message, trace = from_lambda
        return f"{name}: {message}", trace or f"{name}: {message}"
    detail = cause or _STATES_ERRORS.get(name, "no cause was reported")
    return f"{name}: {detail}", cause or f"{name}: {detail}"


def error_report_from_workflow(body: Any) -> dict[str, Any]:
    """The flat error report (``error_message``, ``stack_trace``) of a state machine's message."""
    if not isinstance(body, Mapping):
        raise ValidationError(f"error report: expected a JSON object, got {describe_value(body)}")
    if "error" not in body:
        return dict(body)
    message, trace = describe_workflow_error(body["error"])
    flat = {key: value for key, value in body.items() if key != "error"}
    flat.setdefault("error_message", message)
    flat.setdefault("stack_trace", trace)
    return flat


def parse_workflow_error(body: Any) -> EventError:
    """Validate an error report in either form."""
    return parse_event_error(error_report_from_workflow(body))
