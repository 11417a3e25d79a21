"""``--wait``: follow a lifecycle until nothing more is due.

Following starts with the event in progress when it starts (the one the
request just started). An event has ended when its result is recorded
(COMPLETED or FAILED) or when its workflow reported an error (ERROR,
ERROR_EVENT_TIMEOUT on the event in progress). When it ends COMPLETED the
lifecycle may go on by itself: the receiver that recorded the result starts
the next enabled event (``rules.next_enabled_event``: smoke tests, then
vulnerability scans, then the QA request). Following goes on with that
event, and so on, until no enabled event is left to do (exit 0) or one ends
FAILED or ERROR (exit :attr:`ExitCode.EVENT_FAILED`, naming the event and
its cause).

Between one event's result and the next event's claim the record briefly
shows nothing in progress while the next event is still due; that event is
then shown as ``WAITING_TO_START`` and polling goes on. A result that event
already had before (a FAILED verdict of an earlier attempt) is not taken
for the outcome of the attempt being waited for.

Progress goes to stderr, one line per change plus a heartbeat, so stdout
keeps only the final answer.
Polling is adaptive: the first read after :data:`FIRST_POLL_SECONDS`, each
wait twice the previous one up to :data:`MAX_POLL_SECONDS`, and back to the
first after every change, so a 7-second local build is seen ending within
about a second while a 40-minute build on AWS costs a read every 15 s. An
explicit ``interval`` polls at that fixed pace instead.
Polling is bounded by ``timeout`` seconds for the whole lifecycle. A status
read that fails for a passing reason (a gateway error, a dropped
connection) is retried on the next poll, up to :data:`MAX_READ_FAILURES`
times in a row: a long build is not abandoned because of one bad answer.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from orchestrator.domain import history
from orchestrator.domain.rules import next_enabled_event
from orchestrator.domain.sequences import auto_triggered_events, first_event
from orchestrator.domain.vocabulary import ERROR_STATUSES, EventName, LifecycleType, Status, lifecycle_type_of

from .errors import ExitCode

Record = Mapping[str, Any]
HEARTBEAT_SECONDS = 60.0
MAX_READ_FAILURES = 5
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 15.0
BACKOFF = 2.0
WAITING_TO_START = "WAITING_TO_START"


@dataclass(frozen=True)
class Outcome:
    """How following ended, and the last record seen.

    ``event``: the last event followed (None when nothing was in progress);
    ``completed``: every event followed to COMPLETED, in order.
    """

    event: str | None
    status: str
    message: str
    exit_code: ExitCode
    record: Record
    completed: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _State:
    ended: bool
    status: str
    message: str = ""


def _reason(entry: Mapping[str, Any]) -> str:
    """Why a result is not COMPLETED: its error message, else the reason the event gave."""
    return str(entry.get("error_message") or (entry.get("properties") or {}).get("failure_reason") or "")


def event_state(record: Record, event: str, earlier: Mapping[str, Any] | None = None) -> _State:
    """Where ``event`` stands in ``record``: running, ended with a result, or ended with an error.

    ``earlier``: a result ``event`` already had when following it began; it
    is not the outcome being waited for.
    """
    running = history.event_in_progress(record)
    if running and running.get("name") == event:
        status = str(running.get("status") or Status.IN_PROGRESS)
        if status in ERROR_STATUSES:
            return _State(True, status, str(running.get("error_message") or "the workflow reported an error"))
        return _State(False, status)
    entry = history.event_entry(record, EventName(event))
    if entry is None or (earlier is not None and entry == earlier):
        return _State(False, WAITING_TO_START)
    return _State(True, str(entry.get("status")), _reason(entry))


def completed_since(record: Record, lifecycle_type: LifecycleType, followed: tuple[str, ...]) -> tuple[str, ...]:
    """Events after the last of ``followed`` that COMPLETED between two reads (never seen running).

    An event completes only after every event before it did, so a COMPLETED
    event later in the sequence than one just followed completed since.
    """
    sequence = [str(event) for event in auto_triggered_events(lifecycle_type)]
    last = followed[-1]
    if last in sequence:
        later = sequence[sequence.index(last) + 1:]
    elif last == first_event(lifecycle_type):
        later = sequence
    else:
        return ()  # an approval or a QA verdict: nothing is started automatically after it
    return tuple(event for event in later
                 if event not in followed and history.event_status(record, EventName(event)) == Status.COMPLETED)


def next_to_follow(record: Record, lifecycle_type: LifecycleType, followed: tuple[str, ...]) -> str | None:
    """The event to follow after ``followed`` all COMPLETED: the one the orchestrator claimed since,
    else the next enabled event still due (not claimed yet), else None: nothing more is due."""
    running = history.event_in_progress(record)
    if running and running.get("name") and running["name"] not in followed:
        return str(running["name"])
    due = next_enabled_event(record, lifecycle_type)
    return str(due) if due is not None and due not in followed else None


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


def _ended(completed: tuple[str, ...]) -> str:
    return "; ".join(f"{event} ended {Status.COMPLETED}" for event in completed)


def follow(fetch: Callable[[], Record], *, timeout: float, interval: float | None = None,
           report: Callable[[str], None],
           transient: Callable[[Exception], bool] = lambda error: False,
           clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None) -> Outcome:
    """Poll ``fetch`` until nothing more is due in the lifecycle, an event fails, or ``timeout`` seconds pass.

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
    lifecycle_type = lifecycle_type_of(EventName(event))
    earlier: Mapping[str, Any] | None = None
    completed: tuple[str, ...] = ()
    last_seen: tuple[str, str] | None = None
    last_report = start
    failures = 0
    delays = poll_delays(interval)
    while True:
        state = event_state(record, event, earlier)
        elapsed = clock() - start
        changed = (event, state.status) != last_seen
        if changed or clock() - last_report >= HEARTBEAT_SECONDS:
            report(f"[{_clock_text(elapsed)}] {event} {state.status}")
            last_seen, last_report = (event, state.status), clock()
        if changed:
            delays = poll_delays(interval)
        if state.ended and state.status == Status.COMPLETED:
            completed += (event,)
            for skipped in completed_since(record, lifecycle_type, completed):
                report(f"[{_clock_text(elapsed)}] {skipped} {Status.COMPLETED}")
                completed += (skipped,)
            following = next_to_follow(record, lifecycle_type, completed)
            if following is None:
                return Outcome(event, state.status, _ended(completed), ExitCode.OK, record, completed)
            event, earlier = following, history.event_entry(record, EventName(following))
            continue
        if state.ended:
            message = f"{event} ended {state.status}" + (f": {state.message}" if state.message else "")
            if completed:
                message = f"{_ended(completed)}; {message}"
            return Outcome(event, state.status, message, ExitCode.EVENT_FAILED, record, completed)
        remaining = timeout - elapsed
        if remaining <= 0:
            doing = "has not started" if state.status == WAITING_TO_START else f"is still {state.status}"
            return Outcome(event, state.status,
                           f"{event} {doing} after {timeout:g} s (--timeout); the lifecycle goes on: "
                           "check again later with --operation AMI_GET_STATUS_BY_LIFECYCLE_ID", ExitCode.TIMEOUT,
                           record, completed)
        sleep(min(next(delays), remaining))
        try:
            record = fetch()
            failures = 0
        except Exception as error:
            if not transient(error) or failures >= MAX_READ_FAILURES:
                raise
            failures += 1
            report(f"[{_clock_text(clock() - start)}] reading the status failed ({error}); trying again")
