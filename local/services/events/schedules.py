"""Scheduled EventBridge rules fire on the local cloud.

moto stores a rule's ``ScheduleExpression`` and never acts on it. The
:class:`Scheduler` thread looks at every ``ENABLED`` rule with a schedule
once a (real) second and fires it when due, delivering AWS's scheduled
event (``source: aws.events``, ``detail-type: Scheduled Event``, the rule
in ``resources``, an empty ``detail``) to the rule's targets:

* ``rate(N minutes|hours|days)``: every N units of simulated time, so the
  time scale compresses it (``rate(20 minutes)`` at scale 0.01 fires every
  12 real seconds); the first run is one period after the rule is first seen;
* ``cron(minutes hours day-of-month month day-of-week year)``: on the wall
  clock, in UTC, at most once a minute (a cron names times of day, which a
  time scale cannot compress); fields take ``*``, ``?``, numbers, names
  (``MON``, ``JAN``), lists, ranges and ``/`` steps; ``L``, ``W`` and ``#``
  are not simulated and such a rule never fires by itself.

:func:`run_rule` fires one rule now, whatever its schedule (``python -m
local events run-rule NAME``), so an administrator need not wait.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from local import clock

from . import delivery

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: n for n, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAYS = {name: n for n, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}


class UnsupportedSchedule(ValueError):
    """A schedule expression the local cloud cannot evaluate (the rule still runs on request)."""


def rate_seconds(expression: str) -> float | None:
    """Simulated seconds between two runs of a ``rate(...)`` expression; ``None`` for another kind."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values one cron field allows; ``None`` for "any" (``*`` or ``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise UnsupportedSchedule(f"step {step_text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise UnsupportedSchedule(f"value out of range {low}-{high} in {text!r}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise UnsupportedSchedule(f"{text!r} (L, W and # are not simulated)")
    return int(text)


def cron_matcher(expression: str) -> Callable[[datetime], bool] | None:
    """``moment -> due?`` for a ``cron(...)`` expression (minute precision, UTC); ``None`` for another kind."""
    match = _CRON.match(expression.strip())
    if not match:
        return None
    fields = match.group(1).split()
    if len(fields) != 6:
        raise UnsupportedSchedule(f"a cron expression has 6 fields, got {len(fields)}")
    minutes, hours = _field(fields[0], 0, 59), _field(fields[1], 0, 23)
    days, months = _field(fields[2], 1, 31), _field(fields[3], 1, 12, _MONTHS)
    weekdays, years = _field(fields[4], 1, 7, _DAYS), _field(fields[5], 1970, 2199)

    def due(moment: datetime) -> bool:
        weekday = (moment.isoweekday() % 7) + 1  # EventBridge: 1 = Sunday
        return all(allowed is None or value in allowed for allowed, value in (
            (minutes, moment.minute), (hours, moment.hour), (days, moment.day), (months, moment.month),
            (weekdays, weekday), (years, moment.year)))

    return due


def scheduled_event(rule: Any) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's targets."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": rule.account_id, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": rule.region_name, "resources": [rule.arn], "detail": {},
    }


def fire(rule: Any) -> int:
    """Deliver one scheduled event to the rule's targets; returns how many were reached."""
    event = scheduled_event(rule)
    reached = 0
    for target in rule.targets:
        try:
            delivery.deliver(target, delivery.target_input(target, event, rule))
            reached += 1
        except Exception:  # noqa: BLE001 - one unreachable target must not stop the others
            log.exception("scheduled rule %s: delivery to %s failed", rule.name, target.get("Arn"))
    return reached


def all_rules() -> Iterator[Any]:
    """Every rule of every bus, account and region moto holds."""
    from moto.events.models import events_backends

    for account_id in list(events_backends.keys()):
        for region in list(events_backends[account_id].keys()):
            backend = events_backends[account_id][region]
            for bus in list(backend.event_buses.values()):
                yield from list(bus.rules.values())


def run_rule(name: str) -> dict[str, Any]:
    """Fire the rule called ``name`` (or with that ARN) now; ``KeyError`` when there is none."""
    matches = [rule for rule in all_rules() if name in (rule.name, rule.arn)]
    if not matches:
        known = sorted(rule.name for rule in all_rules() if rule.scheduled_expression)
        raise KeyError(f"no rule named {name!r}; scheduled rules: {', '.join(known) or 'none'}")
    rule = matches[0]
    return {"rule": rule.name, "arn": rule.arn, "schedule": rule.scheduled_expression,
            "targets": fire(rule)}


def scheduled_rules() -> list[dict[str, Any]]:
    """The rules with a schedule, as ``python -m local events rules`` lists them."""
    return [{"rule": rule.name, "arn": rule.arn, "schedule": rule.scheduled_expression, "state": rule.state}
            for rule in all_rules() if rule.scheduled_expression]


class Scheduler:
    """Fires due scheduled rules from a daemon thread until stopped."""

    def __init__(self, *, now: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._now = now
        self._wall_clock = wall_clock
        self._next_run: dict[str, float] = {}
        self._last_cron_minute: dict[str, str] = {}
        self._refused: set[str] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-cloud-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the scheduler outlives one bad rule
                log.exception("scheduled rules: tick failed")

    def tick(self) -> list[str]:
        """Fire every rule that is due now; returns their names."""
        fired = []
        for rule in all_rules():
            expression = rule.scheduled_expression
            if not expression or rule.state != "ENABLED":
                continue
            if self._due(rule.arn, expression):
                fire(rule)
                fired.append(rule.name)
        return fired

    def _due(self, key: str, expression: str) -> bool:
        try:
            period = rate_seconds(expression)
            if period is not None:
                now = self._now()
                due_at = self._next_run.setdefault(key, now + clock.scaled(period))
                if now < due_at:
                    return False
                self._next_run[key] = now + clock.scaled(period)
                return True
            matcher = cron_matcher(expression)
            if matcher is None:
                raise UnsupportedSchedule("neither rate(...) nor cron(...)")
        except UnsupportedSchedule as problem:
            if key not in self._refused:
                self._refused.add(key)
                log.warning("schedule %s of %s is not simulated (%s): run it with python -m local events "
                            "run-rule", expression, key, problem)
            return False
        moment = self._wall_clock()
        minute = moment.strftime("%Y-%m-%dT%H:%M")
        if not matcher(moment) or self._last_cron_minute.get(key) == minute:
            return False
        self._last_cron_minute[key] = minute
        return True
