"""What the orchestration adds to the whole creation lifecycle, on the local cloud.

Build -> smoke tests -> vulnerability scans -> QA certification request
(VMDK export) -> QA verdict -> approval for production (AMI backup, the
production channel). A local cloud of its own is deployed with
``harness.deployment``; for each simulated build duration D the time scale
is set so the simulated build lasts D seconds (every other simulated
duration scales with it: the instance suite, Inspector's scan, the export
and store tasks, the state machines' waits). Each lifecycle is created with
every event enabled through the API and followed with the CLI's ``--wait``
logic; when the QA request completed, the verdict CERTIFIED and the
approval are sent at once (as a script would), and the approval is followed
to its end.

Per lifecycle it prints:

* wall: from the POST to the approval's result;
* waiting: time the state machines spent waiting for the simulated world:
  every ``.waitForTaskToken`` task (build, suite, scan) and every Wait state
  that is not a task poll;
* tasks: the simulated export and store tasks' own durations;
* polling lag: time spent in the export and backup poll waits beyond the
  tasks' durations (what a poll interval costs);
* overhead: wall - waiting - tasks (the API, every other state, the
  receivers, next-event starts, tags, notifications, the poll lag, the
  client's own poll);
* the Step Functions state transitions of all its executions.

    .venv/bin/python bench/bench_lifecycle.py [--durations 10 60] [--runs 2]
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

from harness import PROJECT, STACK_TAG, deployment, executions, history

sys.path.insert(0, str(PROJECT / "client"))
from amilc.errors import ExitCode  # noqa: E402
from amilc.follow import follow  # noqa: E402

POLL_SECONDS = 0.2
# Simulated durations at time scale 1; a time scale of D / BUILD_SECONDS makes the build last D seconds.
BUILD_SECONDS = 600.0
TASK_SECONDS = 60.0  # each export / store task
WAIT_FOR_CALLBACK = ".waitForTaskToken"
POLL_WORDS = ("export", "store", "backup")  # Wait states that poll a task


@dataclass(frozen=True)
class Run:
    duration: float
    wall: float
    waiting: float
    tasks: float
    poll_waits: float
    transitions: int
    executions: int

    @property
    def overhead(self) -> float:
        return self.wall - self.waiting - self.tasks

    @property
    def polling_lag(self) -> float:
        return self.poll_waits - self.tasks


def split_waiting(events: list[dict]) -> tuple[float, float]:
    """``(world, polling)``: seconds in callback tasks and non-poll Wait states; seconds in poll Waits."""
    world = polling = 0.0
    scheduled = entered = None
    poll = False
    for event in events:
        if event["type"] == "TaskScheduled":
            resource = (event.get("taskScheduledEventDetails") or {}).get("resource", "")
            scheduled = event["timestamp"] if resource.endswith(WAIT_FOR_CALLBACK) else None
        elif scheduled is not None and event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            world += (event["timestamp"] - scheduled).total_seconds()
            scheduled = None
        elif event["type"] == "WaitStateEntered":
            entered = event["timestamp"]
            name = (event.get("stateEnteredEventDetails") or {}).get("name", "").lower()
            poll = any(word in name for word in POLL_WORDS)
        elif event["type"] == "WaitStateExited" and entered is not None:
            seconds = (event["timestamp"] - entered).total_seconds()
            if poll:
                polling += seconds
            else:
                world += seconds
            entered = None
    return world, polling


def one_lifecycle(session: boto3.Session, api_url: str, keys: dict[str, str], duration: float) -> Run:
    events = [{"name": name, "enabled": True} for name in
              ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")]
    body = {"stack_tag": STACK_TAG, "owner": "bench@example.com", "product_name": "bench", "product_ver": "1.0.0",
            "commit_ref": "bench", "notifications": [{"method": "EMAIL", "target": "bench@example.com"}],
            "events": events}
    started = time.perf_counter()
    created = requests.post(f"{api_url}/ami-creation/lifecycles", json=body,
                            headers={"x-api-key": keys["post"]}, timeout=60)
    created.raise_for_status()
    lifecycle_id = created.json()["lifecycle_id"]
    one = f"{api_url}/ami-creation/lifecycles/{lifecycle_id}"

    def fetch() -> dict:
        answer = requests.get(f"{one}/status", headers={"x-api-key": keys["status"]}, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def followed(stage: str) -> None:
        outcome = follow(fetch, timeout=duration * 4 + 900, interval=POLL_SECONDS, report=lambda line: None)
        if outcome.exit_code is not ExitCode.OK:
            raise SystemExit(f"lifecycle {lifecycle_id}, {stage}: {outcome.message}")

    followed("up to the QA request")
    for path, key, verdict in (("certify", "qa", {"certification_status": "CERTIFIED"}),
                               ("approve", "approve", {"approval_status": "APPROVED"})):
        answer = requests.post(f"{one}/{path}", json={"stack_tag": STACK_TAG, **verdict},
                               headers={"x-api-key": keys[key]}, timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"lifecycle {lifecycle_id}: {path} answered {answer.status_code}: {answer.text}")
    followed("the approval")
    wall = time.perf_counter() - started

    sfn = session.client("stepfunctions")
    histories = [history(sfn, arn) for arn in executions(sfn, lifecycle_id)]
    world = polling = 0.0
    for events_of_one in histories:
        w, p = split_waiting(events_of_one)
        world, polling = world + w, polling + p
    scale = duration / BUILD_SECONDS
    return Run(duration=duration, wall=wall, waiting=world, tasks=2 * TASK_SECONDS * scale, poll_waits=polling,
               transitions=sum(1 for h in histories for e in h if e["type"].endswith("StateEntered")),
               executions=len(histories))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[10.0, 60.0],
                        help="simulated build durations D (seconds of real time)")
    parser.add_argument("--runs", type=int, default=2, help="lifecycles per duration")
    args = parser.parse_args()

    with deployment(time_scale=args.durations[0] / BUILD_SECONDS, enable_inspector=True,
                    environment={"LOCAL_CLOUD_IMAGE_BUILD_SECONDS": str(BUILD_SECONDS),
                                 "LOCAL_CLOUD_EXPORT_TASK_SECONDS": str(TASK_SECONDS)}) as cloud:
        keys = {"post": cloud.key("ami_creation_post_secret_name"),
                "status": cloud.key("ami_creation_status_secret_name"),
                "qa": cloud.key("ami_creation_qa_certification_secret_name"),
                "approve": cloud.key("ami_creation_mark_for_production_secret_name")}
        results = []
        for duration in args.durations:
            cloud.set_time_scale(duration / BUILD_SECONDS)
            results += [one_lifecycle(cloud.session, cloud.api_url, keys, duration) for _ in range(args.runs)]

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"build + smoke tests + vulnerability scans + QA request (VMDK export) + verdict + approval (backup); "
          f"{args.runs} lifecycles per duration, status polled every {POLL_SECONDS} s")
    print(f"{'D s':>5}  {'run':>3}  {'wall s':>7}  {'waiting s':>9}  {'tasks s':>7}  {'poll lag s':>10}  "
          f"{'overhead s':>10}  {'executions':>10}  {'transitions':>11}")
    for number, run in enumerate(results, 1):
        print(f"{run.duration:>5.0f}  {(number - 1) % args.runs + 1:>3}  {run.wall:>7.2f}  {run.waiting:>9.2f}  "
              f"{run.tasks:>7.2f}  {run.polling_lag:>10.2f}  {run.overhead:>10.2f}  {run.executions:>10}  "
              f"{run.transitions:>11}")
    for duration in args.durations:
        runs = [run for run in results if run.duration == duration]
        print(f"D = {duration:.0f} s: median overhead {statistics.median(r.overhead for r in runs):.2f} s, "
              f"state transitions {', '.join(map(str, sorted({r.transitions for r in runs})))}")
    print("the original (docs/performance.md): about 313 state transitions per creation lifecycle and 6 min of "
          "polling lag on average")


if __name__ == "__main__":
    main()
