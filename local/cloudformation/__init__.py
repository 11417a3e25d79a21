"""CloudFormation in the local cloud: moto's engine, completed.

moto 5.2.5 creates most resource types a CDK app uses, but silently skips
some (a Ref to them then resolves to nothing), runs stack operations inside
the API call, and keeps a failed stack half-made. :func:`install` fixes what
the product depends on:

* resource types moto lacks or mishandles get a model here, backed by
  moto's own service backends (Secrets Manager secrets with generated
  values, SNS subscriptions and topic policies, SQS queue policies, S3
  bucket policies, CloudWatch alarms, CDK metadata, Lambda-backed custom
  resources and CDK's built-in custom resources), and the settings moto's
  models drop are applied as declared (log-group KMS keys, DynamoDB
  encryption and point-in-time recovery, state-machine logging and
  tracing, a function's LoggingConfig);
* a resource type nobody supports fails the stack with a reason naming it,
  instead of being skipped;
* create, update and delete run in the background like CloudFormation's
  (the API answers at once, the status moves on), record per-resource
  events, and a failure ends ``ROLLBACK_COMPLETE`` / ``DELETE_FAILED``
  with the failing resource's reason;
* stack outputs that are API Gateway invoke URLs are rewritten to the local
  endpoint (the API is served there).

Resource models of the simulated services (Image Builder, ...) live in
``local/services/<name>/cloudformation.py`` and are imported by
:func:`install` before moto builds its type map.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

_installed = False


def install(endpoint_url: str) -> None:
    """Register the resource models and patch moto's stack lifecycle.
    Idempotent; must run before the first stack is created."""
    global _installed
    from local.cloudformation import custom_resources

    custom_resources.configure(endpoint_url)
    if _installed:
        return
    # Importing a module defines its models, which joins them to moto's map.
    from local.cloudformation import (  # noqa: F401
        awslambda,
        cdk,
        cloudwatch,
        dynamodb,
        ec2,
        kms,
        logs,
        s3,
        secretsmanager,
        sns,
        sqs,
        ssm,
        stepfunctions,
        stacks,
        types,
    )
    from local.services import load_cloudformation_types

    loaded = load_cloudformation_types()
    log.info("CloudFormation types from simulated services: %s", ", ".join(loaded) or "none")
    types.install()
    ec2.install()
    stacks.install()
    _installed = True
