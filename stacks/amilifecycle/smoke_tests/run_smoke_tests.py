"""Run the smoke-test suite on this instance and answer the Step Functions task.

    python3 run_smoke_tests.py --task-token-file F --log-group G --log-stream S [--region R]

1. runs pytest on the suite (this file's folder) in a child process, with a
   plugin (this module, loaded by ``-p run_smoke_tests``) that records every
   test's outcome and duration;
2. writes pytest's whole output to CloudWatch Logs ``G``/``S`` (the group
   and stream are created if absent);
3. answers the task token read from ``F``:

   * every test passed: ``SendTaskSuccess`` with the result document;
   * a test failed or errored: ``SendTaskFailure``, error
     ``SmokeTestsFailed``, cause = the same document;
   * the runner could not do its job: ``SendTaskFailure``, error
     ``SmokeTestsError``, cause = what went wrong.

Exit status 0 means the task was answered (whatever the tests said); 1 that
it could not be, so that whoever started the runner answers it instead.
Needs only the standard library, pytest and boto3. See docs/smoke-tests.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUITE_DIR = Path(__file__).resolve().parent
RESULTS_FILE_VARIABLE = "SMOKE_TEST_RESULTS_FILE"
ERROR_FAILED = "SmokeTestsFailed"
ERROR_RUNNER = "SmokeTestsError"
CAUSE_LIMIT = 32768  # SendTaskFailure cause, characters
OUTPUT_LIMIT = 262144  # SendTaskSuccess output, characters
ERROR_CAUSE_CHARS = 2000
# PutLogEvents: at most 10,000 events and 1,048,576 bytes per call, each
# event counted as its UTF-8 size plus 26 bytes; an event at most 256 KB.
LOG_BATCH_EVENTS = 10_000
LOG_BATCH_BYTES = 1_048_576
LOG_EVENT_OVERHEAD = 26
LOG_EVENT_BYTES = 262_144 - LOG_EVENT_OVERHEAD
PYTEST_NO_TESTS = 5


# ---- the pytest plugin: runs inside the pytest process ---------------------
def _record(entry: dict[str, Any]) -> None:
    path = os.environ.get(RESULTS_FILE_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as results:
            results.write(json.dumps(entry) + "\n")


def pytest_runtest_logreport(report: Any) -> None:
    _record({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
             "duration": float(getattr(report, "duration", 0.0) or 0.0)})


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _record({"nodeid": report.nodeid or "<collection>", "when": "collect", "outcome": "failed",
                 "duration": 0.0})


# ---- results -------------------------------------------------------------
@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    output: str
    tests: list[dict[str, Any]]


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per test, in the order they ran: ``outcome`` is ``failed``
    (the test body failed), ``error`` (setup, teardown or collection
    failed), ``skipped`` or ``passed``; durations add up the phases."""
    tests: dict[str, dict[str, Any]] = {}
    for record in records:
        test = tests.setdefault(record["nodeid"], {"name": record["nodeid"], "outcome": "passed",
                                                   "duration_seconds": 0.0})
        test["duration_seconds"] = round(test["duration_seconds"] + record["duration"], 3)
        if record["outcome"] == "failed":
            test["outcome"] = "failed" if record["when"] == "call" else "error"
        elif record["outcome"] == "skipped" and test["outcome"] == "passed":
            test["outcome"] = "skipped"
    return list(tests.values())


def result_document(tests: list[dict[str, Any]], log_group: str, log_stream: str) -> dict[str, Any]:
    failed = [test["name"] for test in tests if test["outcome"] in ("failed", "error")]
    return {
        "smoke_tests_status": "FAILED" if failed else "PASSED",
        "total": len(tests),
        "passed": sum(1 for test in tests if test["outcome"] == "passed"),
        "failed": len(failed),
        "failed_tests": failed,
        "tests": tests,
        "log_group": log_group,
        "log_stream": log_stream,
    }


def fit(document: dict[str, Any], limit: int) -> str:
    """The document as JSON of at most ``limit`` characters: the passing
    entries of ``tests`` go first, then the others; the counts and the
    names in ``failed_tests`` stay (unless they alone exceed the limit)."""
    text = json.dumps(document)
    if len(text) <= limit:
        return text
    trimmed = dict(document)
    for keep in (lambda t: t["outcome"] != "passed", lambda t: False):
        trimmed["tests"] = [test for test in document["tests"] if keep(test)]
        text = json.dumps(trimmed)
        if len(text) <= limit:
            return text
    names = list(document["failed_tests"])
    while names and len(text) > limit:
        names = names[: len(names) // 2]
        trimmed["failed_tests"] = names
        text = json.dumps(trimmed)
    return text


def run_suite(suite_dir: Path, work_dir: Path) -> SuiteRun:
    results_file = work_dir / "results.jsonl"
    results_file.write_text("", encoding="utf-8")
    environment = dict(os.environ)
    environment[RESULTS_FILE_VARIABLE] = str(results_file)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent), str(suite_dir)]
        + ([environment["PYTHONPATH"]] if environment.get("PYTHONPATH") else []))
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "run_smoke_tests", "-v", "--color=no",
               "--rootdir", str(suite_dir), str(suite_dir)]
    completed = subprocess.run(command, cwd=suite_dir, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", check=False)
    records = [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line]
    return SuiteRun(exit_code=completed.returncode, output=completed.stdout, tests=summarize(records))


# ---- CloudWatch Logs ---------------------------------------------------
def log_batches(text: str, timestamp_ms: int) -> list[list[dict[str, Any]]]:
    """``text`` as PutLogEvents batches: one event per line (an over-long
    line split, an empty one a single space), within the call's limits."""
    events: list[dict[str, Any]] = []
    for line in text.splitlines() or [""]:
        for piece in _split_utf8(line or " ", LOG_EVENT_BYTES):
            events.append({"timestamp": timestamp_ms, "message": piece})
    batches: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode("utf-8")) + LOG_EVENT_OVERHEAD
        if batch and (len(batch) >= LOG_BATCH_EVENTS or size + event_size > LOG_BATCH_BYTES):
            batches.append(batch)
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        batches.append(batch)
    return batches


