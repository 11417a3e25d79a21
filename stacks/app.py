"""Assembles the five stacks of one deployment (one stack tag)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from stacks.amilifecycle.stack import AmiLifecycleStack
from stacks.imagebuilder.stack import ImageBuilderStack
from stacks.network.stack import NetworkStack
from stacks.settings import PROJECT_TAG, Settings
from stacks.tagger.stack import TaggerStack
from stacks.vmdk_export.stack import VmdkExportStack


@dataclass(frozen=True)
class AppStacks:
    network: NetworkStack
    image_builder: ImageBuilderStack
    vmdk_export: VmdkExportStack
    tagger: TaggerStack
    lifecycle: AmiLifecycleStack

    def all(self) -> tuple[cdk.Stack, ...]:
        return (self.network, self.image_builder, self.vmdk_export, self.tagger, self.lifecycle)


def build_app(scope: Construct, settings: Settings) -> AppStacks:
    """Create the stacks. Construct ids are the product's stack ids (what
    ``cdk deploy AmiLifecycle`` selects and what cdk.out files are named);
    CloudFormation stack names carry the stack tag so that two deployments
    can coexist in one account and region."""

    def names(base: str) -> dict:
        return {"stack_name": settings.stack_name(base), "description": _DESCRIPTIONS[base]}

    network = NetworkStack(scope, "AmiLifecycleNetwork", settings=settings, **names("AmiLifecycleNetwork"))
    image_builder = ImageBuilderStack(
        scope, "AmiLifecycleImageBuilder", settings=settings, network=network, **names("AmiLifecycleImageBuilder")
    )
    vmdk_export = VmdkExportStack(scope, "VmdkExport", settings=settings, **names("VmdkExport"))
    tagger = TaggerStack(scope, "AmiLifecycleTagger", settings=settings, **names("AmiLifecycleTagger"))
    lifecycle = AmiLifecycleStack(
        scope,
        "AmiLifecycle",
        settings=settings,
        network=network,
        image_builder=image_builder,
        vmdk_export=vmdk_export,
        tagger=tagger,
        **names("AmiLifecycle"),
    )
    stacks = AppStacks(network, image_builder, vmdk_export, tagger, lifecycle)
    for stack in stacks.all():
        cdk.Tags.of(stack).add("project", PROJECT_TAG)
        cdk.Tags.of(stack).add("ami-lifecycle:stack-tag", settings.stack_tag)
    return stacks


_DESCRIPTIONS = {
    "AmiLifecycleNetwork": "AMI lifecycle orchestrator: VPC for image builds and test instances",
    "AmiLifecycleImageBuilder": "AMI lifecycle orchestrator: EC2 Image Builder pipeline and its configuration",
    "VmdkExport": "AMI lifecycle orchestrator: VMDK export bucket and VM Import/Export service role",
    "AmiLifecycleTagger": "AMI lifecycle orchestrator: AMI tagger role for distribution accounts",
    "AmiLifecycle": "AMI lifecycle orchestrator: lifecycle state, queues, notifications and API",
}
