"""public_view: status responses never show a key, a token or a signed URL."""

import json

from orchestrator.domain import records
from orchestrator.domain.redaction import is_sensitive_key, redact_url
from orchestrator.domain.vocabulary import EventName as E

from .domain_builders import NOW, completed, new_record, result

SECRETS = ("k-123-secret", "tok-456", "sig-789", "pw-000")


def leaky_record():
    record = completed(new_record(), "BUILD_AMI")
    record = records.mark_event_in_progress(
        record, E.SMOKE_TESTS_AMI_CREATE, NOW, description="smoke",
        properties={"receiver": {"api_key": "k-123-secret"}},
        statemachine_input={"lifecycle_id": record["lifecycle_id"], "api_key": "k-123-secret",
                            "nested": [{"task_token": "tok-456"}]})
    record["timeline"] = {"ami_creation": "https://api.example.com/dev/x/timeline?api_key=k-123-secret"}
    record["outputs_ami_creation"]["events"].append(result(E.QA_CERTIFICATION_REQUEST, properties={
        "export_presign_s3_url": "https://b.s3.amazonaws.com/e.vmdk?X-Amz-Credential=a&X-Amz-Signature=sig-789",
        "db_password": "pw-000"}).to_item())
    return record


def test_public_view_contains_none_of_the_secrets_anywhere():
    text = json.dumps(records.public_view(leaky_record()))

    assert not any(secret in text for secret in SECRETS)


def test_public_view_keeps_the_url_without_its_signed_query():
    view = records.public_view(leaky_record())

    assert view["timeline"]["ami_creation"] == "https://api.example.com/dev/x/timeline"


def test_public_view_keeps_everything_that_is_not_a_secret():
    view = records.public_view(leaky_record())

    assert view["event_in_progress"]["statemachine_input"]["lifecycle_id"] == view["lifecycle_id"]
    assert view["outputs_ami_creation"]["events"][0]["name"] == "BUILD_AMI"


def test_statemachine_input_stored_as_json_text_is_redacted_too():
    record = leaky_record()
    record["event_in_progress"]["statemachine_input"] = json.dumps({"api_key": "k-123-secret", "ami_id": "ami-1"})

    view = records.public_view(record)

    assert view["event_in_progress"]["statemachine_input"] == {"ami_id": "ami-1"}


def test_public_view_does_not_modify_the_record():
    record = leaky_record()

    records.public_view(record)

    assert record["event_in_progress"]["statemachine_input"]["api_key"] == "k-123-secret"


def test_sensitive_key_names():
    assert [is_sensitive_key(k) for k in ("api_key", "API-KEY", "ami_creation_status_api_key", "TaskToken",
                                          "client_secret", "s3_object_key", "S3Key", "ami_id")] == [
        True, True, True, True, True, False, False, False]


def test_urls_without_credentials_are_kept_whole():
    assert redact_url("https://example.com/page?tab=2") == "https://example.com/page?tab=2"
