"""``AWS::StepFunctions::StateMachine`` in the backend that executes.

With ``stepfunctions.execute_state_machine`` enabled moto serves the API
from its ASL-interpreting backend, but its CloudFormation model creates
state machines in the other, non-executing backend, where the API never
finds them. This model creates them where the API looks, and also honours
``Definition`` (an object), ``DefinitionSubstitutions`` and
``StateMachineType``, which the CDK may emit, and hands
``LoggingConfiguration`` and ``TracingConfiguration`` to the backend in the
API's shape, so ``describe-state-machine`` shows them as declared (and
executions log to the declared group, see
:mod:`local.stepfunctions_logging`).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.responses import get_backend


def _definition(properties: dict[str, Any]) -> str:
    if "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    else:
        definition = properties.get("DefinitionString", "")
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    return definition


def logging_configuration(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's LoggingConfiguration in the API's shape (what
    DescribeStateMachine returns); absent, logging is off."""
    declared = properties.get("LoggingConfiguration")
    if not declared:
        return {"level": "OFF", "includeExecutionData": False}
    configuration: dict[str, Any] = {
        "level": declared.get("Level", "OFF"),
        "includeExecutionData": str(declared.get("IncludeExecutionData", False)).lower() == "true",
    }
    destinations = [
        {"cloudWatchLogsLogGroup": {"logGroupArn": destination["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
        for destination in declared.get("Destinations") or [] if destination.get("CloudWatchLogsLogGroup")
    ]
    if destinations:
        configuration["destinations"] = destinations
    return configuration


def tracing_configuration(properties: dict[str, Any]) -> dict[str, Any]:
    declared = properties.get("TracingConfiguration") or {}
    return {"enabled": str(declared.get("Enabled", False)).lower() == "true"}


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": tag["Key"], "value": tag["Value"]} for tag in properties.get("Tags", [])]


class ExecutableStateMachine(StateMachine, CloudFormationModel):
    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any,
    ) -> StateMachine:
        properties = cloudformation_json["Properties"]
        return get_backend(account_id, region_name).create_state_machine(
            name=properties.get("StateMachineName", resource_name),
            definition=_definition(properties),
            roleArn=properties.get("RoleArn", ""),
            tags=_tags(properties),
            loggingConfiguration=logging_configuration(properties),
            tracingConfiguration=tracing_configuration(properties),
            sm_type=properties.get("StateMachineType", "STANDARD"),
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
        account_id: str, region_name: str,
    ) -> StateMachine:
        properties = cloudformation_json.get("Properties", {})
        backend = get_backend(account_id, region_name)
        name = properties.get("StateMachineName", original_resource.name)
        if name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
            backend.delete_state_machine(original_resource.arn)
            return replacement
        machine = backend.update_state_machine(
            original_resource.arn, definition=_definition(properties), role_arn=properties.get("RoleArn"),
            logging_configuration=logging_configuration(properties),
            tracing_configuration=tracing_configuration(properties),
        )
        if properties.get("Tags"):
            backend.tag_resource(machine.arn, {tag["Key"]: tag["Value"] for tag in properties["Tags"]})
        return machine

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
    ) -> None:
        get_backend(account_id, region_name).delete_state_machine(resource_name)

