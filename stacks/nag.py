"""cdk-nag's AwsSolutions rule pack over the whole app (``cdk synth -c nag=true``).

Any unacknowledged finding aborts the synthesis; cdk-nag writes its report to
``cdk.out/policy-validation-report.json``. A rule that does not apply to a
construct is acknowledged on that construct (or, for a rule about a pattern
the whole project uses on purpose, on its stacks) with the reason beside it:
:data:`STACK_ACKNOWLEDGEMENTS` and the ``acknowledge`` calls it makes.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

NAG_CONTEXT_KEY = "nag"

# rule id -> why it does not apply to the stacks of this app (ids as cdk-nag prints them).
STACK_ACKNOWLEDGEMENTS: dict[str, str] = {
    "AwsSolutions::AwsSolutions-IAM4": (
        "The AWS managed policies used are the service-role policies AWS maintains for exactly this use: "
        "AWSLambdaBasicExecutionRole / AWSLambdaVPCAccessExecutionRole (CDK's Lambda roles in a VPC), "
        "AmazonSSMManagedInstanceCore and EC2InstanceProfileForImageBuilder (Image Builder and test "
        "instances), AmazonAPIGatewayPushToCloudWatchLogs (the account's API Gateway logging role)."),
    "AwsSolutions::AwsSolutions-IAM5": (
        "Every wildcard is one of: CDK grant action families (kms:GenerateDataKey*, kms:ReEncrypt*, "
        "s3:GetObject*, s3:List*...), table index ARNs (<table>/index/*), function version ARNs "
        "(<function>:*) for Step Functions invocations, or resources whose ids exist only at run time "
        "(instances, volumes, network interfaces, images, snapshots, export tasks Image Builder and the tests "
        "create; the Image Builder resources a patch creates, named amilc-<tag>-patch-*; the exported disks "
        "under exports/), the deployment's own SSM parameters (/ami-lifecycle/<tag>/*), "
        "scoped to this account and region and, where the service allows, by tag conditions. "
        "Action '*' and Resource '*' on write actions do not occur: tests/stacks assert the statements "
        "of each role and scripts/iam_policies.py runs parliament over every policy."),
    "AwsSolutions::AwsSolutions-L1": (
        "Lambda functions run the Python release the project's dependencies are built and tested with "
        "(stacks/runtime_asset.py LAMBDA_RUNTIME); the runtime moves with the toolchain, not with AWS's "
        "newest release."),
    "AwsSolutions::AwsSolutions-SMG4": (
        "The API keys are generated once by CloudFormation and rotated by an operator (docs/api.md); "
        "an automatic rotation would break every client holding the key without a rotation Lambda and "
        "a key distribution channel, which the product does not have."),
    "AwsSolutions::AwsSolutions-SF1": (
        "State machines log ERROR level with execution data off: event payloads carry receiver keys; "
        "every state transition is kept in the execution history."),
    "AwsSolutions::AwsSolutions-APIG2": (
        "Request validation is declared in the imported OpenAPI body (x-amazon-apigateway-request-"
        "validators on every operation), which this rule cannot see in a SpecRestApi."),
    "AwsSolutions::AwsSolutions-APIG3": (
        "No WAF web ACL: every route needs its per-route key (Lambda authorizer) and the stage throttles; "
        "a web ACL is an account-level choice of the operator."),
    "AwsSolutions::AwsSolutions-VPC7": (
        "The VPC only carries Image Builder build instances and short-lived test instances; no flow log "
        "is configured yet (a known gap, see docs/reliability.md)."),
}


def enabled(app: cdk.App) -> bool:
    """Whether ``-c nag=true`` (or ``"nag": true`` in the context) asks for the checks."""
    return str(app.node.try_get_context(NAG_CONTEXT_KEY)).lower() in ("true", "1", "yes")


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Record on ``construct`` why ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) does not apply."""
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


