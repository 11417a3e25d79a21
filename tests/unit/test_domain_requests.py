"""Request validation: every field of every request, errors naming the field and what is allowed."""

import pytest

from orchestrator.domain import requests as r
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.vocabulary import ApprovalStatus, CertificationStatus, EventName, NotificationMethod, SemverBump

from .domain_builders import CREATION_EVENTS, LIFECYCLE_ID, create_body, patch_body, toggles, update_body


def error_of(parse, *args) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse(*args)
    return caught.value


# ----------------------------------------------------------------- create

def test_valid_create_request_becomes_a_frozen_value():
    request = r.parse_create_request(create_body())

    assert (request.stack_tag, request.owner, request.product_name, request.commit_ref) == (
        "main", "platform-team", "billing-service", "3f9c2ab")
    with pytest.raises(AttributeError):
        request.owner = "someone else"


def test_create_request_properties_are_read_only():
    with pytest.raises(TypeError):
        r.parse_create_request(create_body()).properties["team"] = "other"


def test_body_must_be_an_object():
    assert error_of(r.parse_create_request, ["not", "an", "object"]).message.startswith("request body: expected")


@pytest.mark.parametrize("field", ["stack_tag", "owner", "notifications", "events", "product_ver", "product_name",
                                   "commit_ref"])
def test_every_required_create_field_is_named_when_missing(field):
    body = create_body()
    del body[field]

    error = error_of(r.parse_create_request, body)

    assert error.field == field and "missing" in error.message


@pytest.mark.parametrize("tag", ["Main", "-main", "main-", "a" * 33, "feature_x", ""])
def test_stack_tag_must_be_a_slug(tag):
    assert error_of(r.parse_create_request, create_body(stack_tag=tag)).field == "stack_tag"


@pytest.mark.parametrize("tag", ["main", "a", "feature-123", "a" * 32])
def test_stack_tag_accepts_slugs(tag):
    assert r.parse_create_request(create_body(stack_tag=tag)).stack_tag == tag


def test_unknown_field_is_rejected_with_the_accepted_fields():
    error = error_of(r.parse_create_request, create_body(stackTag="main"))

    assert error.field == "stackTag" and "stack_tag" in error.allowed


def test_api_key_in_the_body_is_tolerated_and_dropped():
    request = r.parse_create_request(create_body(api_key="secret-value"))

    assert "secret-value" not in repr(request)


def test_commit_ref_is_required_whatever_the_position_of_the_build_in_the_list():
    body = create_body(events=list(reversed(toggles(CREATION_EVENTS, {"BUILD_AMI"}))))
    del body["commit_ref"]

    assert error_of(r.parse_create_request, body).field == "commit_ref"


def test_commit_ref_must_not_contain_spaces():
    assert error_of(r.parse_create_request, create_body(commit_ref="a b")).field == "commit_ref"


def test_owner_is_bounded():
    assert "at most 128" in error_of(r.parse_create_request, create_body(owner="o" * 129)).message


def test_commit_ref_is_bounded():
    assert error_of(r.parse_create_request, create_body(commit_ref="c" * 65)).field == "commit_ref"


def test_blank_product_name_is_rejected():
    assert error_of(r.parse_create_request, create_body(product_name="   ")).message == (
        "product_name: expected a non-empty string of at most 128 characters, got an empty string")


def test_create_events_follow_the_combination_rules():
    body = create_body(events=toggles(CREATION_EVENTS, {"BUILD_AMI", "QA_CERTIFICATION_REQUEST"}))

    assert error_of(r.parse_create_request, body).field == "events"


def test_create_request_keeps_events_in_sequence_order():
    request = r.parse_create_request(create_body(events=list(reversed(toggles(CREATION_EVENTS, {"BUILD_AMI"})))))

    assert [t.name for t in request.events] == list(CREATION_EVENTS)


# ----------------------------------------------------------- notifications

def test_notifications_need_at_least_one_channel():
    assert "1-10" in error_of(r.parse_create_request, create_body(notifications=[])).message


