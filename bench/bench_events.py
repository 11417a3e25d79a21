"""What the orchestration adds to a whole lifecycle (build, smoke tests, vulnerability scans), on the local cloud.

Starts a local cloud of its own (free port, temporary state) and deploys
the stacks with ``harness.deployment``, then, for each simulated
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
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

import boto3
import requests

from harness import PROJECT, STACK_TAG, deployment, measure

sys.path.insert(0, str(PROJECT / "client"))
from amilc.errors import ExitCode  # noqa: E402
from amilc.follow import follow  # noqa: E402

POLL_SECONDS = 0.2
# The simulated build lasts this long at time scale 1; a time scale of D / BUILD_SECONDS makes it D seconds.
BUILD_SECONDS = 600.0


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
    cost = measure(session, lifecycle_id)
    return Run(duration=duration, wall=wall, waiting=cost.waiting, transitions=cost.transitions,
               executions=cost.executions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[10.0, 60.0],
                        help="simulated build durations D (seconds of real time)")
    parser.add_argument("--runs", type=int, default=2, help="lifecycles per duration")
    parser.add_argument("--no-scans", action="store_true", help="build and smoke tests only")
    args = parser.parse_args()
    scans = not args.no_scans

    with deployment(time_scale=args.durations[0] / BUILD_SECONDS, enable_inspector=True,
                    environment={"LOCAL_CLOUD_IMAGE_BUILD_SECONDS": str(BUILD_SECONDS)}) as cloud:
        key = {"post": cloud.key("ami_creation_post_secret_name"),
               "status": cloud.key("ami_creation_status_secret_name")}
        results = []
        for duration in args.durations:
            cloud.set_time_scale(duration / BUILD_SECONDS)
            results += [one_lifecycle(cloud.session, cloud.api_url, key, duration, scans) for _ in range(args.runs)]

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
