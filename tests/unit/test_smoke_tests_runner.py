"""The smoke-test runner: runs the real suite against a root filesystem,
ships the output to CloudWatch Logs (moto) and answers the task token
(a recording Step Functions client)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.services.ec2.rootfs import ImageFacts, lay_out

SUITE = Path(__file__).resolve().parents[2] / "stacks" / "amilifecycle" / "smoke_tests"
TOKEN = "AAAAKgAAAAIAAAAAAAAAA" + "x" * 200


def _load_runner() -> Any:
    spec = importlib.util.spec_from_file_location("run_smoke_tests_under_test", SUITE / "run_smoke_tests.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


class RecordingStepFunctions:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def send_task_success(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("SendTaskSuccess", kwargs))
        return {}

    def send_task_failure(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("Step Functions is unreachable")
        self.calls.append(("SendTaskFailure", kwargs))
        return {}


class Session:
    """What main() asks for clients: moto's logs, the recording Step Functions."""

    def __init__(self, stepfunctions: RecordingStepFunctions, logs: Any = None) -> None:
        self.stepfunctions = stepfunctions
        self.logs = logs or boto3.client("logs", region_name="us-east-1")

    def client(self, name: str) -> Any:
        return self.stepfunctions if name == "stepfunctions" else self.logs


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


def _root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compliant: bool = True) -> Path:
    root = lay_out(tmp_path / "root", ImageFacts("ami-0123456789abcdef0", "al2023-ami-2023.6.20241010.0-x86_64"),
                   compliant=compliant)
    monkeypatch.setenv("SMOKE_TEST_ROOT", str(root))
    return root


def _run(token_file: Path, stepfunctions: RecordingStepFunctions, *extra: str, logs: Any = None) -> int:
    return runner.main(["--task-token-file", str(token_file), "--log-group", "/amilifecycle/smoketests",
                        "--log-stream", "lc-1/i-0abc/smoketests.log", "--region", "us-east-1", *extra],
                       session=Session(stepfunctions, logs))


def _log_text() -> str:
    logs = boto3.client("logs", region_name="us-east-1")
    events = logs.get_log_events(logGroupName="/amilifecycle/smoketests",
                                 logStreamName="lc-1/i-0abc/smoketests.log", startFromHead=True)["events"]
    return "\n".join(event["message"] for event in events)


def test_a_compliant_instance_answers_send_task_success_with_every_test(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch)
    stepfunctions = RecordingStepFunctions()

    assert _run(token_file, stepfunctions) == 0

    [(method, call)] = stepfunctions.calls
    assert method == "SendTaskSuccess" and call["taskToken"] == TOKEN
    output = json.loads(call["output"])
    assert set(output) == {"smoke_tests_status", "total", "passed", "failed", "failed_tests", "tests",
                           "log_group", "log_stream"}
    assert output["smoke_tests_status"] == "PASSED"
    assert output["total"] == output["passed"] == len(output["tests"]) > 10
    assert output["failed"] == 0 and output["failed_tests"] == []
    assert {"name", "outcome", "duration_seconds"} == set(output["tests"][0])
    assert "test_hardening.py::test_sshd_setting[PermitRootLogin-no]" in [t["name"] for t in output["tests"]]
    assert (output["log_group"], output["log_stream"]) == ("/amilifecycle/smoketests", "lc-1/i-0abc/smoketests.log")


def test_the_whole_pytest_output_goes_to_the_log_stream(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch)

    _run(token_file, RecordingStepFunctions())

    text = _log_text()
    assert "test_os_release.py::test_os_release_field[ID-amzn] PASSED" in text
    assert " passed in " in text


def test_a_non_compliant_instance_fails_the_task_naming_the_failing_test(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch, compliant=False)
    stepfunctions = RecordingStepFunctions()

    assert _run(token_file, stepfunctions) == 0

    [(method, call)] = stepfunctions.calls
    assert method == "SendTaskFailure" and call["error"] == "SmokeTestsFailed"
    cause = json.loads(call["cause"])
    assert cause["smoke_tests_status"] == "FAILED"
    assert cause["failed_tests"] == ["test_hardening.py::test_sshd_setting[PermitRootLogin-no]"]
    assert cause["failed"] == 1 and cause["passed"] == cause["total"] - 1
    assert "PermitRootLogin is 'yes'" in _log_text()


