"""Stack operations that behave like CloudFormation's.

moto creates a stack inside the CreateStack call, stops at the first
failing resource with the stack left ``CREATE_IN_PROGRESS`` and the error
surfacing as an HTTP 500, and forgets a stack whose deletion failed. Here:

* CreateStack, UpdateStack and DeleteStack validate, answer at once and do
  the work on a background thread; the status moves on as on AWS;
* every resource records an event (``CREATE_COMPLETE`` / ``CREATE_FAILED``
  with the reason), so ``describe_stack_events`` explains a failure;
* a failed creation rolls back (deletes what was made) and ends
  ``ROLLBACK_COMPLETE``; a failed deletion ends ``DELETE_FAILED`` and the
  stack stays listed; a failed update ends ``UPDATE_ROLLBACK_FAILED`` (moto
  cannot undo a partial update: destroy and deploy again);
* exports become visible when the stack is complete, and a stack whose
  exports another stack imports cannot be deleted (as on AWS);
* outputs that are API Gateway invoke URLs read as the local URL.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Event, Stack
from moto.cloudformation.utils import generate_stack_id

log = logging.getLogger(__name__)

_original_outputs = Stack.outputs
_original_create_resource = parsing.parse_and_create_resource
_original_update_resource = parsing.parse_and_update_resource
_STATUSES_WITH_OUTPUTS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                                    "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"})
_workers: set[threading.Thread] = set()
_workers_lock = threading.Lock()


class ResourceFailed(Exception):
    """One resource of a stack could not be created or updated."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def describe_error(error: BaseException) -> str:
    """A one-line reason in the words AWS services use."""
    if isinstance(error, ResourceFailed):
        return error.reason
    code = getattr(error, "code", None) or getattr(error, "error_type", None)
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    if isinstance(code, str) and code and code not in message:
        return f"{message} (Service error code: {code})"
    return message


def _stack_of(resources_map: Any) -> Stack | None:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[resources_map._account_id][resources_map._region_name]
    return backend.stacks.get(resources_map.stack_id)


def _resource_event(stack: Stack, logical_id: str, resource_type: str, physical_id: str | None,
                    status: str, reason: str | None = None) -> None:
    stack.events.append(Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
        physical_resource_id=physical_id or "", resource_type=resource_type,
        resource_status=status, resource_status_reason=reason, resource_properties=None,
    ))


def _tracked(original: Callable[..., Any], verb: str) -> Callable[..., Any]:
    """Wrap moto's per-resource create/update so that each resource records
    an event and a failure names the resource that failed."""

    def run(logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str,
            region_name: str) -> Any:
        resource_type = resource_json.get("Type", "?")
        try:
            resource = original(logical_id, resource_json, resources_map, account_id=account_id,
                                region_name=region_name)
        except ResourceFailed:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes the resource's reason
            reason = describe_error(error)
            if not hasattr(error, "code"):
                log.exception("%s of %s (%s) failed", verb, logical_id, resource_type)
            stack = _stack_of(resources_map)
            if stack is not None:
                _resource_event(stack, logical_id, resource_type, None, f"{verb}_FAILED", reason)
            raise ResourceFailed(logical_id, resource_type, reason) from error
        stack = _stack_of(resources_map)
        if resource is not None and stack is not None:
            _resource_event(stack, logical_id, resource_type,
                            getattr(resource, "physical_resource_id", None), f"{verb}_COMPLETE")
        return resource

    return run


def _in_background(name: str, work: Callable[[], None]) -> None:
    def guarded() -> None:
        try:
            work()
        finally:
            with _workers_lock:
                _workers.discard(threading.current_thread())

    thread = threading.Thread(target=guarded, name=name, daemon=True)
    with _workers_lock:
        _workers.add(thread)
    thread.start()


def wait_for_operations(timeout: float) -> bool:
    """Wait for stack operations in flight (used before saving state on
    stop); True when none is left."""
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.join(timeout)
    with _workers_lock:
        return not _workers


