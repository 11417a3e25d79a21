"""The one way the product declares a Lambda function.

Every function runs the same asset (``stacks/runtime_asset.py``) with its
own handler, inside the VPC's private subnets, with X-Ray tracing, its
environment encrypted by the orchestrator key, a log group of its own with
the configured retention, and the shared dead-letter queue for failed
asynchronous invocations. Permissions are added by the caller through CDK
grants, never by wildcard policies.
"""

from __future__ import annotations

from typing import Mapping

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.checks import skip_check
from stacks.runtime_asset import LAMBDA_RUNTIME, runtime_code

HANDLER_PACKAGE = "orchestrator.handlers"
UNRESERVED_CONCURRENCY_REASON = (
    "No reserved concurrency: reserving any fails deployments in accounts with the default concurrency "
    "quota. Each function is bounded by its source: API stage throttling, one invocation per "
    "state-machine step, SQS event sources with a maximum concurrency.")


class FunctionFactory(Construct):
    """Holds what every function shares and makes functions on demand."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, key: kms.IKey,
                 log_retention: logs.RetentionDays, common_environment: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        self._vpc = vpc
        self._key = key
        self._log_retention = log_retention
        self._environment = dict(common_environment)
        self._code = runtime_code()
        self.security_group = ec2.SecurityGroup(
            self, "FunctionsSecurityGroup", vpc=vpc, allow_all_outbound=True,
            description="Lifecycle functions: outbound HTTPS to AWS APIs only",
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "FunctionsDLQ",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.functions: dict[str, lambda_.Function] = {}

    def function(self, construct_id: str, *, handler: str, description: str,
                 timeout: cdk.Duration = cdk.Duration.seconds(30), memory_size: int = 256,
                 environment: Mapping[str, str] | None = None) -> lambda_.Function:
        """A function running ``orchestrator.handlers.<handler>``."""
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self._log_retention,
            encryption_key=self._key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        function = lambda_.Function(
            self,
            construct_id,
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            code=self._code,
            handler=f"{HANDLER_PACKAGE}.{handler}",
            description=description,
            timeout=timeout,
            memory_size=memory_size,
            environment={**self._environment, **(environment or {}),
                         "POWERTOOLS_SERVICE_NAME": construct_id},
            environment_encryption=self._key,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            vpc=self._vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
            dead_letter_queue=self.dead_letter_queue,
        )
        skip_check(function, "CKV_AWS_115", UNRESERVED_CONCURRENCY_REASON)
        self.functions[construct_id] = function
        return function
