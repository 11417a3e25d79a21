"""api-cli.py --mode UI in a pseudo-terminal, as a person uses it: every operation of the menu.

The CLI runs as its own process (``client/api-cli.py``) on a terminal made
by pexpect. It discovers the deployment from a moto server (the
``AmiLifecycle-main`` stack's outputs, the route keys in Secrets Manager,
the patch bucket) and talks to a stub of the orchestrator API that records
every request. Each test answers the prompts, checks that the request is
shown without its key before anything is sent, confirms, and then checks
the request that arrived: method, path, body and the route's key.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import boto3
import pexpect
import pytest

from tests.client import builders

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "client" / "api-cli.py"
REGION = "us-east-1"
LC = builders.LIFECYCLE_ID
PATCH_BUCKET = "amilifecycle-main-patch-components"
KEY_PREFIX = "/ami-lifecycle/main/api-keys/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Arrived:
    method: str
    path: str
    query: dict[str, list[str]]
    key: str | None
    body: Any


@dataclass
class StubApi:
    """The orchestrator API: answers each route with a valid document and remembers each request."""

    requests: list[Arrived] = field(default_factory=list)

    def answer(self, arrived: Arrived) -> tuple[int, str, str]:
        if arrived.path.endswith("/timeline"):
            return 200, "text/html; charset=utf-8", "<html><title>AMI Creation Timeline</title></html>"
        if arrived.method == "GET" and arrived.path.endswith("/lifecycles/status"):
            return 200, "application/json", json.dumps({"items": [builders.view(builders.created())],
                                                        "next_token": None})
        if arrived.method == "GET":
            return 200, "application/json", json.dumps(builders.view(builders.built(builders.created())))
        return 200, "application/json", json.dumps(builders.accepted(builders.created()))


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[StubApi, str]]:
    stub = StubApi()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            arrived = Arrived(self.command, parts.path, parse_qs(parts.query), self.headers.get("x-api-key"),
                              json.loads(raw) if raw else None)
            stub.requests.append(arrived)
            status, content_type, text = stub.answer(arrived)
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield stub, f"http://127.0.0.1:{server.server_port}/dev"
    server.shutdown()


@pytest.fixture(scope="module")
def aws_endpoint(api) -> Iterator[dict[str, str]]:
    """A moto server holding what the CLI discovers; returns the CLI's environment and the keys."""
    from moto.server import ThreadedMotoServer

    from amilc.key_names import DEFAULT_KEY_LEAVES

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    kwargs = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "testing",
              "aws_secret_access_key": "testing"}
    outputs = {"stackTag": "main", "amiOrchestratorApiGatewayUrl": api[1], "apiKeySecretPrefix": KEY_PREFIX,
               "amiSelectionTableName": "lookup", "amiLifecyclePatchComponentBucket": PATCH_BUCKET}
    boto3.client("cloudformation", **kwargs).create_stack(StackName="AmiLifecycle-main", TemplateBody=json.dumps({
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()}}))
    keys = {}
    for setting, leaf in DEFAULT_KEY_LEAVES.items():
        keys[setting] = secrets.token_urlsafe(30)
        boto3.client("secretsmanager", **kwargs).create_secret(Name=f"{KEY_PREFIX}{leaf}",
                                                                SecretString=keys[setting])
    boto3.client("s3", **kwargs).create_bucket(Bucket=PATCH_BUCKET)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCAL_CLOUD_")) and k != "STACK_TAG"}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true", "TERM": "dumb",
                "PYTHONDONTWRITEBYTECODE": "1"})
    yield {"env": env, "keys": keys, "s3": kwargs}
    server.stop()