def test_notification_method_must_be_email_or_http():
    error = error_of(r.parse_create_request, create_body(notifications=[{"method": "SMS", "target": "+1555"}]))

    assert (error.field, error.allowed) == ("notifications[0].method", ["EMAIL", "HTTP"])


def test_email_target_must_look_like_an_email_address():
    error = error_of(r.parse_create_request,
                     create_body(notifications=[{"method": "EMAIL", "target": "https://example.com"}]))

    assert error.field == "notifications[0].target" and "email address" in error.message


def test_http_target_must_be_an_http_url():
    error = error_of(r.parse_create_request,
                     create_body(notifications=[{"method": "HTTP", "target": "ftp://example.com/x"}]))

    assert error.field == "notifications[0].target" and "https://" in error.message


def test_http_channel_is_accepted_and_method_stored_upper_case():
    request = r.parse_create_request(
        create_body(notifications=[{"method": "http", "target": "https://hooks.example.com/ami"}]))

    assert request.notifications[0].to_dict() == {"method": "HTTP", "target": "https://hooks.example.com/ami"}
    assert request.notifications[0].method is NotificationMethod.HTTP


def test_unknown_field_in_a_notification_is_rejected():
    error = error_of(r.parse_create_request,
                     create_body(notifications=[{"method": "EMAIL", "target": "a@example.com", "format": "html"}]))

    assert error.allowed == ["method", "target"]


def test_duplicate_notification_channel_is_rejected():
    channel = {"method": "EMAIL", "target": "owner@example.com"}

    assert "more than once" in error_of(r.parse_create_request, create_body(notifications=[channel, channel])).message


# --------------------------------------------------------------- properties

def test_properties_are_optional():
    body = create_body()
    del body["properties"]

    assert dict(r.parse_create_request(body).properties) == {}


def test_property_values_must_be_strings():
    assert error_of(r.parse_create_request, create_body(properties={"retries": 3})).field == "properties.retries"


def test_property_keys_must_be_simple_names():
    assert "not allowed" in error_of(r.parse_create_request, create_body(properties={"a b": "x"})).message


def test_properties_are_bounded_in_count():
    many = {f"key{i}": "v" for i in range(51)}

    assert "at most 50" in error_of(r.parse_create_request, create_body(properties=many)).message


def test_properties_must_be_an_object_not_a_key_value_list():
    assert error_of(r.parse_create_request, create_body(properties=[{"key": "a", "value": "b"}])).field == "properties"


# ----------------------------------------------------------------- update

def test_valid_update_request():
    request = r.parse_update_request(update_body())

    assert request.lifecycle_id == LIFECYCLE_ID and [t.name for t in request.events if t.enabled] == [
        EventName.SMOKE_TESTS_AMI_CREATE]


def test_update_requires_the_build_disabled():
    body = update_body(events=toggles(CREATION_EVENTS, {"BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"}))

    assert "must be disabled" in error_of(r.parse_update_request, body).message


def test_update_lifecycle_id_must_be_a_uuid():
    assert error_of(r.parse_update_request, update_body(lifecycle_id="42")).field == "lifecycle_id"


def test_lifecycle_id_is_stored_in_canonical_lower_case():
    assert r.parse_update_request(update_body(lifecycle_id=LIFECYCLE_ID.upper())).lifecycle_id == LIFECYCLE_ID


def test_update_rejects_product_fields():
    assert error_of(r.parse_update_request, update_body(product_ver="2")).field == "product_ver"


# ------------------------------------------------------------------ patch

def test_valid_patch_request_exposes_the_patch_properties():
    request = r.parse_patch_request(patch_body())

    assert (request.patch_component_url, request.semver_bump_type) == ("s3://patch-bucket/lc/openssl.yml",
                                                                       SemverBump.MINOR)


def test_patch_bump_type_is_validated_and_stored_canonically():
    body = patch_body()
    body["properties"]["semver_bump_type"] = "patch"

    assert r.parse_patch_request(body).properties["semver_bump_type"] == "PATCH"


