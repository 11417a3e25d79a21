"""UI mode of the orchestrator CLI: a menu of the same operations as BATCH mode.

Plain click prompts, no terminal library. Defaults for the owner, the
notification channels and the properties come from ``cli-config.json`` in
the current directory (or ``--config``), so a team answers them once.
Before anything is sent the request is shown, without its key, and
confirmed. A refused request prints its error and returns to the menu.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click

from orchestrator.domain.sequences import auto_triggered_events, first_event
from orchestrator.domain.vocabulary import (ApprovalStatus, CertificationStatus, CliOperation,
                                            SemverBump, definition)

from .errors import ClientError, ExitCode, UsageError
from .git import head_commit
from .naming import default_stack_tag
from .operations import OPERATIONS, Kind, Operation
from .payloads import OperationInput
from .render import as_json
from .runner import Options, PreparedRequest, Runner

DEFAULT_CONFIG = Path("cli-config.json")

MENU: tuple[tuple[str, CliOperation], ...] = (
    ("Create an AMI (build it, then run the events you choose)", CliOperation.AMI_CREATE),
    ("Continue an AMI creation with more events", CliOperation.AMI_CREATE_UPDATE),
    ("Patch an approved AMI", CliOperation.AMI_PATCH),
    ("Continue an AMI patch with more events", CliOperation.AMI_PATCH_UPDATE),
    ("Status of a lifecycle", CliOperation.AMI_GET_STATUS_BY_LIFECYCLE_ID),
    ("Lifecycles of this stack tag", CliOperation.AMI_GET_STATUSES),
    ("Timeline of an AMI creation", CliOperation.AMI_TIMELINE_CREATE),
    ("Timeline of an AMI patch", CliOperation.AMI_TIMELINE_PATCH),
    ("Record the QA certification verdict", CliOperation.AMI_QA_CERTIFICATION),
    ("Approve (or refuse) a created AMI for production", CliOperation.AMI_APPROVAL_CREATE),
    ("Approve (or refuse) a patched AMI for production", CliOperation.AMI_APPROVAL_PATCH),
    ("Revoke an approved AMI", CliOperation.AMI_REVOKE),
)


@dataclass(frozen=True)
class Defaults:
    """Answers offered as defaults, from the config file."""

    owner: str | None = None
    notifications: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


def load_defaults(path: Path | None) -> Defaults:
    """``{"owner": ..., "notifications": [{method, target}] | ["METHOD::TARGET"], "properties": {...}}``."""
    explicit = path is not None
    path = path or DEFAULT_CONFIG
    if not path.is_file():
        if explicit:
            raise UsageError(f"--config {path}: no such file")
        return Defaults()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(document, Mapping):
        raise UsageError(f"{path}: expected a JSON object with owner, notifications and properties")
    channels = []
    for item in document.get("notifications") or []:
        if isinstance(item, Mapping):
            channels.append(f"{item.get('method')}::{item.get('target')}")
        else:
            channels.append(str(item))
    properties = document.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise UsageError(f"{path}: properties must be an object of string values")
    owner = document.get("owner")
    return Defaults(owner=str(owner) if owner else None, notifications=tuple(channels),
                    properties=tuple(f"{k}::{v}" for k, v in properties.items()))


def _words(answer: str) -> tuple[str, ...]:
    return tuple(answer.split())


def _events(op: Operation) -> tuple[str, ...]:
    """Ask which chained events to run; return their --events values.

    A new creation or patch always runs its first event, and the chain
    stops at the first event declined. A continuation may skip events that
    already completed, so every event is asked about.
    """
    chosen: list[str] = []
    starts_phase = op.kind in (Kind.CREATE, Kind.PATCH)
    if starts_phase:
        chosen.append(str(definition(first_event(op.lifecycle_type)).cli_event))
    for event in auto_triggered_events(op.lifecycle_type):
        row = definition(event)
        if click.confirm(f"Run {row.title}?", default=False):
            chosen.append(str(row.cli_event))
        elif starts_phase:
            break
    return tuple(chosen)


def ask(op: Operation, stack_tag: str, defaults: Defaults) -> OperationInput:
    """Prompt for every value ``op`` needs."""
    values: dict[str, Any] = {"stack_tag": stack_tag}
    if "lifecycle_id" in op.required:
        values["lifecycle_id"] = click.prompt("Lifecycle id")
    if op.kind in (Kind.CREATE, Kind.UPDATE, Kind.PATCH, Kind.PATCH_UPDATE):
        values["events"] = _events(op)
        values["owner"] = click.prompt("Owner", default=defaults.owner)
        values["notifications"] = _words(click.prompt(
            "Notifications, METHOD::TARGET separated by spaces", default=" ".join(defaults.notifications) or None))
        values["properties"] = _words(click.prompt(
            "Properties, KEY::VALUE separated by spaces (empty for none)",
            default=" ".join(defaults.properties), show_default=bool(defaults.properties)))
    if op.kind is Kind.CREATE:
        values["product_name"] = click.prompt("Product name")
        values["product_ver"] = click.prompt("Product version")
    if op.kind in (Kind.CREATE, Kind.PATCH):
        values["commit_ref"] = click.prompt("Commit", default=head_commit())
    if op.kind is Kind.PATCH:
        values["patch_component"] = click.prompt("Component document (local YAML file or s3:// URL)")
        values["patch_change_description"] = click.prompt("What does the patch change")
        values["semver_bump_type"] = click.prompt("Version part to raise", default=str(SemverBump.PATCH),
                                                  type=click.Choice([str(b) for b in SemverBump]))
    if op.kind is Kind.CERTIFY:
        values["certification_status"] = click.prompt(
            "QA verdict", type=click.Choice([str(s) for s in CertificationStatus]))
    if op.kind is Kind.APPROVE:
        values[op.approval_param] = click.prompt(
            "Approval verdict", type=click.Choice([str(s) for s in ApprovalStatus]))
    if op.kind is Kind.REVOKE:
        values["reason"] = click.prompt("Why must the AMI no longer be used")
    return OperationInput(**values)


def confirm_request(request: PreparedRequest) -> bool:
    click.echo(request.describe())
    if request.body is not None:
        click.echo(as_json(request.body))
    return click.confirm("Send it?", default=True)


def run_ui(*, stack_tag: str | None, region: str | None, options: Options, config_path: Path | None) -> int:
    """The menu loop; returns when the user quits."""
    defaults = load_defaults(config_path)
    tag = stack_tag or click.prompt("Stack tag", default=default_stack_tag().tag)
    runner = Runner(region=region, stack_tag=tag)
    while True:
        click.echo(f"\nAMI lifecycle - stack tag {runner.stack_tag}")
        for number, (label, _) in enumerate(MENU, start=1):
            click.echo(f"{number:>3}. {label}")
        click.echo("  0. Quit")
        choice = click.prompt("Choose", type=click.IntRange(0, len(MENU)))
        if choice == 0:
            return ExitCode.OK
        op = OPERATIONS[MENU[choice - 1][1]]
        try:
            runner.run(op, ask(op, runner.stack_tag, defaults), options, confirm=confirm_request)
        except ClientError as error:
            click.echo(f"error: {error.message}", err=True)
