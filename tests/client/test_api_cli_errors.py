"""api-cli.py failures: one line on stderr, an exit code per kind of failure, no traceback."""

from __future__ import annotations

import boto3
import pytest
import requests
import responses

from amilc.api_cli import cli
from tests.client import builders
from tests.client.conftest import API_URL, KEY_PREFIX, REGION, create_stack, default_outputs

LC = builders.LIFECYCLE_ID
STATUS = ["--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main", "--lifecycleId", LC]
CREATE = ["--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "platform-team",
          "--productName", "payments-service", "--productVer", "2.4.1", "--commitRef", "9fceb02",
          "--notifications", "EMAIL::platform-team@example.com", "--events", "AMI_BUILD_ONLY"]


def batch(runner, *args: str):
    return runner.invoke(cli, ["--mode", "BATCH", *args])


def assert_one_line_error(result, exit_code: int, expected: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert result.stderr == f"error: {expected}\n"


def test_an_api_validation_error_is_one_line_with_code_field_and_allowed_values(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", status=400, json={
        "error": "events[2].name: expected one of BUILD_AMI, SMOKE_TESTS_AMI_CREATE, got SCAN",
        "code": "VALIDATION_ERROR", "field": "events[2].name", "allowed": ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]})

    result = batch(runner, *CREATE)

    assert_one_line_error(result, 1, "HTTP 400 VALIDATION_ERROR: events[2].name: expected one of BUILD_AMI, "
                                     "SMOKE_TESTS_AMI_CREATE, got SCAN (field: events[2].name; allowed: BUILD_AMI, "
                                     "SMOKE_TESTS_AMI_CREATE)")


def test_an_unknown_lifecycle_is_reported_as_the_api_404(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status", status=404,
            json={"error": f"lifecycle {LC}: not found", "code": "NOT_FOUND", "field": "lifecycle_id"})

    result = batch(runner, *STATUS)

    assert_one_line_error(result, 1, f"HTTP 404 NOT_FOUND: lifecycle {LC}: not found (field: lifecycle_id)")


def test_an_operation_the_deployment_does_not_offer_yet_reports_the_api_501(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles/{LC}/certify", status=501,
            json={"error": "QA_CERTIFICATION_RESPONSE is not available yet", "code": "NOT_IMPLEMENTED"})

    result = batch(runner, "--operation", "AMI_QA_CERTIFICATION", "--stackTag", "main", "--lifecycleId", LC,
                   "--certificationStatus", "CERTIFIED")

    assert_one_line_error(result, 1, "HTTP 501 NOT_IMPLEMENTED: QA_CERTIFICATION_RESPONSE is not available yet")


def test_a_multi_line_api_message_is_printed_on_one_line(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", status=409,
            json={"error": "BUILD_AMI is in progress\nwait for it", "code": "CONFLICT"})

    result = batch(runner, *CREATE)

    assert_one_line_error(result, 1, "HTTP 409 CONFLICT: BUILD_AMI is in progress wait for it")


def test_a_gateway_error_without_json_shows_its_text(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status", status=502, body="Bad Gateway")

    result = batch(runner, *STATUS)

    assert_one_line_error(result, 1, "HTTP 502: Bad Gateway")


def test_an_unreachable_api_is_an_environment_error(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status",
            body=requests.ConnectionError("connection refused"))

    result = batch(runner, *STATUS)

    assert_one_line_error(result, 3, f"cannot reach the API at {API_URL} (ConnectionError); check the network, "
                                     "or that the local cloud runs")


def test_a_deployment_that_does_not_exist_names_the_stack_and_region(deployment, api, runner):
    result = batch(runner, "--operation", "AMI_GET_STATUSES", "--stackTag", "feature-z")

    assert_one_line_error(result, 3, "stack AmiLifecycle-feature-z not found in us-east-1: deploy it "
                                     "(bash deploy.sh, or bash deploy.sh --local) or check the stack tag and "
                                     "the region")


def test_a_deployment_without_the_api_output_says_which_output_is_missing(moto, api, runner):
    outputs = default_outputs()
    del outputs["amiOrchestratorApiGatewayUrl"]
    create_stack("main", outputs)

    result = batch(runner, *STATUS)

    assert result.exit_code == 3
    assert "stack AmiLifecycle-main has no output amiOrchestratorApiGatewayUrl" in result.stderr


def test_a_missing_key_secret_is_named_by_its_secret_id(deployment, api, runner):
    boto3.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId=f"{KEY_PREFIX}ami_creation_status_api_key", ForceDeleteWithoutRecovery=True)

    result = batch(runner, *STATUS)

    assert result.exit_code == 3
    assert f"API key secret {KEY_PREFIX}ami_creation_status_api_key not found" in result.stderr


