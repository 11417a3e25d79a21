"""Static least-privilege check of every Lambda function's role, both ways.

For each ``AWS::Lambda::Function`` of the synthesized templates:

1. *calls*: the boto3 client methods its handler can reach, found by walking
   the runtime package's source (Python ``ast``, see :mod:`iam_calls` for
   the approximation), mapped to IAM actions through botocore's service
   models and the tables of :mod:`iam_actions`;
2. *grants*: the actions its role is allowed (inline ``AWS::IAM::Policy``
   resources naming the role, the role's own policies, AWS managed policies
   by ARN, read from moto's copy of their documents), wildcards expanded
   against botocore's operation lists;
3. findings: (a) a call no grant allows (always a failure), (b) a grant no
   call, no platform use and no exception explains, (c) a ``Resource: "*"``
   statement with an action that supports resource-level permissions.

Usage: ``python scripts/iam_check.py [--templates cdk.out] [--report-unused] [--quiet]``
(``--report-unused`` prints (b) without failing on it; ``--quiet`` prints only
the functions with findings). Exit status 1 on a failure, 2 on bad input.
docs/security.md describes the check and its figures.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

sys.path.insert(0, str(Path(__file__).resolve().parent))

from iam_actions import (  # noqa: E402
    ActionMapper, CONDITIONAL_CALLS, NO_GRANT_NEEDED, NO_RESOURCE_LEVEL, UNUSED_GRANT_EXCEPTIONS,
    bundle_reason, implied_actions, platform_actions)
from iam_calls import CallIndex, handler_reference  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "stacks" / "amilifecycle" / "runtime"


@dataclass
class Statement:
    actions: list[str]
    resources: list[Any]
    source: str          # the policy's logical id or the managed policy's name
    managed: bool = False


@dataclass
class FunctionReport:
    stack: str
    logical_id: str
    handler: str
    calls: dict[str, list[str]] = field(default_factory=dict)     # IAM action -> call sites
    granted: dict[str, list[str]] = field(default_factory=dict)   # action pattern -> policies
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    excepted: dict[str, str] = field(default_factory=dict)        # action pattern -> reason
    wildcard_resources: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ref(value: Any) -> str | None:
    """The logical id a ``Ref`` / ``Fn::GetAtt`` names."""
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return None


def _managed_policy_name(arn: Any) -> str | None:
    """``arn:<partition>:iam::aws:policy/[path/]Name`` (a string or an ``Fn::Join``) -> ``Name``."""
    if isinstance(arn, Mapping) and "Fn::Join" in arn:
        arn = "".join(part if isinstance(part, str) else "" for part in arn["Fn::Join"][1])
    if isinstance(arn, str) and ":iam::aws:policy/" in arn:
        return arn.rsplit("/", 1)[-1]
    return None


def _aws_managed_document(name: str) -> Mapping[str, Any] | None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    policy = json.loads(aws_managed_policies_data).get(name)
    return policy["Document"] if policy else None


def role_statements(resources: Mapping[str, Any], role_id: str) -> list[Statement]:
    """Every Allow statement that applies to the role ``role_id``."""
    found: list[Statement] = []

    def add(document: Any, source: str, managed: bool = False) -> None:
        for statement in _as_list((document or {}).get("Statement")):
            if statement.get("Effect") == "Allow" and "NotAction" not in statement:
                found.append(Statement([str(a) for a in _as_list(statement.get("Action"))],
                                       _as_list(statement.get("Resource")), source, managed))

    role = resources[role_id].get("Properties", {})
    for policy in role.get("Policies") or []:
        add(policy.get("PolicyDocument"), f"{role_id}/{policy.get('PolicyName')}")
    for arn in role.get("ManagedPolicyArns") or []:
        if _ref(arn) in resources:
            add(resources[_ref(arn)]["Properties"].get("PolicyDocument"), str(_ref(arn)))
            continue
        name = _managed_policy_name(arn)
        document = _aws_managed_document(name) if name else None
        if document is None:
            raise ValueError(f"role {role_id}: managed policy {arn} cannot be read")
        add(document, name, managed=True)
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        if resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and \
                role_id in {_ref(r) for r in props.get("Roles") or []}:
            add(props.get("PolicyDocument"), logical_id)
    return found


def check_function(stack: str, resources: Mapping[str, Any], logical_id: str, index: CallIndex,
                   mapper: ActionMapper) -> FunctionReport:
    props = resources[logical_id].get("Properties", {})
    report = FunctionReport(stack, logical_id, str(props.get("Handler")))
    module, name = handler_reference(report.handler)
    reached = index.reach(module, name)
    report.unresolved = sorted(reached.unresolved)
    for call in sorted(reached.calls):
        for action in mapper.actions(call.service, call.method):
            report.calls.setdefault(action, []).append(call.site)
    environment = (props.get("Environment") or {}).get("Variables") or {}
    role_id = _ref(props.get("Role"))
    if role_id not in resources:
        raise ValueError(f"function {logical_id}: role {props.get('Role')} is not a resource of {stack}")
    statements = role_statements(resources, role_id)
    for statement in statements:
        for pattern in statement.actions:
            report.granted.setdefault(pattern, []).append(statement.source)

    def granted(action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in report.granted)

    for action in sorted(report.calls):
        if granted(action) or action in NO_GRANT_NEEDED:
            continue
        condition = CONDITIONAL_CALLS.get(action)
        if condition and not condition.applies(environment):
            report.excepted[action] = condition.reason
            continue
        report.missing.append(action)

    expected = set(report.calls) | implied_actions(report.calls) | platform_actions(logical_id, props, resources)

    def used(pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for action in expected)

    unused: set[str] = set()
    for statement in statements:
        if statement.managed:
            continue  # AWS managed policies are the Lambda service's (platform_actions), not the code's
        for pattern in statement.actions:
            if used(pattern):
                continue
            reason = bundle_reason(pattern, set(statement.actions), used) or UNUSED_GRANT_EXCEPTIONS.get(pattern)
            if reason:
                report.excepted[pattern] = reason
            else:
                unused.add(pattern)
    report.unused = sorted(unused)
    for statement in statements:
        if statement.managed or "*" not in statement.resources:
            continue
        for pattern in statement.actions:
            wide = [a for a in mapper.expand(pattern) if not NO_RESOURCE_LEVEL.allows(a)]
            if wide:
                report.wildcard_resources.append(f"{pattern} ({statement.source})")
    return report


def load_templates(directory: str) -> dict[str, dict[str, Any]]:
    paths = sorted(glob.glob(os.path.join(directory, "*.template.json")))
    if not paths:
        raise ValueError(f"{directory}: no *.template.json (synthesize first: cdk synth --quiet)")
    return {Path(p).name.removesuffix(".template.json"): json.loads(Path(p).read_text()) for p in paths}


@dataclass
class CheckResult:
    functions: list[FunctionReport]
    unreached: list[str]          # client calls of the package no function reaches (dead code, or a gap)


def check(templates: Mapping[str, Mapping[str, Any]], runtime: Path = RUNTIME) -> CheckResult:
    index = CallIndex(runtime)
    mapper = ActionMapper()
    reports = []
    for stack, template in sorted(templates.items()):
        resources = template.get("Resources", {})
        for logical_id, resource in sorted(resources.items()):
            if resource.get("Type") == "AWS::Lambda::Function":
                reports.append(check_function(stack, resources, logical_id, index, mapper))
    reached = {(action, site) for r in reports for action, sites in r.calls.items() for site in sites}
    unreached = sorted({f"{action} ({call.site})" for call in index.every_call()
                        for action in mapper.actions(call.service, call.method) if (action, call.site) not in reached})
    return CheckResult(reports, unreached)


def render(result: CheckResult, *, fail_unused: bool, quiet: bool = False) -> tuple[str, bool]:
    reports = result.functions
    lines: list[str] = []
    failed = False
    for r in reports:
        findings = r.missing or r.wildcard_resources or r.unresolved or r.unused
        if quiet and not findings:
            continue
        lines.append(f"== {r.stack}/{r.logical_id} ({r.handler})")
        lines.append(f"  calls     {len(r.calls):3}  " + ", ".join(sorted(r.calls)))
        lines.append(f"  granted   {len(r.granted):3}  " + ", ".join(sorted(r.granted)))
        lines.append(f"  missing   {len(r.missing):3}  " + ", ".join(
            f"{action} (called in {', '.join(sorted(set(r.calls[action])))})" for action in r.missing))
        lines.append(f"  unused    {len(r.unused):3}  " + ", ".join(r.unused))
        for pattern, reason in sorted(r.excepted.items()):
            lines.append(f"  excepted       {pattern}: {reason}")
        for item in r.wildcard_resources:
            lines.append(f"  Resource * on an action with resource-level permissions: {item}")
        for item in r.unresolved:
            lines.append(f"  unresolved client use: {item}")
        failed |= bool(r.missing or r.wildcard_resources or r.unresolved or (fail_unused and r.unused))
    totals = {name: sum(len(getattr(r, name)) for r in reports)
              for name in ("calls", "granted", "missing", "unused", "excepted", "wildcard_resources", "unresolved")}
    lines.append(f"iam-check: {len(reports)} functions, " + ", ".join(f"{v} {k}" for k, v in totals.items()))
    lines.append(f"iam-check: {len(result.unreached)} client calls of the runtime reached by no function"
                 + (": " + ", ".join(result.unreached) if result.unreached else ""))
    return "\n".join(lines), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default=str(ROOT / "cdk.out"), help="folder of *.template.json")
    parser.add_argument("--report-unused", action="store_true",
                        help="print grants no call uses without failing on them")
    parser.add_argument("--quiet", action="store_true", help="print only the functions with findings, and the totals")
    args = parser.parse_args(argv)
    try:
        result = check(load_templates(args.templates))
    except ValueError as error:
        print(f"iam-check: {error}", file=sys.stderr)
        return 2
    text, failed = render(result, fail_unused=not args.report_unused, quiet=args.quiet)
    print(text)
    if failed:
        print("iam-check: FAILED (missing grants, Resource * on resource-level actions, unresolved client "
              "uses or unexplained grants above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
