"""A small CDK app exercising every path into the local Lambda runtime and
the API Gateway router: a Python function with template environment
variables, an SQS queue (with a dead-letter queue) mapped to a function that
writes to a DynamoDB table, a Step Functions task with a Catch, a
SpecRestApi defined by an inline OpenAPI document (validators, models,
gateway responses) and a LambdaRestApi (Resource/Method resources, CORS).

``deployed_lambda_app`` synthesizes it and deploys it into a running local
cloud once per test session, with the project's own deployer.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

HANDLERS = Path(__file__).resolve().parent / "lambda_handlers"
STACK_NAME = "LocalRuntimeTestApp"
SPEC_STAGE = "test"
PROXY_STAGE = "proxy"

_lock = threading.Lock()
_deployments: dict[str, dict[str, str]] = {}


def openapi_document(function_arn: str, region: str, partition: str) -> dict[str, Any]:
    integration = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        "passthroughBehavior": "when_no_match",
    }
    return {
        "openapi": "3.0.1",
        "info": {"title": "local-runtime-test-api", "version": "1.0"},
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
            "none": {"validateRequestBody": False, "validateRequestParameters": False},
        },
        "x-amazon-apigateway-request-validator": "none",
        "x-amazon-apigateway-binary-media-types": ["application/octet-stream"],
        "x-amazon-apigateway-gateway-responses": {
            "BAD_REQUEST_BODY": {
                "statusCode": 400,
                "responseParameters": {"gatewayresponse.header.X-Validation": "'failed'"},
                "responseTemplates": {
                    "application/json": '{"message": $context.error.messageString, '
                                        '"details": "$context.error.validationErrorString"}'
                },
            }
        },
        "paths": {
            "/items": {
                "post": {
                    "operationId": "createItem",
                    "x-amazon-apigateway-request-validator": "all",
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}}},
                    "responses": {"201": {"description": "created"}},
                    "x-amazon-apigateway-integration": integration,
                }
            },
            "/items/{itemId}": {
                "parameters": [{"name": "itemId", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "parameters": [{"name": "verbose", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "the item"}},
                    "x-amazon-apigateway-integration": integration,
                },
            },
            "/search": {
                "get": {
                    "x-amazon-apigateway-request-validator": "all",
                    "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "results"}},
                    "x-amazon-apigateway-integration": integration,
                }
            },
            "/boom": {"get": {"responses": {}, "x-amazon-apigateway-integration": integration}},
            "/malformed": {"get": {"responses": {}, "x-amazon-apigateway-integration": integration}},
            "/files/{proxy+}": {"x-amazon-apigateway-any-method": {
                "parameters": [{"name": "proxy", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {},
                "x-amazon-apigateway-integration": integration,
            }},
        },
        "components": {"schemas": {
            "NewItem": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                    "note": {"type": "string", "nullable": True},
                },
            },
            "Tag": {"type": "string", "pattern": "^[a-z]+$"},
        }},
    }


def build_stack(app: Any) -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigateway
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_event_sources as event_sources
    from aws_cdk import aws_sqs as sqs
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk import aws_stepfunctions_tasks as tasks

    stack = cdk.Stack(app, STACK_NAME)
    code = lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__", "*.pyc"])

    def function(construct_id: str, handler: str, timeout: int, environment: dict[str, str]) -> Any:
        return lambda_.Function(stack, construct_id, runtime=lambda_.Runtime.PYTHON_3_11, handler=handler,
                                code=code, timeout=cdk.Duration.seconds(timeout), environment=environment)

    echo = function("Echo", "echo.handler", 2, {"GREETING": "hello from the template"})

    table = dynamodb.Table(stack, "Records", partition_key=dynamodb.Attribute(
        name="pk", type=dynamodb.AttributeType.STRING), removal_policy=cdk.RemovalPolicy.DESTROY)
    dead_letters = sqs.Queue(stack, "RecordsDeadLetters")
    queue = sqs.Queue(stack, "RecordsQueue", visibility_timeout=cdk.Duration.seconds(30),
                      dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=2, queue=dead_letters))
    recorder = function("Recorder", "recorder.handler", 10, {"TABLE_NAME": table.table_name})
    table.grant_read_write_data(recorder)
    recorder.add_event_source(event_sources.SqsEventSource(queue, batch_size=5, report_batch_item_failures=True))

    invoke = tasks.LambdaInvoke(stack, "InvokeEcho", lambda_function=echo, payload_response_only=True)
    invoke.add_catch(sfn.Pass(stack, "Recovered"), errors=["States.ALL"], result_path="$.error")
    flow = sfn.StateMachine(stack, "Flow", definition_body=sfn.DefinitionBody.from_chainable(invoke))

    api_function = function("Api", "api.handler", 5, {})
    spec_api = apigateway.SpecRestApi(
        stack, "SpecApi",
        api_definition=apigateway.ApiDefinition.from_inline(
            openapi_document(api_function.function_arn, cdk.Aws.REGION, cdk.Aws.PARTITION)),
        deploy_options=apigateway.StageOptions(stage_name=SPEC_STAGE),
    )
    api_function.add_permission("SpecApiInvoke", principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                                source_arn=spec_api.arn_for_execute_api())
    proxy_api = apigateway.LambdaRestApi(
        stack, "ProxyApi", handler=api_function,
        deploy_options=apigateway.StageOptions(stage_name=PROXY_STAGE),
        default_cors_preflight_options=apigateway.CorsOptions(allow_origins=apigateway.Cors.ALL_ORIGINS),
    )

    outputs = {
        "EchoName": echo.function_name,
        "TableName": table.table_name,
        "QueueUrl": queue.queue_url,
        "DeadLetterQueueUrl": dead_letters.queue_url,
        "FlowArn": flow.state_machine_arn,
        "SpecApiId": spec_api.rest_api_id,
        "SpecApiUrl": spec_api.url,
        "ProxyApiUrl": proxy_api.url,
    }
    for name, value in outputs.items():
        cdk.CfnOutput(stack, name, value=value)
    return stack


def synthesize(outdir: Path) -> Path:
    import aws_cdk as cdk

    app = cdk.App(outdir=str(outdir))
    build_stack(app)
    app.synth()
    return outdir


def deployed_lambda_app(local_cloud: Any, workdir: Path) -> dict[str, str]:
    """The stack outputs of the app deployed into ``local_cloud``; the first
    caller synthesizes and deploys, later ones (any test module) reuse it."""
    from local.deployer import Deployer, deploy, load_assembly

    with _lock:
        if local_cloud.endpoint_url not in _deployments:
            assembly = load_assembly(synthesize(workdir / "cdk.out"))
            deployer = Deployer(local_cloud.boto3_client, local_cloud.account_id, local_cloud.region,
                                echo=lambda line: None, timeout=120)
            (stack,) = deploy(assembly, deployer)
            _deployments[local_cloud.endpoint_url] = stack.outputs
        return dict(_deployments[local_cloud.endpoint_url])
