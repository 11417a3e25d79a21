"""The AMI selection client: ``python client/cli_ami_selection.py [flags]``.

Prints the id of the newest AMI (highest semantic version) of a deployment
that meets every criterion, read from the lookup table named by the
``amiSelectionTableName`` output of ``AmiLifecycle-<stack_tag>``. Flags and
defaults are the original client's, except ``--region`` (from the
environment or profile instead of a fixed one). See docs/cli.md.
"""

from __future__ import annotations

import botocore.exceptions
import click

from orchestrator.domain.errors import NotFound, ValidationError
from orchestrator.domain.selection import ANY, LATEST, SelectionCriteria, select_ami
from orchestrator.domain.vocabulary import LifecycleType, SelectionEvent

from .aws import AwsSession, aws_failure
from .command import Choice, OneLineCommand
from .discovery import SELECTION_ROLE_OUTPUT, SELECTION_TABLE_OUTPUT, Deployment
from .errors import ClientError, ExitCode, UsageError
from .lookup_query import ReadStats, query_pages
from .naming import default_stack_tag
from .render import as_json


def result_lines(ami_id: str) -> list[str]:
    """The answer, framed by '#' lines: ``Retrieved AMI ID == <ami>``."""
    line = f"Retrieved AMI ID == {ami_id}"
    frame = "#" * len(line)
    return [frame, line, frame]


def parse_criteria(**flags: str) -> SelectionCriteria:
    """The flags, validated by the domain; a bad value names its flag (flags are named like the fields)."""
    try:
        return SelectionCriteria.parse(**flags)
    except ValidationError as error:
        detail = error.message
        if error.field and detail.startswith(f"{error.field}:"):
            detail = detail[len(error.field) + 1:].strip()
        raise UsageError(f"--{error.field or 'criteria'}: {detail}") from None


@click.command(cls=OneLineCommand, context_settings={"help_option_names": ["-h", "--help"]},
               help="Print the newest AMI of a deployment that meets every criterion (docs/cli.md).")
@click.option("--stack_tag", help="Stack tag of the deployment (default: STACK_TAG, else LOCAL_CLOUD_STACK_TAG "
                                  "from local-cloud.env, else cdk.json's stackTag).")
@click.option("--region", help="AWS region of the AMI and the deployment (default: environment or profile).")
@click.option("--ami_semver", default=LATEST, show_default=True, help="'latest' or an exact version like 2.1.0.")
@click.option("--product_ver", default=ANY, show_default=True, help="Product version, or 'any'.")
@click.option("--product_name", default=ANY, show_default=True, help="Product name, or 'any'.")
@click.option("--commit_ref", default=ANY, show_default=True,
              help="Commit the AMI was built or patched from, or 'any'.")
@click.option("--lifecycle_type", type=Choice([ANY, *LifecycleType]), default=ANY, show_default=True,
              help="Only built AMIs (ami-creation), only patched ones (ami-patch), or any.")
@click.option("--lifecycle_event", type=Choice(SelectionEvent), default=str(SelectionEvent.AMI_WITH_OS_HARDENING),
              show_default=True, help="The least the AMI must have passed.")
@click.option("--output", type=Choice(["text", "json"]), default="text", show_default=True,
              help="text: the framed AMI id; json: the whole lookup entry.")
@click.option("--assume_reader_role", is_flag=True,
              help="Query as the deployment's read-only selection role (output amiSelectionCAReadOnly).")
def cli(stack_tag: str | None, region: str | None, output: str, assume_reader_role: bool, **criteria: str) -> int:
    if not stack_tag:
        default = default_stack_tag()
        click.echo(default.notice("--stack_tag"), err=True)
        stack_tag = default.tag
    aws = AwsSession(region)
    parsed = parse_criteria(stack_tag=stack_tag, region=aws.region, **criteria)
    aws.require_credentials()
    deployment = Deployment(aws, parsed.stack_tag)
    table_name = deployment.output(SELECTION_TABLE_OUTPUT, meaning="the AMI lookup table")
    reader = aws
    if assume_reader_role:
        role = deployment.output(SELECTION_ROLE_OUTPUT, meaning="the read-only selection role")
        reader = aws.assume_role(role, "ami-selection")
    stats = ReadStats()
    try:
        entry = select_ami(query_pages(reader.resource("dynamodb").Table(table_name), parsed, stats), parsed)
    except NotFound as error:
        raise ClientError(error.message, ExitCode.REFUSED) from None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise aws_failure(error, f"querying the AMI lookup table {table_name}") from None
    if output == "json":
        click.echo(as_json(entry))
    else:
        click.echo("\n".join(result_lines(str(entry.get("ami_id")))))
        click.echo(f"version {entry.get('ami_semver')}, {entry.get('lifecycle_type')} lifecycle "
                   f"{entry.get('lifecycle_id')}, passed {entry.get('lifecycle_event')} "
                   f"(read {stats.items_read} entries in {stats.pages} requests)", err=True)
    return ExitCode.OK


def main() -> None:
    """Entry point of client/cli_ami_selection.py."""
    cli.main(prog_name="cli_ami_selection.py")

