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
import os
import platform
import statistics
import time

import boto3
import requests

from harness import STACK_TAG, deployment, measure

POLL_SECONDS = 0.2


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
    return wall, measure(session, lifecycle_id).transitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-seconds", type=float, default=10.0, help="simulated build duration D")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with deployment(time_scale=1, environment={"LOCAL_CLOUD_IMAGE_BUILD_SECONDS": str(args.build_seconds)}) as cloud:
        key = {"post": cloud.key("ami_creation_post_secret_name"),
               "status": cloud.key("ami_creation_status_secret_name")}
        results = [one_build(cloud.session, cloud.api_url, key, args.build_seconds) for _ in range(args.runs)]

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
