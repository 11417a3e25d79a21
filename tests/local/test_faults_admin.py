"""The admin routes under /_local/ (local/admin.py) and the CLI commands
that drive them on a running local cloud (python -m local fault ...)."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner

from local.__main__ import cli


def _url(cloud, path: str) -> str:
    return f"{cloud.endpoint_url}/_local/{path}"


@pytest.fixture
def cli_env(local_cloud) -> dict[str, str]:
    """Environment that points ``python -m local`` at the test's local cloud."""
    return {"LOCAL_CLOUD_PORT": local_cloud.endpoint_url.rsplit(":", 1)[1],
            "LOCAL_CLOUD_STATE_DIR": str(local_cloud.state_dir)}


def test_health_reports_the_endpoint_region_and_time_scale(local_cloud):
    health = requests.get(_url(local_cloud, "health"), timeout=10).json()

    assert health["status"] == "ok"
    assert health["endpoint"] == local_cloud.endpoint_url
    assert health["region"] == local_cloud.region
    assert health["time_scale"] > 0


def test_a_fault_set_over_http_is_listed_then_cleared(local_cloud):
    created = requests.post(_url(local_cloud, "faults"), timeout=10, json={
        "service": "imagebuilder", "kind": "fail", "operation": "StartImagePipelineExecution",
        "message": "pipeline broken"})

    listed = requests.get(_url(local_cloud, "faults"), timeout=10).json()["faults"]
    cleared = requests.delete(_url(local_cloud, "faults"), timeout=10).json()["faults"]

    assert created.status_code == 201
    assert listed == [{"service": "imagebuilder", "kind": "fail", "operation": "StartImagePipelineExecution",
                       "seconds": 0.0, "message": "pipeline broken", "count": None}]
    assert cleared == []


def test_clearing_one_service_keeps_the_other_services_faults(local_cloud):
    for service in ("ec2", "inspector2"):
        requests.post(_url(local_cloud, "faults"), json={"service": service, "kind": "hang"}, timeout=10)

    left = requests.delete(_url(local_cloud, "faults/ec2"), timeout=10).json()["faults"]

    assert [fault["service"] for fault in left] == ["inspector2"]


@pytest.mark.parametrize(("body", "message"), [
    ({"service": "lambda", "kind": "fail"}, "unknown service 'lambda': expected one of imagebuilder, ec2"),
    ({"service": "ec2", "kind": "explode"}, "unknown fault kind 'explode': expected one of fail, delay, hang "
                                            "(for ec2 also instance-no-callback, smoke-test-fail)"),
    ({"service": "ec2", "kind": "build-fail"}, "unknown fault kind 'build-fail': expected one of fail, delay, "
                                               "hang (for ec2 also"),
    ({"service": "ec2", "kind": "fail", "count": 0}, "count must be a whole number >= 1"),
    ({"service": "ec2", "kind": "fail", "count": "two"}, "count must be a whole number >= 1"),
    ({"service": "ec2", "kind": "delay", "seconds": -1}, "seconds must be >= 0"),
    ({"service": "ec2", "kind": "fail", "when": "now"}, "unknown field(s) when"),
    ({"kind": "fail"}, "a fault needs 'service' and 'kind'"),
])
def test_a_bad_fault_is_refused_saying_what_is_allowed(local_cloud, body, message):
    response = requests.post(_url(local_cloud, "faults"), json=body, timeout=10)

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_body_that_is_not_json_is_refused(local_cloud):
    response = requests.post(_url(local_cloud, "faults"), data="service=ec2", timeout=10)

    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]


def test_an_unknown_admin_route_is_a_404_naming_it(local_cloud):
    response = requests.get(_url(local_cloud, "reboot"), timeout=10)

    assert response.status_code == 404
    assert "no admin route GET /_local/reboot" in response.json()["error"]


def test_a_negative_time_scale_is_refused(local_cloud):
    response = requests.post(_url(local_cloud, "time-scale"), json={"scale": -1}, timeout=10)

    assert response.status_code == 400


