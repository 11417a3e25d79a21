"""deploy.sh and destroy.sh for AWS: what they do before any AWS change."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
                  "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", **env})
    return subprocess.run(["bash", script, *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("script", ["deploy.sh", "destroy.sh"])
def test_no_credentials_stops_with_one_line_saying_how_to_log_in(script):
    result = run(script, "--yes", AWS_DEFAULT_REGION="eu-west-1")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: no AWS credentials resolve")
    assert "aws sso login" in line and "--local" in line


@pytest.mark.parametrize("script", ["deploy.sh", "destroy.sh"])
def test_no_region_stops_with_one_line(script):
    result = run(script, "--yes")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or a region in your profile"]


@pytest.mark.parametrize("script", ["deploy.sh", "destroy.sh"])
def test_unknown_option_names_the_option_and_the_usage(script):
    result = run(script, "--frobnicate")
    assert result.returncode == 1
    assert "unknown option '--frobnicate'" in result.stderr
    assert f"usage: bash {script}" in result.stderr


def test_a_wrong_setting_stops_before_anything_is_deployed():
    result = run("deploy.sh", "--yes", "--stack-tag", "///", AWS_DEFAULT_REGION="eu-west-1")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: settings: STACK_TAG environment variable: expected 1-32 characters")


@pytest.mark.parametrize("mode", [(), ("--local",)])
def test_a_wrong_setting_override_stops_before_anything_is_deployed(mode):
    result = run("deploy.sh", *mode, "--yes", "-c", "projectSettings.amiLifecycle.stateMachines.nope=1",
                 AWS_DEFAULT_REGION="eu-west-1")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: settings: projectSettings.amiLifecycle.stateMachines.nope: "
                           "projectSettings.amiLifecycle.stateMachines has no setting 'nope'")


def test_a_context_flag_without_a_value_is_refused():
    result = run("deploy.sh", "--local", "-c", "projectSettings.logRetentionDays")
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: -c needs KEY=VALUE (e.g. -c "
                                     "projectSettings.amiLifecycle.logRetentionDays=30)")


def test_local_destroy_with_no_cloud_where_it_points_fails_loudly_and_keeps_the_env_file(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env_file = tmp_path / "local-cloud.env"
    env_file.write_text("export LOCAL_CLOUD_PORT=1\n")

    result = run("destroy.sh", "--local", "--yes", LOCAL_CLOUD_PORT=str(port),
                 LOCAL_CLOUD_STATE_DIR=str(tmp_path / "state"), LOCAL_CLOUD_ENV_FILE=str(env_file))

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: no local cloud answers at http://127.0.0.1:{port} with state folder "
                           f"{tmp_path / 'state'}, so nothing was deleted: source the local-cloud.env")
    assert env_file.exists()
