"""The orchestrator API: an API Gateway REST API imported from openapi.yaml.

The OpenAPI document is the one description of the API. At synth time it
becomes the deployed definition (:func:`deployable_document`):

* every operation gets a Lambda proxy integration with the API function
  (one function serves every route; it registers its routes from the same
  document);
* a Lambda REQUEST authorizer checks the route's key first, before any
  request validation and before the API function runs (see
  :data:`AUTHORIZERS`): no key is ``401``, a wrong key ``403``, each with
  the API's JSON error body;
* request validators check parameters on every operation and the body on
  operations that take one, against the document's own schemas;
* gateway responses give the gateway's own errors (validation, unknown
  route, 5xx) the API's JSON error shape;
* references to ``#/components/parameters`` and ``#/components/responses``
  are inlined: API Gateway's import only resolves schema references
  reliably (its documented REST limitations list response references at
  the document root as unsupported), and ``servers`` (documentation for
  clients) is dropped so that no base path is derived from it.

The stage carries the configured throttling, X-Ray tracing, CloudWatch
metrics and a JSON access log without query strings (a legacy client may
put its key there). REST API stages can only write access logs once the
account's API Gateway CloudWatch role is set, so the API sets it (the role
is retained on deletion: the setting is account-wide, and another API may
rely on it).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.amilifecycle.api import HTTP_METHODS, load_openapi, operations
from stacks.amilifecycle.api_keys import ApiKeySecrets
from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.logs import LifecycleLogGroups
from stacks.amilifecycle.outputs import LifecycleOutputs, Output
from stacks.amilifecycle.storage import LifecycleTables
from stacks.checks import skip_check
from stacks.settings import Settings

API_FUNCTION_ID = "OrchestratorApiFunction"
API_HANDLER = "api.handle"
AUTHORIZER_FUNCTION_ID = "OrchestratorApiAuthorizer"
AUTHORIZER_HANDLER = "authorizer.handle"
API_KEY_HEADER = "x-api-key"
# Authorizer results are cached this long per key (API Gateway's default; its maximum is 3600).
AUTHORIZER_RESULT_TTL_SECONDS = 300
# Two authorizers, one function. Writes (POST, PUT) take the key from the x-api-key header only: that
# header is the identity source, so a request without it is answered 401 by the gateway itself and
# the answer for a key is cached. Reads (GET) also accept the legacy ?api_key= query parameter (a
# timeline link opened in a browser cannot send a header); identity sources are all required, so
# these have none, which API Gateway only allows without caching: the function runs on every read.
HEADER_KEY_AUTHORIZER = "route-key-header"
HEADER_OR_QUERY_KEY_AUTHORIZER = "route-key-header-or-query"
# API Gateway gives an integration at most 29 seconds; the function stops first.
INTEGRATION_TIMEOUT_MILLIS = 29000
API_FUNCTION_TIMEOUT = cdk.Duration.seconds(28)
BODY_AND_PARAMETERS = "body-and-parameters"
PARAMETERS_ONLY = "parameters-only"
JSON_MEDIA_TYPE = "application/json"
_INLINED_COMPONENTS = ("parameters", "responses", "requestBodies")


def integration_uri(function_arn: str) -> str:
    """The ``x-amazon-apigateway-integration`` URI that invokes ``function_arn``."""
    return (f"arn:{cdk.Aws.PARTITION}:apigateway:{cdk.Aws.REGION}:lambda:path/2015-03-31/functions/"
            f"{function_arn}/invocations")


def _error_template(code: str) -> dict[str, str]:
    # $context.error.messageString is already a quoted JSON string.
    return {JSON_MEDIA_TYPE: '{"error": $context.error.messageString, "code": "%s"}' % code}


# A body the model refuses: the validator's findings (the field where its
# message names one, and the rule), not only "Invalid request body".
# $context.error.validationErrorString comes JSON-escaped, without quotes.
_BODY_ERROR_TEMPLATE = {
    JSON_MEDIA_TYPE: '{"error": "request body: $context.error.validationErrorString", "code": "VALIDATION_ERROR"}'}

GATEWAY_RESPONSES: dict[str, dict[str, Any]] = {
    "BAD_REQUEST_BODY": {"statusCode": 400, "responseTemplates": _BODY_ERROR_TEMPLATE},
    # "Missing required request parameters: [<names>]" names the parameter itself.
    "BAD_REQUEST_PARAMETERS": {"statusCode": 400, "responseTemplates": _error_template("VALIDATION_ERROR")},
    # The authorizers answer a missing key with UNAUTHORIZED, so a missing token can only mean an unknown route.
    "MISSING_AUTHENTICATION_TOKEN": {"statusCode": 404, "responseTemplates": _error_template("NOT_FOUND")},
    # The authorizer's refusals, in the API's own error shape (and the API function's own messages).
    "UNAUTHORIZED": {"statusCode": 401, "responseTemplates": {
        JSON_MEDIA_TYPE: '{"error": "an API key is required: send it in the %s header", "code": "UNAUTHORIZED"}'
                         % API_KEY_HEADER}},
    "ACCESS_DENIED": {"statusCode": 403, "responseTemplates": {
        JSON_MEDIA_TYPE: '{"error": "the API key is not valid for this route", "code": "FORBIDDEN"}'}},
    # The authorizer failed (a key secret cannot be read): a deployment fault, as the function's own 500.
    "AUTHORIZER_FAILURE": {"statusCode": 500, "responseTemplates": _error_template("INTERNAL_ERROR")},
    "AUTHORIZER_CONFIGURATION_ERROR": {"statusCode": 500, "responseTemplates": _error_template("INTERNAL_ERROR")},
    "DEFAULT_5XX": {"responseTemplates": _error_template("INTERNAL_ERROR")},
}


def _methods_and_operations_of(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path_item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            if method in path_item:
                yield method, path_item[method]


def _inline_references(node: Any, document: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with every reference into the inlined component sections replaced by a copy of its target."""
    if depth > 32:
        raise ValueError("openapi.yaml: component references nest deeper than 32 levels (a cycle?)")
    if isinstance(node, list):
        return [_inline_references(item, document, depth) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/components/"):
        section = reference.split("/")[2]
        if section in _INLINED_COMPONENTS:
            target: Any = document
            for part in reference.removeprefix("#/").split("/"):
                target = target[part]
            return _inline_references(copy.deepcopy(target), document, depth + 1)
    return {key: _inline_references(value, document, depth) for key, value in node.items()}


def _without_non_json_response_schemas(operation: dict[str, Any]) -> None:
    """API Gateway models are JSON schemas of objects or arrays; an HTML page gets no model."""
    for response in operation.get("responses", {}).values():
        for media_type, content in response.get("content", {}).items():
            if media_type != JSON_MEDIA_TYPE:
                content.pop("schema", None)


def authorizer_schemes(authorizer_function_arn: str,
                       ttl_seconds: int = AUTHORIZER_RESULT_TTL_SECONDS) -> dict[str, dict[str, Any]]:
    """The two Lambda REQUEST authorizers as OpenAPI security schemes (API Gateway's import extensions)."""
    def scheme(identity_source: str | None, ttl: int) -> dict[str, Any]:
        authorizer: dict[str, Any] = {"type": "request", "authorizerUri": integration_uri(authorizer_function_arn),
                                      "authorizerResultTtlInSeconds": ttl}
        if identity_source:
            authorizer["identitySource"] = identity_source
        return {"type": "apiKey", "name": API_KEY_HEADER, "in": "header",
                "x-amazon-apigateway-authtype": "custom", "x-amazon-apigateway-authorizer": authorizer}

    return {HEADER_KEY_AUTHORIZER: scheme(f"method.request.header.{API_KEY_HEADER}", ttl_seconds),
            HEADER_OR_QUERY_KEY_AUTHORIZER: scheme(None, 0)}


def deployable_document(document: dict[str, Any], *, function_arn: str, authorizer_function_arn: str,
                        title: str, authorizer_ttl_seconds: int = AUTHORIZER_RESULT_TTL_SECONDS) -> dict[str, Any]:
    """The OpenAPI document as API Gateway imports it (see the module docstring)."""
    deployed = copy.deepcopy(document)
    deployed.pop("servers", None)
    deployed["info"] = {**deployed.get("info", {}), "title": title}
    deployed["paths"] = _inline_references(deployed["paths"], document)
    components = deployed.setdefault("components", {})
    for section in _INLINED_COMPONENTS:
        components.pop(section, None)
    deployed["x-amazon-apigateway-request-validators"] = {
        BODY_AND_PARAMETERS: {"validateRequestBody": True, "validateRequestParameters": True},
        PARAMETERS_ONLY: {"validateRequestBody": False, "validateRequestParameters": True},
    }
    deployed["x-amazon-apigateway-gateway-responses"] = copy.deepcopy(GATEWAY_RESPONSES)
    components.setdefault("securitySchemes", {}).update(
        authorizer_schemes(authorizer_function_arn, authorizer_ttl_seconds))
    uri = integration_uri(function_arn)
    for method, operation in _methods_and_operations_of(deployed):
        operation["security"] = [{HEADER_OR_QUERY_KEY_AUTHORIZER if method == "get" else HEADER_KEY_AUTHORIZER: []}]
        operation["x-amazon-apigateway-integration"] = {
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": uri,
            "passthroughBehavior": "when_no_match",
            "timeoutInMillis": INTEGRATION_TIMEOUT_MILLIS,
        }
        operation["x-amazon-apigateway-request-validator"] = (
            BODY_AND_PARAMETERS if "requestBody" in operation else PARAMETERS_ONLY)
        _without_non_json_response_schemas(operation)
    return deployed


def access_log_format() -> apigateway.AccessLogFormat:
    """One JSON line per request: who, which route, how it ended; never a query string or a header."""
    field = apigateway.AccessLogField
    return apigateway.AccessLogFormat.custom(json.dumps({
        "requestId": field.context_request_id(),
        "extendedRequestId": field.context_extended_request_id(),
        "sourceIp": field.context_identity_source_ip(),
        "requestTime": field.context_request_time(),
        "httpMethod": field.context_http_method(),
        "resourcePath": field.context_resource_path(),
        "status": field.context_status(),
        "protocol": field.context_protocol(),
        "responseLength": field.context_response_length(),
        "responseLatency": field.context_response_latency(),
        "integrationStatus": field.context_integration_status(),
        "integrationError": field.context_integration_error_message(),
        "errorResponseType": field.context_error_response_type(),
    }))


class OrchestratorApi(Construct):
    """``function`` (serves every route), ``rest_api`` and ``stage``; the API outputs."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, functions: FunctionFactory,
                 tables: LifecycleTables, key: kms.IKey, api_keys: ApiKeySecrets, log_groups: LifecycleLogGroups,
                 notifications: sns.ITopic, pipeline_arn: str, patch_component_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        api_settings = settings.lifecycle.api
        document = load_openapi()
        key_settings = sorted({op.api_key_setting for op in operations(document) if op.api_key_setting})
        key_names = {setting: api_settings.all_key_names[setting] for setting in key_settings}

        self.function = functions.function(
            API_FUNCTION_ID,
            handler=API_HANDLER,
            description="Orchestrator API: every route of openapi.yaml",
            timeout=API_FUNCTION_TIMEOUT,
            memory_size=512,
            environment={
                "STATE_TABLE_NAME": tables.state.table_name,
                "LOOKUP_TABLE_NAME": tables.lookup.table_name,
                "NOTIFICATION_TOPIC_ARN": notifications.topic_arn,
                "API_KEY_SECRET_PREFIX": api_keys.prefix,
                "API_KEY_NAMES_JSON": json.dumps(key_names, separators=(",", ":")),
                "DEFAULT_SEMVER_SEED": settings.lifecycle.default_semver_seed,
                "STATE_MACHINE_MAX_WAIT_MINUTES": str(settings.lifecycle.state_machine_max_wait_mins),
                "IMAGEBUILDER_PIPELINE_ARN": pipeline_arn,
                "PATCH_COMPONENT_BUCKET": patch_component_bucket.bucket_name,
            },
        )
        # A patch request's component document is read and checked before the patch starts.
        patch_component_bucket.grant_read(self.function)
        self._grant(tables=tables, key=key, api_keys=api_keys, key_settings=key_settings,
                    notifications=notifications)
        # The authorizer reads every route key (a key's policy names all the routes it opens) and nothing else.
        self.authorizer = functions.function(
            AUTHORIZER_FUNCTION_ID,
            handler=AUTHORIZER_HANDLER,
            description="Orchestrator API: checks each route's API key before the gateway validates the request",
            timeout=cdk.Duration.seconds(10),
            memory_size=256,
            environment={
                "API_KEY_SECRET_PREFIX": api_keys.prefix,
                "API_KEY_NAMES_JSON": json.dumps(key_names, separators=(",", ":")),
            },
        )
        for setting in key_settings:
            api_keys.by_setting[setting].grant_read(self.authorizer)
        key.grant_decrypt(self.authorizer)

        stage_name = api_settings.stage_name
        definition = deployable_document(document, function_arn=self.function.function_arn,
                                         authorizer_function_arn=self.authorizer.function_arn,
                                         title=settings.physical_name(api_settings.api_name))
        self.rest_api = apigateway.SpecRestApi(
            self,
            "AmiOrchestratorApi",
            api_definition=apigateway.ApiDefinition.from_inline(definition),
            rest_api_name=settings.physical_name(api_settings.api_name),
            description=f"AMI lifecycle orchestrator API ({settings.stack_tag})",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            deploy=True,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                access_log_destination=apigateway.LogGroupLogDestination(log_groups.api_access),
                access_log_format=access_log_format(),
                tracing_enabled=True,
                metrics_enabled=True,
                # Execution logs of errors only (never data traces: they would hold keys and bodies).
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_burst_limit=api_settings.throttling_burst_limit,
                throttling_rate_limit=api_settings.throttling_rate_limit,
            ),
        )
        # A changed definition must produce a new deployment, or the stage keeps serving the old one.
        self.rest_api.latest_deployment.add_to_logical_id(definition)
        self.stage = self.rest_api.deployment_stage
        # The API's outputs are the ones below; CDK's automatic "Endpoint" output would duplicate them.
        self.rest_api.node.try_remove_child("Endpoint")
        skip_check(self.stage, "CKV_AWS_120",
                    "No response cache: status and timeline answers must be current, and a cache keyed "
                    "without the API key header could serve one caller's answer to another.")
        self.function.add_permission(
            "InvokeByApiGateway",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=self.rest_api.arn_for_execute_api(method="*", path="/*", stage=stage_name),
        )

        self.authorizer.add_permission(
            "InvokeAsAuthorizer",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=cdk.Stack.of(self).format_arn(service="execute-api", resource=self.rest_api.rest_api_id,
                                                     resource_name="authorizers/*"),
        )

        endpoint = f"https://{self.rest_api.rest_api_id}.execute-api.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"
        self.endpoint = endpoint
        self.url = f"{endpoint}/{stage_name}"
        LifecycleOutputs(self, "Outputs", outputs=[
            Output("amiOrchestratorApiGatewayId", self.rest_api.rest_api_id, "REST API id of the orchestrator API"),
            Output("amiOrchestratorApiGatewayEndpoint", endpoint, "Endpoint of the orchestrator API (no stage)"),
            Output("amiOrchestratorApiGatewayStageName", stage_name, "Stage of the orchestrator API"),
            Output("amiOrchestratorApiGatewayUrl", self.url, "Base URL of the orchestrator API (endpoint/stage)"),
            Output("amiOrchestratorApiGatewayArn", self.rest_api.arn_for_execute_api(),
                   "execute-api ARN of every route of the orchestrator API"),
        ])

    def _grant(self, *, tables: LifecycleTables, key: kms.IKey, api_keys: ApiKeySecrets, key_settings: list[str],
               notifications: sns.ITopic) -> None:
        """Least privilege for the routes: lifecycle records, the lookup index, the route keys, and
        publishing to / subscribing email addresses to the notification topic. The event registry of the
        stack grants starting the event state machines."""
        function: lambda_.Function = self.function
        # Records are read, conditionally put and listed through the stack tag index; nothing is
        # deleted or scanned. Both tables (and the secrets and topic) use the orchestrator key.
        tables.state.grant(function, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
        tables.lookup.grant(function, "dynamodb:Query")
        key.grant_encrypt_decrypt(function)
        key.grant(function, "kms:DescribeKey")
        for setting in key_settings:
            api_keys.by_setting[setting].grant_read(function)
        notifications.grant_publish(function)
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["sns:ListSubscriptionsByTopic"],
            resources=[notifications.topic_arn],
        ))
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["sns:Subscribe"],
            resources=[notifications.topic_arn],
            conditions={"StringEquals": {"sns:Protocol": "email"}},
        ))
