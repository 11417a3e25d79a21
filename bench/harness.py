"""What every local-cloud benchmark shares: a deployment of its own, and the Step Functions measurements.

``deployment(...)`` synthesizes the app, starts a local cloud on a free
port with temporary state, deploys the stacks and yields a ``Deployment``
(boto3 session on the local endpoint, the AmiLifecycle stack's outputs,
the API keys by leaf name); the cloud is stopped on exit, whatever
happens. ``measure(...)`` reads every execution a lifecycle started and
returns what the benchmarks print: the seconds the state machines spent
waiting for the simulated world and the billed state transitions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import boto3
import requests

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
STACK_TAG = "bench"
WAIT_FOR_CALLBACK = ".waitForTaskToken"


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


def api_key_leaves() -> dict[str, str]:
    """API key setting name -> secret leaf name, as cdk.json declares them."""
    settings = json.loads((PROJECT / "cdk.json").read_text())["projectSettings"]
    leaves: dict[str, str] = {}

    def collect(node: object) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if name.endswith("_secret_name") and isinstance(value, str):
                    leaves[name] = value
                else:
                    collect(value)

    collect(settings)
    return leaves


@dataclass
class Deployment:
    session: boto3.Session
    endpoint: str
    outputs: dict[str, str]
    keys: dict[str, str]  # secret leaf name -> key

    @property
    def api_url(self) -> str:
        return self.outputs["amiOrchestratorApiGatewayUrl"]

    def key(self, setting: str) -> str:
        """The key of an API key setting, e.g. ``ami_creation_post_secret_name``."""
        return self.keys[api_key_leaves()[setting]]

    def set_time_scale(self, scale: float) -> None:
        answer = requests.post(f"{self.endpoint}/_local/time-scale", json={"scale": scale}, timeout=30)
        answer.raise_for_status()


@contextmanager
def deployment(*, time_scale: float, environment: dict[str, str] | None = None,
               enable_inspector: bool = False) -> Iterator[Deployment]:
    """A fresh local cloud with the stacks deployed; ``environment`` adds LOCAL_CLOUD_* settings."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        state = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"LOCAL_CLOUD_PORT": str(free_port()), "LOCAL_CLOUD_STATE_DIR": str(state / "state"),
                    "LOCAL_CLOUD_TIME_SCALE": str(time_scale), **(environment or {})})
        synthesize(env, state / "cdk.out")
        local(env, "start")
        try:
            local(env, "deploy", "--cdk-out", str(state / "cdk.out"), "--outputs-file", str(state / "outputs.json"))
            for line in local(env, "env").splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                os.environ[name] = value.strip("'\"")
            session = boto3.Session()
            if enable_inspector:
                account = session.client("sts").get_caller_identity()["Account"]
                session.client("inspector2").enable(accountIds=[account], resourceTypes=["EC2"])
            outputs = json.loads((state / "outputs.json").read_text())[f"AmiLifecycle-{STACK_TAG}"]
            secrets = session.client("secretsmanager")
            prefix = outputs["apiKeySecretPrefix"]
            keys = {leaf: secrets.get_secret_value(SecretId=f"{prefix}{leaf}")["SecretString"]
                    for leaf in api_key_leaves().values()}
            yield Deployment(session=session, endpoint=os.environ["AWS_ENDPOINT_URL"], outputs=outputs, keys=keys)
        finally:
            local(env, "stop")


# ------------------------------------------------------------------ measurements

def executions(sfn, lifecycle_id: str) -> list[str]:
    """Every execution started for the lifecycle (their names start with its id), over every state machine."""
    arns = []
    for machines in sfn.get_paginator("list_state_machines").paginate():
        for machine in machines["stateMachines"]:
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
                arns += [e["executionArn"] for e in page["executions"] if e["name"].startswith(lifecycle_id)]
    return arns


def history(sfn, arn: str) -> list[dict]:
    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events += page["events"]
    return events


def waiting_seconds(events: list[dict]) -> float:
    """Seconds spent waiting for the simulated world: in ``.waitForTaskToken`` tasks (from scheduling to the
    task's answer or timeout) and in Wait states (simulated delays such as an export's progress)."""
    total, scheduled, waiting = 0.0, None, None
    for event in events:
        details = event.get("taskScheduledEventDetails") or {}
        if event["type"] == "TaskScheduled":
            scheduled = event["timestamp"] if details.get("resource", "").endswith(WAIT_FOR_CALLBACK) else None
        elif scheduled is not None and event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            total += (event["timestamp"] - scheduled).total_seconds()
            scheduled = None
        elif event["type"] == "WaitStateEntered":
            waiting = event["timestamp"]
        elif event["type"] == "WaitStateExited" and waiting is not None:
            total += (event["timestamp"] - waiting).total_seconds()
            waiting = None
    return total


@dataclass(frozen=True)
class Measured:
    waiting: float
    transitions: int
    executions: int


def measure(session: boto3.Session, lifecycle_id: str) -> Measured:
    """What the lifecycle's executions cost: waiting time, ``...StateEntered`` events, execution count."""
    sfn = session.client("stepfunctions")
    histories = [history(sfn, arn) for arn in executions(sfn, lifecycle_id)]
    return Measured(waiting=sum(waiting_seconds(h) for h in histories),
                    transitions=sum(1 for h in histories for e in h if e["type"].endswith("StateEntered")),
                    executions=len(histories))
