"""The local gateway validates the orchestrator's own deployed document as API
Gateway does, and every refusal names the field and the rule.

The document is the one the stack deploys (``deployable_document``), imported
into a scratch REST API of the simulated gateway; each request goes through
the method's validator and the API's gateway response template.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.services.apigateway import models
from local.services.apigateway.openapi import import_document
from local.services.apigateway.proxy import RequestInfo
from local.services.apigateway.responses import gateway_response
from stacks.amilifecycle.api import load_openapi
from stacks.amilifecycle.api_gateway import deployable_document

LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:api"


@pytest.fixture(scope="module")
def orchestrator_api() -> Any:
    from moto.apigateway.models import apigateway_backends

    backend = apigateway_backends["123456789012"]["eu-central-1"]
    api = backend.create_rest_api(name="orchestrator-validation", description="")
    document = deployable_document(load_openapi(), function_arn=FUNCTION_ARN, authorizer_function_arn=FUNCTION_ARN,
                                   title="t")
    # The stack's integration URI holds CloudFormation pseudo parameters; give it this region's values.
    uri = f"arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
    for path_item in document["paths"].values():
        for operation in path_item.values():
            operation["x-amazon-apigateway-integration"]["uri"] = uri
    import_document(backend, api, document)
    yield api
    backend.apis.pop(api.id, None)


def answer(api: Any, method: str, path: str, body: Any = None, query: dict[str, list[str]] | None = None):
    """(status, JSON body) the gateway answers, or ``None`` when the request reaches the function."""
    match = models.match_route(api, method, path)
    assert match is not None, (method, path)
    raw = json.dumps(body).encode() if body is not None else b""
    failure = models.validate_request(api, match.method, query or {}, {}, "application/json", raw)
    if failure is None:
        return None
    response = gateway_response(api, failure.response_type, RequestInfo.new(api.id, "dev", path, "123456789012"),
                                message=failure.message, validation_error=failure.details)
    return response.status_code, json.loads(response.get_data(as_text=True))


def notifications() -> list[dict[str, str]]:
    return [{"method": "EMAIL", "target": "team@example.com"}]


def create_body(**changes: Any) -> dict[str, Any]:
    body = {"stack_tag": "main", "owner": "platform-team", "notifications": notifications(),
            "events": [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True},
                       {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
                       {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}],
            "product_ver": "2.4.1", "product_name": "payments", "commit_ref": "9fceb02"}
    body.update(changes)
    return body


def patch_body(enabled: bool = True, **changes: Any) -> dict[str, Any]:
    body = {"lifecycle_id": LIFECYCLE_ID, "stack_tag": "main", "owner": "platform-team",
            "notifications": notifications(),
            "events": [{"name": "PATCH_AMI", "enabled": enabled}, {"name": "SMOKE_TESTS_AMI_PATCH", "enabled": True},
                       {"name": "VULNERABILITY_SCANS_AMI_PATCH", "enabled": False}],
            "commit_ref": "9fceb02",
            "properties": {"patch_component_url": "s3://bucket/fix.yml", "patch_change_description": "fix",
                           "semver_bump_type": "PATCH"}}
    body.update(changes)
    return body


BAD_BODIES = [
    ("POST", "/ami-creation/lifecycles", create_body(owner=""),
     "owner: expected at least 1 characters, got 0"),
    ("POST", "/ami-creation/lifecycles", {k: v for k, v in create_body().items() if k != "stack_tag"},
     "stack_tag: missing (required)"),
    ("POST", "/ami-creation/lifecycles", create_body(notifications=[{"method": "SMS", "target": "+1555"}]),
     "notifications[0].method: expected one of EMAIL, HTTP, got 'SMS'"),
    ("POST", "/ami-creation/lifecycles", create_body(colour="red"),
     "colour: unknown field; allowed: "),
    ("PUT", "/ami-creation/lifecycles", {**create_body(lifecycle_id="not-a-uuid")},
     "lifecycle_id: expected text matching"),
    ("POST", f"/ami-creation/lifecycles/{LIFECYCLE_ID}/certify",
     {"stack_tag": "main", "certification_status": "PASSED"},
     "certification_status: expected one of CERTIFIED, FAILED, got 'PASSED'"),
    ("POST", f"/ami-creation/lifecycles/{LIFECYCLE_ID}/approve", {"stack_tag": "main", "approval_status": True},
     "approval_status: expected a string, got boolean true"),
    ("POST", "/ami-patch/lifecycles", patch_body(properties={"patch_component_url": "s3://bucket/fix.yml",
                                                             "patch_change_description": "fix",
                                                             "semver_bump_type": "MAJOR"}),
     "properties.semver_bump_type: expected one of MINOR, PATCH, got 'MAJOR'"),
    ("PUT", "/ami-patch/lifecycles", patch_body(enabled=False, commit_ref="main branch", properties=None),
     "commit_ref: expected text matching"),
    ("POST", f"/ami-patch/lifecycles/{LIFECYCLE_ID}/approve", {"approval_status": "APPROVED"},
     "stack_tag: missing (required)"),
]


@pytest.mark.parametrize("method,path,body,finding", BAD_BODIES,
                         ids=[f"{m} {p.replace(LIFECYCLE_ID, '{id}')} {f.split(':')[0]}" for m, p, _, f in BAD_BODIES])
def test_a_refused_body_is_400_naming_the_field_and_the_rule(orchestrator_api, method, path, body, finding):
    status, document = answer(orchestrator_api, method, path, body)

    assert status == 400
    assert document["code"] == "VALIDATION_ERROR"
    assert document["error"].startswith("request body: [")
    assert finding in document["error"]


def test_the_original_clients_patch_update_passes_the_gateway(orchestrator_api):
    body = patch_body(enabled=False, commit_ref="", properties=None, api_key="k" * 30)
    assert answer(orchestrator_api, "PUT", "/ami-patch/lifecycles", body) is None


@pytest.mark.parametrize("path", ["/ami-creation/lifecycles/status", "/ami-patch/lifecycles/status"])
def test_a_list_request_without_stack_tag_passes_the_gateway(orchestrator_api, path):
    assert answer(orchestrator_api, "GET", path, query={"api_key": ["k" * 30]}) is None
