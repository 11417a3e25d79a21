"""The orchestrator's OpenAPI document: structure, auth, errors and schemas."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from stacks.amilifecycle.api import load_openapi, operations
from stacks.settings import EXTERNAL_KEY_SETTINGS, INTERNAL_KEY_SETTINGS

DOCUMENT_URI = "urn:ami-lifecycle-openapi"
ROUTES = {
    ("POST", "/ami-creation/lifecycles"),
    ("PUT", "/ami-creation/lifecycles"),
    ("GET", "/ami-creation/lifecycles/status"),
    ("GET", "/ami-creation/lifecycles/{lifecycle-id}/status"),
    ("POST", "/ami-creation/lifecycles/{lifecycle-id}/certify"),
    ("POST", "/ami-creation/lifecycles/{lifecycle-id}/approve"),
    ("GET", "/ami-creation/lifecycles/{lifecycle-id}/timeline"),
    ("POST", "/ami-patch/lifecycles"),
    ("PUT", "/ami-patch/lifecycles"),
    ("GET", "/ami-patch/lifecycles/status"),
    ("GET", "/ami-patch/lifecycles/{lifecycle-id}/status"),
    ("GET", "/ami-patch/lifecycles/{lifecycle-id}/timeline"),
    ("POST", "/ami-patch/lifecycles/{lifecycle-id}/approve"),
    ("POST", "/lifecycles/{lifecycle-id}/revoke"),
}
RECEIVER_KEY_SETTINGS = {
    "ami_creation_receiver_secret_name",
    "ami_patch_receiver_secret_name",
    "ami_error_receiver_secret_name",
}
ERROR_STATUS_BY_CODE = {
    "VALIDATION_ERROR": "400",
    "UNAUTHORIZED": "401",
    "FORBIDDEN": "403",
    "NOT_FOUND": "404",
    "CONFLICT": "409",
    "NOT_IMPLEMENTED": "501",
    "INTERNAL_ERROR": "500",
}

DOCUMENT = load_openapi()
OPERATIONS = list(operations(DOCUMENT))
REGISTRY = Registry().with_resource(
    DOCUMENT_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT4)
)


def validator(schema_name: str) -> OAS30Validator:
    return OAS30Validator(
        {"$ref": f"{DOCUMENT_URI}#/components/schemas/{schema_name}"},
        registry=REGISTRY,
        format_checker=oas30_format_checker,
    )


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow one local ``$ref`` (``#/components/...``) if ``node`` is a reference."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = DOCUMENT
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def operation(method: str, path: str) -> dict[str, Any]:
    return DOCUMENT["paths"][path][method.lower()]


def errors(schema_name: str, instance: Any) -> list[str]:
    return [error.message for error in validator(schema_name).iter_errors(instance)]


def embedded_examples(kind: str) -> list[tuple[str, str, Any]]:
    """(schema name, example id, value) of every request or response example."""
    found = []
    media_types = []
    if kind == "request":
        for op in OPERATIONS:
            body = operation(op.method, op.path).get("requestBody")
            if body:
                media_types.append((op.operation_id, body["content"]["application/json"]))
    else:
        for name, response in DOCUMENT["components"]["responses"].items():
            for media_type in response["content"].values():
                media_types.append((name, media_type))
    for owner, media_type in media_types:
        ref = media_type["schema"].get("$ref")
        for example_id, example in media_type.get("examples", {}).items():
            found.append((ref.rsplit("/", 1)[1], f"{owner}.{example_id}", example["value"]))
    return found


def create_request(**changes: Any) -> dict[str, Any]:
    request = {
        "stack_tag": "main",
        "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "team@example.com"}],
        "events": [
            {"name": "BUILD_AMI", "enabled": True},
            {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True},
            {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": True},
            {"name": "QA_CERTIFICATION_REQUEST", "enabled": False},
        ],
        "product_ver": "1.2.3",
        "product_name": "payments-service",
        "commit_ref": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    }
    request.update(changes)
    return request


def patch_request(**property_changes: Any) -> dict[str, Any]:
    properties = {
        "patch_component_url": "s3://patch-bucket/components/openssl.yml",
        "patch_change_description": "Update OpenSSL",
        "semver_bump_type": "PATCH",
    }
    properties.update(property_changes)
    return {
        "lifecycle_id": "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90",
        "stack_tag": "main",
        "owner": "platform-team",
        "notifications": [{"method": "HTTP", "target": "https://hooks.example.com/x"}],
        "events": [
            {"name": "PATCH_AMI", "enabled": True},
            {"name": "SMOKE_TESTS_AMI_PATCH", "enabled": True},
            {"name": "VULNERABILITY_SCANS_AMI_PATCH", "enabled": False},
        ],
        "commit_ref": "v1.2.4",
        "properties": properties,
    }


# --- the document as a whole ---------------------------------------------------------

def test_document_is_a_valid_openapi_3_0_3_document():
    assert DOCUMENT["openapi"] == "3.0.3"
    validate_spec(DOCUMENT)


def test_document_declares_the_thirteen_routes_and_the_revocation():
    assert {(op.method, op.path) for op in OPERATIONS} == ROUTES
    assert len(OPERATIONS) == 14


def test_operation_ids_are_unique_snake_case_names():
    ids = [op.operation_id for op in OPERATIONS]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", op_id) for op_id in ids), ids


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_operation_has_a_success_and_a_client_error_response(op):
    statuses = operation(op.method, op.path)["responses"].keys()
    assert any(status.startswith("2") for status in statuses)
    assert any(status.startswith("4") for status in statuses)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_operation_is_tagged_with_its_lifecycle_type(op):
    if op.path.startswith("/lifecycles/"):  # revocation: an approved AMI of either phase
        expected = ["ami-creation", "ami-patch"]
    else:
        expected = ["ami-creation" if op.path.startswith("/ami-creation/") else "ami-patch"]
    assert operation(op.method, op.path)["tags"] == expected


def test_load_openapi_returns_an_independent_copy_each_time():
    first = load_openapi()
    first["paths"].clear()
    assert load_openapi()["paths"]


# --- authentication ------------------------------------------------------------------

def test_no_security_scheme_is_declared_so_gateway_usage_plan_keys_stay_off():
    assert "securitySchemes" not in DOCUMENT.get("components", {})
    assert "security" not in DOCUMENT
    assert all("security" not in operation(op.method, op.path) for op in OPERATIONS)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_operation_accepts_an_optional_x_api_key_header(op):
    parameters = [resolve(p) for p in operation(op.method, op.path).get("parameters", [])]
    headers = [p for p in parameters if p["in"] == "header" and p["name"] == "x-api-key"]
    assert len(headers) == 1 and headers[0]["required"] is False


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.method == "GET"], ids=lambda op: op.operation_id)
def test_read_operations_also_accept_the_legacy_api_key_query_parameter(op):
    parameters = [resolve(p) for p in operation(op.method, op.path)["parameters"]]
    assert any(p["in"] == "query" and p["name"] == "api_key" and not p["required"] for p in parameters)


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.method != "GET"], ids=lambda op: op.operation_id)
def test_write_operations_also_accept_the_legacy_api_key_body_field(op):
    schema = resolve(operation(op.method, op.path)["requestBody"]["content"]["application/json"]["schema"])
    assert "api_key" in schema["properties"]
    assert "api_key" not in schema.get("required", [])


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_operation_names_its_key_setting_and_leaf(op, settings):
    setting = op.api_key_setting
    assert setting in INTERNAL_KEY_SETTINGS + EXTERNAL_KEY_SETTINGS
    assert setting not in RECEIVER_KEY_SETTINGS
    leaf = settings.lifecycle.api.all_key_names[setting]
    assert f"`{leaf}`" in operation(op.method, op.path)["description"]


def test_status_routes_share_the_creation_status_key():
    status_ops = [op for op in OPERATIONS if op.path.endswith("/status")]
    assert len(status_ops) == 4
    assert {op.api_key_setting for op in status_ops} == {"ami_creation_status_secret_name"}


# --- responses and errors ------------------------------------------------------------

@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_error_response_carries_the_error_schema(op):
    for status, response in operation(op.method, op.path)["responses"].items():
        if status[0] in "45":
            schema = resolve(response)["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (op.operation_id, status)


def test_each_error_code_is_used_with_its_status():
    used_statuses = {status for op in OPERATIONS for status in operation(op.method, op.path)["responses"]}
    codes = DOCUMENT["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert set(codes) == set(ERROR_STATUS_BY_CODE)
    assert set(ERROR_STATUS_BY_CODE.values()) <= used_statuses


def test_routes_naming_a_lifecycle_can_answer_not_found():
    for op in OPERATIONS:
        names_lifecycle = "{lifecycle-id}" in op.path or op.method == "PUT" or op.operation_id == "create_ami_patch"
        assert ("404" in operation(op.method, op.path)["responses"]) == names_lifecycle, op.operation_id


def test_list_routes_take_an_optional_stack_tag_a_bounded_limit_and_a_next_token():
    for path in ("/ami-creation/lifecycles/status", "/ami-patch/lifecycles/status"):
        parameters = {p["name"]: p for p in map(resolve, operation("GET", path)["parameters"])}
        assert parameters["stack_tag"]["required"] is False
        assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
        assert parameters["next_token"]["required"] is False
        page = resolve(operation("GET", path)["responses"]["200"])["content"]["application/json"]["schema"]
        assert page == {"$ref": "#/components/schemas/LifecycleStatusPage"}


def test_timeline_routes_answer_html():
    for path in ("/ami-creation/lifecycles/{lifecycle-id}/timeline", "/ami-patch/lifecycles/{lifecycle-id}/timeline"):
        success = resolve(operation("GET", path)["responses"]["200"])
        assert list(success["content"]) == ["text/html"]


def test_lifecycle_status_schema_never_mentions_an_api_key():
    names: set[str] = set()
    pending = [{"$ref": "#/components/schemas/LifecycleStatus"}]
    visited: set[str] = set()
    while pending:
        node = pending.pop()
        ref = node.get("$ref")
        if ref:
            if ref in visited:
                continue
            visited.add(ref)
        schema = resolve(node)
        names |= set(schema.get("properties", {}))
        pending.extend(schema.get("properties", {}).values())
        if "items" in schema:
            pending.append(schema["items"])

    assert {"lifecycle_id", "outputs_ami_patch", "patch_history", "execution_arn", "status_date"} <= names
    assert not {name for name in names if "key" in name}


# --- embedded examples ---------------------------------------------------------------

@pytest.mark.parametrize("schema_name,example_id,value", embedded_examples("request"),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_embedded_request_examples_match_their_schema(schema_name, example_id, value):
    assert errors(schema_name, value) == []


@pytest.mark.parametrize("schema_name,example_id,value", embedded_examples("response"),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_embedded_response_examples_match_their_schema(schema_name, example_id, value):
    assert errors(schema_name, value) == []


def test_every_request_body_has_an_example():
    with_examples = {example_id.split(".")[0] for _, example_id, _ in embedded_examples("request")}
    assert with_examples == {op.operation_id for op in OPERATIONS if op.method != "GET"}


# --- request schemas accept what the API accepts ... ----------------------------------

def test_create_request_accepts_the_misspelt_vulnerability_scan_alias():
    request = create_request()
    request["events"][2]["name"] = "VULNERABILIY_SCANS_AMI_CREATE"
    assert errors("CreateLifecycleRequest", request) == []


def test_approval_accepts_failed_as_an_alias_of_not_approved():
    assert errors("ApproveRequest", {"stack_tag": "main", "approval_status": "FAILED"}) == []


def test_patch_update_does_not_require_commit_ref_or_properties():
    request = patch_request()
    del request["commit_ref"], request["properties"]
    request["events"][0]["enabled"] = False
    assert errors("UpdatePatchRequest", request) == []


def patch_update_request(**changes: Any) -> dict[str, Any]:
    request = patch_request()
    request["events"][0]["enabled"] = False
    request.update(changes)
    return request


def test_patch_update_accepts_what_the_original_cli_sends():
    """Its AMI_PATCH_UPDATE always sends ``"properties": null`` and ``"commit_ref": ""``."""
    request = patch_update_request(commit_ref="", properties=None, api_key="k" * 30)
    assert errors("UpdatePatchRequest", request) == []


def test_patch_update_still_refuses_a_commit_ref_with_spaces_and_non_string_properties():
    assert errors("UpdatePatchRequest", patch_update_request(commit_ref="main branch")) != []
    assert errors("UpdatePatchRequest", patch_update_request(properties={"ticket": 1234})) != []


# --- ... and reject what it does not ---------------------------------------------------

@pytest.mark.parametrize(
    "changes",
    [
        {"events": create_request()["events"][:3]},
        {"events": create_request()["events"] + [{"name": "PATCH_AMI", "enabled": True}]},
        {"events": [{"id": "BUILD_AMI", "enabled": True}] + create_request()["events"][1:]},
        {"events": [{"name": "AMI_BUILD", "enabled": True}] + create_request()["events"][1:]},
        {"events": [{"name": "BUILD_AMI", "enabled": "yes"}] + create_request()["events"][1:]},
        {"notifications": []},
        {"notifications": [{"method": "SMS", "target": "+15555550100"}]},
        {"properties": {"ticket": 1234}},
        {"properties": [{"key": "ticket", "value": "OPS-1"}]},
        {"stack_tag": "Feature/Login"},
        {"stack_tag": "a" * 33},
        {"owner": ""},
        {"owner": "o" * 129},
        {"product_name": "p" * 129},
        {"commit_ref": "c" * 65},
        {"commit_ref": "main branch"},
        {"lifecycle_id": "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"},
    ],
    ids=[
        "three-events", "five-events", "event-id-not-name", "unknown-event-name", "enabled-not-boolean",
        "no-notification", "unknown-notification-method", "non-string-property", "properties-as-list",
        "stack-tag-with-capitals-and-slash", "stack-tag-too-long", "empty-owner", "owner-too-long",
        "product-name-too-long", "commit-ref-too-long", "commit-ref-with-space", "unknown-field",
    ],
)
def test_create_request_rejects_invalid_input(changes):
    assert errors("CreateLifecycleRequest", create_request(**changes)) != []


@pytest.mark.parametrize("missing", ["stack_tag", "owner", "notifications", "events", "product_ver",
                                     "product_name", "commit_ref"])
def test_create_request_requires_each_field(missing):
    request = create_request()
    del request[missing]
    assert errors("CreateLifecycleRequest", request) != []


def test_create_request_length_limits_are_the_domains():
    from orchestrator.domain.errors import ValidationError
    from orchestrator.domain.requests import parse_create_request

    longest = create_request(owner="o" * 128, commit_ref="c" * 64)
    assert errors("CreateLifecycleRequest", longest) == []
    parse_create_request(longest)
    for too_long in (create_request(owner="o" * 129), create_request(commit_ref="c" * 65)):
        assert errors("CreateLifecycleRequest", too_long) != []
        with pytest.raises(ValidationError):
            parse_create_request(too_long)


def test_certification_status_is_certified_or_failed_only():
    assert errors("CertifyRequest", {"stack_tag": "main", "certification_status": "PASSED"}) != []


def test_patch_request_rejects_a_major_semver_bump():
    assert errors("CreatePatchRequest", patch_request(semver_bump_type="MAJOR")) != []


def test_patch_request_needs_an_s3_url_for_the_component():
    request = patch_request(patch_component_url="https://example.com/component.yml")
    assert errors("CreatePatchRequest", request) != []


def test_patch_request_requires_a_change_description():
    request = patch_request()
    del request["properties"]["patch_change_description"]
    assert errors("CreatePatchRequest", request) != []


def test_patch_request_rejects_creation_events():
    request = patch_request()
    request["events"][0] = {"name": "BUILD_AMI", "enabled": True}
    assert errors("CreatePatchRequest", request) != []


def test_lifecycle_ids_must_be_uuids():
    request = copy.deepcopy(patch_request())
    request["lifecycle_id"] = "not-a-lifecycle"
    assert errors("CreatePatchRequest", request) != []


def test_error_bodies_only_carry_known_codes():
    assert errors("Error", {"error": "boom", "code": "VALIDATION_ERROR", "field": "owner"}) == []
    assert errors("Error", {"error": "boom", "code": "TEAPOT"}) != []
