"""get_ami.sh end to end, as a consumer runs it: a subprocess against a moto server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
import requests

from tests.client.builders import lookup_entry
from tests.client.conftest import LOOKUP_TABLE, REGION, create_lookup_table, create_stack, default_outputs

SCRIPT = Path(__file__).resolve().parents[2] / "client" / "get_ami.sh"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A moto server in its own process, so the script's AWS calls really go over HTTP."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the moto server did not start within 10 s")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def server(moto_server: str) -> Iterator[str]:
    yield moto_server
    requests.post(f"{moto_server}/moto-api/reset", timeout=5)


def client_env(endpoint: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") and key not in ("STACK_TAG", "LOCAL_CLOUD_STACK_TAG")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent", **extra)
    return env


def deploy(endpoint: str, stack_tag: str, entries: list[dict[str, Any]]) -> None:
    """A deployment of ``stack_tag`` on the server: its stack outputs and a filled lookup table."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    table_name = f"{LOOKUP_TABLE}-{stack_tag}"
    create_stack(stack_tag, {**default_outputs(), "amiSelectionTableName": table_name},
                 session.client("cloudformation", endpoint_url=endpoint))
    table = create_lookup_table(table_name, session.resource("dynamodb", endpoint_url=endpoint))
    with table.batch_writer() as batch:
        for entry in entries:
            batch.put_item(Item=entry)


def git(path: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def checkout(path: Path, branch: str) -> str:
    git(path, "init", "-q")
    git(path, "-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-q", "--allow-empty", "-m", "x")
    git(path, "checkout", "-q", "-b", branch)
    return git(path, "rev-parse", "HEAD")


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def ami_of(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.splitlines()[1].split(" == ")[1]


def cdk_json_stack_tag() -> str:
    return json.loads((SCRIPT.parents[1] / "cdk.json").read_text())["projectSettings"]["stackTag"]


def test_off_branch_main_the_deployed_stack_tag_of_cdk_json_is_used_and_named(server, tmp_path):
    tag = cdk_json_stack_tag()
    entry = lookup_entry(stack_tag=tag, semver="1.0.0")
    deploy(server, tag, [entry])
    checkout(tmp_path, "feature/Login_2")

    done = run(tmp_path, client_env(server))

    assert done.returncode == 0, done.stderr
    assert ami_of(done) == entry["ami_id"]
    assert f"stack tag: {tag} (from projectSettings.stackTag in cdk.json; pass --stack_tag" in done.stderr


def test_outside_git_the_cdk_json_deployment_is_used(server, tmp_path):
    entry = lookup_entry(stack_tag=cdk_json_stack_tag(), semver="3.0.0")
    deploy(server, cdk_json_stack_tag(), [entry])

    done = run(tmp_path, client_env(server))

    assert done.returncode == 0, done.stderr
    assert ami_of(done) == entry["ami_id"]


def test_the_stack_tag_local_cloud_env_records_wins_over_cdk_json(server, tmp_path):
    entry = lookup_entry(stack_tag="e2e-local", semver="1.0.0")
    deploy(server, "e2e-local", [entry])

    done = run(tmp_path, client_env(server, LOCAL_CLOUD_STACK_TAG="e2e-local"))

    assert done.returncode == 0, done.stderr
    assert ami_of(done) == entry["ami_id"]
    assert "stack tag: e2e-local (from LOCAL_CLOUD_STACK_TAG, set by local-cloud.env" in done.stderr


def test_stack_tag_in_the_environment_wins_over_the_recorded_one(server, tmp_path):
    entry = lookup_entry(stack_tag="release", semver="1.0.0")
    deploy(server, "release", [entry])
    checkout(tmp_path, "feature/other")

    done = run(tmp_path, client_env(server, STACK_TAG="release", LOCAL_CLOUD_STACK_TAG="e2e-local"))

    assert ami_of(done) == entry["ami_id"]
    assert "stack tag: release (from STACK_TAG" in done.stderr


def test_an_explicit_stack_tag_is_used_without_a_notice(server, tmp_path):
    entry = lookup_entry(stack_tag="release", semver="1.0.0")
    deploy(server, "release", [entry])

    done = run(tmp_path, client_env(server, LOCAL_CLOUD_STACK_TAG="e2e-local"), "--stack_tag", "release")

    assert ami_of(done) == entry["ami_id"]
    assert "stack tag:" not in done.stderr


def test_with_commit_ref_selects_the_ami_built_from_the_checked_out_commit(server, tmp_path):
    head = checkout(tmp_path, "main")
    mine = lookup_entry(semver="1.0.0", commit_ref=head)
    newer = lookup_entry(semver="2.0.0", commit_ref="0" * 40)
    deploy(server, "main", [mine, newer])

    without = run(tmp_path, client_env(server))
    with_ref = run(tmp_path, client_env(server), "--with-commit-ref")

    assert ami_of(without) == newer["ami_id"]
    assert ami_of(with_ref) == mine["ami_id"]


def test_other_flags_pass_through_to_the_selection_client(server, tmp_path):
    deploy(server, "main", [lookup_entry(semver="2.0.0", score=1)])

    done = run(tmp_path, client_env(server), "--lifecycle_event", "SMOKE_TESTED")

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("error: no AMI matches stack_tag=main")


def test_with_commit_ref_outside_git_stops_with_a_message(tmp_path):
    done = run(tmp_path, client_env("http://127.0.0.1:9"), "--with-commit-ref")

    assert done.returncode == 2
    assert "error: --with-commit-ref needs a git checkout" in done.stderr


def test_without_credentials_it_stops_with_a_clear_message(tmp_path):
    env = client_env("http://127.0.0.1:9")
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]

    done = run(tmp_path, env)

    assert done.returncode == 3
    assert done.stderr.splitlines()[-1].startswith("error: no AWS credentials found")
