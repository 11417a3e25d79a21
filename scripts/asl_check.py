"""Every state machine definition of the synthesized templates passes the Amazon States Language validator.

A template holds each definition as ``DefinitionString``: a ``Fn::Join`` (or
``Fn::Sub`` with ``DefinitionSubstitutions``) of JSON text around intrinsic
functions (function ARNs, queue URLs, table names, numbers from settings).
:func:`definitions` resolves each intrinsic to a placeholder: inside a JSON
string a placeholder ARN, outside one (a number CDK rendered from a token)
the number 1; pseudo parameters (``AWS::Partition``...) take fixed values. The result must be JSON, and ``asl-validator`` (npm, pinned in
``tools/asl-validator``) must accept it.

    python -m scripts.asl_check [cdk.out]     exit 0: every definition valid
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = ROOT / "tools" / "asl-validator" / "node_modules" / ".bin" / "asl-validator"
STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
PLACEHOLDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:placeholder-{name}"
PSEUDO_PARAMETERS = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
                     "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "placeholder-stack"}
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class DefinitionError(ValueError):
    """A definition cannot be resolved into JSON; the message names the state machine."""


def _placeholder(node: Any, in_string: bool) -> str:
    if isinstance(node, dict) and node.get("Ref") in PSEUDO_PARAMETERS:
        return PSEUDO_PARAMETERS[node["Ref"]]
    name = "value"
    if isinstance(node, dict) and node:
        function, argument = next(iter(node.items()))
        if function == "Ref":
            name = str(argument)
        elif function == "Fn::GetAtt":
            name = "-".join(argument) if isinstance(argument, list) else str(argument)
        else:
            name = function.replace("::", "-")
    name = re.sub(r"[^A-Za-z0-9-]", "-", name)
    return PLACEHOLDER_ARN.format(name=name) if in_string else "1"


def _inside_string(text: str) -> bool:
    """Whether the end of ``text`` (JSON text so far) is inside a string literal."""
    inside, escaped = False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and inside:
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


def _join(separator: str, parts: list[Any]) -> str:
    text = ""
    for index, part in enumerate(parts):
        text += separator if index else ""
        text += part if isinstance(part, str) else _placeholder(part, _inside_string(text))
    return text


def _sub(template: str, variables: dict[str, Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        replacement = variables.get(match.group(1))
        if isinstance(replacement, str):
            return replacement
        return _placeholder(replacement or {"Ref": match.group(1)}, _inside_string(template[: match.start()]))

    return _SUB_VARIABLE.sub(substitute, template)


def resolve(value: Any, substitutions: dict[str, Any] | None = None) -> str:
    """The JSON text of a ``DefinitionString`` with every intrinsic function replaced by a placeholder
    (``DefinitionSubstitutions`` and ``Fn::Sub`` variables substituted first)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        text = _join(*value["Fn::Join"])
    elif isinstance(value, dict) and "Fn::Sub" in value:
        argument = value["Fn::Sub"]
        template, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        return _sub(template, {**(substitutions or {}), **variables})
    elif isinstance(value, str):
        text = value
    else:
        raise DefinitionError(f"unsupported DefinitionString: {json.dumps(value)[:200]}")
    return _sub(text, substitutions) if substitutions else text


def definitions(cdk_out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``<template>/<logical id>``, parsed definition) of every state machine in ``cdk_out``."""
    for template_path in sorted(cdk_out.glob("*.template.json")):
        template = json.loads(template_path.read_text())
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != STATE_MACHINE_TYPE:
                continue
            properties = resource.get("Properties") or {}
            where = f"{template_path.name.removesuffix('.template.json')}/{logical_id}"
            if "Definition" in properties:
                yield where, properties["Definition"]
                continue
            if "DefinitionString" not in properties:
                raise DefinitionError(f"{where}: no Definition or DefinitionString (an S3 definition?)")
            text = resolve(properties["DefinitionString"], properties.get("DefinitionSubstitutions"))
            try:
                yield where, json.loads(text)
            except ValueError as error:
                raise DefinitionError(f"{where}: the resolved definition is not JSON ({error})") from None


def validate(definition: dict[str, Any]) -> tuple[bool, str]:
    """(valid, the validator's findings) for one definition."""
    if not VALIDATOR.exists():
        raise FileNotFoundError(f"{VALIDATOR} is not installed: run bash scripts/setup.sh --gates")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(definition, handle)
    try:
        result = subprocess.run([str(VALIDATOR), "--json-path", handle.name],
                                capture_output=True, text=True, timeout=120)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def main(argv: list[str]) -> int:
    cdk_out = Path(argv[0]) if argv else ROOT / "cdk.out"
    found = failed = 0
    try:
        for where, definition in definitions(cdk_out):
            found += 1
            valid, findings = validate(definition)
            if not valid:
                failed += 1
                print(f"{where}: not valid ASL\n{findings}", file=sys.stderr)
    except (DefinitionError, FileNotFoundError) as error:
        print(f"asl-check: {error}", file=sys.stderr)
        return 2
    if not found:
        print(f"asl-check: no state machine in {cdk_out}/*.template.json", file=sys.stderr)
        return 2
    print(f"asl-check: {found} state machine definitions, {failed} not valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
