"""Launch and termination of moto's EC2 instances, as events other parts of
the local cloud listen to (an instance running its user data, Inspector2
scanning it).

:func:`install` wraps moto's ``InstanceBackend.run_instances`` (every
``RunInstances``) and ``Instance.terminate`` (``TerminateInstances`` and
anything else that ends an instance); listeners are called after moto has
done its part, never inside the caller's answer path for long: they only
schedule work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Launch:
    account_id: str
    region: str
    instance: Any  # moto's Instance


LaunchListener = Callable[[Launch], None]
TerminateListener = Callable[[str], None]

_lock = threading.Lock()
_launch_listeners: list[LaunchListener] = []
_terminate_listeners: list[TerminateListener] = []
_installed = False


def on_launch(listener: LaunchListener) -> None:
    with _lock:
        if listener not in _launch_listeners:
            _launch_listeners.append(listener)


def on_terminate(listener: TerminateListener) -> None:
    with _lock:
        if listener not in _terminate_listeners:
            _terminate_listeners.append(listener)


def _notify(listeners: list[Callable[[Any], None]], value: Any) -> None:
    for listener in list(listeners):
        try:
            listener(value)
        except Exception:  # noqa: BLE001 - a listener must never break RunInstances
            log.exception("EC2 instance listener %s failed", getattr(listener, "__qualname__", listener))


def install() -> None:
    """Wrap moto's instance launch and termination (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.ec2.models.instances import Instance, InstanceBackend

    for owner, name in ((InstanceBackend, "run_instances"), (Instance, "terminate")):
        if name not in owner.__dict__:
            raise RuntimeError(f"moto's {owner.__name__}.{name} is gone: this moto is not the version the local "
                               "cloud was written for (see requirements.txt)")
    run_instances = InstanceBackend.run_instances
    terminate = Instance.terminate

    def run_instances_and_notify(self: Any, *args: Any, **kwargs: Any) -> Any:
        reservation = run_instances(self, *args, **kwargs)
        for instance in reservation.instances:
            _notify(_launch_listeners, Launch(self.account_id, self.region_name, instance))
        return reservation

    def terminate_and_notify(self: Any, *args: Any, **kwargs: Any) -> Any:
        previous = terminate(self, *args, **kwargs)
        _notify(_terminate_listeners, self.id)
        return previous

    InstanceBackend.run_instances = run_instances_and_notify  # type: ignore[method-assign]
    Instance.terminate = terminate_and_notify  # type: ignore[method-assign]
    _installed = True
