"""AmiLifecycleTagger: the role the orchestrator assumes to tag AMI copies."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.settings import Settings

TAGGER_SESSION_NAME = "AMI-TAGGING-OP"


ORCHESTRATOR_ACCOUNT_PARAMETER = "OrchestratorAccountId"


def tagger_role_name(settings: Settings) -> str:
    """The role's name in every account it is deployed to (the orchestrator builds its ARN from it)."""
    return settings.physical_name(settings.lifecycle.tagger_role_name)


class TaggerStack(cdk.Stack):
    """Deployed with the orchestrator and in every distribution account.

    The orchestrator finds the role by name in each distribution account,
    so the name is fixed per stack tag: ``<taggerRole>-<stackTag>``. The
    role trusts the account the orchestrator runs in: by default the account
    the stack is deployed to; in a distribution account, the one given as
    the ``OrchestratorAccountId`` parameter (``cdk deploy AmiLifecycleTagger
    --parameters AmiLifecycleTagger:OrchestratorAccountId=<account>``). Only
    sessions named as the orchestrator names them may assume it."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        orchestrator_account = cdk.CfnParameter(
            self, ORCHESTRATOR_ACCOUNT_PARAMETER, type="String", default="",
            allowed_pattern=r"^(\d{12})?$",
            constraint_description="a 12-digit account id, or empty for the account this stack is deployed to",
            description="Account of the AMI lifecycle orchestrator that tags AMIs here (empty: this account)")
        same_account = cdk.CfnCondition(
            self, "OrchestratorInThisAccount",
            expression=cdk.Fn.condition_equals(orchestrator_account.value_as_string, ""))
        trusted_account = cdk.Fn.condition_if(
            same_account.logical_id, cdk.Aws.ACCOUNT_ID, orchestrator_account.value_as_string).to_string()
        self.role = iam.Role(
            self,
            "AmiTaggerRole",
            role_name=tagger_role_name(settings),
            description="Assumed by the AMI lifecycle orchestrator to read and write AMI_LC tags",
            assumed_by=iam.AccountPrincipal(trusted_account).with_conditions(
                {"StringEquals": {"sts:RoleSessionName": TAGGER_SESSION_NAME}}),
            max_session_duration=cdk.Duration.hours(1),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="FindImages",
                actions=["ec2:DescribeImages", "ec2:DescribeTags", "ec2:DescribeImageAttribute"],
                # Describe calls support no resource-level permissions.
                resources=["*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="TagImages",
                actions=["ec2:CreateTags", "ec2:DeleteTags"],
                resources=[f"arn:{cdk.Aws.PARTITION}:ec2:*::image/*"],
            )
        )
        cdk.CfnOutput(self, "crossAccountTaggerRoleArn", value=self.role.role_arn)
        cdk.CfnOutput(self, "crossAccountTaggerRoleName", value=self.role.role_name)
