"""Lambda REQUEST authorizers on the local gateway run as on API Gateway: before the request
validator and the integration, answering 401 / 403 through the API's gateway responses, with
results cached by identity source for the authorizer's TTL and evaluated against each call's
method ARN."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.local.apps.authorizer_app import deployed_authorizer_app

TIMEOUT = 30


@pytest.fixture(scope="module")
def url(local_cloud: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    return deployed_authorizer_app(local_cloud, tmp_path_factory.mktemp("authorizer-app"))["ApiUrl"].rstrip("/")


def invocation(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["authorizer"]["invocation"]


def test_a_request_without_the_identity_source_is_401_without_validating_the_body(url):
    response = requests.post(f"{url}/items", json={"unexpected": 1}, timeout=TIMEOUT)

    assert response.status_code == 401
    assert response.json() == {"error": "no key", "code": "UNAUTHORIZED"}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_a_denied_key_with_a_bad_body_is_403_not_400(url):
    response = requests.post(f"{url}/items", headers={"x-key": "other"}, json={"unexpected": 1}, timeout=TIMEOUT)

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    assert "explicit deny" in response.json()["error"]


def test_an_allowed_key_reaches_the_validator_then_the_integration(url):
    refused = requests.post(f"{url}/items", headers={"x-key": "good"}, json={"unexpected": 1}, timeout=TIMEOUT)
    served = requests.post(f"{url}/items", headers={"x-key": "good"}, json={"name": "a"}, timeout=TIMEOUT)

    assert refused.status_code == 400
    seen = served.json()["authorizer"]
    assert served.status_code == 200
    assert seen["principalId"] == "caller-good"
    assert seen["type"] == "REQUEST" and seen["resource"] == "/items"


def test_a_cached_result_is_reused_without_calling_the_authorizer(url):
    first = invocation(requests.post(f"{url}/items", headers={"x-key": "good"}, json={"name": "a"}, timeout=TIMEOUT))
    second = invocation(requests.post(f"{url}/items", headers={"x-key": "good"}, json={"name": "b"}, timeout=TIMEOUT))

    assert first == second


def test_a_cached_policy_is_evaluated_against_each_calls_method(url):
    requests.post(f"{url}/items", headers={"x-key": "good"}, json={"name": "a"}, timeout=TIMEOUT)

    # Same identity source, same cache entry: its policy allows */items only.
    response = requests.post(f"{url}/other", headers={"x-key": "good"}, timeout=TIMEOUT)

    assert response.status_code == 403
    assert "not authorized" in response.json()["error"]


def test_ttl_zero_calls_the_authorizer_on_every_request(url):
    first = invocation(requests.put(f"{url}/items", headers={"x-key": "good"}, timeout=TIMEOUT))
    second = invocation(requests.put(f"{url}/items", headers={"x-key": "good"}, timeout=TIMEOUT))

    assert first != second


def test_without_identity_source_the_function_decides_and_may_answer_401(url):
    by_query = requests.get(f"{url}/items", params={"key": "good"}, timeout=TIMEOUT)
    by_header = requests.get(f"{url}/items", headers={"x-key": "good"}, timeout=TIMEOUT)
    none = requests.get(f"{url}/items", timeout=TIMEOUT)

    assert invocation(by_query) != invocation(by_header)
    assert none.status_code == 401 and none.json()["code"] == "UNAUTHORIZED"


def test_an_authorizer_that_fails_is_a_500(url):
    response = requests.put(f"{url}/items", headers={"x-key": "broken"}, timeout=TIMEOUT)

    assert response.status_code == 500


def test_a_method_without_authorizer_is_not_authorized(url):
    response = requests.get(f"{url}/open", timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.json()["authorizer"] is None
