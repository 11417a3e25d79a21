"""The instances that smoke tests and vulnerability scans launch from an AMI under test.

One construct holds what both events share: the instance role and profile
(Systems Manager, which Amazon Inspector's EC2 scanning relies on; the
smoke-test suite asset; the smoke-test log group; answering the smoke
tests' task token), a security group without ingress, and the two Lambda
steps both state machines use: ``TestInstanceLaunchFn`` (one function, the
event's kind as a parameter) and ``TestInstanceTerminateFn`` (terminate
every instance of an execution and wait until they are gone).

Instances run in the VPC's private subnets with IMDSv2 required and an
encrypted root volume, tagged ``AMI_LC_EVENT_INSTANCE=TRUE`` with the
lifecycle id, the stack tag and the execution name: the terminate step finds
them by that tag (so it also cleans up after a launch whose answer was
lost), and may terminate nothing else.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.amilifecycle.events.base import EventProps, LifecycleEvent
from stacks.amilifecycle.functions import FunctionFactory

SMOKE_TEST_SUITE = Path(__file__).resolve().parents[1] / "smoke_tests"
EVENT_INSTANCE_TAG = "AMI_LC_EVENT_INSTANCE"
EXECUTION_TAG = "AMI_LC_EXECUTION"
LAUNCH_TIMEOUT = cdk.Duration.minutes(2)
# Terminating and waiting until the instance is gone takes a minute or two on EC2.
TERMINATE_TIMEOUT = cdk.Duration.minutes(10)


def smoke_test_log_group_name(stack_tag: str) -> str:
    return f"/ami-lifecycle/{stack_tag}/smoke-tests"


class TestInstances(Construct):
    """``role``, ``profile``, ``security_group``, ``suite`` (asset), ``log_group``, ``launch`` and
    ``terminate`` (functions)."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, functions: FunctionFactory,
                 log_group: logs.ILogGroup, instance_type: str, volume_size_gib: int) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group
        self.role = iam.Role(
            self, "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Instances launched from an AMI under test (smoke tests, vulnerability scans)",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )
        self.profile = iam.CfnInstanceProfile(self, "InstanceProfile", roles=[self.role.role_name])
        self.security_group = ec2.SecurityGroup(
            self, "InstanceSecurityGroup", vpc=vpc, allow_all_outbound=True,
            description="Instances under test: no inbound traffic; outbound HTTPS to AWS APIs and packages")
        self.suite = s3_assets.Asset(self, "SmokeTestSuite", path=str(SMOKE_TEST_SUITE),
                                     exclude=["__pycache__", "*.pyc", ".pytest_cache"])
        self.suite.grant_read(self.role)
        log_group.grant_write(self.role)

        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids
        self.launch = functions.function(
            "TestInstanceLaunchFn",
            handler="test_instances.launch",
            description="Smoke tests and vulnerability scans: launches one instance of the AMI under test",
            timeout=LAUNCH_TIMEOUT,
            environment={
                "TEST_INSTANCE_TYPE": instance_type,
                "TEST_INSTANCE_VOLUME_GIB": str(volume_size_gib),
                "TEST_INSTANCE_SUBNET_IDS": ",".join(subnets),
                "TEST_INSTANCE_SECURITY_GROUP_ID": self.security_group.security_group_id,
                "TEST_INSTANCE_PROFILE_ARN": self.profile.attr_arn,
                "SMOKE_TEST_SUITE_BUCKET": self.suite.s3_bucket_name,
                "SMOKE_TEST_SUITE_KEY": self.suite.s3_object_key,
                "SMOKE_TEST_LOG_GROUP_NAME": log_group.log_group_name,
            },
        )
        self.terminate = functions.function(
            "TestInstanceTerminateFn",
            handler="test_instances.terminate",
            description="Smoke tests and vulnerability scans: terminates the execution's instances and waits",
            timeout=TERMINATE_TIMEOUT,
        )
        self._grant()

    def _grant(self) -> None:
        stack = cdk.Stack.of(self)
        arn = lambda resource: cdk.Arn.format(  # noqa: E731 - one ARN shape, several resource types
            cdk.ArnComponents(service="ec2", resource=resource, resource_name="*"), stack)
        tagged = {"StringEquals": {f"aws:RequestTag/{EVENT_INSTANCE_TAG}": "TRUE"}}
        self.launch.add_to_role_policy(iam.PolicyStatement(
            sid="LaunchTaggedTestInstances", actions=["ec2:RunInstances", "ec2:CreateTags"],
            resources=[arn("instance"), arn("volume")], conditions=tagged))
        self.launch.add_to_role_policy(iam.PolicyStatement(
            sid="LaunchIntoTheTestNetwork", actions=["ec2:RunInstances"],
            resources=[arn("subnet"), arn("security-group"), arn("network-interface"),
                       f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}::image/*"]))
        self.launch.add_to_role_policy(iam.PolicyStatement(
            sid="DescribeImagesUnderTest", actions=["ec2:DescribeImages"], resources=["*"]))
        self.role.grant_pass_role(self.launch)
        self.terminate.add_to_role_policy(iam.PolicyStatement(
            sid="FindTestInstances", actions=["ec2:DescribeInstances"], resources=["*"]))
        self.terminate.add_to_role_policy(iam.PolicyStatement(
            sid="TerminateTestInstancesOnly", actions=["ec2:TerminateInstances"], resources=[arn("instance")],
            conditions={"StringEquals": {f"aws:ResourceTag/{EVENT_INSTANCE_TAG}": "TRUE"}}))

    def allow_task_responses(self, state_machine_arn: str) -> None:
        """The instance answers the smoke tests' task token itself."""
        self.role.add_to_policy(iam.PolicyStatement(
            sid="AnswerSmokeTestTasks", actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
            resources=[state_machine_arn]))

    @property
    def functions(self) -> tuple[lambda_.Function, lambda_.Function]:
        return self.launch, self.terminate


class TestInstanceEvent(LifecycleEvent):
    """An event that runs on an instance of the AMI: its launch and termination steps, built one way."""

    __test__ = False  # not a pytest test class

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration,
                 instances: TestInstances) -> None:
        super().__init__(scope, construct_id, props=props, timeout=timeout)
        self.instances = instances

    def launch_step(self, name: str, purpose: str, *, result_path: str, wait_for_token: bool = False,
                    timeout: cdk.Duration | None = None) -> tasks.LambdaInvoke:
        """Launch one instance of the execution's AMI (``TestInstanceLaunchFn``); with ``wait_for_token``
        the instance answers the step's token. The caller adds the catches (they must terminate)."""
        payload = {
            "purpose": purpose,
            "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
            "stack_tag": sfn.JsonPath.string_at("$.stack_tag"),
            "event": sfn.JsonPath.string_at("$.event"),
            "attempt": sfn.JsonPath.number_at("$.attempt"),
            "ami": sfn.JsonPath.object_at("$.ami"),
            "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
        }
        if wait_for_token:
            payload["task_token"] = sfn.JsonPath.task_token
        return self.invoke(name, self.instances.launch, payload=payload, result_path=result_path,
                           catch_errors=False, wait_for_token=wait_for_token, timeout=timeout)

    def terminate_step(self, name: str, *, after_error: bool = False) -> tasks.LambdaInvoke:
        """Terminate the execution's instances (``TestInstanceTerminateFn``). After an error the step goes
        on to the error report, even when the clean-up itself fails (the original error stays at
        ``$.error``)."""
        step = self.invoke(name, self.instances.terminate, result_path="$.terminated", catch_errors=not after_error,
                           payload={"lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                                    "execution_name": sfn.JsonPath.string_at("$$.Execution.Name")})
        if after_error:
            step.add_catch(self.report_error, errors=[sfn.Errors.ALL], result_path="$.cleanup_error")
            step.next(self.report_error)
        return step
