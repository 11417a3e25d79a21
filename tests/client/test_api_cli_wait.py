"""--wait: following a lifecycle until the event in progress ends."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import responses

from amilc import follow as follow_module
from amilc.api_cli import cli
from amilc.errors import ExitCode
from amilc.follow import follow
from tests.client import builders
from tests.client.conftest import API_URL

LC = builders.LIFECYCLE_ID
STATUS_URL = f"{API_URL}/ami-creation/lifecycles/{LC}/status"
CREATE = ["--mode", "BATCH", "--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "platform-team",
          "--productName", "payments-service", "--productVer", "2.4.1", "--commitRef", "9fceb02",
          "--notifications", "EMAIL::platform-team@example.com", "--events", "AMI_BUILD_ONLY", "--wait",
          "--poll-interval", "30"]


class FakeTime:
    """A clock that moves only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    clock = FakeTime()
    monkeypatch.setattr(follow_module, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep))
    return clock


def answer_statuses(api: responses.RequestsMock, *records: dict) -> None:
    """The status route answers these records in turn (the last one repeats)."""
    for record in records:
        api.add(responses.GET, STATUS_URL, json=builders.view(record))


def answer_create(api: responses.RequestsMock) -> None:
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created()))


def test_wait_follows_the_build_until_it_completes(deployment, api, runner, fake_time):
    answer_create(api)
    running = builders.created()
    answer_statuses(api, running, running, builders.built(running))

    result = runner.invoke(cli, CREATE)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"
    progress = result.stderr.splitlines()
    assert progress[progress.index("[00:00:00] BUILD_AMI IN_PROGRESS"):][:2] == [
        "[00:00:00] BUILD_AMI IN_PROGRESS",
        "[00:01:00] BUILD_AMI COMPLETED",
    ]
    assert progress[-1] == "BUILD_AMI ended COMPLETED"
    assert f"built AMI: {builders.BUILT_AMI} (us-east-1) version 1.0.0" in result.stderr
    assert fake_time.sleeps == [30, 30]


def test_the_lifecycle_id_can_be_captured_from_a_waited_create(deployment, api, runner, fake_time):
    answer_create(api)
    running = builders.created()
    answer_statuses(api, running, builders.built(running))
    adaptive = [arg for arg in CREATE if arg not in ("--poll-interval", "30")]

    result = runner.invoke(cli, adaptive)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{LC}\n"


def test_status_with_wait_prints_the_final_status_on_stdout(deployment, api, runner, fake_time):
    running = builders.created()
    answer_statuses(api, running, running, builders.built(running))

    result = runner.invoke(cli, ["--mode", "BATCH", "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID",
                                 "--stackTag", "main", "--lifecycleId", LC, "--wait"])

    assert result.exit_code == 0, result.output
    assert f"built AMI: {builders.BUILT_AMI} (us-east-1) version 1.0.0" in result.stdout
    assert "BUILD_AMI ended COMPLETED" in result.stderr


def test_without_poll_interval_polling_starts_fast_and_backs_off_to_15_s(fake_time):
    running = builders.created()

    follow(records_in_turn(*[running] * 8, builders.built(running)), timeout=1000, report=lambda line: None)

    assert fake_time.sleeps == [0.5, 1, 2, 4, 8, 15, 15, 15]


def test_a_seven_second_build_is_seen_ending_within_a_second_of_its_end(fake_time):
    running = builders.created()
    built = builders.built(running)

    def fetch() -> dict:
        return builders.view(built if fake_time.now >= 7.0 else running)

    outcome = follow(fetch, timeout=1000, report=lambda line: None)

    assert outcome.status == "COMPLETED"
    assert 7.0 <= fake_time.now <= 8.0
    assert len(fake_time.sleeps) == 4


def test_each_change_of_status_starts_the_fast_polls_again(fake_time):
    running = builders.created()
    waiting = builders.view(running)
    waiting["event_in_progress"] = {**waiting["event_in_progress"], "status": "WAITING_FOR_BUILD"}

    def answers():
        yield from [builders.view(running)] * 4 + [waiting] * 2
        while True:
            yield builders.view(builders.built(running))

    feed = answers()
    follow(lambda: next(feed), timeout=1000, report=lambda line: None)

    assert fake_time.sleeps == [0.5, 1, 2, 4, 0.5, 1]


def test_wait_reads_the_status_with_the_status_key(deployment, api, runner, fake_time):
    answer_create(api)
    answer_statuses(api, builders.built(builders.created()))

    runner.invoke(cli, CREATE)

    status_calls = [call for call in api.calls if call.request.method == "GET"]
    assert status_calls[0].request.headers["x-api-key"] == deployment.key("ami_creation_status_secret_name")


