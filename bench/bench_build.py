"""What the orchestration adds to an AMI build, on the local cloud.

Starts a local cloud of its own (free port, temporary state, real time:
time scale 1) whose simulated Image Builder takes exactly ``--build-seconds``
D, deploys the synthesized stacks (run ``cdk synth`` first: ``bash
deploy.sh --local`` or ``bash scripts/check.sh`` leaves cdk.out behind),
then creates ``--runs`` lifecycles one after another through the API and
measures, for each, the wall time from the POST to BUILD_AMI COMPLETED in
the status. It prints the orchestration overhead (wall time minus D: the
API, the state machine's steps, the Image Builder notification resuming
the execution, the receiver's record, lookup, tags and notification) and
the Step Functions state transitions of the execution (billed units on
AWS: the ``...StateEntered`` events of its history).

    .venv/bin/python bench/bench_build.py [--build-seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import requests

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
STACK_TAG = "bench"
POLL_SECONDS = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([PYTHON, "-m", "local", *args], cwd=PROJECT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"python -m local {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def synthesize(env: dict[str, str], out: Path) -> None:
    cdk = PROJECT / "node_modules" / ".bin" / "cdk"
    result = subprocess.run([str(cdk), "synth", "--quiet", "--output", str(out)], cwd=PROJECT,
                            env={**env, "STACK_TAG": STACK_TAG, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"cdk synth failed: {result.stderr.strip()}")


def one_build(session: boto3.Session, api_url: str, key: str, build_seconds: float) -> tuple[float, int]:
    body = {
        "stack_tag": STACK_TAG, "owner": "bench@example.com", "product_name": "bench", "product_ver": "1.0.0",
        "commit_ref": "bench", "notifications": [{"method": "EMAIL", "target": "bench@example.com"}],
        "events": [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": False},
                   {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
                   {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}],
    }
    started = time.perf_counter()
    created = requests.post(f"{api_url}/ami-creation/lifecycles", json=body, headers={"x-api-key": key["post"]},
                            timeout=60)
    created.raise_for_status()
    lifecycle_id = created.json()["lifecycle_id"]
    status_url = f"{api_url}/ami-creation/lifecycles/{lifecycle_id}/status"
    deadline = started + build_seconds + 300
    while time.perf_counter() < deadline:
        status = requests.get(status_url, headers={"x-api-key": key["status"]}, timeout=60).json()
        events = (status.get("outputs_ami_creation") or {}).get("events", [])
        if any(e["name"] == "BUILD_AMI" and e["status"] == "COMPLETED" for e in events):
            break
        in_progress = status.get("event_in_progress") or {}
        if in_progress.get("status") == "ERROR":
            raise SystemExit(f"the build failed: {in_progress.get('error_message')}")
        time.sleep(POLL_SECONDS)
    else:
        raise SystemExit("the build did not complete within the time limit")
    wall = time.perf_counter() - started
    arn = _execution_arn(session, lifecycle_id)
    history = session.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    transitions = sum(1 for event in history if event["type"].endswith("StateEntered"))
    return wall, transitions


def _execution_arn(session: boto3.Session, lifecycle_id: str) -> str:
    sfn = session.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            if execution["name"].startswith(lifecycle_id):
                return execution["executionArn"]
    raise SystemExit(f"no execution found for lifecycle {lifecycle_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-seconds", type=float, default=10.0, help="simulated build duration D")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        state = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "LOCAL_CLOUD_PORT": str(free_port()), "LOCAL_CLOUD_STATE_DIR": str(state / "state"),
            "LOCAL_CLOUD_TIME_SCALE": "1", "LOCAL_CLOUD_IMAGE_BUILD_SECONDS": str(args.build_seconds),
        })
        synthesize(env, state / "cdk.out")
        local(env, "start")
        try:
            local(env, "deploy", "--cdk-out", str(state / "cdk.out"), "--outputs-file", str(state / "outputs.json"))
            for line in local(env, "env").splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                os.environ[name] = value.strip("'\"")
            session = boto3.Session()
            outputs = json.loads((state / "outputs.json").read_text())[f"AmiLifecycle-{STACK_TAG}"]
            secrets = session.client("secretsmanager")
            prefix = outputs["apiKeySecretPrefix"]
            key = {name: secrets.get_secret_value(SecretId=f"{prefix}ami_creation_{name}_api_key")["SecretString"]
                   for name in ("post", "status")}
            results = [one_build(session, outputs["amiOrchestratorApiGatewayUrl"], key, args.build_seconds)
                       for _ in range(args.runs)]
        finally:
            local(env, "stop")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"simulated build duration D = {args.build_seconds:.1f} s, {args.runs} builds, status polled every "
          f"{POLL_SECONDS} s")
    print(f"{'run':>3}  {'wall s':>8}  {'overhead s':>10}  {'state transitions':>17}")
    for number, (wall, transitions) in enumerate(results, 1):
        print(f"{number:>3}  {wall:>8.2f}  {wall - args.build_seconds:>10.2f}  {transitions:>17}")
    overheads = [wall - args.build_seconds for wall, _ in results]
    transitions = sorted({t for _, t in results})
    print(f"median overhead {statistics.median(overheads):.2f} s (first build includes cold starts); "
          f"state transitions per build: {', '.join(map(str, transitions))}")


if __name__ == "__main__":
    main()
