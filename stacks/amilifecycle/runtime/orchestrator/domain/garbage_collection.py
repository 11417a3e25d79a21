"""Test instances that outlived their event: which ones the garbage collector terminates.

Smoke tests and vulnerability scans terminate their instance on every path
they know of; an instance survives only when its state machine was stopped
from outside or its terminate step could not run. Such an instance is
overdue once it has run longer than the deployment's maximum test-instance
runtime, measured as the whole time elapsed since launch (days included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable


@dataclass(frozen=True)
class TestInstance:
    """A running (or stopped) instance launched for a lifecycle event."""

    __test__ = False  # not a pytest test class

    instance_id: str
    launch_time: datetime
    state: str
    lifecycle_id: str = ""
    execution: str = ""

    def age(self, now: datetime) -> timedelta:
        return now - self.launch_time

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "launch_time": self.launch_time.isoformat(),
                "state": self.state, "lifecycle_id": self.lifecycle_id, "execution": self.execution,
                "running_hours": round(self.age(now).total_seconds() / 3600, 2)}


def is_overdue(launch_time: datetime, now: datetime, max_runtime: timedelta) -> bool:
    """True when the instance has run for longer than ``max_runtime`` (whole elapsed time)."""
    if launch_time.tzinfo is None or now.tzinfo is None:
        raise ValueError("launch and current times must carry a time zone")
    return now - launch_time > max_runtime


def overdue(instances: Iterable[TestInstance], now: datetime, max_runtime: timedelta) -> list[TestInstance]:
    """The instances to terminate, oldest first."""
    return sorted((i for i in instances if is_overdue(i.launch_time, now, max_runtime)),
                  key=lambda i: (i.launch_time, i.instance_id))


@dataclass(frozen=True)
class CollectionReport:
    """What one run of the garbage collector saw and terminated."""

    stack_tag: str
    started: datetime
    max_runtime: timedelta
    seen: int
    terminated: tuple[TestInstance, ...]

    def subject(self) -> str:
        return (f"Test-instance garbage collection ({self.stack_tag}): "
                f"{len(self.terminated)} instance(s) terminated")

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "test-instance-garbage-collection",
            "stack_tag": self.stack_tag,
            "started": self.started.isoformat(),
            "max_runtime_hours": self.max_runtime.total_seconds() / 3600,
            "counts": {"instances_seen": self.seen, "instances_terminated": len(self.terminated)},
            "terminated": [instance.to_dict(self.started) for instance in self.terminated],
        }