def test_a_suite_that_cannot_be_collected_fails_with_the_broken_module(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch)
    suite = tmp_path / "suite"
    shutil.copytree(SUITE, suite)
    (suite / "test_broken.py").write_text("def test_x(:\n")
    stepfunctions = RecordingStepFunctions()

    _run(token_file, stepfunctions, "--suite", str(suite))

    [(method, call)] = stepfunctions.calls
    assert (method, call["error"]) == ("SendTaskFailure", "SmokeTestsFailed")
    assert json.loads(call["cause"])["failed_tests"] == ["test_broken.py"]


def test_a_suite_without_tests_is_a_runner_error(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch)
    suite = tmp_path / "empty"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\n")
    stepfunctions = RecordingStepFunctions()

    _run(token_file, stepfunctions, "--suite", str(suite))

    [(method, call)] = stepfunctions.calls
    assert (method, call["error"]) == ("SendTaskFailure", "SmokeTestsError")
    assert "no tests" in call["cause"]


def test_a_crash_of_the_runner_answers_smoke_tests_error(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch)

    class BrokenLogs:
        exceptions = boto3.client("logs", region_name="us-east-1").exceptions

        def create_log_group(self, **kwargs: Any) -> None:
            raise RuntimeError("logs endpoint unreachable")

        create_log_stream = put_log_events = create_log_group

    stepfunctions = RecordingStepFunctions()

    assert _run(token_file, stepfunctions, logs=BrokenLogs()) == 0

    [(method, call)] = stepfunctions.calls
    assert (method, call["error"]) == ("SendTaskFailure", "SmokeTestsError")
    assert "logs endpoint unreachable" in call["cause"] and len(call["cause"]) < 2100


def test_an_unreadable_token_file_exits_non_zero_without_answering(aws, tmp_path):
    stepfunctions = RecordingStepFunctions()

    assert _run(tmp_path / "missing", stepfunctions) == 1
    assert stepfunctions.calls == []


def test_a_task_that_cannot_be_answered_exits_non_zero(aws, tmp_path, monkeypatch, token_file):
    _root(tmp_path, monkeypatch, compliant=False)

    class Unreachable(RecordingStepFunctions):
        def send_task_failure(self, **kwargs: Any) -> dict[str, Any]:
            raise RuntimeError("Step Functions is unreachable")

    assert _run(token_file, Unreachable()) == 1


def _tests(count: int, failing: int) -> list[dict[str, Any]]:
    return [{"name": f"test_module.py::test_{'f' if i < failing else 'p'}_{i:05d}[{'x' * 40}]",
             "outcome": "failed" if i < failing else "passed", "duration_seconds": 0.01} for i in range(count)]


def test_a_long_cause_drops_test_entries_and_keeps_counts_and_failed_names():
    document = runner.result_document(_tests(2000, 20), "g", "s")

    cause = json.loads(runner.fit(document, runner.CAUSE_LIMIT))

    assert len(json.dumps(cause)) <= runner.CAUSE_LIMIT
    assert (cause["total"], cause["passed"], cause["failed"]) == (2000, 1980, 20)
    assert cause["failed_tests"] == document["failed_tests"]
    assert all(test["outcome"] == "failed" for test in cause["tests"])


def test_a_short_cause_is_left_whole():
    document = runner.result_document(_tests(10, 1), "g", "s")

    assert json.loads(runner.fit(document, runner.CAUSE_LIMIT)) == document


def test_log_batches_stay_within_put_log_events_limits():
    batches = runner.log_batches("\n".join(["line"] * 10_001 + ["", "é" * 300_000]), 1)

    assert [len(batch) for batch in batches[:1]] == [10_000]
    for batch in batches:
        assert len(batch) <= 10_000
        assert sum(len(e["message"].encode()) + 26 for e in batch) <= 1_048_576
        assert all(0 < len(e["message"].encode()) <= 262_144 - 26 for e in batch)
    messages = [event["message"] for batch in batches for event in batch]
    assert "".join(messages[10_002:]) == "é" * 300_000
    assert messages[10_001] == " "


def test_outcomes_follow_the_phase_that_failed():
    records = [
        {"nodeid": "a", "when": "setup", "outcome": "passed", "duration": 0.1},
        {"nodeid": "a", "when": "call", "outcome": "failed", "duration": 0.2},
        {"nodeid": "b", "when": "setup", "outcome": "failed", "duration": 0.1},
        {"nodeid": "c", "when": "setup", "outcome": "skipped", "duration": 0.0},
        {"nodeid": "d", "when": "call", "outcome": "passed", "duration": 0.5},
    ]

    outcomes = {test["name"]: (test["outcome"], test["duration_seconds"]) for test in runner.summarize(records)}

    assert outcomes == {"a": ("failed", 0.3), "b": ("error", 0.1), "c": ("skipped", 0.0), "d": ("passed", 0.5)}