class Terminal:
    """The CLI on a pseudo-terminal; ``answer`` waits for a prompt and types a line."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.child = pexpect.spawn(sys.executable, [str(CLI), "--mode", "UI", "--stackTag", "main"], env=env,
                                   cwd=str(cwd), encoding="utf-8", timeout=30, dimensions=(50, 200))
        self.seen = ""

    def expect(self, text: str) -> str:
        self.child.expect_exact(text)
        shown = self.child.before + self.child.after
        self.seen += shown
        return shown

    def answer(self, prompt: str, line: str) -> str:
        shown = self.expect(prompt)
        self.child.sendline(line)
        return shown

    def choose(self, label_start: str) -> None:
        from amilc.ui import MENU

        number = next(i for i, (label, _) in enumerate(MENU, start=1) if label.startswith(label_start))
        self.answer("Choose", str(number))

    def send_it(self) -> str:
        """Confirm the request shown; returns what was shown before the question."""
        return self.answer("Send it?", "y")

    def quit(self) -> int:
        self.answer("Choose", "0")
        self.child.expect(pexpect.EOF)
        self.seen += self.child.before
        self.child.close()
        return self.child.exitstatus


@pytest.fixture
def terminal(aws_endpoint, api, tmp_path) -> Iterator[Terminal]:
    api[0].requests.clear()
    (tmp_path / "cli-config.json").write_text(json.dumps({
        "owner": "platform-team", "notifications": [{"method": "EMAIL", "target": "platform@example.com"}],
        "properties": {"ticket": "OPS-7"}}))
    session = Terminal(aws_endpoint["env"], tmp_path)
    yield session
    if session.child.isalive():
        session.child.terminate(force=True)
    assert all(key not in session.seen for key in aws_endpoint["keys"].values())


def only_request(api) -> Arrived:
    (arrived,) = api[0].requests
    return arrived


def enabled(body: dict) -> list[str]:
    return [e["name"] for e in body["events"] if e["enabled"]]


def test_create_an_ami_with_the_events_chosen(terminal, api, aws_endpoint):
    terminal.choose("Create an AMI")
    terminal.answer("Run Smoke Tests", "y")
    terminal.answer("Run Vulnerability Scans", "y")
    terminal.answer("Run QA Certification Request", "n")
    terminal.answer("Owner", "")
    terminal.answer("Notifications", "")
    terminal.answer("Properties", "")
    terminal.answer("Product name", "payments-service")
    terminal.answer("Product version", "2.4.1")
    terminal.answer("Commit", "9fceb02")
    shown = terminal.send_it()

    assert f"POST {api[1]}/ami-creation/lifecycles (API key in the x-api-key header, not shown)" in shown
    assert '"product_name": "payments-service"' in shown
    assert api[0].requests == []  # nothing is sent before the confirmation
    terminal.expect(LC)
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.method, arrived.path) == ("POST", "/dev/ami-creation/lifecycles")
    assert arrived.key == aws_endpoint["keys"]["ami_creation_post_secret_name"]
    assert enabled(arrived.body) == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE"]
    assert (arrived.body["owner"], arrived.body["properties"]) == ("platform-team", {"ticket": "OPS-7"})
    assert arrived.body["notifications"] == [{"method": "EMAIL", "target": "platform@example.com"}]
    assert arrived.body["commit_ref"] == "9fceb02"


def test_update_a_creation_with_more_events(terminal, api, aws_endpoint):
    terminal.choose("Continue an AMI creation")
    terminal.answer("Lifecycle id", LC)
    terminal.answer("Run Smoke Tests", "n")
    terminal.answer("Run Vulnerability Scans", "n")
    terminal.answer("Run QA Certification Request", "y")
    for prompt in ("Owner", "Notifications", "Properties"):
        terminal.answer(prompt, "")
    assert f"PUT {api[1]}/ami-creation/lifecycles (API key" in terminal.send_it()
    terminal.expect(LC)
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.method, arrived.key) == ("PUT", aws_endpoint["keys"]["ami_creation_put_secret_name"])
    assert arrived.body["lifecycle_id"] == LC
    assert enabled(arrived.body) == ["QA_CERTIFICATION_REQUEST"]


def test_patch_an_approved_ami_uploads_the_component_first(terminal, api, aws_endpoint, tmp_path):
    component = tmp_path / "openssl.yml"
    component.write_text("name: openssl\nschemaVersion: 1.0\nphases: []\n")
    terminal.choose("Patch an approved AMI")
    terminal.answer("Lifecycle id", LC)
    terminal.answer("Run Smoke Tests", "y")
    terminal.answer("Run Vulnerability Scans", "n")
    for prompt in ("Owner", "Notifications", "Properties"):
        terminal.answer(prompt, "")
    terminal.answer("Commit", "77aa01c")
    terminal.answer("Component document", str(component))
    terminal.answer("What does the patch change", "Update openssl")
    terminal.answer("Version part to raise", "MINOR")
    shown = terminal.send_it()

    assert f"POST {api[1]}/ami-patch/lifecycles (API key" in shown and "s3://" + PATCH_BUCKET in shown
    terminal.expect(LC)
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.method, arrived.key) == ("POST", aws_endpoint["keys"]["ami_patch_post_secret_name"])
    assert enabled(arrived.body) == ["PATCH_AMI", "SMOKE_TESTS_AMI_PATCH"]
    properties = arrived.body["properties"]
    assert (properties["patch_change_description"], properties["semver_bump_type"]) == ("Update openssl", "MINOR")
    bucket, _, key = properties["patch_component_url"][len("s3://"):].partition("/")
    uploaded = boto3.client("s3", **aws_endpoint["s3"]).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert uploaded == component.read_bytes()


def test_continue_a_patch_with_more_events(terminal, api, aws_endpoint):
    terminal.choose("Continue an AMI patch")
    terminal.answer("Lifecycle id", LC)
    terminal.answer("Run Smoke Tests", "n")
    terminal.answer("Run Vulnerability Scans", "y")
    for prompt in ("Owner", "Notifications", "Properties"):
        terminal.answer(prompt, "")
    assert f"PUT {api[1]}/ami-patch/lifecycles (API key" in terminal.send_it()
    terminal.expect(LC)
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.method, arrived.key) == ("PUT", aws_endpoint["keys"]["ami_patch_put_secret_name"])
    assert enabled(arrived.body) == ["VULNERABILITY_SCANS_AMI_PATCH"]


@pytest.mark.parametrize(("label", "path", "setting"), [
    ("Status of a lifecycle", f"/dev/ami-creation/lifecycles/{LC}/status", "ami_creation_status_secret_name"),
    ("Timeline of an AMI creation", f"/dev/ami-creation/lifecycles/{LC}/timeline",
     "ami_creation_timeline_secret_name"),
    ("Timeline of an AMI patch", f"/dev/ami-patch/lifecycles/{LC}/timeline", "ami_patch_timeline_secret_name"),
])
def test_reading_one_lifecycle(terminal, api, aws_endpoint, label, path, setting):
    terminal.choose(label)
    terminal.answer("Lifecycle id", LC)
    shown = terminal.send_it()
    assert f"GET {api[1]}{path[len('/dev'):]} (API key in the x-api-key header, not shown)" in shown
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.method, arrived.path, arrived.key) == ("GET", path, aws_endpoint["keys"][setting])


def test_the_lifecycles_of_the_stack_tag(terminal, api, aws_endpoint):
    terminal.choose("Lifecycles of this stack tag")
    assert f"GET {api[1]}/ami-creation/lifecycles/status?stack_tag=main" in terminal.send_it()
    terminal.expect(LC)
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.path, arrived.query["stack_tag"]) == ("/dev/ami-creation/lifecycles/status", ["main"])
    assert arrived.key == aws_endpoint["keys"]["ami_creation_status_secret_name"]


def test_the_qa_verdict(terminal, api, aws_endpoint):
    terminal.choose("Record the QA certification verdict")
    terminal.answer("Lifecycle id", LC)
    terminal.answer("QA verdict", "CERTIFIED")
    assert f"POST {api[1]}/ami-creation/lifecycles/{LC}/certify (API key" in terminal.send_it()
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert arrived.key == aws_endpoint["keys"]["ami_creation_qa_certification_secret_name"]
    assert arrived.body["certification_status"] == "CERTIFIED"


@pytest.mark.parametrize(("label", "path", "setting"), [
    ("Approve (or refuse) a created AMI", f"/dev/ami-creation/lifecycles/{LC}/approve",
     "ami_creation_mark_for_production_secret_name"),
    ("Approve (or refuse) a patched AMI", f"/dev/ami-patch/lifecycles/{LC}/approve",
     "ami_patch_mark_for_production_secret_name"),
])
def test_the_production_approval(terminal, api, aws_endpoint, label, path, setting):
    terminal.choose(label)
    terminal.answer("Lifecycle id", LC)
    terminal.answer("Approval verdict", "APPROVED")
    terminal.send_it()
    assert terminal.quit() == 0
    arrived = only_request(api)
    assert (arrived.method, arrived.path, arrived.key) == ("POST", path, aws_endpoint["keys"][setting])
    assert "APPROVED" in json.dumps(arrived.body)


def test_a_request_declined_at_the_terminal_is_never_sent(terminal, api):
    terminal.choose("Status of a lifecycle")
    terminal.answer("Lifecycle id", LC)
    terminal.answer("Send it?", "n")
    terminal.expect("not sent")
    assert terminal.quit() == 0
    assert api[0].requests == []
