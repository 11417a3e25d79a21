"""AmiLifecycleTagger: the role the orchestrator assumes to tag AMI copies."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.settings import Settings

TAGGER_SESSION_NAME = "AMI-TAGGING-OP"


class TaggerStack(cdk.Stack):
    """Deployed in every distribution account (here: this one).

    The orchestrator finds the role by name in each distribution account,
    so the name is fixed per stack tag: ``<taggerRole>-<stackTag>``."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.role = iam.Role(
            self,
            "AmiTaggerRole",
            role_name=settings.physical_name(settings.lifecycle.tagger_role_name),
            description="Assumed by the AMI lifecycle orchestrator to read and write AMI_LC tags",
            assumed_by=iam.AccountPrincipal(cdk.Aws.ACCOUNT_ID),
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