def test_patch_bump_type_must_be_minor_or_patch():
    body = patch_body()
    body["properties"]["semver_bump_type"] = "MAJOR"

    error = error_of(r.parse_patch_request, body)

    assert (error.field, error.allowed) == ("properties.semver_bump_type", ["MINOR", "PATCH"])


def test_patch_component_url_must_be_an_s3_url():
    body = patch_body()
    body["properties"]["patch_component_url"] = "/home/me/fix.yml"

    assert error_of(r.parse_patch_request, body).field == "properties.patch_component_url"


def test_patch_properties_are_required():
    body = patch_body()
    del body["properties"]

    assert error_of(r.parse_patch_request, body).field == "properties"


def test_patch_commit_ref_is_required():
    body = patch_body()
    del body["commit_ref"]

    assert error_of(r.parse_patch_request, body).field == "commit_ref"


def test_patch_update_requires_patch_disabled():
    body = patch_body(events=toggles(("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH"),
                                     {"PATCH_AMI"}))

    assert "PATCH_AMI must be disabled" in error_of(r.parse_patch_update_request, body).message


def test_patch_update_commit_ref_is_optional_and_may_be_empty():
    body = patch_body(commit_ref="", events=toggles(("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH",
                                                     "VULNERABILITY_SCANS_AMI_PATCH"), {"SMOKE_TESTS_AMI_PATCH"}))
    del body["properties"]

    assert r.parse_patch_update_request(body).commit_ref is None


# ------------------------------------------------------ certify and approve

def test_certification_request_takes_the_lifecycle_from_the_path():
    request = r.parse_certification_request({"stack_tag": "main", "certification_status": "certified"},
                                            LIFECYCLE_ID)

    assert (request.lifecycle_id, request.certification_status) == (LIFECYCLE_ID, CertificationStatus.CERTIFIED)


def test_body_lifecycle_id_must_agree_with_the_path():
    body = {"stack_tag": "main", "certification_status": "CERTIFIED",
            "lifecycle_id": "11111111-2222-4333-8444-555555555555"}

    assert "the path names" in error_of(r.parse_certification_request, body, LIFECYCLE_ID).message


def test_certification_status_is_validated():
    error = error_of(r.parse_certification_request, {"stack_tag": "main", "certification_status": "OK"},
                     LIFECYCLE_ID)

    assert error.allowed == ["CERTIFIED", "FAILED"]


def test_approval_failed_means_not_approved():
    request = r.parse_approval_request({"stack_tag": "main", "approval_status": "FAILED",
                                        "properties": {"reason": "CVE open"}}, LIFECYCLE_ID)

    assert request.approval_status is ApprovalStatus.NOT_APPROVED


def test_approval_requires_the_stack_tag():
    assert error_of(r.parse_approval_request, {"approval_status": "APPROVED"}, LIFECYCLE_ID).field == "stack_tag"


# -------------------------------------------------------------- list query

def test_list_query_defaults_to_25_items_and_no_token():
    query = r.parse_list_status_query({"stack_tag": "main"})

    assert (query.limit, query.next_token) == (25, None)


def test_list_query_accepts_limit_as_query_string_text():
    assert r.parse_list_status_query({"stack_tag": "main", "limit": "100"}).limit == 100


@pytest.mark.parametrize("limit", ["0", "101", "ten", -1, True])
def test_list_query_limit_must_be_1_to_100(limit):
    assert "from 1 to 100" in error_of(r.parse_list_status_query, {"stack_tag": "main", "limit": limit}).message


def test_list_query_without_stack_tag_lists_every_lifecycle():
    assert r.parse_list_status_query(None).stack_tag is None
    assert r.parse_list_status_query({"limit": "5"}) == r.ListStatusQuery(stack_tag=None, limit=5, next_token=None)


def test_list_query_stack_tag_filter_must_still_be_a_stack_tag():
    error = error_of(r.parse_list_status_query, {"stack_tag": "Main Branch"})
    assert error.field == "stack_tag"
    assert error.message.startswith("stack_tag: expected 1-32 lower-case letters")


