"""``--wait``: follow a lifecycle until the event it is working on ends.

The event followed is the one in progress when following starts (the one
the request just started). It has ended when its result is recorded
(COMPLETED or FAILED) or when its workflow reported an error (ERROR,
ERROR_EVENT_TIMEOUT on the event in progress). Progress goes to stderr, one
line per change plus a heartbeat, so stdout keeps only the final answer.
Polling is adaptive: the first read after :data:`FIRST_POLL_SECONDS`, each
wait twice the previous one up to :data:`MAX_POLL_SECONDS`, and back to the
first after every change, so a 7-second local build is seen ending within
about a second while a 40-minute build on AWS costs a read every 15 s. An
explicit ``interval`` polls at that fixed pace instead.
Polling is bounded by ``timeout`` seconds. A status read that fails for a
passing reason (a gateway error, a dropped connection) is retried on the
next poll, up to :data:`MAX_READ_FAILURES` times in a row: a long build is
not abandoned because of one bad answer.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from orchestrator.domain import history
from orchestrator.domain.vocabulary import ERROR_STATUSES, EventName, Status

from .errors import ExitCode

Record = Mapping[str, Any]
HEARTBEAT_SECONDS = 60.0
MAX_READ_FAILURES = 5
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 15.0
BACKOFF = 2.0


@dataclass(frozen=True)
class Outcome:
    """How following ended, and the last record seen."""

    event: str | None
    status: str
    message: str
    exit_code: ExitCode
    record: Record


@dataclass(frozen=True)
class _State:
    ended: bool
    status: str
    message: str = ""


def event_state(record: Record, event: str) -> _State:
    """Where ``event`` stands in ``record``: running, ended with a result, or ended with an error."""
    running = history.event_in_progress(record)
    if running and running.get("name") == event:
        status = str(running.get("status") or Status.IN_PROGRESS)
        if status in ERROR_STATUSES:
            return _State(True, status, str(running.get("error_message") or "the workflow reported an error"))
        return _State(False, status)
    entry = history.event_entry(record, EventName(event))
    if entry is None:
        return _State(False, "WAITING_TO_START")
    return _State(True, str(entry.get("status")), str(entry.get("error_message") or ""))


def _clock_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def poll_delays(interval: float | None = None) -> Iterator[float]:
    """Seconds to wait before each status read: ``interval`` every time, or
    (None) 0.5, 1, 2, 4, 8, then 15 s from then on."""
    if interval is not None:
        yield from itertools.repeat(interval)
        return
    delay = FIRST_POLL_SECONDS
    while True:
        yield delay
        delay = min(delay * BACKOFF, MAX_POLL_SECONDS)


def follow(fetch: Callable[[], Record], *, timeout: float, interval: float | None = None,
           report: Callable[[str], None],
           transient: Callable[[Exception], bool] = lambda error: False,
           clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None) -> Outcome:
    """Poll ``fetch`` until the event in progress ends or ``timeout`` seconds pass.

    ``interval``: fixed seconds between reads, or None for adaptive polling
    (:func:`poll_delays`). ``transient`` says which errors of ``fetch`` are
    worth another try.
    ``clock`` and ``sleep`` default to the ``time`` module's, looked up at call time.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    start = clock()
    record = fetch()
    running = history.event_in_progress(record)
    if not running or not running.get("name"):
        return Outcome(None, "NONE", "no event is in progress", ExitCode.OK, record)
    event = str(running["name"])
    last_status: str | None = None
    last_report = start
    failures = 0
    delays = poll_delays(interval)
    while True:
        state = event_state(record, event)
        elapsed = clock() - start
        changed = state.status != last_status
        if changed or clock() - last_report >= HEARTBEAT_SECONDS:
            report(f"[{_clock_text(elapsed)}] {event} {state.status}")
            last_status, last_report = state.status, clock()
        if changed:
            delays = poll_delays(interval)
        if state.ended:
            ok = state.status == Status.COMPLETED
            message = f"{event} ended {state.status}" + (f": {state.message}" if state.message and not ok else "")
            return Outcome(event, state.status, message, ExitCode.OK if ok else ExitCode.EVENT_FAILED, record)
        remaining = timeout - elapsed
        if remaining <= 0:
            return Outcome(event, state.status,
                           f"{event} is still {state.status} after {timeout:g} s (--timeout); it goes on running: "
                           "check again later with --operation AMI_GET_STATUS_BY_LIFECYCLE_ID", ExitCode.TIMEOUT,
                           record)
        sleep(min(next(delays), remaining))
        try:
            record = fetch()
            failures = 0
        except Exception as error:
            if not transient(error) or failures >= MAX_READ_FAILURES:
                raise
            failures += 1
            report(f"[{_clock_text(clock() - start)}] reading the status failed ({error}); trying again")
