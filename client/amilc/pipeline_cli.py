"""``execute-pipeline.sh``: build an AMI with the deployment's Image Builder pipeline and export it to VMDK.

Starts the pipeline of ``AmiLifecycleImageBuilder-<stack tag>`` (its
``pipelineArn`` output) with the image tag ``AMI_LC_VMDK_EXPORT=TRUE``. When
the build ends AVAILABLE, the deployment exports the AMI to VMDK and emails
the download link (docs/vmdk-export.md). Prints the image build version ARN
on stdout; what was done goes to stderr. Exit codes as the other clients:
0 started, 2 usage, 3 the deployment cannot be reached.
"""

from __future__ import annotations

import sys
import uuid

import botocore.exceptions
import click

from orchestrator.domain.vmdk_pipeline import EXPORT_TAG, EXPORT_TAG_VALUE

from .aws import AwsSession, aws_failure
from .errors import ClientError
from .naming import default_stack_tag

PIPELINE_OUTPUT = "pipelineArn"


def image_builder_stack_name(stack_tag: str) -> str:
    return f"AmiLifecycleImageBuilder-{stack_tag}"


def pipeline_arn(aws: AwsSession, stack_tag: str) -> str:
    name = image_builder_stack_name(stack_tag)
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if "does not exist" in str(error):
            raise ClientError(f"stack {name} not found: deploy with 'bash deploy.sh' or pass the stack tag you "
                              "deployed with --stackTag") from None
        raise aws_failure(error, f"reading the outputs of {name}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise aws_failure(error, f"reading the outputs of {name}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}
    if PIPELINE_OUTPUT not in outputs:
        raise ClientError(f"stack {name} has no output {PIPELINE_OUTPUT}: redeploy it with this version")
    return outputs[PIPELINE_OUTPUT]


def start(aws: AwsSession, stack_tag: str) -> str:
    arn = pipeline_arn(aws, stack_tag)
    try:
        response = aws.client("imagebuilder").start_image_pipeline_execution(
            imagePipelineArn=arn, clientToken=str(uuid.uuid4()), tags={EXPORT_TAG: EXPORT_TAG_VALUE})
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        raise aws_failure(error, f"starting the pipeline {arn}") from None
    return str(response["imageBuildVersionArn"])


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stackTag", "stack_tag", help="Stack tag of the deployment (default: the deployed one).")
@click.option("--region", help="AWS region (default: AWS_REGION or the profile's).")
def command(stack_tag: str | None, region: str | None) -> None:
    """Build an AMI with the deployment's pipeline; the finished AMI is exported to VMDK and its link emailed."""
    try:
        if not stack_tag:
            default = default_stack_tag()
            click.echo(default.notice(), err=True)
            stack_tag = default.tag
        aws = AwsSession(region)
        aws.require_credentials()
        build = start(aws, stack_tag)
    except ClientError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(int(error.exit_code))
    click.echo(f"started {build} (tagged {EXPORT_TAG}={EXPORT_TAG_VALUE}); when it is AVAILABLE the AMI is exported "
               "to VMDK and the download link is emailed to the pipeline's address (the topic output "
               "vmdkExportTopicArn of AmiLifecycle-" + stack_tag + ")", err=True)
    click.echo(build)


def main() -> None:
    command()