def test_cli_fault_set_list_and_clear_drive_the_running_cloud(cli_env):
    runner = CliRunner()

    set_result = runner.invoke(cli, ["fault", "set", "ec2", "delay", "--operation", "ExportImage",
                                     "--seconds", "30"], env=cli_env)
    list_result = runner.invoke(cli, ["fault", "list"], env=cli_env)
    clear_result = runner.invoke(cli, ["fault", "clear", "ec2"], env=cli_env)

    assert set_result.exit_code == 0, set_result.output
    assert "fault set: ec2 delay operation=ExportImage seconds=30" in set_result.output
    assert "ec2 delay operation=ExportImage seconds=30" in list_result.output
    assert "faults cleared (0 left)" in clear_result.output


def test_cli_fault_set_with_a_bad_kind_fails_with_one_line(cli_env):
    result = CliRunner().invoke(cli, ["fault", "set", "ec2", "explode"], env=cli_env)

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: unknown fault kind 'explode': expected one of fail, delay, hang "
        "(for ec2 also instance-no-callback, smoke-test-fail)"
    ]


def test_cli_sets_a_one_shot_build_fault_and_lists_its_uses(cli_env):
    runner = CliRunner()

    set_result = runner.invoke(cli, ["fault", "set", "imagebuilder", "build-fail", "--count", "1",
                                     "--message", "yum exited with 1"], env=cli_env)
    list_result = runner.invoke(cli, ["fault", "list"], env=cli_env)

    assert set_result.exit_code == 0, set_result.output
    assert set_result.output.strip() == ("fault set: imagebuilder build-fail operation=* message='yum exited with 1' "
                                         "for 1 more use(s)")
    assert "imagebuilder build-fail operation=* message='yum exited with 1' for 1 more use(s)" in list_result.output


def test_cli_refuses_a_count_below_one(cli_env):
    result = CliRunner().invoke(cli, ["fault", "set", "ec2", "fail", "--count", "0"], env=cli_env)

    assert result.exit_code == 2
    assert "--count" in result.output


def test_a_counted_call_fault_fails_that_many_calls_then_clears_itself(local_cloud):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    kwargs = {**local_cloud.client_kwargs(), "config": Config(retries={"total_max_attempts": 1})}
    ib = boto3.client("imagebuilder", **kwargs)
    requests.post(_url(local_cloud, "faults"), timeout=10, json={
        "service": "imagebuilder", "kind": "fail", "operation": "ListImages", "count": 2})

    outcomes = []
    for _ in range(3):
        try:
            ib.list_images()
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    assert outcomes == ["InternalFailure", "InternalFailure", "ok"]
    assert requests.get(_url(local_cloud, "faults"), timeout=10).json()["faults"] == []


def test_cli_commands_say_when_the_cloud_is_not_running(tmp_path):
    env = {"LOCAL_CLOUD_PORT": "1", "LOCAL_CLOUD_STATE_DIR": str(tmp_path)}

    result = CliRunner().invoke(cli, ["fault", "list"], env=env)

    assert result.exit_code == 3
    assert "cannot reach the local cloud at http://127.0.0.1:1" in result.output


def test_inspector_findings_are_seeded_over_the_admin_route(local_cloud):
    finding = {"severity": "HIGH", "title": "CVE-2026-0001 in openssl"}
    seeded = requests.post(f"{local_cloud.endpoint_url}/_local/inspector2/findings",
                           json={"amiId": "ami-0123456789abcdef0", "findings": [finding]}, timeout=10)
    assert seeded.status_code == 200, seeded.text
    assert seeded.json() == {"amiId": "ami-0123456789abcdef0", "findings": 1}
    listed = requests.get(f"{local_cloud.endpoint_url}/_local/inspector2/findings",
                          params={"amiId": "ami-0123456789abcdef0"}, timeout=10)
    assert listed.status_code == 200
    assert len(listed.json()["seeds"]) == 1


def test_a_malformed_findings_seed_is_refused(local_cloud):
    answer = requests.post(f"{local_cloud.endpoint_url}/_local/inspector2/findings", json=["x"], timeout=10)
    assert answer.status_code == 400
    assert "JSON object" in answer.json()["error"]
