"""The orchestrator API as synthesized: routes, integrations, validation, stage, permissions, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.amilifecycle.api import HTTP_METHODS, load_openapi, operations
from stacks.amilifecycle.api_gateway import (AUTHORIZER_RESULT_TTL_SECONDS, BODY_AND_PARAMETERS,
                                             HEADER_KEY_AUTHORIZER, HEADER_OR_QUERY_KEY_AUTHORIZER, PARAMETERS_ONLY,
                                             deployable_document, integration_uri)

RECEIVER_KEY_SETTINGS = {"ami_creation_receiver_secret_name", "ami_patch_receiver_secret_name",
                         "ami_error_receiver_secret_name"}
API_OUTPUTS = {"amiOrchestratorApiGatewayId", "amiOrchestratorApiGatewayEndpoint",
               "amiOrchestratorApiGatewayStageName", "amiOrchestratorApiGatewayUrl", "amiOrchestratorApiGatewayArn"}


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def template(templates) -> dict[str, Any]:
    return templates["AmiLifecycle"].to_json()


@pytest.fixture(scope="module")
def resources(template) -> dict[str, dict[str, Any]]:
    return template["Resources"]


def of_type(resources, resource_type: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == resource_type}


def logical_id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def only(resources, resource_type: str) -> dict[str, Any]:
    [resource] = of_type(resources, resource_type).values()
    return resource


@pytest.fixture(scope="module")
def body(resources) -> dict[str, Any]:
    return only(resources, "AWS::ApiGateway::RestApi")["Properties"]["Body"]


@pytest.fixture(scope="module")
def function(stack, resources) -> dict[str, Any]:
    return resources[logical_id(stack, stack.api.function)]


@pytest.fixture(scope="module")
def function_statements(stack, resources) -> list[dict[str, Any]]:
    role = logical_id(stack, stack.api.function.role)
    found = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowing(statements, action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in as_list(s["Action"]) and s["Effect"] == "Allow"]


def body_operations(body):
    for path, item in body["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


# ----------------------------------------------------------------- the REST API

def test_one_regional_rest_api_named_after_the_stack_tag(resources, settings):
    api = only(resources, "AWS::ApiGateway::RestApi")["Properties"]
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert api["Name"] == f"{settings.lifecycle.api.api_name}-{settings.stack_tag}"


def test_the_deployed_definition_has_every_route_of_the_document(body):
    documented = {(op.method, op.path, op.operation_id) for op in operations(load_openapi())}
    deployed = {(method, path, operation["operationId"]) for method, path, operation in body_operations(body)}
    assert deployed == documented


def test_every_route_is_a_lambda_proxy_integration_of_the_api_function(stack, body):
    function_arn = {"Fn::GetAtt": [logical_id(stack, stack.api.function), "Arn"]}
    for method, path, operation in body_operations(body):
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy" and integration["httpMethod"] == "POST", (method, path)
        assert function_arn in integration["uri"]["Fn::Join"][1], (method, path)
        assert integration["timeoutInMillis"] <= 29000


def test_the_body_and_parameters_are_validated_by_the_gateway(body):
    validators = body["x-amazon-apigateway-request-validators"]
    assert validators[BODY_AND_PARAMETERS] == {"validateRequestBody": True, "validateRequestParameters": True}
    assert validators[PARAMETERS_ONLY] == {"validateRequestBody": False, "validateRequestParameters": True}
    for method, path, operation in body_operations(body):
        expected = BODY_AND_PARAMETERS if method in ("POST", "PUT") else PARAMETERS_ONLY
        assert operation["x-amazon-apigateway-request-validator"] == expected, (method, path)


def test_gateway_errors_answer_the_apis_error_shape(body):
    responses = body["x-amazon-apigateway-gateway-responses"]
    for response_type, code in (("BAD_REQUEST_PARAMETERS", "VALIDATION_ERROR"),
                                ("MISSING_AUTHENTICATION_TOKEN", "NOT_FOUND"), ("DEFAULT_5XX", "INTERNAL_ERROR")):
        template = responses[response_type]["responseTemplates"]["application/json"]
        rendered = json.loads(template.replace("$context.error.messageString", '"message"'))
        assert rendered == {"error": "message", "code": code}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404


def test_a_body_the_gateway_refuses_is_answered_with_the_validators_findings(body):
    template = body["x-amazon-apigateway-gateway-responses"]["BAD_REQUEST_BODY"]["responseTemplates"][
        "application/json"]
    findings = '[instance value (\\"MAJOR\\") not found in enum (possible values: [\\"MINOR\\",\\"PATCH\\"])]'
    rendered = json.loads(template.replace("$context.error.validationErrorString", findings))
    assert rendered == {"error": 'request body: [instance value ("MAJOR") not found in enum (possible values: '
                                 '["MINOR","PATCH"])]', "code": "VALIDATION_ERROR"}


def test_only_schema_references_remain_in_the_deployed_definition(body):
    text = json.dumps(body)
    assert "#/components/parameters" not in text and "#/components/responses" not in text
    assert set(body["components"]) == {"schemas", "securitySchemes"}
    assert "servers" not in body


def test_the_key_header_and_legacy_query_parameter_are_declared_optional(body):
    status = body["paths"]["/ami-creation/lifecycles/{lifecycle-id}/status"]["get"]["parameters"]
    optional = {(p["in"], p["name"]) for p in status if p["required"] is False}
    assert {("header", "x-api-key"), ("query", "api_key")} <= optional


# -------------------------------------------------------------------- the stage

def test_the_stage_is_the_configured_one_with_tracing_and_metrics(resources, settings):
    stage = only(resources, "AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == settings.lifecycle.api.stage_name
    assert stage["TracingEnabled"] is True
    [method_settings] = stage["MethodSettings"]
    assert method_settings["MetricsEnabled"] is True
    assert method_settings["DataTraceEnabled"] is False
    assert method_settings["LoggingLevel"] == "ERROR"  # execution logs of errors, never data traces


def test_the_stage_throttles_as_configured(resources, settings):
    [method_settings] = only(resources, "AWS::ApiGateway::Stage")["Properties"]["MethodSettings"]
    assert method_settings["ThrottlingBurstLimit"] == settings.lifecycle.api.throttling_burst_limit
    assert method_settings["ThrottlingRateLimit"] == settings.lifecycle.api.throttling_rate_limit
    assert (method_settings["HttpMethod"], method_settings["ResourcePath"]) == ("*", "/*")


def test_access_logs_go_to_the_api_access_log_group_without_query_strings(stack, resources):
    access = only(resources, "AWS::ApiGateway::Stage")["Properties"]["AccessLogSetting"]
    assert {"Ref": logical_id(stack, stack.log_groups.api_access)} in access["DestinationArn"]["Fn::Join"][1]
    log_line = json.loads(access["Format"])
    assert log_line["requestId"] == "$context.requestId" and log_line["status"] == "$context.status"
    assert log_line["resourcePath"] == "$context.resourcePath"
    assert not any("querystring" in value.lower() or value == "$context.path" for value in log_line.values())


def test_the_account_may_write_api_logs_and_keeps_that_setting_when_the_stack_goes(resources):
    account = only(resources, "AWS::ApiGateway::Account")
    assert account["DeletionPolicy"] == "Retain"
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = resources[role_id]
    assert role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"}


# ----------------------------------------------------------------- the function

def test_the_api_function_runs_the_api_handler_within_the_gateway_timeout(function):
    properties = function["Properties"]
    assert properties["Handler"] == "orchestrator.handlers.api.handle"
    assert properties["Timeout"] < 29
    assert properties["TracingConfig"] == {"Mode": "Active"}


def test_the_api_function_knows_the_key_leaf_of_every_route_and_no_receiver_key(function, settings):
    key_names = json.loads(function["Properties"]["Environment"]["Variables"]["API_KEY_NAMES_JSON"])
    route_settings = {op.api_key_setting for op in operations(load_openapi())}
    assert set(key_names) == route_settings
    assert not set(key_names) & RECEIVER_KEY_SETTINGS
    assert all(key_names[s] == settings.lifecycle.api.all_key_names[s] for s in key_names)


def test_api_gateway_may_invoke_the_function_from_this_apis_stage_only(stack, resources, settings):
    function_arn = {"Fn::GetAtt": [logical_id(stack, stack.api.function), "Arn"]}
    [permission] = [p["Properties"] for p in of_type(resources, "AWS::Lambda::Permission").values()
                    if p["Properties"]["FunctionName"] == function_arn]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    source = permission["SourceArn"]["Fn::Join"][1]
    assert {"Ref": logical_id(stack, stack.api.rest_api)} in source
    assert source[-1] == f"/{settings.lifecycle.api.stage_name}/*/*"


# ------------------------------------------------------------------ permissions

def test_the_function_reads_puts_and_queries_lifecycles_but_never_scans_or_deletes(stack, function_statements):
    state_arn = {"Fn::GetAtt": [logical_id(stack, stack.tables.state), "Arn"]}
    [statement] = [s for s in function_statements if state_arn in as_list(s["Resource"])]
    assert sorted(as_list(statement["Action"])) == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    assert not any(action in ("dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
                   for s in function_statements for action in as_list(s["Action"]))


def test_the_function_queries_the_lookup_table_and_writes_entries_only_to_flag_revocations(stack, function_statements):
    lookup_arn = {"Fn::GetAtt": [logical_id(stack, stack.tables.lookup), "Arn"]}
    actions = {a for s in function_statements if lookup_arn in as_list(s["Resource"]) for a in as_list(s["Action"])}
    assert actions == {"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"}


def test_the_function_reads_the_route_keys_and_no_receiver_key(stack, function_statements):
    [statement] = allowing(function_statements, "secretsmanager:GetSecretValue")
    readable = {resource["Ref"] for resource in as_list(statement["Resource"])}
    route_settings = {op.api_key_setting for op in operations(load_openapi())}
    expected = {logical_id(stack, stack.api_keys.by_setting[s]) for s in route_settings}
    receivers = {logical_id(stack, stack.api_keys.by_setting[s]) for s in RECEIVER_KEY_SETTINGS}
    assert readable == expected
    assert not readable & receivers


def test_the_function_publishes_to_and_subscribes_emails_on_the_notification_topic_only(stack, function_statements):
    topic = {"Ref": logical_id(stack, stack.messaging.notifications)}
    for action in ("sns:Publish", "sns:ListSubscriptionsByTopic", "sns:Subscribe"):
        [statement] = allowing(function_statements, action)
        assert statement["Resource"] == topic
    [subscribe] = allowing(function_statements, "sns:Subscribe")
    assert subscribe["Condition"] == {"StringEquals": {"sns:Protocol": "email"}}


# ---------------------------------------------------------------------- outputs

def test_the_api_outputs_name_id_endpoint_stage_url_and_arn(stack, template, settings):
    outputs = template["Outputs"]
    assert API_OUTPUTS <= set(outputs)
    api_ref = {"Ref": logical_id(stack, stack.api.rest_api)}
    assert outputs["amiOrchestratorApiGatewayId"]["Value"] == api_ref
    assert outputs["amiOrchestratorApiGatewayStageName"]["Value"] == settings.lifecycle.api.stage_name
    endpoint = outputs["amiOrchestratorApiGatewayEndpoint"]["Value"]["Fn::Join"][1]
    assert endpoint[0] == "https://" and api_ref in endpoint and ".execute-api." in endpoint
    url = outputs["amiOrchestratorApiGatewayUrl"]["Value"]["Fn::Join"][1]
    assert url[: len(endpoint)] == endpoint and url[-1].endswith(f"/{settings.lifecycle.api.stage_name}")
    arn = outputs["amiOrchestratorApiGatewayArn"]["Value"]["Fn::Join"][1]
    assert ":execute-api:" in arn and api_ref in arn


def test_no_output_besides_the_published_api_keys(template):
    assert not [key for key in template["Outputs"] if "Endpoint" in key and key not in API_OUTPUTS]


# ------------------------------------------------------- the definition, unit level

def test_deployable_document_leaves_the_source_document_untouched():
    document = load_openapi()
    before = json.dumps(document, sort_keys=True)
    deployable_document(document, function_arn="arn:aws:lambda:us-east-1:123456789012:function:api",
                        authorizer_function_arn="arn:aws:lambda:us-east-1:123456789012:function:authorizer", title="t")
    assert json.dumps(document, sort_keys=True) == before


def test_deployable_document_drops_the_schema_of_the_html_page_only():
    deployed = deployable_document(load_openapi(), function_arn="arn:fn", authorizer_function_arn="arn:authz",
                                   title="t")
    timeline = deployed["paths"]["/ami-creation/lifecycles/{lifecycle-id}/timeline"]["get"]["responses"]
    assert timeline["200"]["content"] == {"text/html": {}}
    assert timeline["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_integration_uri_is_the_lambda_invocation_path():
    uri = integration_uri("arn:aws:lambda:us-east-1:123456789012:function:api")
    assert uri.endswith(":lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:api"
                        "/invocations")


# ---------------------------------------------------------------- the authorizer

@pytest.fixture(scope="module")
def authorizer_statements(stack, resources) -> list[dict[str, Any]]:
    role = logical_id(stack, stack.api.authorizer.role)
    found = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_every_route_is_authorized_by_a_lambda_request_authorizer(stack, body):
    schemes = body["components"]["securitySchemes"]
    authorizer_arn = {"Fn::GetAtt": [logical_id(stack, stack.api.authorizer), "Arn"]}
    for name in (HEADER_KEY_AUTHORIZER, HEADER_OR_QUERY_KEY_AUTHORIZER):
        scheme = schemes[name]
        assert scheme["x-amazon-apigateway-authtype"] == "custom"
        assert scheme["x-amazon-apigateway-authorizer"]["type"] == "request"
        assert authorizer_arn in scheme["x-amazon-apigateway-authorizer"]["authorizerUri"]["Fn::Join"][1]
    for method, path, operation in body_operations(body):
        expected = HEADER_OR_QUERY_KEY_AUTHORIZER if method == "GET" else HEADER_KEY_AUTHORIZER
        assert operation["security"] == [{expected: []}], (method, path)


def test_writes_are_authorized_by_the_key_header_with_a_cached_result(body):
    authorizer = body["components"]["securitySchemes"][HEADER_KEY_AUTHORIZER]["x-amazon-apigateway-authorizer"]
    assert authorizer["identitySource"] == "method.request.header.x-api-key"
    assert authorizer["authorizerResultTtlInSeconds"] == AUTHORIZER_RESULT_TTL_SECONDS == 300


def test_reads_may_also_bring_the_legacy_query_key_so_their_authorizer_has_no_identity_source(body):
    authorizer = body["components"]["securitySchemes"][HEADER_OR_QUERY_KEY_AUTHORIZER][
        "x-amazon-apigateway-authorizer"]
    assert "identitySource" not in authorizer
    assert authorizer["authorizerResultTtlInSeconds"] == 0


def test_authorizer_refusals_are_401_and_403_with_the_apis_json_error(body):
    responses = body["x-amazon-apigateway-gateway-responses"]
    for response_type, status, code in (("UNAUTHORIZED", 401, "UNAUTHORIZED"), ("ACCESS_DENIED", 403, "FORBIDDEN")):
        assert responses[response_type]["statusCode"] == status
        rendered = json.loads(responses[response_type]["responseTemplates"]["application/json"])
        assert rendered["code"] == code and rendered["error"]
    assert responses["AUTHORIZER_FAILURE"]["statusCode"] == 500


def test_api_gateway_may_invoke_the_authorizer_of_this_api_only(stack, resources):
    authorizer = logical_id(stack, stack.api.authorizer)
    [permission] = [p["Properties"] for p in of_type(resources, "AWS::Lambda::Permission").values()
                    if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [authorizer, "Arn"]}]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    source = json.dumps(permission["SourceArn"])
    assert "authorizers/*" in source and logical_id(stack, stack.api.rest_api) in source


def test_the_authorizer_reads_the_route_keys_and_no_receiver_key(stack, authorizer_statements, settings):
    reads = allowing(authorizer_statements, "secretsmanager:GetSecretValue")
    secrets = {json.dumps(resource) for statement in reads for resource in as_list(statement["Resource"])}
    route_settings = {op.api_key_setting for op in operations(load_openapi())}
    expected = {json.dumps({"Ref": logical_id(stack, stack.api_keys.by_setting[setting])})
                for setting in route_settings}
    assert secrets == expected
    assert not allowing(authorizer_statements, "dynamodb:GetItem")
