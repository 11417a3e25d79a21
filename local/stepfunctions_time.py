"""Step Functions on the local cloud's clock.

moto's ASL interpreter sleeps and times out in real seconds, so a state
machine that waits five minutes for an image build, or a callback task
that gives its worker an hour, would take that long in a test.
:func:`install` puts every duration of a definition on :mod:`local.clock`:

* a Wait state: at time scale 0.01 ``"Seconds": 300`` lasts 3 s;
* a Retry interval: 60 s lasts 0.6 s;
* a Task state's ``TimeoutSeconds`` (or ``TimeoutSecondsPath``), for every
  kind of task (Lambda, service integrations, ``.sync`` and
  ``.waitForTaskToken`` ones, activities): 600 s fire ``States.Timeout``
  after 6 s;
* a Task state's ``HeartbeatSeconds`` (or ``HeartbeatSecondsPath``): 60 s
  without ``SendTaskHeartbeat`` fire ``States.HeartbeatTimeout`` after
  0.6 s.

The simulated work the tasks wait for (image builds, export tasks) runs on
the same clock, so a timeout keeps its meaning relative to it. The
execution history still reports the durations the definition asked for
(``timeoutInSeconds``, ``heartbeatInSeconds``, the Wait's seconds). A task
without a timeout (Step Functions' default of 99999999 s) is not bounded at
any scale. The execution's own top-level ``TimeoutSeconds`` stays in real
time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from local import clock

# Step Functions' "no timeout given" value: never scaled, so that a task
# without a timeout stays unbounded even at time scale 0.
UNBOUNDED_SECONDS = 99999999

_installed = False


def scaled_timeout(seconds: float | None) -> float | None:
    """Real seconds a task timeout or heartbeat of ``seconds`` simulated
    seconds lasts; ``None`` (wait for ever) and the default stay as they are."""
    if seconds is None or seconds >= UNBOUNDED_SECONDS:
        return seconds
    return clock.scaled(seconds)


def _scaled_wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    """WaitFunction._wait_interval on the scaled clock. An execution that
    is stopped meanwhile sets ``program_state_event`` and ends the wait."""
    deadline = time.monotonic() + clock.scaled(wait_seconds)
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if env.program_state_event.wait(remaining) and env.is_running():
            # An unrelated state change woke us up: keep waiting, without
            # spinning on an event that stays set.
            time.sleep(min(remaining, 0.01))


class ScaledTimeoutEvent(threading.Event):
    """The event a task state waits on for its work to end: its timeout is
    in simulated seconds."""

    def wait(self, timeout: float | None = None) -> bool:
        return super().wait(scaled_timeout(timeout))


def _scaling_keyword(original: Callable[..., Any], keyword: str) -> Callable[..., Any]:
    """``original`` with its timeout argument (passed positionally or as
    ``keyword``) read as simulated seconds."""

    def scaled(self: Any, *args: Any, **kwargs: Any) -> Any:
        if args:
            args = (scaled_timeout(args[0]), *args[1:])
        elif keyword in kwargs:
            kwargs[keyword] = scaled_timeout(kwargs[keyword])
        return original(self, *args, **kwargs)

    scaled.__wrapped__ = original  # type: ignore[attr-defined]
    return scaled


def install() -> None:
    """Patch moto's Wait state, Retry interval and task timeouts
    (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.asl.eval.callback import callback

    wait_function.WaitFunction._wait_interval = _scaled_wait_interval  # type: ignore[method-assign]
    # retrier_decl uses ``time`` only for ``time.sleep(interval_seconds)``.
    retrier_decl.time = SimpleNamespace(sleep=clock.sleep)  # type: ignore[assignment]
    # execute_state uses ``threading`` only for the event whose wait bounds a
    # task's execution by its TimeoutSeconds.
    execute_state.threading = SimpleNamespace(Event=ScaledTimeoutEvent)  # type: ignore[assignment]
    # What a callback task waits on: the token's answer (bounded by the
    # task's TimeoutSeconds), an activity worker picking the task up, and
    # the next heartbeat (HeartbeatSeconds, fixed when the endpoint is made).
    callback.CallbackEndpoint.wait = _scaling_keyword(  # type: ignore[method-assign]
        callback.CallbackEndpoint.wait, "timeout")
    callback.ActivityTaskStartEndpoint.wait = _scaling_keyword(  # type: ignore[method-assign]
        callback.ActivityTaskStartEndpoint.wait, "timeout_seconds")
    callback.HeartbeatEndpoint.__init__ = _scaling_keyword(  # type: ignore[method-assign]
        callback.HeartbeatEndpoint.__init__, "heartbeat_seconds")
    _installed = True
