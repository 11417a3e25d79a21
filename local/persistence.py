"""Saving and restoring the whole local cloud, so a restart loses nothing.

What is saved: every moto backend in use (moto keeps them in
``BackendDict`` registries: tables and items, queues and their messages,
buckets and objects, AMIs, secrets, stacks, state machines and executions,
...) and each simulated service's ``get_state()``, in one pickle, so that
references between them (a stack's resources are the very objects the
service backends hold) survive. The file is written to a temporary name
and renamed, so a crash mid-save leaves the previous state intact.

What cannot be saved is a running thread. Locks are recreated empty; a Step
Functions execution keeps its history but not its interpreter; an
execution that was RUNNING when the process stopped is marked FAILED with
``States.Runtime`` on restore, and a stack operation in progress is marked
failed the same way: nothing is silently lost or left pretending to run.
"""

from __future__ import annotations

import datetime
import importlib
import io
import logging
import os
import pickle
import sys
import tempfile
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core.base_backend import AccountSpecificBackend, BackendDict

from local import dynamodb_atomic
from local.services import SimulatedService

log = logging.getLogger(__name__)

FORMAT = 1
STOPPED_CAUSE = "The local cloud stopped while this execution was running"
STACK_STOPPED_REASON = "The local cloud stopped while this stack operation was in progress"
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_save_lock = threading.Lock()


# --- stand-ins for what cannot be pickled --------------------------------


class _FrozenEventManager:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def get_event_history(self) -> list[dict[str, Any]]:
        return list(self.events)


class _NoCallbacks:
    """A restored execution waits for no task token and no heartbeat."""

    def notify(self, callback_id: str, outcome: Any) -> bool:
        return False

    def heartbeat(self, callback_id: str) -> bool:
        return False


class _NoMapRuns:
    def get(self, arn: str) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _FrozenEnvironment:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.event_manager = _FrozenEventManager(events)
        self.callback_pool_manager = _NoCallbacks()
        self.map_run_record_pool_manager = _NoMapRuns()


class FrozenExecutionWorker:
    """What is left of a Step Functions execution's interpreter after a
    restart: its history, readable by GetExecutionHistory."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.env = _FrozenEnvironment(events)

    def stop(self, stop_date: Any, error: str | None, cause: str | None) -> None:
        return None


def _history_of(worker: Any) -> list[dict[str, Any]]:
    env = getattr(worker, "env", None)
    return list(env.event_manager.get_event_history()) if env is not None else []


def _none() -> None:
    return None


def _nested_dict() -> defaultdict:
    return defaultdict(dict)


# Factories moto defines inline (lambdas cannot be pickled), by qualified
# name, with an equivalent module-level function.
_KNOWN_FACTORIES: dict[str, Callable[[], Any]] = {
    "SimpleSystemManagerBackend.__init__.<locals>.<lambda>": _nested_dict,
    "LambdaStorage.__init__.<locals>.<lambda>": dict,
}


def _new_defaultdict(cls: type, factory: Callable[[], Any] | None) -> defaultdict:
    """An empty ``cls`` (a defaultdict or a subclass whose ``__init__``
    takes other arguments); pickle then restores its items and attributes."""
    restored = defaultdict.__new__(cls)
    defaultdict.__init__(restored, factory)
    return restored


def _reduce_defaultdict(obj: defaultdict) -> tuple[Any, ...]:
    factory = obj.default_factory
    qualified = getattr(factory, "__qualname__", "")
    if "<locals>" in qualified:
        if qualified not in _KNOWN_FACTORIES:
            log.warning("restoring %s as a plain mapping (its factory cannot be saved)", qualified)
        factory = _KNOWN_FACTORIES.get(qualified)
    state = dict(vars(obj)) if hasattr(obj, "__dict__") else None
    return _new_defaultdict, (type(obj), factory), state or None, None, iter(list(obj.items()))


def _weak_value_dictionary(items: dict[Any, Any]) -> weakref.WeakValueDictionary:
    return weakref.WeakValueDictionary(items)


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


def _public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


def _aws_managed_policy(account_id: str, partition: str, arn: str) -> Any:
    """The AWS-managed policy ``arn`` as a fresh IAM backend defines it."""
    from moto.backends import get_backend

    return get_backend("iam")[account_id][partition].managed_policies[arn]


def _is_aws_managed_policy(obj: Any) -> bool:
    return type(obj).__name__ == "AWSManagedPolicy" and type(obj).__module__ == "moto.iam.models"


def _reduce_crypto_key(obj: Any) -> Any:
    """Key material from ``cryptography`` (KMS keys hold it) as PEM."""
    from cryptography.hazmat.primitives import serialization

    if hasattr(obj, "private_bytes"):
        return _private_key, (obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()),)
    if hasattr(obj, "public_bytes"):
        return _public_key, (obj.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo),)
    return NotImplemented


def _live_backend_dict(module_name: str, attribute: str) -> BackendDict:
    return getattr(importlib.import_module(module_name), attribute)


def _live_account_backends(module_name: str, attribute: str, account: str) -> AccountSpecificBackend:
    return _live_backend_dict(module_name, attribute)[account]


class _StatePickler(pickle.Pickler):
    """Pickles backends by value, but a reference to a registry (a
    ``BackendDict`` or one account's backends) by name, so that after a
    restore it points at the live registry, not at a copy."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BackendDict):
            key = _registry_key(obj)
            if key is not None:
                return _live_backend_dict, key
        if isinstance(obj, AccountSpecificBackend):
            for backend_dict in BackendDict._instances:
                if dict.get(backend_dict, obj.account_id) is obj:
                    key = _registry_key(backend_dict)
                    if key is not None:
                        return _live_account_backends, (*key, obj.account_id)
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock), ()
        if isinstance(obj, threading.Thread):
            return _none, ()
        if _is_aws_managed_policy(obj):
            # ~1500 policies moto loads from its own data: saved by name,
            # with the one field that changes (how often it is attached).
            return (_aws_managed_policy, (obj.account_id, obj.partition, obj.arn),
                    {"attachment_count": obj.attachment_count})
        if isinstance(obj, weakref.WeakValueDictionary):
            return _weak_value_dictionary, (dict(obj.items()),)
        if isinstance(obj, defaultdict):
            return _reduce_defaultdict(obj)
        if type(obj).__module__.startswith("cryptography."):
            return _reduce_crypto_key(obj)
        worker_type = _execution_worker_type()
        if worker_type is not None and isinstance(obj, worker_type):
            return FrozenExecutionWorker, (_history_of(obj),)
        return NotImplemented


