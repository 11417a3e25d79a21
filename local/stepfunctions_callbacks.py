"""Callback answers (SendTaskFailure) reach the waiting task whole.

moto's ``SendTaskFailure`` handler reads the ``taskToken`` and ``error``
of the request but not its ``cause``, so a ``.waitForTaskToken`` task
failed with a cause fails without one: a Catch sees ``"Cause": null`` and
the history's TaskFailed event has none. On AWS the task fails with the
error and the cause exactly as given. :func:`install` makes the handler
pass both on to the interpreter.
"""

from __future__ import annotations

from typing import Any

_installed = False


def _send_task_failure(self: Any) -> Any:
    """StepFunctionResponse.send_task_failure, with ``cause``."""
    from moto.core.responses import EmptyResult

    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause"))
    return EmptyResult()


def install() -> None:
    """Patch moto's SendTaskFailure handler (idempotent). Requires the
    executing backend (``stepfunctions.execute_state_machine``), whose
    ``send_task_failure`` accepts the cause."""
    global _installed
    if _installed:
        return
    from moto.stepfunctions.responses import StepFunctionResponse

    if "send_task_failure" not in StepFunctionResponse.__dict__:
        raise RuntimeError("moto's StepFunctionResponse.send_task_failure is gone: this moto is not the version "
                           "the local cloud was written for (see requirements.txt)")
    StepFunctionResponse.send_task_failure = _send_task_failure  # type: ignore[method-assign]
    _installed = True
