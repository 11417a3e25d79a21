"""api-cli.py BATCH mode: what it sends, where, with which key, and what it prints."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import responses

from amilc.api_cli import cli
from amilc.operations import OPERATIONS, Kind
from tests.client import builders
from tests.client.conftest import API_URL, PATCH_BUCKET, REGION
from tests.client.test_api_cli_errors import BASE

LC = builders.LIFECYCLE_ID
CREATE = ["--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "platform-team",
          "--productName", "payments-service", "--productVer", "2.4.1", "--commitRef", "9fceb02",
          "--notifications", "EMAIL::platform-team@example.com", "--events", "AMI_BUILD_ONLY"]


def batch(runner: Any, *args: str) -> Any:
    return runner.invoke(cli, ["--mode", "BATCH", *args])


def sent_json(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


def answer_create(api: responses.RequestsMock) -> None:
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created()))


def test_create_posts_to_the_creation_route_with_the_creation_key_in_the_header(deployment, api, runner):
    answer_create(api)

    result = batch(runner, *CREATE)

    assert result.exit_code == 0, result.output
    request = api.calls[0].request
    assert request.method == "POST" and request.url == f"{API_URL}/ami-creation/lifecycles"
    assert request.headers["x-api-key"] == deployment.key("ami_creation_post_secret_name")
    assert "api_key" not in sent_json(api.calls[0])


def test_create_builds_the_body_from_the_flags(deployment, api, runner):
    answer_create(api)

    batch(runner, *CREATE, "--events", "SMOKE_TESTS", "--notifications", "HTTP::https://hooks.example.com/ami",
          "--properties", "ticket::OPS-1234", "--properties", "team::payments")

    assert sent_json(api.calls[0]) == {
        "stack_tag": "main",
        "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "platform-team@example.com"},
                          {"method": "HTTP", "target": "https://hooks.example.com/ami"}],
        "events": [{"name": "BUILD_AMI", "enabled": True},
                   {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True},
                   {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
                   {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}],
        "product_ver": "2.4.1",
        "product_name": "payments-service",
        "commit_ref": "9fceb02",
        "properties": {"ticket": "OPS-1234", "team": "payments"},
    }


def test_every_cli_event_value_maps_to_its_api_event_name(deployment, api, runner):
    answer_create(api)

    batch(runner, *CREATE, "--events", "smoke_tests", "--events", "VULNERABILITY_SCANS",
          "--events", "QA_CERTIFICATION_REQUEST")

    assert all(event["enabled"] for event in sent_json(api.calls[0])["events"])


def test_create_prints_the_bare_lifecycle_id_on_stdout_and_the_rest_on_stderr(deployment, api, runner):
    answer_create(api)

    result = batch(runner, *CREATE)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"
    assert f"timeline: {API_URL}/ami-creation/lifecycles/{LC}/timeline" in result.stderr.splitlines()
    assert "AMI_CREATE accepted for platform-team" in result.stderr


RECORDING = [name for name, op in OPERATIONS.items() if op.kind not in (Kind.STATUS, Kind.STATUSES, Kind.TIMELINE)]


@pytest.mark.parametrize("operation", RECORDING)
def test_every_operation_that_records_something_prints_only_the_lifecycle_id(deployment, api, runner, operation):
    op = OPERATIONS[operation]
    api.add(op.method, f"{API_URL}{op.route(LC)}", json=builders.accepted(builders.created()))

    result = batch(runner, *BASE[operation])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"


def test_create_with_json_output_prints_the_api_answer(deployment, api, runner):
    answer_create(api)

    result = batch(runner, *CREATE, "--output", "json")

    assert json.loads(result.stdout) == builders.accepted(builders.created())


def git_checkout(path: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-q", "--allow-empty", "-m", "first")
    return git("rev-parse", "HEAD")


def without_commit_ref(args: list[str]) -> list[str]:
    index = args.index("--commitRef")
    return args[:index] + args[index + 2:]


def test_the_commit_defaults_to_the_git_head_of_the_current_directory(deployment, api, runner, tmp_path,
                                                                       monkeypatch):
    head = git_checkout(tmp_path)
    monkeypatch.chdir(tmp_path)
    answer_create(api)

    batch(runner, *without_commit_ref(CREATE))

    assert sent_json(api.calls[0])["commit_ref"] == head


def test_outside_git_the_commit_flag_is_required(deployment, api, runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = batch(runner, *without_commit_ref(CREATE))

    assert result.exit_code == 2
    assert result.stderr == "error: --commitRef is required for --operation AMI_CREATE outside a git checkout\n"
    assert len(api.calls) == 0


def test_status_reads_the_lifecycle_with_the_status_key(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status",
            json=builders.view(builders.built(builders.created("SMOKE_TESTS_AMI_CREATE"))))

    result = batch(runner, "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main", "--lifecycleId", LC)

    assert result.exit_code == 0, result.output
    assert api.calls[0].request.headers["x-api-key"] == deployment.key("ami_creation_status_secret_name")
    assert f"built AMI: {builders.BUILT_AMI} (us-east-1) version 1.0.0" in result.stdout


def test_status_text_lists_every_creation_event_with_its_status(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status",
            json=builders.view(builders.built(builders.created("SMOKE_TESTS_AMI_CREATE"))))

    result = batch(runner, "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main", "--lifecycleId", LC)

    states = {line.split()[0]: " ".join(line.split()[1:]) for line in result.stdout.splitlines()
              if line.startswith("  ")}
    assert states["BUILD_AMI"].startswith("COMPLETED")
    assert states["SMOKE_TESTS_AMI_CREATE"] == "NOT_STARTED"
    assert states["VULNERABILITY_SCANS_AMI_CREATE"] == "not requested"
    assert states["MARK_FOR_PRODUCTION_CREATE"] == "NOT_STARTED"


def test_status_text_shows_the_cause_of_a_failed_event(deployment, api, runner):
    record = builders.build_error(builders.created(), "Image Builder: image build FAILED: component step 2")
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status", json=builders.view(record))

    result = batch(runner, "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main", "--lifecycleId", LC)

    build_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("BUILD_AMI"))
    assert "ERROR" in build_line and "component step 2" in build_line


def test_status_json_prints_the_api_answer_unchanged(deployment, api, runner):
    record = builders.view(builders.created())
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status", json=record)

    result = batch(runner, "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main",
                   "--lifecycleId", LC, "--output", "json")

    assert json.loads(result.stdout) == record


def test_statuses_lists_one_page_of_the_stack_tag_and_says_how_to_get_the_next(deployment, api, runner):
    page = {"items": [builders.view(builders.built(builders.created()))], "next_token": "eyJuZXh0IjoxfQ"}
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/status", json=page)

    result = batch(runner, "--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--limit", "10")

    request = api.calls[0].request
    assert request.url == f"{API_URL}/ami-creation/lifecycles/status?stack_tag=main&limit=10"
    row = result.stdout.splitlines()[1].split()
    assert row[0] == LC and row[2] == "1.0.0"
    assert "more lifecycles" not in result.stdout
    assert result.stderr.splitlines()[-1] == "more lifecycles: repeat with --next-token eyJuZXh0IjoxfQ"


def test_statuses_passes_the_next_token_back(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/status", json={"items": []})

    result = batch(runner, "--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--next-token", "abc")

    assert api.calls[0].request.url.endswith("status?stack_tag=main&next_token=abc")
    assert result.stdout.strip() == "no lifecycles"


TIMELINE_HTML = "<html><body>timeline</body></html>"


@pytest.mark.parametrize("operation, phase, setting", [
    ("AMI_TIMELINE_CREATE", "ami-creation", "ami_creation_timeline_secret_name"),
    ("AMI_TIMELINE_PATCH", "ami-patch", "ami_patch_timeline_secret_name"),
])
def test_timeline_fetches_the_page_with_its_key_and_prints_the_link_without_it(deployment, api, runner, operation,
                                                                                phase, setting):
    url = f"{API_URL}/{phase}/lifecycles/{LC}/timeline"
    api.add(responses.GET, url, body=TIMELINE_HTML, content_type="text/html")

    result = batch(runner, "--operation", operation, "--stackTag", "main", "--lifecycleId", LC)

    assert result.exit_code == 0, result.output
    assert api.calls[0].request.headers["x-api-key"] == deployment.key(setting)
    assert result.stdout == f"{url}\n"
    assert "--show-key-in-url" in result.stderr
    assert deployment.key(setting) not in result.output


def test_show_key_in_url_prints_a_ready_link_and_warns_about_it(deployment, api, runner):
    url = f"{API_URL}/ami-creation/lifecycles/{LC}/timeline"
    api.add(responses.GET, url, body=TIMELINE_HTML, content_type="text/html")
    key = deployment.key("ami_creation_timeline_secret_name")

    result = batch(runner, "--operation", "AMI_TIMELINE_CREATE", "--stackTag", "main", "--lifecycleId", LC,
                   "--show-key-in-url")

    from urllib.parse import urlencode
    assert result.stdout == f"{url}?{urlencode({'api_key': key})}\n"
    assert result.stderr.startswith("warning: this link contains the timeline API key")


def test_timeline_save_writes_the_page_to_a_file(deployment, api, runner, tmp_path):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/timeline", body=TIMELINE_HTML,
            content_type="text/html")
    target = tmp_path / "timeline.html"

    result = batch(runner, "--operation", "AMI_TIMELINE_CREATE", "--stackTag", "main", "--lifecycleId", LC,
                   "--save", str(target))

    assert result.exit_code == 0, result.output
    assert target.read_text() == TIMELINE_HTML


@pytest.mark.parametrize("operation, flag, path, body_field, sent", [
    ("AMI_QA_CERTIFICATION", "--certificationStatus", "ami-creation/lifecycles/{}/certify",
     "certification_status", "CERTIFIED"),
    ("AMI_APPROVAL_CREATE", "--approvalStatusAmiCreation", "ami-creation/lifecycles/{}/approve",
     "approval_status", "APPROVED"),
    ("AMI_APPROVAL_PATCH", "--approvalStatusAmiPatch", "ami-patch/lifecycles/{}/approve",
     "approval_status", "APPROVED"),
])
def test_verdicts_post_to_the_lifecycle_route(deployment, api, runner, operation, flag, path, body_field, sent):
    api.add(responses.POST, f"{API_URL}/{path.format(LC)}", json=builders.accepted(builders.created()))

    result = batch(runner, "--operation", operation, "--stackTag", "main", "--lifecycleId", LC, flag, sent.lower())

    assert result.exit_code == 0, result.output
    assert sent_json(api.calls[0]) == {"lifecycle_id": LC, "stack_tag": "main", body_field: sent}


def test_a_revocation_posts_the_reason_to_the_revoke_route_with_its_key(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/lifecycles/{LC}/revoke", json=builders.accepted(builders.created()))

    result = batch(runner, "--operation", "AMI_REVOKE", "--stackTag", "main", "--lifecycleId", LC,
                   "--reason", "CVE-2026-1 in openssl", "--amiId", "ami-0123456789abcdef0")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"
    assert api.calls[0].request.headers["x-api-key"] == deployment.key("ami_revoke_secret_name")
    assert sent_json(api.calls[0]) == {"lifecycle_id": LC, "stack_tag": "main", "reason": "CVE-2026-1 in openssl",
                                       "ami_id": "ami-0123456789abcdef0"}


def test_a_revocation_with_an_empty_reason_is_refused_before_any_call(deployment, api, runner):
    result = batch(runner, "--operation", "AMI_REVOKE", "--stackTag", "main", "--lifecycleId", LC, "--reason", " ")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: --reason")
    assert not [call for call in api.calls if "/revoke" in call.request.url]


def test_a_refused_approval_is_sent_as_not_approved(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles/{LC}/approve",
            json=builders.accepted(builders.created()))

    batch(runner, "--operation", "AMI_APPROVAL_CREATE", "--stackTag", "main", "--lifecycleId", LC,
          "--approvalStatusAmiCreation", "FAILED")

    assert sent_json(api.calls[0])["approval_status"] == "NOT_APPROVED"


def test_update_puts_the_chosen_events_with_build_disabled(deployment, api, runner):
    api.add(responses.PUT, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created()))

    result = batch(runner, "--operation", "AMI_CREATE_UPDATE", "--stackTag", "main", "--lifecycleId", LC,
                   "--owner", "platform-team", "--notifications", "EMAIL::platform-team@example.com",
                   "--events", "VULNERABILITY_SCANS")

    assert result.exit_code == 0, result.output
    assert api.calls[0].request.headers["x-api-key"] == deployment.key("ami_creation_put_secret_name")
    body = sent_json(api.calls[0])
    assert body["lifecycle_id"] == LC
    assert [e["name"] for e in body["events"] if e["enabled"]] == ["VULNERABILITY_SCANS_AMI_CREATE"]


PATCH_FLAGS = ["--operation", "AMI_PATCH", "--stackTag", "main", "--lifecycleId", LC, "--owner", "platform-team",
               "--notifications", "EMAIL::platform-team@example.com", "--events", "AMI_PATCH_ONLY",
               "--patchChangeDescription", "Update openssl", "--semverBumpType", "minor", "--commitRef", "77aa01c"]


def patch_objects() -> list[str]:
    listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=PATCH_BUCKET)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_patch_uploads_a_local_component_and_sends_its_s3_url(deployment, api, runner, tmp_path):
    component = tmp_path / "openssl.yml"
    component.write_text("name: openssl\nschemaVersion: 1.0\n")
    api.add(responses.POST, f"{API_URL}/ami-patch/lifecycles", json=builders.accepted(builders.created()))

    result = batch(runner, *PATCH_FLAGS, "--patchComponent", str(component))

    assert result.exit_code == 0, result.output
    [key] = patch_objects()
    assert key.startswith(f"{LC}/") and key.endswith("-openssl.yml")
    properties = sent_json(api.calls[0])["properties"]
    assert properties == {"patch_component_url": f"s3://{PATCH_BUCKET}/{key}",
                          "patch_change_description": "Update openssl", "semver_bump_type": "MINOR"}


def versioned_patch_bucket() -> None:
    boto3.client("s3", region_name=REGION).put_bucket_versioning(
        Bucket=PATCH_BUCKET, VersioningConfiguration={"Status": "Enabled"})


def patch_object_versions() -> list[tuple[str, str]]:
    listing = boto3.client("s3", region_name=REGION).list_object_versions(Bucket=PATCH_BUCKET)
    return [(kind, item["Key"]) for kind in ("Versions", "DeleteMarkers") for item in listing.get(kind, [])]


def test_a_refused_patch_leaves_no_version_of_its_uploaded_component_behind(deployment, api, runner, tmp_path):
    versioned_patch_bucket()
    component = tmp_path / "openssl.yml"
    component.write_text("name: openssl\n")
    api.add(responses.POST, f"{API_URL}/ami-patch/lifecycles", status=409,
            json={"error": "PATCH_AMI needs MARK_FOR_PRODUCTION_CREATE COMPLETED first", "code": "CONFLICT"})

    result = batch(runner, *PATCH_FLAGS, "--patchComponent", str(component))

    assert result.exit_code == 1
    assert patch_object_versions() == []
    assert f"removed the uploaded patch component s3://{PATCH_BUCKET}/{LC}/" in result.stderr
    assert "(1 version): the request failed" in result.stderr


def test_a_patch_the_api_cannot_be_reached_for_leaves_nothing_behind(deployment, api, runner, tmp_path):
    versioned_patch_bucket()
    component = tmp_path / "openssl.yml"
    component.write_text("name: openssl\n")
    api.add(responses.POST, f"{API_URL}/ami-patch/lifecycles", body=requests.ConnectionError("refused"))

    result = batch(runner, *PATCH_FLAGS, "--patchComponent", str(component))

    assert result.exit_code != 0
    assert patch_object_versions() == []


def test_a_patch_request_that_timed_out_keeps_its_component_and_says_where(deployment, api, runner, tmp_path):
    versioned_patch_bucket()
    component = tmp_path / "openssl.yml"
    component.write_text("name: openssl\n")
    api.add(responses.POST, f"{API_URL}/ami-patch/lifecycles", body=requests.Timeout("slow"))

    result = batch(runner, *PATCH_FLAGS, "--patchComponent", str(component))

    assert result.exit_code != 0
    [(kind, key)] = patch_object_versions()
    assert kind == "Versions"
    assert f"kept the uploaded patch component s3://{PATCH_BUCKET}/{key}" in result.stderr


def test_a_patch_component_given_as_s3_url_is_sent_as_is(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/ami-patch/lifecycles", json=builders.accepted(builders.created()))

    batch(runner, *PATCH_FLAGS, "--patchComponent", "s3://shared-components/openssl.yml")

    assert sent_json(api.calls[0])["properties"]["patch_component_url"] == "s3://shared-components/openssl.yml"
    assert patch_objects() == []


def test_no_key_is_ever_printed(deployment, api, runner):
    answer_create(api)
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status", json=builders.view(builders.created()))

    outputs = [batch(runner, *CREATE).output, batch(runner, *CREATE, "--output", "json").output,
               batch(runner, "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main",
                     "--lifecycleId", LC).output]

    for key in deployment.all_key_values():
        assert all(key not in output for output in outputs)
