"""``python -m local start|stop|status`` as a user runs them: a real
background process, its pid file, its port and its signals
(local/process.py)."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from local.process import is_local_cloud_process

pytestmark = pytest.mark.e2e


def _wait_until_gone(pid: int, timeout: float = 30.0) -> bool:
    """True once ``pid`` is no longer a running local cloud (an exited
    process not yet reaped by its new parent counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_local_cloud_process(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """One local cloud started by the CLI, shared by the tests that only
    look at a running cloud; (the process handle, the start command's result)."""
    from tests.local.conftest import LocalCloudProcess, free_port

    cloud = LocalCloudProcess(port=free_port(), state_dir=tmp_path_factory.mktemp("process") / "state")
    result = cloud.run("start")
    yield cloud, result
    cloud.run("stop")


def test_start_runs_in_the_background_and_prints_the_endpoint(started):
    cloud, result = started

    assert result.returncode == 0, result.stderr
    assert f"at {cloud.endpoint_url}" in result.stdout
    assert cloud.client("sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (cloud.state_dir / "local-cloud.log").exists()


def test_a_second_start_is_refused_with_one_line(started):
    cloud, _ = started
    first_pid = cloud.pid()

    result = cloud.run("start")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: local cloud already running (pid {first_pid}) at {cloud.endpoint_url}; "
        "stop it first with: python -m local stop"
    ]
    assert cloud.pid() == first_pid


def test_status_of_a_running_cloud_names_pid_and_endpoint(started):
    cloud, _ = started

    status = cloud.run("status")

    assert status.returncode == 0
    assert f"running (pid {cloud.pid()}) at {cloud.endpoint_url}" in status.stdout


def test_starting_on_a_busy_port_fails_with_one_readable_line(local_cloud_process):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local_cloud_process.port))
        squatter.listen()

        result = local_cloud_process.run("start")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: port {local_cloud_process.port} on 127.0.0.1 is already in use by another program: stop it, "
        "or choose another port with LOCAL_CLOUD_PORT=<port>"
    ]
    assert local_cloud_process.pid() is None


def test_sigterm_stops_the_server_cleanly_and_saves_state(local_cloud_process):
    local_cloud_process.run("start")
    pid = local_cloud_process.pid()

    os.kill(pid, signal.SIGTERM)

    assert _wait_until_gone(pid)
    assert not (local_cloud_process.state_dir / "local-cloud.pid").exists()
    assert (local_cloud_process.state_dir / "state.pickle").exists()
    log = (local_cloud_process.state_dir / "local-cloud.log").read_text()
    assert "stopping: saving state" in log and "Traceback" not in log


def test_stop_then_status_reports_not_running(local_cloud_process):
    local_cloud_process.run("start")

    stopped = local_cloud_process.run("stop")
    status = local_cloud_process.run("status")

    assert stopped.returncode == 0 and "local cloud stopped" in stopped.stdout
    assert status.returncode == 3
    assert status.stdout.strip() == "local cloud is not running"


def test_a_stale_pid_file_does_not_block_a_start(local_cloud_process):
    local_cloud_process.state_dir.mkdir(parents=True)
    (local_cloud_process.state_dir / "local-cloud.pid").write_text("999999\n")

    result = local_cloud_process.run("start")

    assert result.returncode == 0, result.stderr
    assert local_cloud_process.pid() != 999999


def test_a_server_whose_state_folder_is_deleted_stops_instead_of_lingering(local_cloud_process):
    import shutil

    local_cloud_process.run("start")
    pid = local_cloud_process.pid()

    shutil.rmtree(local_cloud_process.state_dir)

    assert _wait_until_gone(pid, timeout=15)