def _execution_worker_type() -> type | None:
    module = sys.modules.get("moto.stepfunctions.parser.backend.execution_worker")
    return getattr(module, "ExecutionWorker", None) if module else None


def _dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


# --- which backends are in use -------------------------------------------


_registry_keys: dict[str, tuple[str, str]] = {}


def _registry_key(backend_dict: BackendDict) -> tuple[str, str] | None:
    """(module, attribute) naming ``backend_dict`` so it can be found again."""
    known = _registry_keys.get(backend_dict._id)
    if known is not None:
        return known
    candidates = [backend_dict.backend.__module__] + [
        name for name in sorted(sys.modules) if name.startswith("moto.")
    ]
    for module_name in candidates:
        module = sys.modules.get(module_name)
        for attribute, value in vars(module).items() if module else ():
            if value is backend_dict:
                _registry_keys[backend_dict._id] = (module_name, attribute)
                return module_name, attribute
    return None


def _backends_in_use() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for backend_dict in list(BackendDict._instances):
        key = _registry_key(backend_dict)
        if key is None:
            log.warning("moto backend %s is not reachable by name; not saved", backend_dict.service_name)
            continue
        accounts = {
            account: dict(dict.items(per_account))
            for account, per_account in list(dict.items(backend_dict))
            if len(per_account)
        }
        if accounts:
            found[key] = accounts
    return found


# --- save -----------------------------------------------------------------


@dataclass
class SaveReport:
    path: str
    backends: int
    services: list[str]
    bytes: int
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"saved": self.path, "backends": self.backends, "services": self.services,
                "bytes": self.bytes, "skipped": self.skipped}


def _snapshot_bytes(services: Iterable[SimulatedService]) -> tuple[bytes, int, list[str], list[str]]:
    backends = _backends_in_use()
    states = {service.name: service.get_state() for service in services}
    snapshot = {"format": FORMAT, "saved_at": _now().isoformat(), "moto": backends, "services": states}
    try:
        return _dumps(snapshot), len(backends), sorted(states), []
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as error:
        log.error("state does not pickle as a whole (%s); finding the culprit", error)
    skipped = []
    for key in list(backends):
        try:
            _dumps(backends[key])
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as error:
            skipped.append(f"moto {key[0]}.{key[1]}: {error}")
            del backends[key]
    for name in list(states):
        try:
            _dumps(states[name])
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as error:
            skipped.append(f"service {name}: {error}")
            del states[name]
    for line in skipped:
        log.error("not saved: %s", line)
    return _dumps(snapshot), len(backends), sorted(states), skipped


