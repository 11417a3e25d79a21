"""In-memory stand-ins for the service ports (``orchestrator/service/ports.py``).

They keep the contracts the adapters keep on AWS, so use-case tests prove
behaviour without moto: the repository writes conditionally on a version
and re-applies a mutation after a lost race; the workflow engine refuses a
second execution of one name; the notifier remembers what it published.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

from orchestrator.adapters.workflows import Execution
from orchestrator.domain.errors import Conflict, NotFound
from orchestrator.domain.notifications import NotificationMessage

Record = dict[str, Any]


@dataclass
class MemoryRepository:
    records: dict[str, Record] = field(default_factory=dict)
    writes: int = 0
    # Called before each conditional write; a test changes the stored record there to lose a race.
    before_write: Callable[[str], None] | None = None

    def get(self, lifecycle_id: str) -> Record:
        if lifecycle_id not in self.records:
            raise NotFound(f"lifecycle {lifecycle_id} not found", field="lifecycle_id")
        return copy.deepcopy(self.records[lifecycle_id])

    def create(self, record: Mapping[str, Any]) -> Record:
        lifecycle_id = str(record["lifecycle_id"])
        if lifecycle_id in self.records:
            raise Conflict(f"lifecycle {lifecycle_id} already exists", field="lifecycle_id")
        stored = {**copy.deepcopy(dict(record)), "version": 1}
        self.records[lifecycle_id] = stored
        self.writes += 1
        return copy.deepcopy(stored)

    def update(self, lifecycle_id: str, mutate: Callable[[Record], Record | None], *,
               current: Record | None = None) -> Record:
        record = current if current is not None else self.get(lifecycle_id)
        for _ in range(5):
            changed = mutate(copy.deepcopy(record))
            if changed is None or _content(changed) == _content(record):
                return record
            if self.before_write is not None:
                hook, self.before_write = self.before_write, None
                hook(lifecycle_id)
            stored = self.records[lifecycle_id]
            if stored.get("version") != record.get("version"):
                record = self.get(lifecycle_id)
                continue
            changed = {**_content(changed), "version": int(record.get("version", 0)) + 1}
            self.records[lifecycle_id] = copy.deepcopy(changed)
            self.writes += 1
            return copy.deepcopy(changed)
        raise Conflict(f"lifecycle {lifecycle_id} was changed by another request at the same time")


def _content(record: Mapping[str, Any]) -> Record:
    return {key: value for key, value in record.items() if key != "version"}


@dataclass
class MemoryWorkflows:
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_with: Exception | None = None
    answers: list[tuple[str, str, Any]] = field(default_factory=list)

    def start(self, state_machine_arn: str, *, name: str, execution_input: Mapping[str, Any]) -> Execution:
        if self.fail_with is not None:
            raise self.fail_with
        if name in self.executions:
            raise Conflict(f"an execution named {name} was already started")
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        self.executions[name] = {"state_machine_arn": state_machine_arn, "input": copy.deepcopy(dict(execution_input)),
                                 "execution_arn": arn}
        return Execution(execution_arn=arn, start_date=datetime.now(timezone.utc))

    def send_task_success(self, task_token: str, output: Mapping[str, Any]) -> None:
        self.answers.append(("success", task_token, dict(output)))

    def send_task_failure(self, task_token: str, *, error: str, cause: str) -> None:
        self.answers.append(("failure", task_token, (error, cause)))


@dataclass
class MemoryNotifier:
    published: list[tuple[NotificationMessage, tuple[str, ...]]] = field(default_factory=list)
    subscribed: set[str] = field(default_factory=set)

    def publish(self, message: NotificationMessage, recipients: Sequence[str] = ()) -> str:
        self.published.append((message, tuple(recipients)))
        return f"message-{len(self.published)}"

    def subscribe_emails(self, addresses: Iterable[str]) -> list[str]:
        added = [address for address in addresses if address not in self.subscribed]
        self.subscribed.update(added)
        return added

    def subjects(self) -> list[str]:
        return [message.subject for message, _ in self.published]


@dataclass
class StaticStateMachines:
    arns: dict[str, str] = field(default_factory=dict)

    def state_machine_arn(self, event: Any) -> str | None:
        return self.arns.get(str(event))


def machine_arn(name: str) -> str:
    return f"arn:aws:states:eu-west-1:123456789012:stateMachine:{name}"


@dataclass
class MemoryLifecycles:
    """Lifecycles listed page by page, as the stack-tag index lists them."""

    records: list[Record] = field(default_factory=list)
    pages_read: int = 0

    def list_by_stack_tag(self, stack_tag: str, *, limit: int, next_token: str | None = None) -> Any:
        from orchestrator.adapters.state_repository import Page

        self.pages_read += 1
        mine = [r for r in self.records if r.get("stack_tag") == stack_tag]
        start = int(next_token or 0)
        end = start + limit
        return Page(items=copy.deepcopy(mine[start:end]), next_token=str(end) if end < len(mine) else None)


@dataclass
class MemoryAmiTags:
    """AMI copies' tags keyed by (account, region, AMI id); ``unreachable`` accounts cannot be read."""

    tags: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    writes: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @staticmethod
    def _key(ami: Mapping[str, Any]) -> tuple[str, str, str]:
        return str(ami.get("accountId")), str(ami.get("region")), str(ami.get("image"))

    def read(self, ami: Mapping[str, Any]) -> Any:
        from orchestrator.adapters.ami_tags import TagRead

        account, region, ami_id = self._key(ami)
        if account in self.unreachable:
            return TagRead(ami_id, region, account, None, f"account {account} is not a distribution account")
        if (account, region, ami_id) not in self.tags:
            return TagRead(ami_id, region, account, None, f"AMI {ami_id} does not exist in {region}")
        return TagRead(ami_id, region, account, dict(self.tags[(account, region, ami_id)]))

    def tag(self, ami: Mapping[str, Any], tags: Mapping[str, str]) -> Any:
        from orchestrator.adapters.ami_tags import TagWrite

        account, region, ami_id = self._key(ami)
        self.tags.setdefault((account, region, ami_id), {}).update(tags)
        self.writes.append((ami_id, dict(tags)))
        return TagWrite(ami_id, region, account, tagged=True)


@dataclass
class MemoryFleet:
    """Test instances; ``terminated`` lists what was asked to terminate."""

    instances: list[Any] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)

    def of_stack_tag(self, stack_tag: str) -> list[Any]:
        return [i for i in self.instances if i.instance_id not in self.terminated]

    def terminate_now(self, instance_ids: Sequence[str]) -> None:
        self.terminated.extend(instance_ids)


@dataclass
class MemoryReports:
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, subject: str, report: Mapping[str, Any]) -> str:
        self.published.append((subject, copy.deepcopy(dict(report))))
        return f"report-{len(self.published)}"
