"""Capabilities a deployment may not have yet, and the error that says so.

The API describes every route of the lifecycle, but an event can only start
where its state machine is deployed. A request that needs a missing piece
is refused with :class:`NotAvailable` (HTTP 501) *before* anything is
written, so the lifecycle stays exactly as it was and the request can be
repeated once the capability is deployed.
"""

from __future__ import annotations

from .errors import DomainError, ErrorCode
from .vocabulary import EventName


class NotAvailable(DomainError):
    """The request needs a capability this deployment does not have (yet)."""

    code = ErrorCode.NOT_IMPLEMENTED
    http_status = 501


def capability_not_available(capability: str) -> NotAvailable:
    """``<capability> is not available yet``: for a route or service that is not deployed."""
    return NotAvailable(f"{capability} is not available yet")


def event_not_available(event: EventName) -> NotAvailable:
    """``<EVENT> is not available in this deployment yet``: the event's state machine is missing."""
    return NotAvailable(f"{EventName(event)} is not available in this deployment yet")