def save(path: Path, services: Iterable[SimulatedService], attempts: int = 5) -> SaveReport:
    """Write the state to ``path`` atomically. Concurrent requests may
    change a dict while it is pickled: such an attempt is simply retried."""
    services = list(services)
    with _save_lock:
        for attempt in range(1, attempts + 1):
            try:
                # No DynamoDB write is half-applied in the snapshot.
                with dynamodb_atomic.exclusive():
                    data, backends, names, skipped = _snapshot_bytes(services)
                break
            except RuntimeError as error:  # "dictionary changed size during iteration"
                if attempt == attempts:
                    raise
                log.info("state changed while saving (%s); retrying", error)
                time.sleep(0.05 * attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".state-", dir=path.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return SaveReport(path=str(path), backends=backends, services=names, bytes=len(data), skipped=skipped)


# --- restore --------------------------------------------------------------


@dataclass
class RestoreReport:
    backends: int
    services: list[str]
    interrupted_executions: int
    interrupted_stacks: int


class StateFileError(Exception):
    """The state file exists but cannot be used."""


def restore(path: Path, services: Iterable[SimulatedService]) -> RestoreReport | None:
    """Load ``path`` into moto and the simulated services; None when there
    is no state file (a first start)."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            snapshot = pickle.load(handle)
    except Exception as error:
        raise StateFileError(
            f"cannot read the saved state {path}: {error}. Move the file away to start empty "
            "(the previous state is then lost)."
        ) from error
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        raise StateFileError(f"{path} is not a state file of this version (format {FORMAT}); move it away")
    for (module_name, attribute), accounts in snapshot["moto"].items():
        backend_dict = getattr(importlib.import_module(module_name), attribute)
        for account, regions in accounts.items():
            per_account = backend_dict[account]
            for region, backend in regions.items():
                dict.__setitem__(per_account, region, backend)
    restored = []
    for service in services:
        if service.name in snapshot["services"]:
            service.set_state(snapshot["services"][service.name])
            restored.append(service.name)
    return RestoreReport(
        backends=len(snapshot["moto"]),
        services=restored,
        interrupted_executions=_fail_interrupted_executions(),
        interrupted_stacks=_fail_interrupted_stack_operations(),
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.timezone.utc)


def _all_backends(module_name: str, attribute: str) -> list[Any]:
    module = sys.modules.get(module_name)
    backend_dict = getattr(module, attribute, None) if module else None
    if backend_dict is None:
        return []
    return [backend for _, _, backend in backend_dict.iter_backends()]


def _fail_interrupted_executions() -> int:
    count = 0
    for backend in _all_backends("moto.stepfunctions.parser.models", "stepfunctions_parser_backends"):
        for machine in backend.state_machines:
            for execution in machine.executions:
                if getattr(execution, "exec_status", None) == "RUNNING":
                    _fail_parser_execution(execution)
                    count += 1
    for backend in _all_backends("moto.stepfunctions.models", "stepfunctions_backends"):
        for machine in backend.state_machines:
            for execution in machine.executions:
                if getattr(execution, "status", None) == "RUNNING" and not hasattr(execution, "exec_status"):
                    execution.status = "FAILED"
                    execution.stop_date = _now().isoformat()
                    execution.error = "States.Runtime"
                    execution.cause = STOPPED_CAUSE
                    count += 1
    return count


def _fail_parser_execution(execution: Any) -> None:
    from moto.stepfunctions.parser.api import ExecutionStatus

    now = _now()
    execution.exec_status = ExecutionStatus.FAILED
    execution.stop_date = now
    execution.error = "States.Runtime"
    execution.cause = STOPPED_CAUSE
    worker = execution.exec_worker
    if isinstance(worker, FrozenExecutionWorker):
        events = worker.env.event_manager.events
        last_id = events[-1].get("id", len(events)) if events else 0
        events.append({
            "timestamp": now,
            "type": "ExecutionFailed",
            "id": last_id + 1,
            "previousEventId": last_id,
            "executionFailedEventDetails": {"error": "States.Runtime", "cause": STOPPED_CAUSE},
        })


_STACK_STATUS_AFTER_STOP = {
    "CREATE_IN_PROGRESS": "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS": "ROLLBACK_FAILED",
    "UPDATE_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
    "DELETE_IN_PROGRESS": "DELETE_FAILED",
}


def _fail_interrupted_stack_operations() -> int:
    count = 0
    for backend in _all_backends("moto.cloudformation.models", "cloudformation_backends"):
        for stack in backend.stacks.values():
            new_status = _STACK_STATUS_AFTER_STOP.get(stack.status)
            if new_status:
                stack.status = new_status
                stack._add_stack_event(new_status, resource_status_reason=STACK_STOPPED_REASON)
                count += 1
    return count
