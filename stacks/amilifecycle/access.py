"""Read-only roles for consumers of one deployment.

Both roles trust this account's root principal only: any principal of the
account that is itself allowed ``sts:AssumeRole`` on them may use them
(the original trusted the account too, but its extra condition could never
match). Role names are generated so that deployments do not collide.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def stack_arns(stack: cdk.Stack, stack_names: Iterable[str]) -> list[str]:
    """CloudFormation ARNs matching every incarnation of the named stacks."""
    return [
        stack.format_arn(service="cloudformation", resource="stack", resource_name=f"{name}/*")
        for name in stack_names
    ]


class ReadOnlyAccess(Construct):
    """``selection_reader``: the AMI selection client's role (lookup table);
    ``stack_reader``: reads the outputs of this deployment's stacks."""

    def __init__(self, scope: Construct, construct_id: str, *, lookup_table: dynamodb.ITable,
                 key: kms.IKey, stack_names: Iterable[str]) -> None:
        super().__init__(scope, construct_id)
        account = iam.AccountRootPrincipal()

        self.selection_reader = iam.Role(
            self,
            "AmiSelectionReadOnlyRole",
            description="Reads the AMI lookup table and its indexes to select AMIs",
            assumed_by=account,
        )
        # Table.grant covers the table ARN and, because it has indexes, their ARNs.
        lookup_table.grant(self.selection_reader, "dynamodb:Query", "dynamodb:GetItem")
        key.grant_decrypt(self.selection_reader)

        self.stack_reader = iam.Role(
            self,
            "AmiOrchestratorCfnReadOnlyRole",
            description="Reads the outputs of this deployment's CloudFormation stacks",
            assumed_by=account,
        )
        self.stack_reader.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeThisDeploymentsStacks",
                actions=["cloudformation:DescribeStacks"],
                resources=stack_arns(cdk.Stack.of(self), stack_names),
            )
        )
