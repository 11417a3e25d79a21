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


class LifecycleLister(Protocol):
    """Pages of a stack tag's lifecycles (``adapters/state_repository.py``)."""

    def list_by_stack_tag(self, stack_tag: str, *, limit: int, next_token: str | None = None) -> Any:
        """A page with ``items`` and ``next_token`` (``None`` on the last page)."""


class AmiTagStore(Protocol):
    """Tags of AMI copies wherever they live (``adapters/ami_tags.py``)."""

    def read(self, ami: Mapping[str, Any]) -> Any:
        """A ``TagRead``: the copy's tags, or ``None`` and the reason it cannot be read."""

    def tag(self, ami: Mapping[str, Any], tags: Mapping[str, str]) -> Any:
        """A ``TagWrite``: whether ``tags`` were written onto the copy."""


class TestInstanceFleet(Protocol):
    """The deployment's test instances (``adapters/instances.py``)."""

    def of_stack_tag(self, stack_tag: str) -> Sequence[Any]:
        """Every live test instance (``domain.garbage_collection.TestInstance``) of the stack tag."""

    def terminate_now(self, instance_ids: Sequence[str]) -> None:
        """Ask EC2 to terminate the instances."""


class ReportPublisher(Protocol):
    """The operations topic (``adapters/reports.py``)."""

    def publish(self, subject: str, report: Mapping[str, Any]) -> str:
        """Publish one report; returns the message id."""


class ComponentReader(Protocol):
    """Patch component documents in S3 (``adapters/components.py``)."""

    def read(self, url: str) -> bytes:
        """The document's bytes; ``ValidationError`` naming the URL when there is no such object."""
