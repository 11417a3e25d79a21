"""Fault injection for the simulated services.

A fault is set per service, optionally per operation, while the local cloud
runs (admin route ``POST /_local/faults`` or ``python -m local fault``):

* ``fail``  - the call answers with an AWS-style error (or, for long-running
  simulated work such as an image build, the work ends FAILED);
* ``delay`` - the call (or the simulated work) takes ``seconds`` longer;
* ``hang``  - the simulated work never finishes (calls still answer, so a
  client sees it stuck IN_PROGRESS, as with a wedged AWS job);
* ``dynamodb`` takes ``delay`` only, on reads (GetItem, Query, BatchGetItem,
  TransactGetItems, Scan): the answer is held back after the read, outside
  the lock that makes each operation atomic (``local/dynamodb_atomic.py``),
  which widens the window between an application's read and its
  conditional write, so concurrency tests can show that the condition, not
  luck, keeps the writes apart;
* ``build-fail`` (``imagebuilder`` only) - the next image builds end FAILED
  the way Image Builder reports a failed build (the image's
  ``state.reason``, and the notification it sends); no API call fails.

A fault lasts until it is cleared, or for ``count`` uses: each call it
applies to (or each piece of work it shapes) uses one, and the fault clears
itself after the last.

Some services add kinds of their own (:data:`SERVICE_KINDS`), for what a
simulated resource does rather than what a call answers: ``ec2
instance-no-callback`` (a launched instance never runs its user data) and
``ec2 smoke-test-fail`` (it boots with a non-compliant root filesystem).
They are looked up with :func:`find` and live beside the service's other
faults.

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
KINDS = ("fail", "delay", "hang")
SERVICES = ("imagebuilder", "ec2", "inspector2", "apigateway", "dynamodb")
# Services that take only some of the KINDS.
ONLY_KINDS: dict[str, tuple[str, ...]] = {"dynamodb": ("delay",)}
# Kinds of a service's own: they shape what a simulated resource does, never an API call.
SERVICE_KINDS: dict[str, tuple[str, ...]] = {
    "imagebuilder": ("build-fail",),
    "ec2": ("instance-no-callback", "smoke-test-fail"),
}


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
_faults: dict[tuple[str, ...], Fault] = {}


def kinds_for(service: str) -> tuple[str, ...]:
    return ONLY_KINDS.get(service, KINDS) + SERVICE_KINDS.get(service, ())


def _key(fault: Fault) -> tuple[str, ...]:
    """A service kind is kept beside the service's fail/delay/hang fault
    on the same operation instead of replacing it."""
    if fault.kind in KINDS:
        return (fault.service, fault.operation)
    return (fault.service, fault.operation, fault.kind)


def set_fault(service: str, kind: str, operation: str = "*", seconds: float = 0.0,
              message: str = DEFAULT_MESSAGE, count: int | None = None) -> Fault:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}: expected one of {', '.join(SERVICES)}")
    if kind not in kinds_for(service):
        extra = SERVICE_KINDS.get(service, ())
        raise ValueError(f"unknown fault kind {kind!r}: expected one of {', '.join(ONLY_KINDS.get(service, KINDS))}"
                         + (f" (for {service} also {', '.join(extra)})" if extra else ""))
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    if count is not None and count < 1:
        raise ValueError(f"count must be a whole number >= 1 (or absent: until cleared), got {count}")
    fault = Fault(service=service, kind=kind, operation=operation or "*", seconds=seconds, message=message,
                  count=count)
    with _lock:
        _faults[_key(fault)] = fault
    return fault


def clear(service: str | None = None) -> None:
    with _lock:
        for key in [k for k in _faults if service in (None, k[0])]:
            del _faults[key]


def list_faults() -> list[Fault]:
    with _lock:
        return list(_faults.values())


def _find(service: str, operation: str, kinds: tuple[str, ...]) -> Fault | None:
    """The fault of one of ``kinds`` for ``service``/``operation``: the operation's own first, then the
    service-wide one."""
    for wanted in (operation, "*"):
        for kind in kinds:
            key = (service, wanted) if kind in KINDS else (service, wanted, kind)
            fault = _faults.get(key)
            if fault is not None and fault.kind == kind:
                return fault
    return None


def _spend(fault: Fault | None) -> Fault | None:
    """Count one use of ``fault`` (a counted fault is gone after its last); call with the lock held."""
    if fault is not None and fault.count is not None:
        key = _key(fault)
        if fault.count <= 1:
            del _faults[key]
        else:
            _faults[key] = Fault(**{**fault.to_dict(), "count": fault.count - 1})
    return fault


def active(service: str, operation: str) -> Fault | None:
    """The fail/delay/hang fault that applies to ``service``/``operation``, if any (without using it)."""
    with _lock:
        return _find(service, operation, KINDS)


def use(service: str, operation: str) -> Fault | None:
    """The fault that shapes the work ``operation`` starts now (a service kind first, then fail/delay/hang),
    if any; a counted fault has one use fewer."""
    with _lock:
        return _spend(_find(service, operation, SERVICE_KINDS.get(service, ()) + KINDS))


def find(service: str, operation: str, kinds: tuple[str, ...]) -> Fault | None:
    """The fault of one of ``kinds`` that applies to ``service``/``operation``, if any; using it counts."""
    with _lock:
        return _spend(_find(service, operation, kinds))


def check(service: str, operation: str) -> None:
    """Apply a fault to a synchronous call: raise for ``fail``, sleep for
    ``delay`` (simulated seconds); ``hang`` is left to long-running work.
    Service kinds never affect a call. The call uses one of a counted
    fault's uses."""
    with _lock:
        fault = _spend(_find(service, operation, KINDS))
    if fault is None:
        return
    if fault.kind == "fail":
        raise InjectedFault(service, operation, fault.message)
    if fault.kind == "delay":
        time.sleep(clock.scaled(fault.seconds))
