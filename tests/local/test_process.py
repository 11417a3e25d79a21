"""``python -m local start|stop|status`` as a user runs them: a real
background process, its pid file, its port and its signals
(local/process.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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


# --- any interpreter, and a shell that only sourced the env file ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A Python with nothing but the standard library (what a fresh machine's ``python`` may be)."""
    target = tmp_path_factory.mktemp("bare-venv")
    base = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(target)], check=True, timeout=120)
    return target / "bin" / "python"


def test_start_and_stop_work_from_a_python_without_the_project_packages(local_cloud_process, bare_python):
    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(bare_python), "-m", "local", *arguments], cwd=ROOT, env=local_cloud_process.env,
                              capture_output=True, text=True, timeout=120)

    started = run("start")
    status = run("status")
    stopped = run("stop")

    assert started.returncode == 0, started.stderr
    assert f"at {local_cloud_process.endpoint_url}" in started.stdout
    assert status.returncode == 0 and f"at {local_cloud_process.endpoint_url}" in status.stdout
    assert stopped.returncode == 0 and "local cloud stopped" in stopped.stdout


def test_without_a_venv_a_python_lacking_the_pins_stops_with_one_line(tmp_path, monkeypatch, capsys):
    from local import interpreter

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\nmoto[server]==5.2.5\nclick==8.5.1  # cli\n")
    calls = []

    with pytest.raises(SystemExit) as stopped:
        interpreter.ensure_project_python(["local", "start"], venv=tmp_path / "no-venv", requirements=requirements,
                                          installed={"moto": "5.2.1", "click": "8.5.1"}.get,
                                          execv=lambda *args: calls.append(args))

    assert calls == []
    message = str(stopped.value.code)
    assert message.startswith("error: the local cloud needs the packages pinned in requirements.txt")
    assert "moto==5.2.5 (found 5.2.1)" in message and "bash scripts/setup.sh" in message
    assert "\n" not in message


def test_a_python_lacking_the_pins_hands_over_to_the_venv_with_the_same_arguments(tmp_path):
    from local import interpreter

    venv_python = tmp_path / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("moto[server]==5.2.5\n")
    calls = []

    interpreter.ensure_project_python(["/x/local/__main__.py", "fault", "set", "imagebuilder", "build-fail"],
                                      venv=tmp_path / "venv", requirements=requirements,
                                      installed=lambda name: None, execv=lambda *args: calls.append(args))

    assert calls == [(str(venv_python), [str(venv_python), "-m", "local", "fault", "set", "imagebuilder",
                                         "build-fail"])]


def test_a_python_with_every_pin_runs_the_command_itself(tmp_path):
    from local import interpreter

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("moto[server]==5.2.5\n")
    calls = []

    interpreter.ensure_project_python(["local", "status"], venv=tmp_path, requirements=requirements,
                                      installed={"moto": "5.2.5"}.get, execv=lambda *args: calls.append(args))

    assert calls == []


def test_a_shell_that_only_sourced_the_env_file_reaches_the_cloud_on_its_port(local_cloud_process, tmp_path):
    env_file = tmp_path / "local-cloud.env"
    local_cloud_process.run("start")
    exported = local_cloud_process.run("env", "--stack-tag", "demo", "--env-file", str(env_file))
    env_file.write_text(exported.stdout)
    fresh = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCAL_CLOUD_"))}

    status = subprocess.run(["bash", "-c", f"source {env_file} && python -m local status"], cwd=ROOT, env=fresh,
                            capture_output=True, text=True, timeout=120)
    recorded = subprocess.run(["bash", "-c", f"source {env_file} && echo $LOCAL_CLOUD_STACK_TAG $LOCAL_CLOUD_ENV_FILE"],
                              env=fresh, capture_output=True, text=True, timeout=30)

    assert status.returncode == 0, status.stdout + status.stderr
    assert f"running (pid {local_cloud_process.pid()}) at {local_cloud_process.endpoint_url}" in status.stdout
    assert recorded.stdout.split() == ["demo", str(env_file)]


def test_status_says_so_when_the_pid_runs_but_nothing_answers_on_the_port(local_cloud_process):
    from tests.local.conftest import free_port

    local_cloud_process.run("start")
    elsewhere = {**local_cloud_process.env, "LOCAL_CLOUD_PORT": str(free_port())}

    status = subprocess.run([sys.executable, "-m", "local", "status"], cwd=ROOT, env=elsewhere, capture_output=True,
                            text=True, timeout=60)

    assert status.returncode == 3
    assert "but nothing answers at http://127.0.0.1:" in status.stdout
    assert "source its local-cloud.env" in status.stdout
