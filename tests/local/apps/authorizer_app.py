"""A SpecRestApi with Lambda REQUEST authorizers: one caching by the ``x-key`` header (TTL 300),
one with TTL 0, one without identity source (TTL 0: reads a header or a query parameter), and
a body validator behind the caching one, so tests can show the order authorizer -> validator ->
integration and the cache.

``deployed_authorizer_app`` synthesizes and deploys it once per local cloud.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

HANDLERS = Path(__file__).resolve().parent / "authorizer_handlers"
STACK_NAME = "LocalAuthorizerTestApp"
STAGE = "test"

_lock = threading.Lock()
_deployments: dict[str, dict[str, str]] = {}


def _uri(function_arn: str, region: str, partition: str) -> str:
    return f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def openapi_document(echo_arn: str, authorizer_arn: str, region: str, partition: str) -> dict[str, Any]:
    integration = {"type": "aws_proxy", "httpMethod": "POST", "uri": _uri(echo_arn, region, partition)}

    def scheme(identity_source: str | None, ttl: int) -> dict[str, Any]:
        settings = {"type": "request", "authorizerUri": _uri(authorizer_arn, region, partition),
                    "authorizerResultTtlInSeconds": ttl}
        if identity_source:
            settings["identitySource"] = identity_source
        return {"type": "apiKey", "name": "x-key", "in": "header", "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": settings}

    def operation(security: str, **extra: Any) -> dict[str, Any]:
        return {"security": [{security: []}], "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": integration, **extra}

    body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}
    return {
        "openapi": "3.0.1",
        "info": {"title": "local-authorizer-test-api", "version": "1.0"},
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True}},
        "x-amazon-apigateway-gateway-responses": {
            "UNAUTHORIZED": {"statusCode": 401, "responseTemplates": {
                "application/json": '{"error": "no key", "code": "UNAUTHORIZED"}'}},
            "ACCESS_DENIED": {"statusCode": 403, "responseTemplates": {
                "application/json": '{"error": $context.error.messageString, "code": "FORBIDDEN"}'}},
        },
        "paths": {
            "/items": {
                "post": operation("cached", **{"requestBody": body, "x-amazon-apigateway-request-validator": "all"}),
                "put": operation("uncached"),
                "get": operation("header-or-query"),
            },
            "/other": {"post": operation("cached")},
            "/open": {"get": {"responses": {"200": {"description": "ok"}},
                              "x-amazon-apigateway-integration": integration}},
        },
        "components": {
            "schemas": {"Item": {"type": "object", "required": ["name"], "additionalProperties": False,
                                 "properties": {"name": {"type": "string"}}}},
            "securitySchemes": {
                "cached": scheme("method.request.header.x-key", 300),
                "uncached": scheme("method.request.header.x-key", 0),
                "header-or-query": scheme(None, 0),
            },
        },
    }


def build_stack(app: Any) -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigateway
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_

    stack = cdk.Stack(app, STACK_NAME)
    code = lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__", "*.pyc"])

    def function(construct_id: str, handler: str) -> Any:
        return lambda_.Function(stack, construct_id, runtime=lambda_.Runtime.PYTHON_3_11, handler=handler,
                                code=code, timeout=cdk.Duration.seconds(5))

    echo = function("Echo", "echo.handler")
    authorizer = function("Authorizer", "authorizer.handler")
    api = apigateway.SpecRestApi(
        stack, "Api",
        api_definition=apigateway.ApiDefinition.from_inline(openapi_document(
            echo.function_arn, authorizer.function_arn, cdk.Aws.REGION, cdk.Aws.PARTITION)),
        deploy_options=apigateway.StageOptions(stage_name=STAGE),
    )
    for construct_id, target in (("EchoInvoke", echo), ("AuthorizerInvoke", authorizer)):
        target.add_permission(construct_id, principal=iam.ServicePrincipal("apigateway.amazonaws.com"))
    cdk.CfnOutput(stack, "ApiUrl", value=api.url)
    cdk.CfnOutput(stack, "ApiId", value=api.rest_api_id)
    return stack


def synthesize(outdir: Path) -> Path:
    import aws_cdk as cdk

    app = cdk.App(outdir=str(outdir))
    build_stack(app)
    app.synth()
    return outdir


def deployed_authorizer_app(local_cloud: Any, workdir: Path) -> dict[str, str]:
    """The stack outputs of the app deployed into ``local_cloud`` (deployed by the first caller)."""
    from local.deployer import Deployer, deploy, load_assembly

    with _lock:
        if local_cloud.endpoint_url not in _deployments:
            assembly = load_assembly(synthesize(workdir / "cdk.out"))
            deployer = Deployer(local_cloud.boto3_client, local_cloud.account_id, local_cloud.region,
                                echo=lambda line: None, timeout=120)
            (stack,) = deploy(assembly, deployer)
            _deployments[local_cloud.endpoint_url] = stack.outputs
        return dict(_deployments[local_cloud.endpoint_url])
