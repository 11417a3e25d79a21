"""--wait follows the lifecycle: every event the orchestrator starts after the followed one, until
nothing more is due or an event fails. Records are the ones the deployed system writes, in turn."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
import responses

from amilc import follow as follow_module
from amilc.api_cli import cli
from amilc.errors import ExitCode
from amilc.follow import WAITING_TO_START, event_state, follow
from orchestrator.domain import history, records
from orchestrator.domain.results import EventResult
from orchestrator.domain.vocabulary import EventName, Status
from tests.client import builders
from tests.client.conftest import API_URL
from tests.client.test_api_cli_wait import FakeTime

LC = builders.LIFECYCLE_ID
STATUS_URL = f"{API_URL}/ami-creation/lifecycles/{LC}/status"
SMOKE = "SMOKE_TESTS_AMI_CREATE"
SCANS = "VULNERABILITY_SCANS_AMI_CREATE"
FAILING_TEST = "test_hardening.py::test_sshd_setting[PermitRootLogin-no]"
CREATE = ["--mode", "BATCH", "--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "platform-team",
          "--productName", "payments-service", "--productVer", "2.4.1", "--commitRef", "9fceb02",
          "--notifications", "EMAIL::platform-team@example.com", "--events", "SMOKE_TESTS", "--wait",
          "--poll-interval", "30"]
UPDATE = ["--mode", "BATCH", "--operation", "AMI_CREATE_UPDATE", "--stackTag", "main", "--lifecycleId", LC,
          "--owner", "platform-team", "--notifications", "EMAIL::platform-team@example.com",
          "--events", "SMOKE_TESTS", "--wait", "--poll-interval", "30"]


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    clock = FakeTime()
    monkeypatch.setattr(follow_module, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep))
    return clock


def answer_statuses(api: responses.RequestsMock, *records: dict) -> None:
    """The status route answers these records in turn (the last one repeats)."""
    for record in records:
        api.add(responses.GET, STATUS_URL, json=builders.view(record))


def in_turn(*records: dict):
    answers = [builders.view(r) for r in records]

    def fetch() -> dict:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return fetch


def quiet(line: str) -> None:
    del line


def smoke_journey(*failing: str) -> list[dict]:
    """Create with smoke tests: building, built (nothing claimed yet), smoke tests running, their result."""
    building = builders.created(SMOKE)
    built = builders.built(building)
    testing = builders.started(built, SMOKE)
    return [building, built, testing, builders.smoke_tested(testing, *failing)]


def test_create_with_smoke_tests_follows_the_build_then_the_smoke_tests(deployment, api, runner, fake_time):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created(SMOKE)))
    answer_statuses(api, *smoke_journey())

    result = runner.invoke(cli, CREATE)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"
    progress = result.stderr.splitlines()
    first = progress.index("[00:00:00] BUILD_AMI IN_PROGRESS")
    assert progress[first:first + 5] == [
        "[00:00:00] BUILD_AMI IN_PROGRESS",
        "[00:00:30] BUILD_AMI COMPLETED",
        f"[00:00:30] {SMOKE} {WAITING_TO_START}",
        f"[00:01:00] {SMOKE} IN_PROGRESS",
        f"[00:01:30] {SMOKE} COMPLETED",
    ]
    assert progress[-1] == f"BUILD_AMI ended COMPLETED; {SMOKE} ended COMPLETED"


def test_the_gap_between_a_result_and_the_next_claim_is_waited_through(fake_time):
    building, built, testing, tested = smoke_journey()

    outcome = follow(in_turn(building, built, built, built, testing, tested), timeout=1000, interval=10,
                     report=quiet)

    assert (outcome.status, outcome.exit_code) == ("COMPLETED", ExitCode.OK)
    assert outcome.completed == ("BUILD_AMI", SMOKE)
    assert outcome.record == builders.view(tested)


def test_a_next_event_claimed_before_the_first_read_of_the_result_is_followed(fake_time):
    building, _, testing, tested = smoke_journey()
    lines: list[str] = []

    outcome = follow(in_turn(building, testing, tested), timeout=1000, interval=10, report=lines.append)

    assert outcome.completed == ("BUILD_AMI", SMOKE)
    assert lines == ["[00:00:00] BUILD_AMI IN_PROGRESS", "[00:00:10] BUILD_AMI COMPLETED",
                     f"[00:00:10] {SMOKE} IN_PROGRESS", f"[00:00:20] {SMOKE} COMPLETED"]


def test_an_event_that_completes_between_two_reads_is_counted_and_the_wait_ends(fake_time):
    building, *_, tested = smoke_journey()

    outcome = follow(in_turn(building, tested), timeout=1000, interval=10, report=quiet)

    assert (outcome.exit_code, outcome.completed) == (ExitCode.OK, ("BUILD_AMI", SMOKE))
    assert fake_time.sleeps == [10]


def test_a_build_only_lifecycle_ends_with_its_build(fake_time):
    building = builders.created()

    outcome = follow(in_turn(building, builders.built(building)), timeout=1000, interval=10, report=quiet)

    assert (outcome.message, outcome.completed) == ("BUILD_AMI ended COMPLETED", ("BUILD_AMI",))


def test_failing_smoke_tests_end_the_wait_with_exit_5_naming_the_event_and_the_test(deployment, api, runner,
                                                                                     fake_time):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created(SMOKE)))
    answer_statuses(api, *smoke_journey(FAILING_TEST))

    result = runner.invoke(cli, CREATE)

    assert result.exit_code == ExitCode.EVENT_FAILED
    assert result.stderr.splitlines()[-1] == (
        f"BUILD_AMI ended COMPLETED; {SMOKE} ended FAILED: 1 of 12 smoke tests failed: {FAILING_TEST}")


def test_a_next_event_whose_workflow_reports_an_error_ends_the_wait_with_exit_5(fake_time):
    building, built, testing, _ = smoke_journey()
    timed_out = builders.event_error(testing, SMOKE, "States.Timeout: the instance did not answer in time")

    outcome = follow(in_turn(building, built, testing, timed_out), timeout=1000, interval=10, report=quiet)

    assert (outcome.event, outcome.status, outcome.exit_code) == (SMOKE, "ERROR", ExitCode.EVENT_FAILED)
    assert outcome.message.endswith(f"{SMOKE} ended ERROR: States.Timeout: the instance did not answer in time")


def test_a_next_event_noted_as_not_available_ends_the_wait_with_its_reason(fake_time):
    building = builders.created(SMOKE, "VULNERABILITY_SCANS_AMI_CREATE")
    built = builders.built(building)
    noted = builders.event_error(builders.started(built, SMOKE), SMOKE,
                                 f"{SMOKE} is not available in this deployment yet")

    outcome = follow(in_turn(building, noted), timeout=1000, interval=10, report=quiet)

    assert outcome.exit_code == ExitCode.EVENT_FAILED
    assert outcome.message == f"BUILD_AMI ended COMPLETED; {SMOKE} ended ERROR: {SMOKE} is not available in this " \
                              "deployment yet"


def test_smoke_tests_then_scans_are_followed_to_the_end(fake_time):
    building = builders.created(SMOKE, SCANS)
    built = builders.built(building)
    testing = builders.started(built, SMOKE)
    tested = builders.smoke_tested(testing)
    scanning = builders.started(tested, SCANS, minutes=36)
    scanned = builders.scanned(scanning, "HIGH")

    outcome = follow(in_turn(building, built, testing, tested, scanning, scanned), timeout=1000, interval=10,
                     report=quiet)

    assert (outcome.exit_code, outcome.completed) == (ExitCode.OK, ("BUILD_AMI", SMOKE, SCANS))
    assert outcome.message == f"BUILD_AMI ended COMPLETED; {SMOKE} ended COMPLETED; {SCANS} ended COMPLETED"


def test_a_tripped_severity_gate_ends_the_wait_with_exit_5_and_the_gate(fake_time):
    building = builders.created(SMOKE, SCANS)
    testing = builders.started(builders.built(building), SMOKE)
    scanning = builders.started(builders.smoke_tested(testing), SCANS, minutes=36)

    outcome = follow(in_turn(building, testing, scanning, builders.scanned(scanning, "CRITICAL")), timeout=1000,
                     interval=10, report=quiet)

    assert (outcome.event, outcome.status, outcome.exit_code) == (SCANS, "FAILED", ExitCode.EVENT_FAILED)
    assert outcome.message.endswith(f"{SCANS} ended FAILED: the severity gate CRITICAL=0 tripped: CRITICAL 1 > 0")


def test_a_next_event_that_never_starts_ends_the_wait_at_the_timeout_with_exit_4(fake_time):
    building, built, *_ = smoke_journey()

    outcome = follow(in_turn(building, built), timeout=100, interval=30, report=quiet)

    assert (outcome.event, outcome.status, outcome.exit_code) == (SMOKE, WAITING_TO_START, ExitCode.TIMEOUT)
    assert outcome.message.startswith(f"{SMOKE} has not started after 100 s (--timeout)")
    assert outcome.completed == ("BUILD_AMI",)
    assert sum(fake_time.sleeps) == 100


def test_the_timeout_bounds_the_whole_lifecycle_not_each_event(fake_time):
    building, built, testing, _ = smoke_journey()

    outcome = follow(in_turn(building, built, testing), timeout=100, interval=30, report=quiet)

    assert (outcome.event, outcome.status, outcome.exit_code) == (SMOKE, "IN_PROGRESS", ExitCode.TIMEOUT)
    assert sum(fake_time.sleeps) == 100


def test_an_earlier_result_of_the_event_waited_for_is_not_its_outcome():
    testing = builders.started(builders.built(builders.created(SMOKE)), SMOKE)
    failed = builders.smoke_tested(testing, FAILING_TEST)
    earlier = history.event_entry(failed, EventName(SMOKE))

    assert event_state(failed, SMOKE, earlier).status == WAITING_TO_START
    assert not event_state(failed, SMOKE, earlier).ended
    retried = builders.smoke_tested(builders.started(failed, SMOKE, minutes=60), minutes=65)
    assert event_state(retried, SMOKE, earlier).status == "COMPLETED"


def test_update_with_smoke_tests_and_wait_follows_the_smoke_tests(deployment, api, runner, fake_time):
    built_only = builders.built(builders.created())
    testing = builders.started(builders.updated(built_only, SMOKE), SMOKE, minutes=41)
    api.add(responses.PUT, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(testing))
    answer_statuses(api, testing, testing, builders.smoke_tested(testing, minutes=45))

    result = runner.invoke(cli, UPDATE)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"
    assert result.stderr.splitlines()[-1] == f"{SMOKE} ended COMPLETED"
    assert f"[00:00:00] {SMOKE} IN_PROGRESS" in result.stderr


def test_update_with_json_output_prints_the_final_status_with_the_smoke_test_counts(deployment, api, runner,
                                                                                    fake_time):
    testing = builders.started(builders.updated(builders.built(builders.created()), SMOKE), SMOKE, minutes=41)
    final = builders.smoke_tested(testing, minutes=45)
    api.add(responses.PUT, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(testing))
    answer_statuses(api, testing, final)

    result = runner.invoke(cli, [*UPDATE, "--output", "json"])

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    (smoke,) = [e for e in shown["outputs_ami_creation"]["events"] if e["name"] == SMOKE]
    assert (smoke["properties"]["total"], smoke["properties"]["passed"]) == (12, 12)


def approved(record: dict, minutes: int = 60) -> dict:
    """``record`` after its MARK_FOR_PRODUCTION_CREATE result arrived."""
    result = EventResult(lifecycle_id=LC, name=EventName.MARK_FOR_PRODUCTION_CREATE, status=Status.COMPLETED,
                         status_date=builders.stamp(minutes), properties={"approval_status": "APPROVED"},
                         attributes={"approval_status": "APPROVED"})
    return records.record_event_result(record, result, builders.NOW + timedelta(minutes=minutes))


def test_an_approval_is_followed_alone_to_its_result(fake_time):
    _, _, testing, tested = smoke_journey()
    approving = builders.started(tested, "MARK_FOR_PRODUCTION_CREATE", minutes=50)

    outcome = follow(in_turn(approving, approved(approving)), timeout=1000, interval=10, report=quiet)

    assert (outcome.exit_code, outcome.completed) == (ExitCode.OK, ("MARK_FOR_PRODUCTION_CREATE",))
    assert outcome.message == "MARK_FOR_PRODUCTION_CREATE ended COMPLETED"