def _register_exports(backend: CloudFormationBackend, stack: Stack) -> None:
    for name in [n for n, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    names = [export.name for export in stack.exports]
    taken = sorted(set(names) & set(backend.exports))
    if taken:
        raise ValidationError(stack.stack_id, message=f"Export names must be unique across a given region: "
                                                       f"{', '.join(taken)} already exported")
    for export in stack.exports:
        backend.exports[export.name] = export


def create_stack(self: CloudFormationBackend, name: str, template: str, parameters: dict[str, Any],
                 notification_arns: list[str] | None = None, tags: dict[str, str] | None = None,
                 role_arn: str | None = None, enable_termination_protection: bool | None = False,
                 timeout_in_mins: int | None = None, stack_policy_body: str | None = None) -> Stack:
    if name in [stack.name for stack in self.stacks.values()]:
        from moto.cloudformation.exceptions import AlreadyExistsException

        raise AlreadyExistsException(f"Stack [{name}] already exists")
    stack = Stack(
        stack_id=generate_stack_id(name, self.region_name, self.account_id), name=name, template=template,
        parameters=parameters, account_id=self.account_id, region_name=self.region_name,
        notification_arns=notification_arns, tags=tags, role_arn=role_arn, cross_stack_resources=self.exports,
        enable_termination_protection=enable_termination_protection, timeout_in_mins=timeout_in_mins,
        stack_policy_body=stack_policy_body,
    )
    self.stacks[stack.stack_id] = stack
    stack.status = "CREATE_IN_PROGRESS"
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    _in_background(f"create-{name}", lambda: _create(self, stack))
    return stack


def _create(backend: CloudFormationBackend, stack: Stack) -> None:
    try:
        stack.resource_map.create(stack.template_dict)
        stack.description = stack.template_dict.get("Description")
        _register_exports(backend, stack)
    except Exception as error:  # noqa: BLE001
        failed = error.logical_id if isinstance(error, ResourceFailed) else None
        if failed is None:
            log.error("stack %s failed: %s", stack.name, describe_error(error))
            stack._add_stack_event("CREATE_FAILED", resource_status_reason=describe_error(error))
        reason = (f"The following resource(s) failed to create: [{failed}]. Rollback requested by user."
                  if failed else describe_error(error))
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        try:
            stack.resource_map.delete()
        except Exception as rollback_error:  # noqa: BLE001
            stack.status = "ROLLBACK_FAILED"
            stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=describe_error(rollback_error))
            return
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")
        return
    stack.mark_creation_complete()


def update_stack(self: CloudFormationBackend, name: str, template: str, role_arn: str | None,
                 parameters: list[dict[str, Any]], tags: dict[str, str] | None) -> Stack:
    stack = self.get_stack(name)
    if stack.status.endswith("_IN_PROGRESS"):
        raise ValidationError(stack.stack_id, message=f"Stack:{stack.stack_id} is in {stack.status} state "
                                                       "and can not be updated.")
    resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
    stack.status = "UPDATE_IN_PROGRESS"
    _in_background(f"update-{stack.name}", lambda: _update(self, stack, template, role_arn, resolved, tags))
    return stack


def _update(backend: CloudFormationBackend, stack: Stack, template: str, role_arn: str | None,
            parameters: dict[str, Any], tags: dict[str, str] | None) -> None:
    try:
        stack.update(template, role_arn, parameters=parameters, tags=tags)
        _register_exports(backend, stack)
    except Exception as error:  # noqa: BLE001
        stack.status = "UPDATE_ROLLBACK_FAILED"
        stack._add_stack_event(
            "UPDATE_ROLLBACK_FAILED",
            resource_status_reason=f"{describe_error(error)}; the local cloud cannot roll back an update: "
                                   "destroy and deploy again",
        )


def delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in self.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None or stack.status == "DELETE_IN_PROGRESS":
        return
    importers = _importers_of(self, stack)
    if importers:
        raise ValidationError(stack.stack_id, message=(
            f"Export {importers[0][1]} cannot be deleted as it is in use by {importers[0][0]}"
        ))
    stack.status = "DELETE_IN_PROGRESS"
    _in_background(f"delete-{stack.name}", lambda: _delete(self, stack))


def _importers_of(backend: CloudFormationBackend, stack: Stack) -> list[tuple[str, str]]:
    """(importing stack name, export name) for each live import of ``stack``'s exports."""
    exported = {name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id}
    found = []
    for other in backend.stacks.values():
        if other is stack:
            continue
        for imported in _literal_imports(other.template_dict):
            if imported in exported:
                found.append((other.name, imported))
    return found


