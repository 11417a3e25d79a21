"""Authentication: which key each route takes, where it may travel, what a wrong one gets."""

from __future__ import annotations

import boto3

from orchestrator.adapters import api_keys

from .conftest import REGION, api_event, call, create_body

LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"
STATUS = "/ami-creation/lifecycles/{lifecycle-id}/status"


def status_event(**kwargs):
    return api_event("GET", STATUS, path_parameters={"lifecycle-id": LIFECYCLE_ID}, **kwargs)


def test_a_request_without_any_key_is_401(api):
    answer = call(api, status_event())
    assert answer.status == 401
    assert answer.json["code"] == "UNAUTHORIZED"
    assert "x-api-key" in answer.json["error"]


def test_an_empty_key_counts_as_no_key(api):
    assert call(api, status_event(headers={"x-api-key": ""})).status == 401


def test_a_wrong_key_is_403(api):
    answer = call(api, status_event(headers={"x-api-key": "not-the-key"}))
    assert answer.status == 403
    assert answer.json == {"error": "the API key is not valid for this route", "code": "FORBIDDEN"}


def test_another_routes_key_is_403(api, cloud):
    answer = call(api, status_event(headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]}))
    assert answer.status == 403


def test_an_overlong_key_is_403(api):
    assert call(api, status_event(headers={"x-api-key": "k" * 129})).status == 403


def test_the_key_in_the_x_api_key_header_is_accepted(api, cloud):
    answer = call(api, status_event(headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 404  # authenticated: the lifecycle simply does not exist


def test_header_names_are_case_insensitive(api, cloud):
    answer = call(api, status_event(headers={"X-Api-Key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 404


def test_the_legacy_query_parameter_is_accepted_on_read_routes(api, cloud):
    answer = call(api, status_event(query={"api_key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 404


def test_the_legacy_body_field_is_accepted_on_write_routes(api, cloud):
    body = create_body(api_key=cloud.keys["ami_creation_post_secret_name"])
    answer = call(api, api_event("POST", "/ami-creation/lifecycles", body=body))
    assert answer.status == 200, answer.text


def test_a_query_key_is_not_accepted_on_write_routes(api, cloud):
    event = api_event("POST", "/ami-creation/lifecycles", body=create_body(),
                      query={"api_key": cloud.keys["ami_creation_post_secret_name"]})
    assert call(api, event).status == 401


def test_the_header_wins_over_a_legacy_key(api, cloud):
    good = cloud.keys["ami_creation_status_secret_name"]
    assert call(api, status_event(headers={"x-api-key": "wrong"}, query={"api_key": good})).status == 403
    assert call(api, status_event(headers={"x-api-key": good}, query={"api_key": "wrong"})).status == 404


def test_a_malformed_body_without_a_header_key_is_401_not_400(api):
    event = api_event("POST", "/ami-creation/lifecycles", body="{not json")
    assert call(api, event).status == 401


def test_keys_are_compared_in_constant_time(api, cloud, monkeypatch):
    compared = []
    real = api_keys.hmac.compare_digest

    def spy(left, right):
        compared.append((type(left), type(right)))
        return real(left, right)

    monkeypatch.setattr(api_keys.hmac, "compare_digest", spy)
    call(api, status_event(headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    call(api, status_event(headers={"x-api-key": "wrong"}))
    assert compared and all(kinds == (bytes, bytes) for kinds in compared)


def test_a_rotated_key_is_accepted_before_the_cache_expires(api, cloud):
    status_key = cloud.keys["ami_creation_status_secret_name"]
    assert call(api, status_event(headers={"x-api-key": status_key})).status == 404
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=f"{cloud.secret_prefix}ami_creation_status_api_key", SecretString="R0tatedKey" * 4)
    assert call(api, status_event(headers={"x-api-key": "R0tatedKey" * 4})).status == 404
    assert call(api, status_event(headers={"x-api-key": status_key})).status == 403


def test_wrong_keys_do_not_make_every_request_read_the_secret(api, cloud):
    reads = []
    app = api.application()
    provider = app.api_keys._secrets
    real_get = provider.get

    def counting_get(name, **kwargs):
        reads.append(kwargs.get("force_fetch"))
        return real_get(name, **kwargs)

    provider.get = counting_get
    for _ in range(5):
        call(api, status_event(headers={"x-api-key": "wrong"}))
    assert reads.count(True) == 1


def test_an_unreadable_key_secret_is_a_500_without_details(api, cloud):
    boto3.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId=f"{cloud.secret_prefix}ami_creation_status_api_key", ForceDeleteWithoutRecovery=True)
    answer = call(api, status_event(headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 500
    assert answer.json["code"] == "INTERNAL_ERROR"
    assert "api-keys" not in answer.text
