"""The first user journey, exactly as a new user types it, on the local cloud.

bash deploy.sh --local -> api-cli.py AMI_CREATE --wait -> status shows the
AMI and its semantic version -> get_ami.sh selects it -> the timeline page
shows it -> a one-shot build fault -> python3 -m local stop/start keeps it
-> destroy.sh --local.

The local cloud runs on a free port with its own state folder, env file and
stack tag, so the test never touches a deployment the developer has running.
After the deployment, every command runs as README.md writes it (a test
holds the two together), in a new shell that only sourced local-cloud.env:
no LOCAL_CLOUD_* or AWS_* variable and no STACK_TAG of the test's own, and
``python3`` is whatever the PATH finds, not the project's .venv.
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
README = (ROOT / "README.md").read_text()

# The README's journey, character for character.
CREATE = """LC=$(.venv/bin/python client/api-cli.py --mode BATCH --operation AMI_CREATE \\
    --owner you@example.com --productName billing-service --productVer 1.4.2 \\
    --notifications EMAIL::you@example.com --events AMI_BUILD_ONLY --wait)"""
STATUS = ('.venv/bin/python client/api-cli.py --mode BATCH --operation AMI_GET_STATUS_BY_LIFECYCLE_ID '
          '--lifecycleId "$LC"')
GET_AMI = "bash client/get_ami.sh"
TIMELINE = ('.venv/bin/python client/api-cli.py --mode BATCH --operation AMI_TIMELINE_CREATE --lifecycleId "$LC" '
            '--show-key-in-url')
FAULT = "python3 -m local fault set imagebuilder build-fail --count 1"
RESTART = "python3 -m local stop && python3 -m local start"
DESTROY = "bash destroy.sh --local --yes"
JOURNEY = (CREATE, STATUS, GET_AMI, TIMELINE, FAULT, RESTART, DESTROY)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class User:
    """Runs the product's entry points in a shell-like environment."""

    def __init__(self, env: dict[str, str], env_file: Path | None = None) -> None:
        self.env = env
        self.env_file = env_file

    def shell(self, command: str, *, check: bool = True, **variables: str) -> subprocess.CompletedProcess:
        """``command`` as typed into a new shell that sourced local-cloud.env (plus ``variables``, such as
        the LC an earlier command set in that shell)."""
        assert self.env_file is not None
        script = f"source {shlex.quote(str(self.env_file))}\n{command}"
        result = subprocess.run(["bash", "-c", script], cwd=ROOT, env={**self.env, **variables},
                                capture_output=True, text=True, timeout=600)
        if check and result.returncode != 0:
            pytest.fail(f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def run(self, *command: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            pytest.fail(f"{shlex.join(command)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def create(self, *extra: str) -> dict:
        result = self.api_cli(
            "--operation", "AMI_CREATE", "--owner", "platform@example.com",
            "--productName", "billing-service", "--productVer", "1.4.2", "--commitRef", "3f9c2ab",
            "--notifications", "EMAIL::platform@example.com", "--events", "AMI_BUILD_ONLY",
            "--output", "json", *extra,
        )
        return json.loads(result.stdout)

    def status(self, lifecycle_id: str) -> dict:
        result = self.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", lifecycle_id,
                              "--output", "json")
        return json.loads(result.stdout)

    def api_cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """api-cli.py in the sourced shell, with the stack tag the env file recorded."""
        return self.shell(shlex.join([PYTHON, "client/api-cli.py", "--mode", "BATCH", *args]), check=check)

    def aws(self, service: str):
        exported = read_env_file(self.env_file)
        return boto3.client(service, endpoint_url=exported["AWS_ENDPOINT_URL"],
                            region_name=exported["AWS_DEFAULT_REGION"],
                            aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"])


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = shlex.split(match.group(2))[0] if match.group(2) else ""
    return values


def deployed_user(tmp_path_factory, stack_tag: str, *deploy_args: str, time_scale: str = "0.05"):
    """A user of a fresh local cloud of its own (free port, own state folder and env file), with the stacks
    deployed by ``bash deploy.sh --local`` (``deploy_args`` added); destroyed and stopped afterwards."""
    state = tmp_path_factory.mktemp("local-cloud")
    env_file = state / "local-cloud.env"
    fresh = {k: v for k, v in os.environ.items()
             if not k.startswith(("AWS_", "LOCAL_CLOUD_")) and k != "STACK_TAG"}
    deploying = {**fresh, "LOCAL_CLOUD_PORT": str(free_port()), "LOCAL_CLOUD_STATE_DIR": str(state),
                 "LOCAL_CLOUD_ENV_FILE": str(env_file), "LOCAL_CLOUD_TIME_SCALE": time_scale}
    deployed = User(deploying).run("bash", "deploy.sh", "--local", "--yes", "--stack-tag", stack_tag, *deploy_args,
                                   timeout=900)
    assert "API:" in deployed.stdout
    yield User(fresh, env_file)
    # Whatever the tests left running goes, even if the journey's destroy failed.
    subprocess.run(["bash", "destroy.sh", "--local", "--yes"], cwd=ROOT, env=deploying, capture_output=True,
                   timeout=600)
    subprocess.run([PYTHON, "-m", "local", "stop"], cwd=ROOT, env=deploying, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, time_scale="0.05")


@pytest.fixture(scope="module")
def built(user):
    """The README's create: one lifecycle followed to the end of its build, its id captured as $LC."""
    result = user.shell(f'{CREATE}\necho "LC=$LC"')
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("LC=")]
    return {"lifecycle_id": line[len("LC="):], "create": result}


def test_every_journey_command_is_typed_as_the_readme_writes_it():
    for command in JOURNEY:
        assert command in README, command
    assert "bash deploy.sh --local --yes" in README and "source local-cloud.env" in README


def test_the_env_file_holds_everything_needed_to_reach_the_cloud(user):
    exported = read_env_file(user.env_file)

    assert exported["LOCAL_CLOUD_PORT"] != "4566"
    assert exported["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{exported['LOCAL_CLOUD_PORT']}"
    assert Path(exported["LOCAL_CLOUD_STATE_DIR"]) == user.env_file.parent
    assert exported["LOCAL_CLOUD_STACK_TAG"] == STACK_TAG
    assert Path(exported["LOCAL_CLOUD_ENV_FILE"]) == user.env_file


def test_deploy_prints_a_working_api_url(user):
    outputs = json.loads((user.env_file.parent / f"outputs-{STACK_TAG}.json").read_text())
    url = outputs[f"AmiLifecycle-{STACK_TAG}"]["amiOrchestratorApiGatewayUrl"]
    answer = requests.get(f"{url}/ami-creation/lifecycles/status", params={"stack_tag": STACK_TAG}, timeout=30)
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"


def test_the_key_is_checked_before_the_body_is_validated(user):
    outputs = json.loads((user.env_file.parent / f"outputs-{STACK_TAG}.json").read_text())[f"AmiLifecycle-{STACK_TAG}"]
    url = f"{outputs['amiOrchestratorApiGatewayUrl']}/ami-creation/lifecycles"
    secret = f"{outputs['apiKeySecretPrefix']}ami_creation_post_api_key"
    key = user.aws("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    bad_body = {"colour": "blue"}

    no_key = requests.post(url, json=bad_body, timeout=30)
    wrong_key = requests.post(url, json=bad_body, headers={"x-api-key": "not-the-key"}, timeout=30)
    status_key = requests.put(url, json=bad_body, headers={"x-api-key": key}, timeout=30)  # create's key, not update's
    right_key = requests.post(url, json=bad_body, headers={"x-api-key": key}, timeout=30)

    assert (no_key.status_code, no_key.json()["code"]) == (401, "UNAUTHORIZED")
    assert (wrong_key.status_code, wrong_key.json()["code"]) == (403, "FORBIDDEN")
    assert (status_key.status_code, status_key.json()["code"]) == (403, "FORBIDDEN")
    assert (right_key.status_code, right_key.json()["code"]) == (400, "VALIDATION_ERROR")


def test_create_waits_until_the_build_completes_and_prints_only_the_id(built):
    assert re.fullmatch(r"[0-9a-f-]{36}", built["lifecycle_id"])
    assert built["create"].stdout == f"LC={built['lifecycle_id']}\n"
    progress = built["create"].stderr
    assert f"stack tag: {STACK_TAG} (from LOCAL_CLOUD_STACK_TAG" in progress
    assert "BUILD_AMI ended COMPLETED" in progress


def test_the_readme_status_command_shows_the_ami_and_its_version(user, built):
    result = user.shell(STATUS, LC=built["lifecycle_id"])

    assert f"lifecycle_id: {built['lifecycle_id']}" in result.stdout
    assert re.search(r"built AMI: ami-[0-9a-f]+ \(us-east-1\) version 1\.0\.0", result.stdout)


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
    result = user.shell(GET_AMI)
    assert f"Retrieved AMI ID == {ami_id}" in result.stdout
    assert f"stack tag: {STACK_TAG} (from LOCAL_CLOUD_STACK_TAG" in result.stderr


def test_the_ami_carries_its_lifecycle_tags(user, built):
    ami_id = built_ami(user, built)
    (image,) = user.aws("ec2").describe_images(ImageIds=[ami_id])["Images"]
    tags = {t["Key"]: t["Value"] for t in image.get("Tags", [])}
    assert tags["AMI_LC_LIFECYCLE_ID"] == built["lifecycle_id"]
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert tags["AMI_LC_EVENT_BUILD_AMI_STATUS"] == "COMPLETED"


def test_the_readme_timeline_link_opens_the_page(user, built):
    link = user.shell(TIMELINE, LC=built["lifecycle_id"]).stdout.strip()

    page = requests.get(link, timeout=30)

    assert page.status_code == 200
    assert built["lifecycle_id"] in page.text


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
    assert result.stdout == ""
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


def test_a_one_shot_build_fault_fails_the_next_build_only_with_image_builders_reason(user, built):
    user.shell(FAULT)
    try:
        failed = user.create()["lifecycle_id"]
        waited = user.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", failed, *WAIT,
                              check=False)
        assert waited.returncode == 5, waited.stderr  # the event ended FAILED or ERROR
        status = user.status(failed)
        left = user.shell("python3 -m local fault list").stdout
        after = user.create(*WAIT)
    finally:
        user.shell("python3 -m local fault clear")
    in_progress = status["event_in_progress"]
    assert in_progress["name"] == "BUILD_AMI"
    assert in_progress["status"] == "ERROR"
    assert "Step 'BuildImage' failed: Component 'arn:aws:imagebuilder:" in in_progress["error_message"]
    assert "exit status 1" in in_progress["error_message"]
    assert left.strip() == "no faults"
    # The build after the failed one is not faulted.
    (build,) = [e for e in after["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
    assert build["status"] == "COMPLETED"
    # Image Builder's own record of the failed build carries the same reason.
    images = user.aws("imagebuilder").list_images(owner="Self")["imageVersionList"]
    failed_images = [i for i in user.aws("imagebuilder").list_image_build_versions(
        imageVersionArn=images[0]["arn"])["imageSummaryList"] if i["state"]["status"] == "FAILED"]
    assert failed_images and "Step 'BuildImage' failed" in failed_images[0]["state"]["reason"]
    # The owners were notified: the notification log sink kept the error in the lifecycle's stream.
    logs = user.aws("logs")
    group = f"/ami-lifecycles/{STACK_TAG}/event-notifications"
    messages = " ".join(e["message"] for e in logs.filter_log_events(
        logGroupName=group, logStreamNames=[failed])["events"])
    assert "Step 'BuildImage' failed" in messages


def test_stop_and_start_keep_every_lifecycle(user, built):
    ami_id = built_ami(user, built)
    restarted = user.shell(RESTART)
    assert "local cloud stopped" in restarted.stdout and "local cloud running" in restarted.stdout
    status = user.status(built["lifecycle_id"])
    assert status["outputs_ami_creation"]["events"][0]["status"] == "COMPLETED"
    result = user.shell(f"{GET_AMI} --ami_semver 1.0.0")
    assert f"Retrieved AMI ID == {ami_id}" in result.stdout


def test_destroy_deletes_the_stacks_and_stops_the_cloud(user):
    exported = read_env_file(user.env_file)  # the shell keeps what it sourced; destroy deletes the file
    destroyed = user.shell(DESTROY, check=False)
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert not user.env_file.exists()
    still = subprocess.run(["python3", "-m", "local", "status"], cwd=ROOT, env={**user.env, **exported},
                           capture_output=True, text=True, timeout=120)
    assert still.returncode == 3, still.stdout
    again = subprocess.run(["bash", "destroy.sh", "--local", "--yes"], cwd=ROOT, env={**user.env, **exported},
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1
    assert again.stderr.strip().startswith(f"error: no local cloud answers at {exported['AWS_ENDPOINT_URL']}")


def built_ami(user: User, built: dict) -> str:
    status = user.status(built["lifecycle_id"])
    (build,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
    return build["properties"]["ami_details"][0]["image"]
