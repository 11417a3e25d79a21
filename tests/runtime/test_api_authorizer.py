"""The REQUEST authorizer: no key is 401 (``Unauthorized``), a key gets a policy naming every route it
opens (so a cached answer is right for sibling routes too), any other key an explicit deny."""

from __future__ import annotations

import re

import pytest

from orchestrator.api import operations

from .conftest import ACCOUNT, API_ID, REGION, STAGE, FakeContext

STAGE_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}"
STATUS = "/ami-creation/lifecycles/{lifecycle-id}/status"
LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"


@pytest.fixture
def authorizer(cloud, monkeypatch):
    from orchestrator.bootstrap import reset
    from orchestrator.handlers import authorizer as handler

    for name, value in cloud.environment().items():
        monkeypatch.setenv(name, value)
    reset()
    yield handler
    reset()


def request_event(method: str, resource: str, *, headers=None, query=None) -> dict:
    path = resource.replace("{lifecycle-id}", LIFECYCLE_ID)
    return {"type": "REQUEST", "methodArn": f"{STAGE_ARN}/{method}{path}", "resource": resource, "path": path,
            "httpMethod": method, "headers": headers, "queryStringParameters": query,
            "pathParameters": {"lifecycle-id": LIFECYCLE_ID} if "{" in resource else None}


def allows(answer: dict, method: str, path: str) -> bool:
    """IAM evaluation of the answer's policy for one method ARN (explicit deny wins)."""
    arn = f"{STAGE_ARN}/{method}{path}"
    effects = [statement["Effect"] for statement in answer["policyDocument"]["Statement"]
               for resource in statement["Resource"]
               if re.fullmatch(re.escape(resource).replace(r"\*", ".*"), arn)]
    return "Allow" in effects and "Deny" not in effects


def test_no_key_is_unauthorized(authorizer):
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorizer.handle(request_event("GET", STATUS), FakeContext())


def test_an_empty_header_counts_as_no_key(authorizer):
    with pytest.raises(authorizer.Unauthorized):
        authorizer.handle(request_event("POST", "/ami-creation/lifecycles", headers={"x-api-key": ""}), FakeContext())


def test_a_wrong_key_is_an_explicit_deny_of_every_route(authorizer):
    answer = authorizer.handle(request_event("GET", STATUS, headers={"x-api-key": "not-a-key"}), FakeContext())

    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{STAGE_ARN}/*/*"]}]
    assert "not-a-key" not in str(answer)


def test_an_overlong_key_is_denied(authorizer):
    answer = authorizer.handle(request_event("GET", STATUS, headers={"x-api-key": "k" * 129}), FakeContext())
    assert not allows(answer, "GET", f"/ami-creation/lifecycles/{LIFECYCLE_ID}/status")


def test_the_status_key_opens_the_four_status_routes_and_nothing_else(authorizer, cloud):
    key = cloud.keys["ami_creation_status_secret_name"]
    answer = authorizer.handle(request_event("GET", STATUS, headers={"X-Api-Key": key}), FakeContext())

    assert answer["principalId"] == "ami_creation_status_secret_name"
    assert key not in str(answer)
    for operation in operations():
        path = operation.path.replace("{lifecycle-id}", LIFECYCLE_ID)
        expected = operation.api_key_setting == "ami_creation_status_secret_name"
        assert allows(answer, operation.method, path) is expected, (operation.method, operation.path)


def test_the_create_key_opens_create_only_so_a_cached_answer_refuses_it_on_update(authorizer, cloud):
    key = cloud.keys["ami_creation_post_secret_name"]
    answer = authorizer.handle(request_event("POST", "/ami-creation/lifecycles", headers={"x-api-key": key}),
                               FakeContext())

    assert allows(answer, "POST", "/ami-creation/lifecycles")
    assert not allows(answer, "PUT", "/ami-creation/lifecycles")


def test_reads_accept_the_legacy_query_key_and_the_header_wins(authorizer, cloud):
    key = cloud.keys["ami_creation_status_secret_name"]
    by_query = authorizer.handle(request_event("GET", STATUS, query={"api_key": key}), FakeContext())
    header_wins = authorizer.handle(request_event("GET", STATUS, headers={"x-api-key": "wrong"},
                                                  query={"api_key": key}), FakeContext())

    path = f"/ami-creation/lifecycles/{LIFECYCLE_ID}/status"
    assert allows(by_query, "GET", path)
    assert not allows(header_wins, "GET", path)


def test_writes_do_not_take_the_key_from_the_query_string(authorizer, cloud):
    key = cloud.keys["ami_creation_post_secret_name"]
    with pytest.raises(authorizer.Unauthorized):
        authorizer.handle(request_event("POST", "/ami-creation/lifecycles", query={"api_key": key}), FakeContext())
