"""Fault injection for the simulated services.

A fault is set per service, optionally per operation, while the local cloud
runs (admin route ``POST /_local/faults`` or ``python -m local fault``):

* ``fail``  - the call answers with an AWS-style error (or, for long-running
  simulated work such as an image build, the work ends FAILED);
* ``delay`` - the call (or the simulated work) takes ``seconds`` longer;
* ``hang``  - the simulated work never finishes (calls still answer, so a
  client sees it stuck IN_PROGRESS, as with a wedged AWS job);
* ``build-fail`` (``imagebuilder`` only) - the next image builds end FAILED
  the way Image Builder reports a failed build (the image's
  ``state.reason``, and the notification it sends); no API call fails.

A fault lasts until it is cleared, or for ``count`` uses: each call it
applies to (or each piece of work it shapes) uses one, and the fault clears
itself after the last.

Simulated services call :func:`check` at the start of an operation and
:func:`use` where long-running work decides its outcome (:func:`active`
only looks).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

from local import clock

DEFAULT_MESSAGE = "Injected fault"
KINDS = ("fail", "delay", "hang", "build-fail")
SERVICES = ("imagebuilder", "ec2", "inspector2", "apigateway")
# Kinds that shape long-running work only, never an API call, and the services they exist for.
WORK_ONLY_KINDS = {"build-fail": "imagebuilder"}


class InjectedFault(Exception):
    """Raised by :func:`check` for a ``fail`` fault; responses turn it into
    an AWS-style error body."""

    def __init__(self, service: str, operation: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.operation = operation
        self.message = message


@dataclass(frozen=True)
class Fault:
    service: str
    kind: str
    operation: str = "*"
    seconds: float = 0.0
    message: str = DEFAULT_MESSAGE
    # Uses left before the fault clears itself; None: until cleared.
    count: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


_lock = threading.Lock()
_faults: dict[tuple[str, str], Fault] = {}


def set_fault(service: str, kind: str, operation: str = "*", seconds: float = 0.0,
              message: str = DEFAULT_MESSAGE, count: int | None = None) -> Fault:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}: expected one of {', '.join(SERVICES)}")
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}: expected one of {', '.join(KINDS)}")
    if kind in WORK_ONLY_KINDS and service != WORK_ONLY_KINDS[kind]:
        raise ValueError(f"fault kind {kind!r} is for service {WORK_ONLY_KINDS[kind]}; for {service} use one of "
                         f"{', '.join(k for k in KINDS if k not in WORK_ONLY_KINDS)}")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    if count is not None and count < 1:
        raise ValueError(f"count must be a whole number >= 1 (or absent: until cleared), got {count}")
    fault = Fault(service=service, kind=kind, operation=operation or "*", seconds=seconds, message=message,
                  count=count)
    with _lock:
        _faults[(service, fault.operation)] = fault
    return fault


def clear(service: str | None = None) -> None:
    with _lock:
        for key in [k for k in _faults if service in (None, k[0])]:
            del _faults[key]


def list_faults() -> list[Fault]:
    with _lock:
        return list(_faults.values())


def _find(service: str, operation: str, *, calls: bool = False) -> Fault | None:
    for key in ((service, operation), (service, "*")):
        fault = _faults.get(key)
        if fault is not None and not (calls and fault.kind in WORK_ONLY_KINDS):
            return fault
    return None


def active(service: str, operation: str) -> Fault | None:
    """The fault that applies to ``service``/``operation``, if any (without using it)."""
    with _lock:
        return _find(service, operation)


def _use(service: str, operation: str, *, calls: bool) -> Fault | None:
    with _lock:
        fault = _find(service, operation, calls=calls)
        if fault is not None and fault.count is not None:
            key = (fault.service, fault.operation)
            if fault.count <= 1:
                del _faults[key]
            else:
                _faults[key] = Fault(**{**fault.to_dict(), "count": fault.count - 1})
        return fault


def use(service: str, operation: str) -> Fault | None:
    """The fault that shapes the work ``operation`` starts now, if any; a
    counted fault has one use fewer (and is gone after its last)."""
    return _use(service, operation, calls=False)


def check(service: str, operation: str) -> None:
    """Apply a fault to a synchronous call: raise for ``fail``, sleep for
    ``delay`` (simulated seconds); ``hang`` is left to long-running work.
    Work-only kinds (``build-fail``) never affect a call. The call uses one
    of a counted fault's uses."""
    fault = _use(service, operation, calls=True)
    if fault is None:
        return
    if fault.kind == "fail":
        raise InjectedFault(service, operation, fault.message)
    if fault.kind == "delay":
        time.sleep(clock.scaled(fault.seconds))
