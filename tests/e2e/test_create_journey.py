"""The first user journey, exactly as a new user types it, on the local cloud.

bash deploy.sh --local -> api-cli.py AMI_CREATE --wait -> status shows the
AMI and its semantic version -> get_ami.sh selects it -> the timeline page
shows it -> python -m local stop/start keeps it -> destroy.sh --local.

The local cloud runs on a free port with its own state folder, env file and
stack tag, so the test never touches a deployment the developer has running.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import requests

from tests.browser.chromium import dump_dom, find_chromium

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
STACK_TAG = "e2e-journey"
WAIT = ("--wait", "--timeout", "300", "--poll-interval", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class User:
    """Runs the product's entry points in a shell-like environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, *command: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            pytest.fail(f"{shlex.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def api_cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(PYTHON, "client/api-cli.py", "--mode", "BATCH", *args, check=check)

    def create(self, *extra: str) -> dict:
        result = self.api_cli(
            "--operation", "AMI_CREATE", "--stackTag", STACK_TAG, "--owner", "platform@example.com",
            "--productName", "billing-service", "--productVer", "1.4.2", "--commitRef", "3f9c2ab",
            "--notifications", "EMAIL::platform@example.com", "--events", "AMI_BUILD_ONLY",
            "--output", "json", *extra,
        )
        return json.loads(result.stdout)

    def status(self, lifecycle_id: str) -> dict:
        result = self.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", STACK_TAG,
                              "--lifecycleId", lifecycle_id, "--output", "json")
        return json.loads(result.stdout)

    def aws(self, service: str):
        return boto3.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"],
                            region_name=self.env["AWS_DEFAULT_REGION"],
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"])


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = shlex.split(match.group(2))[0] if match.group(2) else ""
    return values


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    state = tmp_path_factory.mktemp("local-cloud")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "LOCAL_CLOUD_PORT": str(free_port()),
        "LOCAL_CLOUD_STATE_DIR": str(state),
        "LOCAL_CLOUD_ENV_FILE": str(state / "local-cloud.env"),
        "LOCAL_CLOUD_TIME_SCALE": "0.05",
    })
    deployer = User(env)
    deployed = deployer.run("bash", "deploy.sh", "--local", "--yes", "--stack-tag", STACK_TAG, timeout=900)
    assert "API:" in deployed.stdout
    env.update(read_env_file(state / "local-cloud.env"))
    env.pop("STACK_TAG", None)
    yield User(env)
    subprocess.run(["bash", "destroy.sh", "--local", "--yes"], cwd=ROOT, env=env, capture_output=True, timeout=600)
    subprocess.run([PYTHON, "-m", "local", "stop"], cwd=ROOT, env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def built(user):
    """One lifecycle created and followed to the end of its build."""
    return user.create(*WAIT)


def test_deploy_prints_a_working_api_url(user):
    outputs = json.loads((Path(user.env["LOCAL_CLOUD_STATE_DIR"]) / f"outputs-{STACK_TAG}.json").read_text())
    url = outputs[f"AmiLifecycle-{STACK_TAG}"]["amiOrchestratorApiGatewayUrl"]
    answer = requests.get(f"{url}/ami-creation/lifecycles/status", params={"stack_tag": STACK_TAG}, timeout=30)
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"


def test_create_waits_until_the_build_completes(built):
    assert re.fullmatch(r"[0-9a-f-]{36}", built["lifecycle_id"])


def test_status_shows_the_ami_and_its_semantic_version(user, built):
    status = user.status(built["lifecycle_id"])
    (build,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
    assert build["status"] == "COMPLETED"
    (ami,) = build["properties"]["ami_details"]
    assert ami["image"].startswith("ami-")
    assert ami["ami_semver"] == "1.0.0"
    assert "event_in_progress" not in status or status["event_in_progress"] is None
    assert "api_key" not in json.dumps(status)


def test_get_ami_selects_the_built_ami(user, built):
    ami_id = built_ami(user, built)
    result = user.run("bash", "client/get_ami.sh", "--stack_tag", STACK_TAG)
    assert f"Retrieved AMI ID == {ami_id}" in result.stdout


def test_the_ami_carries_its_lifecycle_tags(user, built):
    ami_id = built_ami(user, built)
    (image,) = user.aws("ec2").describe_images(ImageIds=[ami_id])["Images"]
    tags = {t["Key"]: t["Value"] for t in image.get("Tags", [])}
    assert tags["AMI_LC_LIFECYCLE_ID"] == built["lifecycle_id"]
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert tags["AMI_LC_EVENT_BUILD_AMI_STATUS"] == "COMPLETED"


def test_timeline_page_shows_the_build(user, built):
    ami_id = built_ami(user, built)
    status = user.status(built["lifecycle_id"])
    key = user.aws("secretsmanager").get_secret_value(
        SecretId=f"/ami-lifecycle/{STACK_TAG}/api-keys/ami_creation_timeline_api_key")["SecretString"]
    page = requests.get(status["timeline_url"], headers={"x-api-key": key}, timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert ami_id in page.text and built["lifecycle_id"] in page.text
    without_key = requests.get(status["timeline_url"], timeout=30)
    assert without_key.status_code == 401
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI installs it)")
        pytest.skip("chromium is not installed")
    dom = dump_dom(chromium, f"{status['timeline_url']}?api_key={key}")
    assert "AMI Creation Timeline" in dom and ami_id in dom and "COMPLETED" in dom


def test_unknown_lifecycle_is_a_404_line(user):
    result = user.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", STACK_TAG,
                          "--lifecycleId", "00000000-0000-4000-8000-000000000000", check=False)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "HTTP 404" in result.stderr


def test_concurrent_creates_get_distinct_versions(user, built):
    with ThreadPoolExecutor(max_workers=3) as pool:
        created = list(pool.map(lambda _: user.create(*WAIT), range(3)))
    versions = set()
    for lifecycle in created:
        status = user.status(lifecycle["lifecycle_id"])
        (build,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
        versions.add(build["properties"]["ami_details"][0]["ami_semver"])
    assert len(versions) == 3
    assert "1.0.0" not in versions


def test_an_image_builder_failure_ends_the_build_in_error_with_its_cause(user, built):
    user.run(PYTHON, "-m", "local", "fault", "set", "imagebuilder", "fail", "--message", "yum exited with 1")
    try:
        created = user.create()
        lifecycle_id = created["lifecycle_id"]
        waited = user.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--stackTag", STACK_TAG,
                              "--lifecycleId", lifecycle_id, *WAIT, check=False)
        assert waited.returncode == 5, waited.stderr  # the event ended FAILED or ERROR
        status = user.status(lifecycle_id)
    finally:
        user.run(PYTHON, "-m", "local", "fault", "clear")
    in_progress = status["event_in_progress"]
    assert in_progress["name"] == "BUILD_AMI"
    assert in_progress["status"] == "ERROR"
    assert "yum exited with 1" in in_progress["error_message"]
    # The owners were notified: the notification log sink kept the error in the lifecycle's stream.
    logs = user.aws("logs")
    group = f"/ami-lifecycles/{STACK_TAG}/event-notifications"
    messages = " ".join(e["message"] for e in logs.filter_log_events(
        logGroupName=group, logStreamNames=[lifecycle_id])["events"])
    assert "yum exited with 1" in messages


def test_stop_and_start_keep_every_lifecycle(user, built):
    ami_id = built_ami(user, built)
    user.run(PYTHON, "-m", "local", "stop")
    assert user.run(PYTHON, "-m", "local", "status", check=False).returncode == 3
    user.run(PYTHON, "-m", "local", "start")
    status = user.status(built["lifecycle_id"])
    assert status["outputs_ami_creation"]["events"][0]["status"] == "COMPLETED"
    result = user.run("bash", "client/get_ami.sh", "--stack_tag", STACK_TAG, "--ami_semver", "1.0.0")
    assert f"Retrieved AMI ID == {ami_id}" in result.stdout


def test_destroy_deletes_the_stacks_and_stops_the_cloud(user):
    user.run("bash", "destroy.sh", "--local", "--yes")
    assert user.run(PYTHON, "-m", "local", "status", check=False).returncode == 3
    assert not Path(user.env["LOCAL_CLOUD_ENV_FILE"]).exists()


def built_ami(user: User, built: dict) -> str:
    status = user.status(built["lifecycle_id"])
    (build,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
    return build["properties"]["ami_details"][0]["image"]