def test_no_region_is_an_environment_error_with_a_hint(deployment, api, runner, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    result = batch(runner, *STATUS)

    assert_one_line_error(result, 3, "no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), "
                                     "or give your AWS profile a region")


def test_no_credentials_is_an_environment_error_with_a_hint(deployment, api, runner, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    result = batch(runner, *STATUS)

    assert result.exit_code == 3
    assert result.stderr.startswith("error: no AWS credentials found; set AWS_PROFILE")


BASE = {
    "AMI_CREATE": CREATE,
    "AMI_CREATE_UPDATE": ["--operation", "AMI_CREATE_UPDATE", "--stackTag", "main", "--lifecycleId", LC,
                          "--owner", "o", "--notifications", "EMAIL::o@example.com", "--events", "SMOKE_TESTS"],
    "AMI_PATCH": ["--operation", "AMI_PATCH", "--stackTag", "main", "--lifecycleId", LC, "--owner", "o",
                  "--notifications", "EMAIL::o@example.com", "--events", "AMI_PATCH_ONLY",
                  "--patchComponent", "s3://b/c.yml", "--patchChangeDescription", "d", "--semverBumpType", "PATCH",
                  "--commitRef", "abc"],
    "AMI_PATCH_UPDATE": ["--operation", "AMI_PATCH_UPDATE", "--stackTag", "main", "--lifecycleId", LC,
                         "--owner", "o", "--notifications", "EMAIL::o@example.com", "--events", "SMOKE_TESTS"],
    "AMI_GET_STATUS_BY_LIFECYCLE_ID": STATUS,
    "AMI_TIMELINE_CREATE": ["--operation", "AMI_TIMELINE_CREATE", "--stackTag", "main", "--lifecycleId", LC],
    "AMI_TIMELINE_PATCH": ["--operation", "AMI_TIMELINE_PATCH", "--stackTag", "main", "--lifecycleId", LC],
    "AMI_QA_CERTIFICATION": ["--operation", "AMI_QA_CERTIFICATION", "--stackTag", "main", "--lifecycleId", LC,
                             "--certificationStatus", "FAILED"],
    "AMI_APPROVAL_CREATE": ["--operation", "AMI_APPROVAL_CREATE", "--stackTag", "main", "--lifecycleId", LC,
                            "--approvalStatusAmiCreation", "APPROVED"],
    "AMI_APPROVAL_PATCH": ["--operation", "AMI_APPROVAL_PATCH", "--stackTag", "main", "--lifecycleId", LC,
                           "--approvalStatusAmiPatch", "APPROVED"],
    "AMI_REVOKE": ["--operation", "AMI_REVOKE", "--stackTag", "main", "--lifecycleId", LC, "--reason", "CVE-1"],
}
# Each flag an operation requires (--stackTag has a default, see its own tests).
REQUIRED = [(op, flag) for op, args in BASE.items() for flag in args[::2]
            if flag not in ("--operation", "--stackTag", "--commitRef")]


def without(args: list[str], flag: str) -> list[str]:
    index = args.index(flag)
    return args[:index] + args[index + 2:]


@pytest.mark.parametrize("operation, flag", REQUIRED)
def test_a_missing_required_flag_is_named_in_one_line_with_exit_2(aws_env, runner, operation, flag):
    result = batch(runner, *without(BASE[operation], flag))

    assert_one_line_error(result, 2, f"{flag} is required for --operation {operation}")


def test_without_a_stack_tag_the_cdk_json_tag_is_used_and_named_on_stderr(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/status", json={"items": []})

    result = batch(runner, "--operation", "AMI_GET_STATUSES")

    assert result.exit_code == 0, result.output
    assert result.stdout == "no lifecycles\n"
    assert result.stderr == ("stack tag: main (from projectSettings.stackTag in cdk.json; pass --stackTag to "
                             "choose another)\n")


def test_the_stack_tag_may_come_from_the_environment(deployment, api, runner, monkeypatch):
    monkeypatch.setenv("STACK_TAG", "main")
    monkeypatch.setenv("LOCAL_CLOUD_STACK_TAG", "other")
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/status", json={"items": []})

    result = batch(runner, "--operation", "AMI_GET_STATUSES")

    assert result.exit_code == 0, result.output
    assert "stack tag: main (from STACK_TAG;" in result.stderr


def test_the_stack_tag_local_cloud_env_records_comes_next(deployment, api, runner, monkeypatch):
    monkeypatch.setenv("LOCAL_CLOUD_STACK_TAG", "main")
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/status", json={"items": []})

    result = batch(runner, "--operation", "AMI_GET_STATUSES")

    assert result.exit_code == 0, result.output
    assert "stack tag: main (from LOCAL_CLOUD_STACK_TAG, set by local-cloud.env;" in result.stderr


def test_batch_mode_needs_an_operation(aws_env, runner):
    result = batch(runner)

    assert result.exit_code == 2
    assert result.stderr.startswith("error: --operation is required with --mode BATCH; one of AMI_CREATE, ")


def test_an_unknown_operation_lists_the_operations_on_one_line(aws_env, runner):
    result = batch(runner, "--operation", "AMI_DELETE")

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "'AMI_CREATE'" in result.stderr


def test_a_malformed_lifecycle_id_is_refused_before_any_call(aws_env, runner):
    result = batch(runner, "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", "main",
                   "--lifecycleId", "42")

    assert_one_line_error(result, 2, "--lifecycleId '42': expected a lifecycle id (a UUID like 6f1c2d3e-...), "
                                     "got '42'")


def test_an_update_may_not_enable_the_build(aws_env, runner):
    args = BASE["AMI_CREATE_UPDATE"] + ["--events", "AMI_BUILD_ONLY"]

    result = batch(runner, *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("error: --events: AMI_BUILD_ONLY starts a new lifecycle; leave it out of an "
                                    "update")


def test_an_event_combination_with_a_gap_is_refused_before_any_call(aws_env, runner):
    result = batch(runner, *CREATE, "--events", "VULNERABILITY_SCANS")

    assert result.exit_code == 2
    assert "SMOKE_TESTS_AMI_CREATE is disabled but BUILD_AMI and VULNERABILITY_SCANS_AMI_CREATE are enabled" \
        in result.stderr


@pytest.mark.parametrize("flag, value, expected", [
    ("--notifications", "EMAIL", "--notifications 'EMAIL': expected METHOD::TARGET, like EMAIL::owner@example.com"),
    ("--notifications", "SMS::+4412345", "--notifications 'SMS::+4412345': expected one of EMAIL, HTTP, got 'SMS'"),
    ("--properties", "ticket", "--properties 'ticket': expected KEY::VALUE, like ticket::OPS-1234"),
])
def test_malformed_pairs_name_the_flag_and_the_expected_shape(aws_env, runner, flag, value, expected):
    result = batch(runner, *CREATE, flag, value)

    assert_one_line_error(result, 2, expected)


def test_wait_does_not_apply_to_listing(aws_env, runner):
    result = batch(runner, "--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--wait")

    assert_one_line_error(result, 2, "--wait follows an event; it does not apply to --operation AMI_GET_STATUSES")


def test_a_missing_local_patch_component_is_refused_before_any_call(aws_env, runner, tmp_path):
    args = without(BASE["AMI_PATCH"], "--patchComponent") + ["--patchComponent", str(tmp_path / "nope.yml")]

    result = batch(runner, *args)

    assert result.exit_code == 2
    assert "no such file" in result.stderr


@pytest.mark.parametrize("flag", [["--save", "page.html"], ["--show-key-in-url"], ["--limit", "5"],
                                  ["--next-token", "abc"]])
def test_a_flag_of_another_operation_is_refused_rather_than_ignored(aws_env, runner, flag):
    operation = "AMI_GET_STATUS_BY_LIFECYCLE_ID"

    result = batch(runner, *STATUS, *flag)

    assert_one_line_error(result, 2, f"{flag[0]} does not apply to --operation {operation}")
