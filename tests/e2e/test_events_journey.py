"""Whole lifecycles on the local cloud: build, smoke tests and vulnerability scans followed with --wait.

Through the product's own entry points only: ``bash deploy.sh --local`` on a
free port with its own state folder, env file and stack tag (the smoke
tests' callback timeout made small for the no-callback journey with a
``-c projectSettings...`` override), then ``api-cli.py`` and ``get_ami.sh``
in a shell that sourced the env file, and ``python3 -m local fault`` for
the faults. Every journey ends with no instance tagged
``AMI_LC_EVENT_INSTANCE=TRUE`` left alive.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.e2e.test_create_journey import User, deployed_user, read_env_file

pytestmark = pytest.mark.e2e

STACK_TAG = "e2e-events"
# Simulated minutes; at the time scale below, 10 minutes are 30 s of real time: room for the suite's real run,
# and a short wait for an instance that never answers.
CALLBACK_TIMEOUT_MINS = 10
TIME_SCALE = "0.05"
WAIT = ("--wait", "--timeout", "600", "--poll-interval", "1")
SMOKE = "SMOKE_TESTS_AMI_CREATE"
SCANS = "VULNERABILITY_SCANS_AMI_CREATE"
FAILING_TEST = "test_hardening.py::test_sshd_setting[PermitRootLogin-no]"
OWNER = ("--owner", "platform@example.com", "--notifications", "EMAIL::platform@example.com")


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, "-c", f"projectSettings.amiLifecycle.stateMachines.smokeTestEventStateMachineSqsTimeoutMins="
              f"{CALLBACK_TIMEOUT_MINS}", time_scale=TIME_SCALE)


@pytest.fixture(autouse=True)
def no_faults_left(user):
    yield
    user.shell("python3 -m local fault clear")


def create(user: User, *events: str, check: bool = False) -> tuple[str, subprocess.CompletedProcess]:
    """AMI_CREATE --wait as a user types it (text output: stdout is the lifecycle id)."""
    flags = [arg for event in events for arg in ("--events", event)]
    result = user.api_cli("--operation", "AMI_CREATE", *OWNER, "--productName", "billing-service",
                          "--productVer", "1.4.2", "--commitRef", "3f9c2ab", *flags, *WAIT, check=check)
    return result.stdout.strip(), result


def update(user: User, lifecycle_id: str, *events: str) -> subprocess.CompletedProcess:
    flags = [arg for event in events for arg in ("--events", event)]
    return user.api_cli("--operation", "AMI_CREATE_UPDATE", "--lifecycleId", lifecycle_id, *OWNER, *flags, *WAIT,
                        check=False)


def entry(status: dict, event: str) -> dict:
    (found,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == event]
    return found


def built_ami(status: dict) -> str:
    return entry(status, "BUILD_AMI")["properties"]["ami_details"][0]["image"]


def notifications(user: User, lifecycle_id: str) -> str:
    """Every notification the owners got about the lifecycle (the notification log sink's stream)."""
    events = user.aws("logs").filter_log_events(
        logGroupName=f"/ami-lifecycles/{STACK_TAG}/event-notifications", logStreamNames=[lifecycle_id])["events"]
    return " ".join(e["message"] for e in events)


def event_instances(user: User, lifecycle_id: str) -> dict[str, str]:
    """Instance id -> state of every instance an event launched for the lifecycle."""
    pages = user.aws("ec2").get_paginator("describe_instances").paginate(Filters=[
        {"Name": "tag:AMI_LC_EVENT_INSTANCE", "Values": ["TRUE"]},
        {"Name": "tag:AMI_LC_LIFECYCLE_ID", "Values": [lifecycle_id]}])
    return {i["InstanceId"]: i["State"]["Name"] for page in pages for r in page["Reservations"]
            for i in r["Instances"]}


def assert_no_event_instance_alive(user: User, lifecycle_id: str, launched: int) -> None:
    instances = event_instances(user, lifecycle_id)
    assert len(instances) == launched, instances
    assert set(instances.values()) == {"terminated"}, instances
    alive = user.aws("ec2").describe_instances(Filters=[
        {"Name": "tag:AMI_LC_EVENT_INSTANCE", "Values": ["TRUE"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped", "shutting-down"]}])
    assert [i["InstanceId"] for r in alive["Reservations"] for i in r["Instances"]] == []


@pytest.fixture(scope="module")
def smoke_tested(user):
    lifecycle_id, result = create(user, "SMOKE_TESTS")
    return {"lifecycle_id": lifecycle_id, "create": result, "status": user.status(lifecycle_id)}


def test_create_with_smoke_tests_waits_for_the_build_and_the_smoke_tests(smoke_tested):
    result = smoke_tested["create"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{smoke_tested['lifecycle_id']}\n"
    assert result.stderr.splitlines()[-1] == f"BUILD_AMI ended COMPLETED; {SMOKE} ended COMPLETED"


def test_the_status_shows_both_events_completed_with_the_counts_and_the_log(smoke_tested):
    status = smoke_tested["status"]
    assert entry(status, "BUILD_AMI")["status"] == "COMPLETED"
    smoke = entry(status, SMOKE)
    assert smoke["status"] == "COMPLETED"
    properties = smoke["properties"]
    assert properties["total"] > 0 and properties["passed"] == properties["total"] and properties["failed"] == 0
    assert properties["failed_tests"] == []
    assert properties["log_group"] and properties["log_stream"]
    assert not status.get("event_in_progress")


def test_get_ami_selects_the_smoke_tested_ami(user, smoke_tested):
    ami_id = built_ami(smoke_tested["status"])
    result = user.shell("bash client/get_ami.sh --lifecycle_event SMOKE_TESTED")
    assert f"Retrieved AMI ID == {ami_id}" in result.stdout


def test_the_smoke_test_instance_is_terminated(user, smoke_tested):
    assert_no_event_instance_alive(user, smoke_tested["lifecycle_id"], launched=1)


def test_a_failing_smoke_test_ends_the_lifecycle_failed_naming_the_test(user):
    user.shell("python3 -m local fault set ec2 smoke-test-fail --count 1")

    lifecycle_id, result = create(user, "SMOKE_TESTS")

    assert result.returncode == 5, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"BUILD_AMI ended COMPLETED; {SMOKE} ended FAILED: ") and FAILING_TEST in last
    status = user.status(lifecycle_id)
    smoke = entry(status, SMOKE)
    assert smoke["status"] == "FAILED"
    assert smoke["properties"]["failed_tests"] == [FAILING_TEST]
    assert smoke["properties"]["failed"] == 1
    assert FAILING_TEST in notifications(user, lifecycle_id)
    assert_no_event_instance_alive(user, lifecycle_id, launched=1)


def test_an_instance_that_never_calls_back_ends_the_smoke_tests_in_error_at_the_timeout(user):
    user.shell("python3 -m local fault set ec2 instance-no-callback --count 1")

    lifecycle_id, result = create(user, "SMOKE_TESTS")

    assert result.returncode == 5, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"BUILD_AMI ended COMPLETED; {SMOKE} ended ERROR: ")
    in_progress = user.status(lifecycle_id)["event_in_progress"]
    assert (in_progress["name"], in_progress["status"]) == (SMOKE, "ERROR")
    assert "Timeout" in in_progress["error_message"] or "timed out" in in_progress["error_message"]
    assert SMOKE in notifications(user, lifecycle_id)
    assert_no_event_instance_alive(user, lifecycle_id, launched=1)


@pytest.fixture(scope="module")
def updated(user):
    """A build-only lifecycle, then AMI_CREATE_UPDATE --events SMOKE_TESTS --wait."""
    lifecycle_id, built = create(user, "AMI_BUILD_ONLY", check=True)
    assert built.stderr.splitlines()[-1] == "BUILD_AMI ended COMPLETED"
    return {"lifecycle_id": lifecycle_id, "update": update(user, lifecycle_id, "SMOKE_TESTS")}


def test_updating_a_build_only_lifecycle_with_smoke_tests_runs_them(user, updated):
    result = updated["update"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{updated['lifecycle_id']}\n"
    assert result.stderr.splitlines()[-1] == f"{SMOKE} ended COMPLETED"
    assert entry(user.status(updated["lifecycle_id"]), SMOKE)["status"] == "COMPLETED"
    assert_no_event_instance_alive(user, updated["lifecycle_id"], launched=1)


def test_create_with_smoke_tests_and_scans_completes_all_three(user):
    lifecycle_id, result = create(user, "SMOKE_TESTS", "VULNERABILITY_SCANS")

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"BUILD_AMI ended COMPLETED; {SMOKE} ended COMPLETED; {SCANS} ended COMPLETED")
    status = user.status(lifecycle_id)
    scans = entry(status, SCANS)
    assert scans["status"] == "COMPLETED"
    assert scans["properties"]["severity_gate"]["passed"] is True
    ami_id = built_ami(status)
    selected = user.shell("bash client/get_ami.sh --lifecycle_event VULNERABILITY_SCANNED")
    assert f"Retrieved AMI ID == {ami_id}" in selected.stdout
    assert_no_event_instance_alive(user, lifecycle_id, launched=2)


def test_a_critical_finding_trips_the_severity_gate(user, updated):
    lifecycle_id = updated["lifecycle_id"]
    ami_id = built_ami(user.status(lifecycle_id))
    endpoint = read_env_file(user.env_file)["AWS_ENDPOINT_URL"]
    seeded = requests.post(f"{endpoint}/_local/inspector2/findings", timeout=30, json={
        "amiId": ami_id, "findings": [{
            "title": "CVE-2023-0286 - openssl", "severity": "CRITICAL", "inspectorScore": 9.8,
            "packageVulnerabilityDetails": {
                "vulnerabilityId": "CVE-2023-0286", "source": "NVD",
                "vulnerablePackages": [{"name": "openssl", "version": "1.0.2k", "fixedInVersion": "1.0.2k-24"}]}}]})
    assert seeded.status_code in (200, 201), seeded.text

    result = update(user, lifecycle_id, "SMOKE_TESTS", "VULNERABILITY_SCANS")

    assert result.returncode == 5, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"{SCANS} ended FAILED: the severity gate CRITICAL=0 tripped: CRITICAL 1 > 0")
    scans = entry(user.status(lifecycle_id), SCANS)
    assert scans["status"] == "FAILED"
    assert scans["properties"]["severity_gate"] == {"rule": "CRITICAL=0", "passed": False,
                                                    "tripped_by": ["CRITICAL"]}
    assert scans["properties"]["tripping_findings"][0]["vulnerability_id"] == "CVE-2023-0286"
    assert "CRITICAL" in notifications(user, lifecycle_id)
    assert_no_event_instance_alive(user, lifecycle_id, launched=2)

