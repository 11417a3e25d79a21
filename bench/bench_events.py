"""What the orchestration adds to a whole lifecycle (build, smoke tests, vulnerability scans), on the local cloud.

Starts a local cloud of its own (free port, temporary state) and deploys
the stacks with the helpers of ``bench_build.py``, then, for each simulated
duration, sets the cloud's time scale so that the simulated Image Builder
build takes that long (every other simulated duration scales with it:
Inspector's scan, its report, the state machines' waits) and creates
``--runs`` lifecycles with the smoke tests and the vulnerability scans
enabled, one after another, through the API. Each is followed with the
CLI's own ``--wait`` logic (``amilc.follow``, a fixed 0.2 s poll) until
nothing more is due.

For each lifecycle it prints the wall time from the POST to the last
result, the time the state machines spent waiting for the simulated world
(every ``.waitForTaskToken`` task: the build, the instance running the
suite, Inspector's scan event; and every Wait state, a simulated delay such
as the test logs' shipping time), the orchestration overhead (wall time minus
that waiting: the API, every other state, the receivers, the next-event
starts, tags, notifications, polling) and the Step Functions state
transitions of all its executions (``...StateEntered`` events of their
paginated histories, what Step Functions bills on AWS). Transitions must
not grow with the duration.

    .venv/bin/python bench/bench_events.py [--durations 10 60] [--runs 2] [--no-scans]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import requests

from bench_build import PROJECT, STACK_TAG, free_port, local, synthesize

sys.path.insert(0, str(PROJECT / "client"))
from amilc.errors import ExitCode  # noqa: E402
from amilc.follow import follow  # noqa: E402

POLL_SECONDS = 0.2
# The simulated build lasts this long at time scale 1; a time scale of D / BUILD_SECONDS makes it D seconds.
BUILD_SECONDS = 600.0
WAIT_FOR_CALLBACK = ".waitForTaskToken"


@dataclass(frozen=True)
class Run:
    duration: float
    wall: float
    waiting: float
    transitions: int
    executions: int

    @property
    def overhead(self) -> float:
        return self.wall - self.waiting


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
    task's answer or timeout) and in Wait states (simulated delays such as the logs' shipping time)."""
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


def one_lifecycle(session: boto3.Session, api_url: str, key: dict[str, str], duration: float, scans: bool) -> Run:
    events = [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True},
              {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": scans},
              {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}]
    body = {"stack_tag": STACK_TAG, "owner": "bench@example.com", "product_name": "bench", "product_ver": "1.0.0",
            "commit_ref": "bench", "notifications": [{"method": "EMAIL", "target": "bench@example.com"}],
            "events": events}
    started = time.perf_counter()
    created = requests.post(f"{api_url}/ami-creation/lifecycles", json=body, headers={"x-api-key": key["post"]},
                            timeout=60)
    created.raise_for_status()
    lifecycle_id = created.json()["lifecycle_id"]
    status_url = f"{api_url}/ami-creation/lifecycles/{lifecycle_id}/status"

    def fetch() -> dict:
        answer = requests.get(status_url, headers={"x-api-key": key["status"]}, timeout=60)
        answer.raise_for_status()
        return answer.json()

    outcome = follow(fetch, timeout=duration * 3 + 600, interval=POLL_SECONDS, report=lambda line: None)
    wall = time.perf_counter() - started
    if outcome.exit_code is not ExitCode.OK:
        raise SystemExit(f"lifecycle {lifecycle_id}: {outcome.message}")
    sfn = session.client("stepfunctions")
    histories = [history(sfn, arn) for arn in executions(sfn, lifecycle_id)]
    return Run(duration=duration, wall=wall, waiting=sum(waiting_seconds(h) for h in histories),
               transitions=sum(1 for h in histories for e in h if e["type"].endswith("StateEntered")),
               executions=len(histories))


def set_time_scale(endpoint: str, scale: float) -> None:
    answer = requests.post(f"{endpoint}/_local/time-scale", json={"scale": scale}, timeout=30)
    answer.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[10.0, 60.0],
                        help="simulated build durations D (seconds of real time)")
    parser.add_argument("--runs", type=int, default=2, help="lifecycles per duration")
    parser.add_argument("--no-scans", action="store_true", help="build and smoke tests only")
    args = parser.parse_args()
    scans = not args.no_scans

    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        state = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"LOCAL_CLOUD_PORT": str(free_port()), "LOCAL_CLOUD_STATE_DIR": str(state / "state"),
                    "LOCAL_CLOUD_TIME_SCALE": str(args.durations[0] / BUILD_SECONDS),
                    "LOCAL_CLOUD_IMAGE_BUILD_SECONDS": str(BUILD_SECONDS)})
        synthesize(env, state / "cdk.out")
        local(env, "start")
        try:
            local(env, "deploy", "--cdk-out", str(state / "cdk.out"), "--outputs-file", str(state / "outputs.json"))
            for line in local(env, "env").splitlines():
                name, _, value = line.removeprefix("export ").partition("=")
                os.environ[name] = value.strip("'\"")
            session = boto3.Session()
            account = session.client("sts").get_caller_identity()["Account"]
            session.client("inspector2").enable(accountIds=[account], resourceTypes=["EC2"])
            outputs = json.loads((state / "outputs.json").read_text())[f"AmiLifecycle-{STACK_TAG}"]
            secrets = session.client("secretsmanager")
            prefix = outputs["apiKeySecretPrefix"]
            key = {name: secrets.get_secret_value(SecretId=f"{prefix}ami_creation_{name}_api_key")["SecretString"]
                   for name in ("post", "status")}
            results = []
            for duration in args.durations:
                set_time_scale(os.environ["AWS_ENDPOINT_URL"], duration / BUILD_SECONDS)
                results += [one_lifecycle(session, outputs["amiOrchestratorApiGatewayUrl"], key, duration, scans)
                            for _ in range(args.runs)]
        finally:
            local(env, "stop")

    events = "build + smoke tests" + (" + vulnerability scans" if scans else "")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{events}; {args.runs} lifecycles per duration, status polled every {POLL_SECONDS} s")
    print(f"{'D s':>5}  {'run':>3}  {'wall s':>8}  {'waiting s':>9}  {'overhead s':>10}  {'executions':>10}  "
          f"{'state transitions':>17}")
    for number, run in enumerate(results, 1):
        print(f"{run.duration:>5.0f}  {(number - 1) % args.runs + 1:>3}  {run.wall:>8.2f}  {run.waiting:>9.2f}  "
              f"{run.overhead:>10.2f}  {run.executions:>10}  {run.transitions:>17}")
    for duration in args.durations:
        runs = [run for run in results if run.duration == duration]
        print(f"D = {duration:.0f} s: median overhead {statistics.median(r.overhead for r in runs):.2f} s, "
              f"state transitions {', '.join(map(str, sorted({r.transitions for r in runs})))}")


if __name__ == "__main__":
    main()
