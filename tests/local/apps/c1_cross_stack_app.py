"""A two-stack CDK app for the local cloud's deployer tests.

Run as ``python tests/local/apps/c1_cross_stack_app.py`` with CDK_OUTDIR
set; it exercises what the product's templates rely on: a generated
secret (and a Ref to it), an automatic cross-stack reference (export and
import), a directory asset, and state machines with a Wait state, a
Choice, and a task whose Retry interval is long enough to notice.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

WAIT_SECONDS = 100
RETRY_INTERVAL_SECONDS = 50
MISSING_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:c1-queue-that-does-not-exist"


class ProducerStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.queue = sqs.Queue(self, "WorkQueue")
        secret = secretsmanager.Secret(
            self, "ServiceKey",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"user": "svc"}', generate_string_key="key",
                password_length=24, exclude_punctuation=True,
            ),
        )
        ssm.StringParameter(self, "SecretArnParameter", parameter_name="/c1/secret-arn",
                            string_value=secret.secret_arn)
        asset = s3_assets.Asset(self, "Greeting", path=str(Path(__file__).parent / "c1_asset"))
        cdk.CfnOutput(self, "SecretArn", value=secret.secret_arn)
        cdk.CfnOutput(self, "AssetBucket", value=asset.s3_bucket_name)
        cdk.CfnOutput(self, "AssetKey", value=asset.s3_object_key)


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, queue: sqs.IQueue, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ssm.StringParameter(self, "ImportedQueueUrl", parameter_name="/c1/imported-queue-url",
                            string_value=queue.queue_url)

        decide = sfn.Choice(self, "Go?").when(
            sfn.Condition.boolean_equals("$.go", True), sfn.Succeed(self, "Went")
        ).otherwise(sfn.Fail(self, "Stayed", error="NotGoing", cause="input said go=false"))
        waiting = sfn.StateMachine(
            self, "Waiting",
            definition_body=sfn.DefinitionBody.from_chainable(
                sfn.Pass(self, "Start", result=sfn.Result.from_object({"started": True}), result_path="$.pass")
                .next(sfn.Wait(self, "Pause", time=sfn.WaitTime.duration(cdk.Duration.seconds(WAIT_SECONDS))))
                .next(decide)
            ),
        )

        send = tasks.SqsSendMessage(
            self, "SendToMissingQueue",
            queue=sqs.Queue.from_queue_arn(self, "MissingQueue", MISSING_QUEUE_ARN),
            message_body=sfn.TaskInput.from_text("hello"),
        )
        send.add_retry(errors=["States.ALL"], interval=cdk.Duration.seconds(RETRY_INTERVAL_SECONDS),
                       max_attempts=1, backoff_rate=1)
        send.add_catch(sfn.Succeed(self, "GaveUp"))
        retrying = sfn.StateMachine(self, "Retrying", definition_body=sfn.DefinitionBody.from_chainable(send))

        cdk.CfnOutput(self, "WaitingStateMachineArn", value=waiting.state_machine_arn)
        cdk.CfnOutput(self, "RetryingStateMachineArn", value=retrying.state_machine_arn)


def build(app: cdk.App) -> None:
    producer = ProducerStack(app, "C1Producer", stack_name="c1-producer")
    ConsumerStack(app, "C1Consumer", stack_name="c1-consumer", queue=producer.queue)


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