def _literal_imports(node: Any) -> list[str]:
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"} and isinstance(node["Fn::ImportValue"], str):
            return [node["Fn::ImportValue"]]
        return [name for value in node.values() for name in _literal_imports(value)]
    if isinstance(node, list):
        return [name for value in node for name in _literal_imports(value)]
    return []


def _delete(backend: CloudFormationBackend, stack: Stack) -> None:
    try:
        stack.delete()
    except Exception as error:  # noqa: BLE001
        stack.status = "DELETE_FAILED"
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=describe_error(error))
        return
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack
    for name in [n for n, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]


def _references(node: Any) -> set[str]:
    """Logical ids a template fragment refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                template = value[0] if isinstance(value, list) else value
                if isinstance(template, str):
                    found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!][^}]*)\}", template))
                found |= _references(value[1] if isinstance(value, list) and len(value) > 1 else None)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def deletion_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids so that each resource comes before the ones it depends
    on (CloudFormation deletes dependents first)."""
    depends: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        depends[logical_id] = (explicit | _references(resource.get("Properties", {}))) & set(resources) - {logical_id}
    creation: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in creation or logical_id in visiting:
            return
        visiting.add(logical_id)
        for dependency in sorted(depends[logical_id]):
            visit(dependency)
        visiting.discard(logical_id)
        creation.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return list(reversed(creation))


def _delete_resources(self: Any) -> None:
    """ResourceMap.delete in reverse dependency order (moto deletes in set
    order, so a custom resource could outlive the function that deletes
    it). Passes repeat while they make progress, as moto's do."""
    remaining = [logical_id for logical_id in deletion_order(self._resource_json_map)
                 if self._resource_json_map[logical_id].get("DeletionPolicy") != "Retain"]
    last_error: Exception | None = None
    while remaining:
        failed = []
        for logical_id in remaining:
            resource = self._parsed_resources.get(logical_id)
            if resource is None or isinstance(resource, str):
                continue
            try:
                self._delete_resource(resource, self._resource_json_map[logical_id])
                self._parsed_resources.pop(logical_id, None)
            except Exception as error:  # noqa: BLE001 - retried, then reported
                last_error = error
                failed.append(logical_id)
        if len(failed) == len(remaining):
            raise last_error  # type: ignore[misc]
        remaining = failed


def _local_outputs(self: Stack) -> list[dict[str, Any]] | None:
    """Outputs of a settled stack only: moto evaluates them on reading,
    which would create missing resources from the reading thread."""
    if self.status not in _STATUSES_WITH_OUTPUTS:
        return None
    outputs = _original_outputs.fget(self)  # type: ignore[attr-defined]
    if not outputs:
        return outputs
    rewrite = _execute_api_rewriter()
    if rewrite is None:
        return outputs
    return [{**output, "OutputValue": rewrite(output["OutputValue"])}
            if isinstance(output.get("OutputValue"), str) else output for output in outputs]


def _created_resources(self: Stack) -> list[Any]:
    """The resources made so far (moto's would create the rest on reading)."""
    resource_map = self.resource_map
    return [resource for logical_id, resource in list(resource_map._parsed_resources.items())
            if logical_id in resource_map._resource_json_map and resource is not None
            and hasattr(resource, "logical_resource_id")]


def _execute_api_rewriter() -> Callable[[str], str] | None:
    try:
        from local.services.apigateway.urls import rewrite_execute_api_url
    except ImportError:
        return None
    from local.cloudformation import custom_resources

    endpoint = custom_resources._endpoint_url
    return lambda value: rewrite_execute_api_url(value, endpoint)


def install() -> None:
    parsing.parse_and_create_resource = _tracked(_original_create_resource, "CREATE")
    parsing.parse_and_update_resource = _tracked(_original_update_resource, "UPDATE")
    parsing.ResourceMap.delete = _delete_resources  # type: ignore[method-assign]
    CloudFormationBackend.create_stack = create_stack  # type: ignore[method-assign]
    CloudFormationBackend.update_stack = update_stack  # type: ignore[method-assign]
    CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]
    Stack.outputs = property(_local_outputs)  # type: ignore[method-assign, assignment]
    Stack.stack_resources = property(_created_resources)  # type: ignore[method-assign, assignment]