_IAM4 = "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{}]"
_IAM5 = "AwsSolutions::AwsSolutions-IAM5[{}]"
# The AWS managed policies in use (IAM4 names each finding by policy).
MANAGED_POLICIES = ("service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaVPCAccessExecutionRole",
                    "AmazonSSMManagedInstanceCore", "EC2InstanceProfileForImageBuilder",
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs")
# CDK grants' action families (IAM5 names each finding by action or resource).
GRANT_ACTION_FAMILIES = ("kms:GenerateDataKey*", "kms:ReEncrypt*", "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*",
                         "s3:GetObject*", "s3:List*")
# Resources whose ids exist only at run time (instances, volumes... the builds and tests create), X-Ray and
# log delivery (which only take "*"), and the CDK asset bucket of the account.
RUN_TIME_RESOURCES = (
    "*",
    "arn:<AWS::Partition>:ec2:*::image/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>::image/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:subnet/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:export-image-task/*",
    "arn:<AWS::Partition>:imagebuilder:<AWS::Region>:<AWS::AccountId>:image/*",
    "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/imagebuilder/*",
    "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
)


def acknowledgements(stacks: list[cdk.Stack]) -> dict[str, str]:
    """Every finding id acknowledged, with its reason (the reasons of :data:`STACK_ACKNOWLEDGEMENTS`).

    IAM4 and IAM5 name each finding by its policy, action or resource, so the ids are listed one by
    one: the managed policies and grant families above, and the wildcards derived from this app's own
    resources (function versions ``<fn>:*``, table indexes ``<table>/index/*``, bucket objects
    ``<bucket>/*``, the stacks' own CloudFormation ARNs for stack outputs reads).
    """
    iam4, iam5 = STACK_ACKNOWLEDGEMENTS["AwsSolutions::AwsSolutions-IAM4"], \
        STACK_ACKNOWLEDGEMENTS["AwsSolutions::AwsSolutions-IAM5"]
    found = {rule: reason for rule, reason in STACK_ACKNOWLEDGEMENTS.items() if "-IAM" not in rule}
    found.update({_IAM4.format(policy): iam4 for policy in MANAGED_POLICIES})
    found.update({_IAM5.format(f"Action::{action}"): iam5 for action in GRANT_ACTION_FAMILIES})
    found.update({_IAM5.format(f"Resource::{resource}"): iam5 for resource in RUN_TIME_RESOURCES})
    suffixes = {"AWS::Lambda::Function": ":*", "AWS::DynamoDB::Table": "/index/*", "AWS::S3::Bucket": "/*"}
    tags = {stack.settings.stack_tag for stack in stacks if hasattr(stack, "settings")}
    for tag in tags:
        # Patches create Image Builder resources named amilc-<tag>-patch-<lifecycle>-<version> at run time.
        for kind in ("component", "distribution-configuration", "image-pipeline", "image-recipe", "image",
                     "infrastructure-configuration"):
            found[_IAM5.format(f"Resource::arn:<AWS::Partition>:imagebuilder:<AWS::Region>:<AWS::AccountId>:"
                               f"{kind}/amilc-{tag}-patch-*")] = iam5
        # The deployment's parameters: the production channels and the API URL.
        found[_IAM5.format(f"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:"
                           f"parameter/ami-lifecycle/{tag}/*")] = iam5
    for stack in stacks:
        export_bucket = getattr(stack, "bucket", None)
        if export_bucket is not None and hasattr(stack, "vmimport_role"):
            # The exported disks (exports/<lifecycle>/<ami>/), read across stacks through the bucket's export.
            imported = stack.resolve(stack.export_value(export_bucket.bucket_arn))["Fn::ImportValue"]
            found[_IAM5.format(f"Resource::{imported}/exports/*")] = iam5
        found[_IAM5.format("Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:"
                           f"stack/{stack.stack_name}/*")] = iam5
        for construct in stack.node.find_all():
            if isinstance(construct, cdk.CfnResource) and construct.cfn_resource_type in suffixes:
                logical_id = stack.resolve(construct.logical_id)
                found[_IAM5.format(f"Resource::<{logical_id}.Arn>{suffixes[construct.cfn_resource_type]}")] = iam5
    return found


def apply(app: cdk.App, stacks: list[cdk.Stack]) -> None:
    """Add the AwsSolutions pack to ``app`` and the acknowledgements to ``stacks``."""
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    found = acknowledgements(stacks)
    for stack in stacks:
        for rule_id, reason in found.items():
            acknowledge(stack, rule_id, reason)
