"""Deployed REST APIs answer over HTTP: routes reach the Lambda handlers with
API Gateway's proxy event, their responses come back as is, and the gateway
answers its own errors the way API Gateway does."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
import requests

from local import faults
from local.services.apigateway.openapi import OpenApiError, import_document, load_document
from local.services.apigateway.urls import local_url, rewrite_execute_api_url
from tests.local.apps.lambda_app import PROXY_STAGE, SPEC_STAGE, deployed_lambda_app

TIMEOUT = 30


@pytest.fixture(scope="module")
def app(local_cloud: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return deployed_lambda_app(local_cloud, tmp_path_factory.mktemp("lambda-app"))


@pytest.fixture(scope="module")
def spec_url(app: dict[str, str]) -> str:
    return app["SpecApiUrl"].rstrip("/")


@pytest.fixture(scope="module")
def proxy_url(app: dict[str, str]) -> str:
    return app["ProxyApiUrl"].rstrip("/")


# -- the Lambda proxy integration -------------------------------------------------


def test_get_reaches_the_handler_with_path_and_query_parameters(spec_url):
    response = requests.get(f"{spec_url}/items/42", params={"verbose": "yes"}, timeout=TIMEOUT)

    seen = response.json()
    assert response.status_code == 200
    assert seen["resource"] == "/items/{itemId}"
    assert seen["path"] == "/items/42"
    assert seen["pathParameters"] == {"itemId": "42"}
    assert seen["query"] == {"verbose": "yes"}
    assert seen["stage"] == SPEC_STAGE


def test_repeated_query_parameters_arrive_as_multi_value_parameters(spec_url):
    response = requests.get(f"{spec_url}/items/1?tag=a&tag=b", timeout=TIMEOUT)

    seen = response.json()
    assert seen["query"] == {"tag": "b"}
    assert seen["multiQuery"] == {"tag": ["a", "b"]}


def test_post_passes_the_body_and_returns_the_handler_status(spec_url):
    body = {"name": "widget", "tags": ["blue"]}

    response = requests.post(f"{spec_url}/items", json=body, timeout=TIMEOUT)

    assert response.status_code == 201
    assert json.loads(response.json()["body"]) == body
    assert response.json()["isBase64Encoded"] is False


def test_request_headers_reach_the_handler(spec_url):
    response = requests.get(f"{spec_url}/items/1", headers={"X-Test": "present"}, timeout=TIMEOUT)

    assert response.json()["testHeader"] == "present"


def test_handler_headers_and_multi_value_headers_are_returned(spec_url):
    response = requests.get(f"{spec_url}/items/1", timeout=TIMEOUT)

    assert response.headers["X-Handler"] == "api"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["x-amzn-RequestId"]


def test_binary_media_type_body_arrives_base64_encoded(spec_url):
    payload = bytes(range(256))

    response = requests.put(f"{spec_url}/files/blob.bin", data=payload,
                            headers={"Content-Type": "application/octet-stream"}, timeout=TIMEOUT)

    seen = response.json()
    assert seen["isBase64Encoded"] is True
    assert base64.b64decode(seen["body"]) == payload


def test_greedy_path_parameter_takes_the_rest_of_the_path(spec_url):
    response = requests.delete(f"{spec_url}/files/reports/2026/summary.txt", timeout=TIMEOUT)

    seen = response.json()
    assert seen["resource"] == "/files/{proxy+}"
    assert seen["method"] == "DELETE"
    assert seen["pathParameters"] == {"proxy": "reports/2026/summary.txt"}


def test_lambda_rest_api_proxies_every_path_to_its_handler(proxy_url):
    response = requests.get(f"{proxy_url}/anything/at/all", timeout=TIMEOUT)

    seen = response.json()
    assert response.status_code == 200
    assert seen["resource"] == "/{proxy+}"
    assert seen["stage"] == PROXY_STAGE


def test_lambda_rest_api_root_path_reaches_its_handler(proxy_url):
    response = requests.post(f"{proxy_url}/", data="plain text", timeout=TIMEOUT)

    assert response.status_code == 201
    assert response.json()["resource"] == "/"
    assert response.json()["body"] == "plain text"


def test_cors_preflight_is_answered_by_the_mock_integration(proxy_url):
    response = requests.options(f"{proxy_url}/anything", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "GET"}, timeout=TIMEOUT)

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


# -- request validation --------------------------------------------------------------


def test_body_failing_its_model_is_rejected_before_the_handler(spec_url):
    response = requests.post(f"{spec_url}/items", json={"colour": "red"}, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid request body"
    assert response.json()["details"] == "[name: missing (required), colour: unknown field; allowed: name, note, tags]"
    assert response.headers["X-Validation"] == "failed"


def test_body_is_checked_against_the_models_it_references(spec_url):
    response = requests.post(f"{spec_url}/items", json={"name": "widget", "tags": ["NOT-LOWER"]}, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["details"] == "[tags[0]: expected text matching ^[a-z]+$, got 'NOT-LOWER']"


def test_each_finding_names_its_field_and_rule_and_quotes_stay_valid_json(spec_url):
    response = requests.post(f"{spec_url}/items", json={"name": "widget", "tags": ["ok", 7], 'ex"tra': 1},
                             timeout=TIMEOUT)

    assert response.status_code == 400
    details = response.json()["details"]
    assert 'ex"tra: unknown field; allowed: name, note, tags' in details
    assert "tags[1]: expected a string, got number 7" in details


def test_nullable_property_accepts_null(spec_url):
    response = requests.post(f"{spec_url}/items", json={"name": "widget", "note": None}, timeout=TIMEOUT)

    assert response.status_code == 201


def test_body_that_is_not_json_is_an_invalid_request_body(spec_url):
    response = requests.post(f"{spec_url}/items", data="{oops", headers={"Content-Type": "application/json"},
                             timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid request body"


def test_missing_required_query_parameter_is_rejected(spec_url):
    response = requests.get(f"{spec_url}/search", timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json() == {"message": "Missing required request parameters: [q]"}


def test_request_with_its_required_query_parameter_passes(spec_url):
    response = requests.get(f"{spec_url}/search", params={"q": "ami"}, timeout=TIMEOUT)

    assert response.status_code == 200


# -- errors the gateway answers ---------------------------------------------------------


def test_unknown_route_is_missing_authentication_token(spec_url):
    response = requests.get(f"{spec_url}/no/such/route", timeout=TIMEOUT)

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_method_without_a_route_is_missing_authentication_token(spec_url):
    response = requests.delete(f"{spec_url}/items/1", timeout=TIMEOUT)

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_unknown_stage_is_forbidden(local_cloud, app):
    response = requests.get(local_url(app["SpecApiId"], "nostage", local_cloud.endpoint_url) + "/items/1",
                            timeout=TIMEOUT)

    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_unknown_api_is_not_found(local_cloud):
    response = requests.get(local_url("doesnotexist", "prod", local_cloud.endpoint_url) + "/", timeout=TIMEOUT)

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_function_error_is_a_502_internal_server_error(spec_url):
    response = requests.get(f"{spec_url}/boom", timeout=TIMEOUT)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_malformed_proxy_response_is_a_502_internal_server_error(spec_url):
    response = requests.get(f"{spec_url}/malformed", timeout=TIMEOUT)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_injected_failure_fails_only_its_route(spec_url):
    faults.set_fault("apigateway", "fail", operation="GET /items/{itemId}")

    failed = requests.get(f"{spec_url}/items/1", timeout=TIMEOUT)
    other = requests.get(f"{spec_url}/search", params={"q": "x"}, timeout=TIMEOUT)

    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal server error"}
    assert other.status_code == 200


def test_injected_hang_ends_in_an_integration_timeout(spec_url):
    faults.set_fault("apigateway", "hang")

    response = requests.get(f"{spec_url}/items/1", timeout=TIMEOUT)

    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}


# -- addresses ------------------------------------------------------------------------


def test_stack_output_url_points_at_the_local_router(local_cloud, app):
    assert app["SpecApiUrl"] == local_url(app["SpecApiId"], SPEC_STAGE, local_cloud.endpoint_url) + "/"


def test_execute_api_path_form_reaches_the_same_stage(local_cloud, app):
    url = f"{local_cloud.endpoint_url}/_aws/execute-api/{app['SpecApiId']}/{SPEC_STAGE}/items/7"

    response = requests.get(url, timeout=TIMEOUT)

    assert response.json()["pathParameters"] == {"itemId": "7"}


def test_stage_invoke_url_is_rewritten_to_the_local_url():
    value = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/dev/lifecycles?x=1"

    assert rewrite_execute_api_url(value, "http://127.0.0.1:4566") == \
        "http://127.0.0.1:4566/restapis/a1b2c3d4e5/dev/_user_request_/lifecycles?x=1"


def test_stage_invoke_url_with_a_trailing_slash_keeps_it():
    value = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/"

    assert rewrite_execute_api_url(value, "http://127.0.0.1:4566/") == \
        "http://127.0.0.1:4566/restapis/a1b2c3d4e5/prod/_user_request_/"


def test_endpoint_without_a_stage_is_rewritten_to_a_composable_local_url():
    value = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"

    rewritten = rewrite_execute_api_url(value, "http://127.0.0.1:4566")

    assert rewritten == "http://127.0.0.1:4566/_aws/execute-api/a1b2c3d4e5"


@pytest.mark.parametrize("value", ["arn:aws:execute-api:us-east-1:123456789012:abc/*/*/*",
                                   "https://example.com/dev", "dev", ""])
def test_values_that_are_not_invoke_urls_are_left_alone(value):
    assert rewrite_execute_api_url(value, "http://127.0.0.1:4566") == value


# -- the API's lifecycle in CloudFormation ------------------------------------------------


def _settled(cloudformation: Any, stack_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        time.sleep(0.2)
    pytest.fail(f"stack {stack_id} did not settle")


def test_rest_api_of_a_template_serves_until_its_stack_is_deleted(local_cloud):
    mock = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200",
                                      "responseTemplates": {"application/json": '{"pong": true}'}}}}
    template = {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Body": _document({"/ping": {"get": {"responses": {}, "x-amazon-apigateway-integration": mock}}})}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"}, "StageName": "v1"}},
    }, "Outputs": {"Id": {"Value": {"Ref": "Api"}}}}
    cloudformation = local_cloud.boto3_client("cloudformation")
    stack_id = cloudformation.create_stack(StackName=f"api-{uuid.uuid4().hex[:8]}",
                                           TemplateBody=json.dumps(template))["StackId"]
    created = _settled(cloudformation, stack_id)
    api_id = created["Outputs"][0]["OutputValue"]
    url = local_url(api_id, "v1", local_cloud.endpoint_url) + "/ping"

    served = requests.get(url, timeout=TIMEOUT)
    cloudformation.delete_stack(StackName=stack_id)
    _settled(cloudformation, stack_id)
    gone = requests.get(url, timeout=TIMEOUT)

    assert created["StackStatus"] == "CREATE_COMPLETE"
    assert (served.status_code, served.json()) == (200, {"pong": True})
    assert gone.status_code == 404


# -- importing definitions ------------------------------------------------------------


def test_swagger_2_definition_is_rejected_with_the_version_found():
    with pytest.raises(OpenApiError, match="only OpenAPI 3.x definitions can be imported here, found swagger 2.0"):
        load_document({"swagger": "2.0", "paths": {}})


def test_definition_in_yaml_text_is_read():
    document = load_document("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths: {}\n")

    assert document["info"]["title"] == "t"


@pytest.fixture
def scratch_api() -> Any:
    from moto.apigateway.models import apigateway_backends

    backend = apigateway_backends["123456789012"]["eu-central-1"]
    api = backend.create_rest_api(name="scratch", description="")
    yield backend, api
    backend.apis.pop(api.id, None)


def _document(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def test_operation_naming_an_undefined_validator_is_rejected(scratch_api):
    backend, api = scratch_api
    document = _document({"/a": {"get": {"x-amazon-apigateway-request-validator": "strict", "responses": {}}}})

    with pytest.raises(OpenApiError, match="GET /a names request validator 'strict'"):
        import_document(backend, api, document)


def test_literal_path_part_wins_over_a_parameter_and_a_parameter_over_a_greedy_one(scratch_api):
    from local.services.apigateway.models import match_route

    backend, api = scratch_api
    import_document(backend, api, _document({
        "/things/{id}": {"get": {"responses": {}}},
        "/things/special": {"get": {"responses": {}}},
        "/things/{rest+}": {"x-amazon-apigateway-any-method": {"responses": {}}},
    }))

    assert match_route(api, "GET", "/things/special").resource.get_path() == "/things/special"
    assert match_route(api, "GET", "/things/7").path_parameters == {"id": "7"}
    assert match_route(api, "GET", "/things/7/parts").path_parameters == {"rest": "7/parts"}
    assert match_route(api, "POST", "/things/7").resource.get_path() == "/things/{rest+}"