def _split_utf8(line: str, limit: int) -> list[str]:
    data = line.encode("utf-8")
    if len(data) <= limit:
        return [line]
    pieces = []
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # never inside a character
            cut -= 1
        pieces.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    return pieces


def ship_logs(logs: Any, group: str, stream: str, text: str) -> None:
    for create, kwargs in ((logs.create_log_group, {"logGroupName": group}),
                           (logs.create_log_stream, {"logGroupName": group, "logStreamName": stream})):
        try:
            create(**kwargs)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
    for batch in log_batches(text, int(time.time() * 1000)):
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


# ---- the task ----------------------------------------------------------
def answer(stepfunctions: Any, token: str, run: SuiteRun, log_group: str, log_stream: str) -> dict[str, Any]:
    """Answer the task for a suite that ran; returns what was sent."""
    if not run.tests and run.exit_code == PYTEST_NO_TESTS:
        return fail_task(stepfunctions, token, "the smoke-test suite has no tests (pytest collected none)")
    if not run.tests or run.exit_code not in (0, 1, 2):
        tail = run.output.strip().splitlines()[-5:]
        return fail_task(stepfunctions, token, f"pytest ended with exit status {run.exit_code}: " + " | ".join(tail))
    document = result_document(run.tests, log_group, log_stream)
    if document["smoke_tests_status"] == "PASSED" and run.exit_code != 0:
        return fail_task(stepfunctions, token, f"pytest ended with exit status {run.exit_code} although no "
                                               "test failed; see the log stream")
    if document["smoke_tests_status"] == "PASSED":
        stepfunctions.send_task_success(taskToken=token, output=fit(document, OUTPUT_LIMIT))
        return {"method": "SendTaskSuccess", "document": document}
    stepfunctions.send_task_failure(taskToken=token, error=ERROR_FAILED, cause=fit(document, CAUSE_LIMIT))
    return {"method": "SendTaskFailure", "error": ERROR_FAILED, "document": document}


def fail_task(stepfunctions: Any, token: str, reason: str) -> dict[str, Any]:
    cause = reason[:ERROR_CAUSE_CHARS]
    stepfunctions.send_task_failure(taskToken=token, error=ERROR_RUNNER, cause=cause)
    return {"method": "SendTaskFailure", "error": ERROR_RUNNER, "cause": cause}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the smoke tests and answer the Step Functions task.")
    parser.add_argument("--task-token-file", required=True, type=Path, help="file holding the task token")
    parser.add_argument("--log-group", required=True, help="CloudWatch Logs group for the test output")
    parser.add_argument("--log-stream", required=True, help="CloudWatch Logs stream (created if absent)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    parser.add_argument("--suite", type=Path, default=SUITE_DIR, help="the suite folder (default: this one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, session: Any = None) -> int:
    arguments = parse_arguments(argv)
    try:
        token = arguments.task_token_file.read_text(encoding="utf-8").strip()
        if not token:
            raise ValueError("the file is empty")
    except (OSError, ValueError) as error:
        print(f"error: cannot read the task token from {arguments.task_token_file}: {error}", file=sys.stderr)
        return 1
    try:
        import boto3

        session = session or boto3.session.Session(region_name=arguments.region)
        stepfunctions = session.client("stepfunctions")
        logs = session.client("logs")
    except Exception as error:  # noqa: BLE001 - reported, and the caller answers the task
        print(f"error: cannot create the AWS clients: {error}", file=sys.stderr)
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="smoke-tests-") as work_dir:
            run = run_suite(arguments.suite.resolve(), Path(work_dir))
        print(run.output, end="" if run.output.endswith("\n") else "\n")
        ship_logs(logs, arguments.log_group, arguments.log_stream, run.output)
        sent = answer(stepfunctions, token, run, arguments.log_group, arguments.log_stream)
    except Exception as error:  # noqa: BLE001 - the task must hear of any failure
        traceback.print_exc()
        try:
            fail_task(stepfunctions, token, f"the smoke-test runner failed: {type(error).__name__}: {error}")
        except Exception as answer_error:  # noqa: BLE001
            print(f"error: cannot answer the task: {answer_error}", file=sys.stderr)
            return 1
        return 0
    print(f"smoke tests: {sent.get('document', {}).get('smoke_tests_status', sent.get('error'))}; "
          f"answered with {sent['method']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
