"""A CDK app whose REST API changes between two versions, to check that a
stack update applies every kind of API Gateway change.

The API is a SpecRestApi (an inline OpenAPI body with a request validator,
a model and a gateway response, routes proxied to a Python Lambda) plus
stack resources attached to it outside the body: a RequestValidator, a
Model, a Method using both, and a GatewayResponse. Version 2 adds a route
to the body and changes the body's model and gateway response and every
one of those stack resources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HANDLERS = Path(__file__).resolve().parent / "lambda_handlers"
STACK_NAME = "ApiUpdateTestApp"
STAGE = "live"
VERSIONS = (1, 2)


def openapi_document(function_arn: str, region: str, partition: str, version: int) -> dict[str, Any]:
    integration = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    }
    required = ["name"] if version == 1 else ["name", "size"]
    paths: dict[str, Any] = {
        "/items": {"post": {
            "x-amazon-apigateway-request-validator": "body",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
            "responses": {"201": {"description": "created"}},
            "x-amazon-apigateway-integration": integration,
        }},
        "/items/{itemId}": {"get": {
            "parameters": [{"name": "itemId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the item"}},
            "x-amazon-apigateway-integration": integration,
        }},
    }
    if version == 2:
        paths["/health"] = {"get": {"responses": {"200": {"description": "up"}},
                                    "x-amazon-apigateway-integration": integration}}
    return {
        "openapi": "3.0.1",
        "info": {"title": "api-update-test-api", "version": str(version)},
        "x-amazon-apigateway-request-validators": {
            "body": {"validateRequestBody": True, "validateRequestParameters": False},
        },
        "x-amazon-apigateway-gateway-responses": {"BAD_REQUEST_BODY": {
            "statusCode": 400,
            "responseParameters": {"gatewayresponse.header.X-Api-Version": f"'{version}'"},
            "responseTemplates": {"application/json": '{"message": $context.error.messageString}'},
        }},
        "paths": paths,
        "components": {"schemas": {"Item": {"type": "object", "required": required}}},
    }


def build_stack(app: Any, version: int) -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigateway
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_

    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    stack = cdk.Stack(app, STACK_NAME)
    function = lambda_.Function(stack, "Handler", runtime=lambda_.Runtime.PYTHON_3_11, handler="api.handler",
                                code=lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__", "*.pyc"]),
                                timeout=cdk.Duration.seconds(5))
    api = apigateway.SpecRestApi(
        stack, "Api",
        api_definition=apigateway.ApiDefinition.from_inline(
            openapi_document(function.function_arn, cdk.Aws.REGION, cdk.Aws.PARTITION, version)),
        deploy_options=apigateway.StageOptions(stage_name=STAGE),
        cloud_watch_role=True,
    )
    function.add_permission("ApiInvoke", principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                            source_arn=api.arn_for_execute_api())

    validator = apigateway.RequestValidator(
        stack, "ExtraValidator", rest_api=api, validate_request_body=True,
        validate_request_parameters=version == 2,
    )
    model = apigateway.Model(
        stack, "ExtraModel", rest_api=api, content_type="application/json",
        schema=apigateway.JsonSchema(type=apigateway.JsonSchemaType.OBJECT,
                                     required=["first"] if version == 1 else ["second"]),
    )
    api.root.add_resource("extra").add_method(
        "POST", apigateway.LambdaIntegration(function), request_validator=validator,
        request_models={"application/json": model},
        request_parameters={"method.request.querystring.token": True},
    )
    api.add_gateway_response(
        "UnknownRoute", type=apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, status_code="404",
        templates={"application/json": f'{{"message": "no such route (version {version})"}}'},
    )
    cdk.CfnOutput(stack, "ApiUrl", value=api.url)
    return stack


def synthesize(outdir: Path, version: int) -> Path:
    import aws_cdk as cdk

    app = cdk.App(outdir=str(outdir))
    build_stack(app, version)
    app.synth()
    return outdir
