"""Small queries over synthesized templates shared by the stack tests."""

from __future__ import annotations

import json
from typing import Any, Iterator

from aws_cdk.assertions import Template


def resources(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(type_name)


def policy_statements(template: Template) -> Iterator[dict[str, Any]]:
    """Every IAM statement of the template: inline policies, managed
    policies, role inline policies and resource policies."""
    for resource in template.to_json().get("Resources", {}).values():
        props = resource.get("Properties", {})
        documents = [props.get("PolicyDocument"), props.get("KeyPolicy")]
        documents += [p.get("PolicyDocument") for p in props.get("Policies", []) or []]
        for document in documents:
            if isinstance(document, dict):
                yield from _as_list(document.get("Statement"))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_admin_statement(statement: dict[str, Any]) -> bool:
    actions = _as_list(statement.get("Action"))
    targets = _as_list(statement.get("Resource"))
    return statement.get("Effect") == "Allow" and "*" in actions and "*" in targets


def output_keys(template: Template) -> set[str]:
    return set(template.to_json().get("Outputs", {}))


def logical_id(stack, construct) -> str:
    """The logical id of a construct's CloudFormation resource."""
    return stack.get_logical_id(construct.node.default_child)


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def definition_of(stack, resources: dict[str, dict[str, Any]], event) -> dict[str, Any]:
    """The state machine definition of ``event``'s construct, every intrinsic part read as ``"REF"``."""
    parts = resources[logical_id(stack, event.state_machine)]["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "REF" for part in parts))
