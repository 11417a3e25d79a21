"""One construct per lifecycle event state machine, on one shared base (``base.py``)."""

from stacks.amilifecycle.events.base import EventProps, EventRegistry, LifecycleEvent
from stacks.amilifecycle.events.build import BuildEvent

__all__ = ["BuildEvent", "EventProps", "EventRegistry", "LifecycleEvent"]
