"""State machines from a synthesized template run on the local cloud's
clock: Wait states and Retry intervals are scaled (local/stepfunctions_time.py)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests

from tests.local.apps.c1_cross_stack_app import RETRY_INTERVAL_SECONDS, WAIT_SECONDS
from tests.local.conftest import TEST_TIME_SCALE


def _run(cloud: Any, state_machine_arn: str, payload: dict[str, Any], timeout: float = 30.0) -> tuple[dict, float]:
    """Start an execution, wait for it to end; (description, seconds taken)."""
    sfn = cloud.boto3_client("stepfunctions")
    started = time.monotonic()
    arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=f"run-{uuid.uuid4().hex[:12]}",
                              input=json.dumps(payload))["executionArn"]
    while time.monotonic() - started < timeout:
        description = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING":
            return description, time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"execution {arn} still running after {timeout} s")


def _set_time_scale(cloud: Any, scale: float) -> None:
    requests.post(f"{cloud.endpoint_url}/_local/time-scale", json={"scale": scale}, timeout=10).raise_for_status()


def test_a_wait_state_lasts_its_seconds_times_the_time_scale(local_cloud, c1_deployment):
    expected = WAIT_SECONDS * TEST_TIME_SCALE

    description, took = _run(local_cloud, c1_deployment["c1-consumer"]["WaitingStateMachineArn"], {"go": True})

    assert description["status"] == "SUCCEEDED"
    assert expected * 0.9 <= took < expected + 5


def test_the_choice_after_the_wait_follows_the_input(local_cloud, c1_deployment):
    description, _ = _run(local_cloud, c1_deployment["c1-consumer"]["WaitingStateMachineArn"], {"go": False})

    assert description["status"] == "FAILED"
    assert description["error"] == "NotGoing"


def test_the_time_scale_changes_while_the_cloud_runs(local_cloud, c1_deployment):
    slower = TEST_TIME_SCALE * 3
    _set_time_scale(local_cloud, slower)
    try:
        description, took = _run(local_cloud, c1_deployment["c1-consumer"]["WaitingStateMachineArn"], {"go": True})
    finally:
        _set_time_scale(local_cloud, TEST_TIME_SCALE)

    assert description["status"] == "SUCCEEDED"
    assert took >= WAIT_SECONDS * slower * 0.9


def test_a_retry_interval_is_scaled_too(local_cloud, c1_deployment):
    arn = c1_deployment["c1-consumer"]["RetryingStateMachineArn"]

    description, took = _run(local_cloud, arn, {})

    history = local_cloud.boto3_client("stepfunctions").get_execution_history(
        executionArn=description["executionArn"])["events"]
    failures = [event for event in history if event["type"] == "TaskFailed"]
    assert description["status"] == "SUCCEEDED"  # caught after the retry
    assert len(failures) == 2  # the first attempt and the one retry
    assert RETRY_INTERVAL_SECONDS * TEST_TIME_SCALE * 0.9 <= took < RETRY_INTERVAL_SECONDS
