"""Fault injection for the simulated services.

A fault is set per service, optionally per operation, while the local cloud
runs (admin route ``POST /_local/faults`` or ``python -m local fault``):

* ``fail``  - the call answers with an AWS-style error (or, for long-running
  simulated work such as an image build, the work ends FAILED);
* ``delay`` - the call (or the simulated work) takes ``seconds`` longer;
* ``hang``  - the simulated work never finishes (calls still answer, so a
  client sees it stuck IN_PROGRESS, as with a wedged AWS job).

Simulated services call :func:`check` at the start of an operation and
:func:`active` where long-running work decides its outcome.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

from local import clock

KINDS = ("fail", "delay", "hang")
SERVICES = ("imagebuilder", "ec2", "inspector2", "apigateway")


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
    message: str = "Injected fault"

    def to_dict(self) -> dict:
        return asdict(self)


_lock = threading.Lock()
_faults: dict[tuple[str, str], Fault] = {}


def set_fault(service: str, kind: str, operation: str = "*", seconds: float = 0.0,
              message: str = "Injected fault") -> Fault:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}: expected one of {', '.join(SERVICES)}")
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}: expected one of {', '.join(KINDS)}")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    fault = Fault(service=service, kind=kind, operation=operation or "*", seconds=seconds, message=message)
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


def active(service: str, operation: str) -> Fault | None:
    """The fault that applies to ``service``/``operation``, if any."""
    with _lock:
        return _faults.get((service, operation)) or _faults.get((service, "*"))


def check(service: str, operation: str) -> None:
    """Apply a fault to a synchronous call: raise for ``fail``, sleep for
    ``delay`` (simulated seconds); ``hang`` is left to long-running work."""
    fault = active(service, operation)
    if fault is None:
        return
    if fault.kind == "fail":
        raise InjectedFault(service, operation, fault.message)
    if fault.kind == "delay":
        time.sleep(clock.scaled(fault.seconds))
