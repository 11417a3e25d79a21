"""Step Functions waits on the local cloud's clock.

moto's ASL interpreter sleeps real seconds in a Wait state and between
retries, so a state machine that waits five minutes for an image build
would take five minutes in a test. :func:`install` makes both go through
:mod:`local.clock`: at time scale 0.01 a ``"Seconds": 300`` Wait lasts 3 s
and a 60 s retry interval 0.6 s. The execution history still reports the
durations the definition asked for. Task ``TimeoutSeconds`` and
``HeartbeatSeconds`` are not scaled: they bound real work (a Lambda run).
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from local import clock

_installed = False


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


def install() -> None:
    """Patch moto's Wait state and Retry interval (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    wait_function.WaitFunction._wait_interval = _scaled_wait_interval  # type: ignore[method-assign]
    # retrier_decl uses ``time`` only for ``time.sleep(interval_seconds)``.
    retrier_decl.time = SimpleNamespace(sleep=clock.sleep)  # type: ignore[assignment]
    _installed = True
