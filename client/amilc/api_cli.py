"""The orchestrator CLI: ``python client/api-cli.py --mode BATCH|UI ...``.

BATCH runs one ``--operation`` from flags (the original CLI's flags, same
names); UI asks for everything with prompts. Both talk to the deployment of
``--stackTag``: the API URL comes from its stack outputs, each route's key
from Secrets Manager, sent in the ``x-api-key`` header and never printed
(unless ``--show-key-in-url`` asks for a timeline link that carries it).
See docs/cli.md.
"""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.domain.vocabulary import (ApprovalStatus, CertificationStatus, CliEvent, CliOperation,
                                            SemverBump)

from .command import Choice, OneLineCommand
from .errors import UsageError
from .naming import default_stack_tag
from .operations import operation as find_operation
from .payloads import OperationInput
from .runner import Options, Runner

@click.command(cls=OneLineCommand, context_settings={"help_option_names": ["-h", "--help"]},
               help="Drive AMI lifecycles through the orchestrator API (docs/cli.md).")
@click.option("--mode", type=Choice(["BATCH", "UI"]), required=True,
              help="BATCH: one --operation from flags. UI: interactive menu.")
@click.option("--operation", type=Choice(CliOperation), help="What to do (BATCH mode).")
@click.option("--stackTag", "stack_tag",
              help="Stack tag of the deployment (its stacks are <Base>-<stackTag>). Default: STACK_TAG, else "
                   "LOCAL_CLOUD_STACK_TAG (local-cloud.env), else cdk.json's stackTag.")
@click.option("--lifecycleId", "lifecycle_id", help="Lifecycle to act on (a UUID).")
@click.option("--events", "events", multiple=True, type=Choice(CliEvent),
              help="Event to enable; repeat for several. The first event of a phase is always enabled.")
@click.option("--owner", help="Person or team responsible for the lifecycle.")
@click.option("--productVer", "product_ver", help="Version of the product the AMI carries.")
@click.option("--productName", "product_name", help="Name of the product the AMI carries.")
@click.option("--notifications", "notifications", multiple=True, metavar="METHOD::TARGET",
              help="EMAIL::address or HTTP::url; repeat for several.")
@click.option("--properties", "properties", multiple=True, metavar="KEY::VALUE",
              help="A property kept with the lifecycle; repeat for several.")
@click.option("--commitRef", "commit_ref",
              help="Source revision the AMI is built or patched from (default: git HEAD of the current directory).")
@click.option("--certificationStatus", "certification_status", type=Choice(CertificationStatus),
              help="QA verdict (AMI_QA_CERTIFICATION).")
@click.option("--reason", "reason", help="AMI_QA_CERTIFICATION: why (kept as properties.reason; the failure reason "
                                         "of a FAILED verdict). AMI_REVOKE: why the AMI must no longer be used "
                                         "(required).")
@click.option("--approvalStatusAmiCreation", "approval_status_creation",
              type=Choice([*ApprovalStatus, "FAILED"]), help="Approval verdict (AMI_APPROVAL_CREATE).")
@click.option("--approvalStatusAmiPatch", "approval_status_patch",
              type=Choice([*ApprovalStatus, "FAILED"]), help="Approval verdict (AMI_APPROVAL_PATCH).")
@click.option("--patchComponent", "patch_component",
              help="Component document of a patch: a local YAML file (uploaded) or an s3:// URL.")
@click.option("--patchChangeDescription", "patch_change_description", help="What the patch changes.")
@click.option("--semverBumpType", "semver_bump_type", type=Choice(SemverBump),
              help="Version part a patch raises.")
@click.option("--amiId", "ami_id", help="AMI_REVOKE: the approved AMI to revoke (default: the lifecycle's newest).")
@click.option("--limit", type=click.IntRange(1, 100), help="AMI_GET_STATUSES: lifecycles per page (API default 25).")
@click.option("--next-token", "next_token", help="AMI_GET_STATUSES: the token printed with the previous page.")
@click.option("--output", type=Choice(["text", "json"]), default="text", show_default=True,
              help="text: a readable summary; json: the API's answer.")
@click.option("--wait", is_flag=True, help="Follow the lifecycle until the event in progress ends.")
@click.option("--timeout", type=click.FloatRange(min=1), default=10800, show_default=True,
              help="--wait: give up after this many seconds (the event goes on).")
@click.option("--poll-interval", "poll_interval", type=click.FloatRange(min=0.1),
              help="--wait: read the status every this many seconds (default: adaptive, from 0.5 s doubling "
                   "up to 15 s, and back to 0.5 s after each change).")
@click.option("--show-key-in-url", "show_key_in_url", is_flag=True,
              help="Timeline operations: also print a link that carries the API key (a warning says why not to).")
@click.option("--save", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Timeline operations: write the page to this file.")
@click.option("--region", help="AWS region (default: from the environment or the AWS profile).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="UI mode: JSON file with default owner, notifications and properties "
                   "(default: ./cli-config.json when present).")
def cli(mode: str, operation: str | None, stack_tag: str | None, region: str | None, output: str, wait: bool,
        timeout: float, poll_interval: float | None, show_key_in_url: bool, save: Path | None, limit: int | None,
        next_token: str | None, config_path: Path | None, **flags: object) -> int:
    options = Options(output=output.lower(), wait=wait, timeout=timeout, poll_interval=poll_interval,
                      show_key_in_url=show_key_in_url, save=save, limit=limit, next_token=next_token)
    if mode.upper() == "UI":
        from .ui import run_ui

        if operation:
            raise UsageError("--operation is for --mode BATCH; UI mode asks what to do")
        return run_ui(stack_tag=stack_tag, region=region, options=options, config_path=config_path)
    if not operation:
        raise UsageError(f"--operation is required with --mode BATCH; one of {', '.join(CliOperation)}")
    if config_path is not None:
        raise UsageError("--config is for --mode UI")
    op = find_operation(operation)
    if not stack_tag:
        default = default_stack_tag()
        click.echo(default.notice(), err=True)
        stack_tag = default.tag
    given = OperationInput(stack_tag=stack_tag, **flags)  # type: ignore[arg-type]
    return Runner(region=region, stack_tag=stack_tag).run(op, given, options)


def main() -> None:
    """Entry point of client/api-cli.py."""
    cli.main(prog_name="api-cli.py")


if __name__ == "__main__":  # pragma: no cover
    main()
