"""Distribution to other regions and accounts, as synthesized from the three distribution settings:
CloudFormation's native TargetAccountIds and LaunchPermissionConfiguration, and the orchestrator's
functions allowed to assume the tagger role in each publishing account."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stacks.helpers import as_list

REGIONS = ["eu-west-1", "us-east-1"]
PUBLISHING = ["210987654321", "310987654321"]
SHARING = ["410987654321"]


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    import aws_cdk as cdk

    from stacks.app import build_app
    from stacks.settings import load_cdk_context, load_settings

    settings = load_settings(overrides={"imageBuilder.amiPublishingRegions": REGIONS,
                                        "imageBuilder.amiPublishingTargetIds": PUBLISHING,
                                        "imageBuilder.amiSharingIds": SHARING})
    app = cdk.App(context=load_cdk_context(), outdir=str(tmp_path_factory.mktemp("distributed-cdk.out")))
    stacks = build_app(app, settings)
    app.synth()
    return settings, stacks


def template_of(stack) -> dict[str, Any]:
    from aws_cdk.assertions import Template

    return Template.from_stack(stack).to_json()


def test_each_publishing_region_gets_the_ami_published_to_the_target_accounts_and_shared(distributed):
    _, stacks = distributed
    resources = template_of(stacks.image_builder)["Resources"]
    [config] = [r["Properties"] for r in resources.values()
                if r["Type"] == "AWS::ImageBuilder::DistributionConfiguration"]
    assert [d["Region"] for d in config["Distributions"]] == REGIONS
    for distribution in config["Distributions"]:
        ami = distribution["AmiDistributionConfiguration"]
        assert ami["TargetAccountIds"] == PUBLISHING
        assert ami["LaunchPermissionConfiguration"] == {"UserIds": SHARING}


def test_distribution_needs_no_custom_resource(distributed):
    _, stacks = distributed
    types = {r["Type"] for r in template_of(stacks.image_builder)["Resources"].values()}
    assert not {t for t in types if t.startswith("Custom::") or t in ("AWS::Lambda::Function",
                                                                        "AWS::CloudFormation::CustomResource")}


def test_the_default_publishes_to_this_account_and_region_and_shares_with_nobody(templates):
    resources = templates["AmiLifecycleImageBuilder"].to_json()["Resources"]
    [config] = [r["Properties"] for r in resources.values()
                if r["Type"] == "AWS::ImageBuilder::DistributionConfiguration"]
    [distribution] = config["Distributions"]
    assert distribution["Region"] == {"Ref": "AWS::Region"}
    assert distribution["AmiDistributionConfiguration"]["TargetAccountIds"] == [{"Ref": "AWS::AccountId"}]
    assert "LaunchPermissionConfiguration" not in distribution["AmiDistributionConfiguration"]


def test_functions_that_tag_amis_may_assume_the_tagger_role_of_every_publishing_account(distributed):
    settings, stacks = distributed
    lifecycle = stacks.lifecycle
    resources = template_of(lifecycle)["Resources"]
    role_name = f"{settings.lifecycle.tagger_role_name}-{settings.stack_tag}"
    for function in (lifecycle.receivers.creation_receiver, lifecycle.operations.reconciler):
        role = lifecycle.get_logical_id(function.role.node.default_child)
        statements = [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                      and {"Ref": role} in r["Properties"].get("Roles", [])
                      for s in r["Properties"]["PolicyDocument"]["Statement"]]
        [assume] = [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])]
        assert len(as_list(assume["Resource"])) == len(PUBLISHING)
        for account, resource in zip(PUBLISHING, as_list(assume["Resource"])):
            text = str(resource)
            assert f":iam::{account}:role/" in text and role_name in text
        variables = resources[lifecycle.get_logical_id(function.node.default_child)]["Properties"][
            "Environment"]["Variables"]
        assert variables["DISTRIBUTION_ACCOUNTS"] == ",".join(PUBLISHING)
