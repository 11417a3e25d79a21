"""The small interfaces the use cases need from the outside world.

Services type against these Protocols, not against the boto3 adapters, so
use-case tests run on in-memory fakes (``tests/unit/fakes.py``) in
milliseconds; the adapters' own contract tests run on moto.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from ..adapters.workflows import Execution
from ..domain.notifications import NotificationMessage

Record = dict[str, Any]
Mutation = Callable[[Record], "Record | None"]


class LifecycleRepository(Protocol):
    """Lifecycle records, written conditionally (``adapters/state_repository.py``)."""

    def get(self, lifecycle_id: str) -> Record:
        """The record; ``NotFound`` when there is none."""

    def create(self, record: Mapping[str, Any]) -> Record:
        """Store a new record; ``Conflict`` when the id is taken."""

    def update(self, lifecycle_id: str, mutate: Mutation, *, current: Record | None = None) -> Record:
        """Apply ``mutate`` and store the result conditionally, re-applying it after a lost race."""


class WorkflowEngine(Protocol):
    """Step Functions (``adapters/workflows.py``)."""

    def start(self, state_machine_arn: str, *, name: str, execution_input: Mapping[str, Any]) -> Execution:
        """Start an execution; ``Conflict`` when the name was used for another one."""

    def send_task_success(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Resume a callback task."""

    def send_task_failure(self, task_token: str, *, error: str, cause: str) -> None:
        """Fail a callback task."""


class NotificationPublisher(Protocol):
    """The notification topic (``adapters/notifier.py``)."""

    def publish(self, message: NotificationMessage, recipients: Sequence[str] = ()) -> str:
        """Publish one message to the owners listed; returns the message id."""

    def subscribe_emails(self, addresses: Iterable[str]) -> list[str]:
        """Make sure each address has its (filtered) subscription."""


class StateMachines(Protocol):
    """Which state machine runs an event in this deployment (``RuntimeConfig``)."""

    def state_machine_arn(self, event: Any) -> str | None:
        """The ARN, or ``None`` when the event is not deployed."""


class ComponentReader(Protocol):
    """Patch component documents in S3 (``adapters/components.py``)."""

    def read(self, url: str) -> bytes:
        """The document's bytes; ``ValidationError`` naming the URL when there is no such object."""