def test_a_failed_build_ends_the_wait_with_exit_5_and_the_cause(deployment, api, runner, fake_time):
    answer_create(api)
    running = builders.created()
    answer_statuses(api, running, builders.build_error(running, "image build FAILED: step InstallAgent"))

    result = runner.invoke(cli, CREATE)

    assert result.exit_code == ExitCode.EVENT_FAILED
    assert "BUILD_AMI ended ERROR: image build FAILED: step InstallAgent" in result.stderr.splitlines()


def test_wait_gives_up_after_the_timeout_with_exit_4(deployment, api, runner, fake_time):
    answer_create(api)
    answer_statuses(api, builders.created())

    result = runner.invoke(cli, [*CREATE, "--timeout", "100"])

    assert result.exit_code == ExitCode.TIMEOUT
    assert sum(fake_time.sleeps) == 100
    assert result.stderr.splitlines()[-1].startswith("BUILD_AMI is still IN_PROGRESS after 100 s (--timeout)")


def test_wait_with_json_output_prints_the_final_status(deployment, api, runner, fake_time):
    answer_create(api)
    final = builders.built(builders.created())
    answer_statuses(api, final)

    result = runner.invoke(cli, [*CREATE, "--output", "json"])

    assert json.loads(result.stdout) == builders.view(final)


def test_status_with_wait_and_nothing_in_progress_returns_at_once(deployment, api, runner, fake_time):
    answer_statuses(api, builders.built(builders.created()))

    result = runner.invoke(cli, ["--mode", "BATCH", "--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID",
                                 "--stackTag", "main", "--lifecycleId", LC, "--wait"])

    assert result.exit_code == 0
    assert "no event is in progress" in result.stderr
    assert fake_time.sleeps == []


def records_in_turn(*records: dict):
    answers = [builders.view(r) for r in records]

    def fetch() -> dict:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return fetch


def test_a_heartbeat_is_reported_every_minute_while_nothing_changes(fake_time):
    running = builders.created()
    lines: list[str] = []

    follow(records_in_turn(*[running] * 5, builders.built(running)), timeout=1000, interval=30, report=lines.append)

    assert lines == ["[00:00:00] BUILD_AMI IN_PROGRESS", "[00:01:00] BUILD_AMI IN_PROGRESS",
                     "[00:02:00] BUILD_AMI IN_PROGRESS", "[00:02:30] BUILD_AMI COMPLETED"]


def test_the_last_sleep_is_cut_to_the_time_left(fake_time):
    follow(records_in_turn(builders.created()), timeout=45, interval=30, report=lambda line: None)

    assert fake_time.sleeps == [30, 15]


def test_the_outcome_carries_the_last_record_seen(fake_time):
    final = builders.built(builders.created())

    outcome = follow(records_in_turn(builders.created(), final), timeout=100, interval=1, report=lambda line: None)

    assert outcome.record == builders.view(final)
    assert (outcome.event, outcome.status, outcome.exit_code) == ("BUILD_AMI", "COMPLETED", ExitCode.OK)


def test_a_passing_gateway_error_while_waiting_is_retried(deployment, api, runner, fake_time):
    answer_create(api)
    running = builders.created()
    api.add(responses.GET, STATUS_URL, json=builders.view(running))
    api.add(responses.GET, STATUS_URL, status=502, body="Bad Gateway")
    api.add(responses.GET, STATUS_URL, json=builders.view(builders.built(running)))

    result = runner.invoke(cli, CREATE)

    assert result.exit_code == 0, result.output
    assert "[00:00:30] reading the status failed (HTTP 502: Bad Gateway); trying again" in result.stderr


def test_a_refusal_while_waiting_ends_the_wait(deployment, api, runner, fake_time):
    answer_create(api)
    api.add(responses.GET, STATUS_URL, json=builders.view(builders.created()))
    api.add(responses.GET, STATUS_URL, status=403, json={"error": "the API key is not valid for this route",
                                                        "code": "FORBIDDEN"})

    result = runner.invoke(cli, CREATE)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "error: HTTP 403 FORBIDDEN: the API key is not valid for this route"


def test_reading_the_status_gives_up_after_repeated_failures(fake_time):
    from amilc.http import ApiError

    answers = iter([builders.view(builders.created())])

    def fetch() -> dict:
        try:
            return next(answers)
        except StopIteration:
            raise ApiError(503, None, "Service Unavailable") from None

    with pytest.raises(ApiError):
        follow(fetch, timeout=10_000, interval=10, report=lambda line: None, transient=lambda error: True)
    assert len(fake_time.sleeps) == follow_module.MAX_READ_FAILURES + 1