def test_list_query_passes_the_next_token_through():
    assert r.parse_list_status_query({"stack_tag": "main", "next_token": "abc"}).next_token == "abc"


# ------------------------------------------------ every 400 names the field and the rule

def patch_update_body(**overrides):
    body = patch_body(events=toggles(("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH"),
                                     {"SMOKE_TESTS_AMI_PATCH"}))
    body.update(overrides)
    return body


def test_the_original_clients_patch_update_body_is_accepted():
    """Its AMI_PATCH_UPDATE always sends ``"properties": null`` and ``"commit_ref": ""``."""
    parsed = r.parse_patch_update_request(patch_update_body(properties=None, commit_ref="", api_key="k" * 30))
    assert parsed.commit_ref is None
    assert dict(parsed.properties) == {}


def _with(body, **changes):
    return {**body, **changes}


def _without(body, field):
    return {key: value for key, value in body.items() if key != field}


def _patch_properties(**changes):
    return _with(patch_body()["properties"], **changes)


BAD_BODIES = [
    (r.parse_create_request, (_with(create_body(), owner=""),), "owner", "expected a non-empty string"),
    (r.parse_create_request, (_without(create_body(), "product_ver"),), "product_ver", "missing (required)"),
    (r.parse_create_request, (_with(create_body(), notifications=[{"method": "SMS", "target": "+1555"}]),),
     "notifications[0].method", "expected one of EMAIL, HTTP, got 'SMS'"),
    (r.parse_create_request, (_with(create_body(), commit_ref="main branch"),), "commit_ref",
     "expected a commit reference"),
    (r.parse_create_request, (_with(create_body(), properties={"ticket": 7}),), "properties.ticket",
     "expected a string"),
    (r.parse_update_request, (_with(update_body(), lifecycle_id="nope"),), "lifecycle_id",
     "expected a lifecycle id"),
    (r.parse_update_request, (_with(update_body(), stack_tag="Main"),), "stack_tag", "expected 1-32 lower-case"),
    (r.parse_patch_request, (_with(patch_body(), properties=_patch_properties(semver_bump_type="MAJOR")),),
     "properties.semver_bump_type", "expected one of MINOR, PATCH, got 'MAJOR'"),
    (r.parse_patch_request, (_with(patch_body(), properties=_patch_properties(patch_component_url="http://x")),),
     "properties.patch_component_url", "expected the S3 URL of a component document"),
    (r.parse_patch_request, (_with(patch_body(), properties=None),), "properties", "missing (required)"),
    (r.parse_patch_update_request, (patch_update_body(properties="none"),), "properties",
     "expected an object of string values, got 'none'"),
    (r.parse_patch_update_request, (patch_update_body(commit_ref="main branch"),), "commit_ref",
     "expected a commit reference"),
    (r.parse_certification_request, ({"stack_tag": "main", "certification_status": "PASSED"}, LIFECYCLE_ID),
     "certification_status", "expected one of CERTIFIED, FAILED, got 'PASSED'"),
    (r.parse_approval_request, ({"stack_tag": "main", "approval_status": "MAYBE"}, LIFECYCLE_ID),
     "approval_status", "expected one of APPROVED, NOT_APPROVED, got 'MAYBE'"),
    (r.parse_approval_request, ({"approval_status": "APPROVED"}, LIFECYCLE_ID), "stack_tag", "missing (required)"),
    (r.parse_list_status_query, ({"limit": "0"},), "limit", "expected a whole number from 1 to 100"),
]


@pytest.mark.parametrize("parse,args,field,rule", BAD_BODIES,
                         ids=[f"{p.__name__.removeprefix('parse_')}-{f}" for p, _, f, _ in BAD_BODIES])
def test_a_bad_request_names_the_field_and_the_rule(parse, args, field, rule):
    error = error_of(parse, *args)
    assert error.field == field
    assert error.message.startswith(f"{field}: ")
    assert rule in error.message
    assert error.to_dict()["field"] == field
