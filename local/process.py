"""The local cloud as a background process: start, stop, status.

One process per state folder, bound to 127.0.0.1. ``start`` refuses a
second one, checks the port first (a busy port is one readable line, not
a traceback), detaches the server into its own session with its output in
the log file, and returns once the endpoint answers. The server writes the
pid file once it has bound the port and removes it when it exits; SIGTERM
makes it stop serving, save the state and exit 0.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local.config import PROJECT_ROOT, LocalCloudConfig

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 60.0
EXIT_PORT_BUSY = 2


class LocalCloudError(Exception):
    """A failure with a message the user can act on (printed as one line)."""


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    endpoint_url: str

    def describe(self) -> str:
        if self.running:
            return f"local cloud running (pid {self.pid}) at {self.endpoint_url}"
        return "local cloud is not running"


# --- pid file --------------------------------------------------------------


def read_pid(config: LocalCloudConfig) -> int | None:
    """The pid of a live local cloud serving ``config``'s state folder; a
    stale pid file (dead process, or a reused pid) is removed."""
    try:
        pid = int(config.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if is_local_cloud_process(pid):
        return pid
    config.pid_file.unlink(missing_ok=True)
    return None


def is_local_cloud_process(pid: int) -> bool:
    """Whether ``pid`` is a live ``python -m local serve`` (not a reused
    pid, not an exited process waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except FileNotFoundError:
            return False
        except OSError:
            return True
        # A zombie (exited, not yet reaped) has an empty command line.
        return b"local" in arguments and b"serve" in arguments
    return True


def write_pid(config: LocalCloudConfig) -> None:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    temporary = config.pid_file.with_suffix(".tmp")
    temporary.write_text(f"{os.getpid()}\n")
    os.replace(temporary, config.pid_file)


def remove_pid(config: LocalCloudConfig) -> None:
    try:
        if int(config.pid_file.read_text().strip()) == os.getpid():
            config.pid_file.unlink()
    except (FileNotFoundError, ValueError):
        pass


# --- port -------------------------------------------------------------------


def port_busy_message(config: LocalCloudConfig) -> str:
    return (f"port {config.port} on {config.host} is already in use by another program: stop it, or choose "
            f"another port with LOCAL_CLOUD_PORT=<port>")


def ensure_port_free(config: LocalCloudConfig) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((config.host, config.port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                raise LocalCloudError(port_busy_message(config)) from None
            raise


# --- health -----------------------------------------------------------------


def health(config: LocalCloudConfig, timeout: float = 2.0) -> dict | None:
    """The admin health document, or None if nothing answers."""
    try:
        with urllib.request.urlopen(f"{config.endpoint_url}/_local/health", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def status(config: LocalCloudConfig) -> Status:
    pid = read_pid(config)
    return Status(running=pid is not None, pid=pid, endpoint_url=config.endpoint_url)


# --- start / stop -----------------------------------------------------------


def start(config: LocalCloudConfig, timeout: float = START_TIMEOUT_SECONDS) -> Status:
    """Start the server in the background and wait until it answers."""
    running = read_pid(config)
    if running is not None:
        raise LocalCloudError(f"local cloud already running (pid {running}) at {config.endpoint_url}; "
                              "stop it first with: python -m local stop")
    ensure_port_free(config)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    with config.log_file.open("ab") as log_file:
        child = subprocess.Popen(
            [sys.executable, "-m", "local", "serve"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "LOCAL_CLOUD_PORT": str(config.port), "LOCAL_CLOUD_STATE_DIR": str(config.state_dir)},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exit_code = child.poll()
        if exit_code is not None:
            raise LocalCloudError(_failure_line(config, exit_code))
        document = health(config, timeout=1.0)
        if document and document.get("status") == "ok" and read_pid(config) == child.pid:
            return Status(running=True, pid=child.pid, endpoint_url=config.endpoint_url)
        time.sleep(0.2)
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
    raise LocalCloudError(f"local cloud did not answer within {timeout:.0f} s; see {config.log_file}")


def _failure_line(config: LocalCloudConfig, exit_code: int) -> str:
    """The server's own one-line reason (the last line it logged)."""
    try:
        lines = [line for line in config.log_file.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        lines = []
    reason = lines[-1] if lines else f"exit code {exit_code}"
    if "local cloud:" in reason:
        return reason.split("local cloud:", 1)[1].strip()
    return f"local cloud failed to start (exit code {exit_code}): {reason}; see {config.log_file}"


def stop(config: LocalCloudConfig, timeout: float = STOP_TIMEOUT_SECONDS) -> str:
    """SIGTERM the server and wait for it to save and exit."""
    pid = read_pid(config)
    if pid is None:
        return "local cloud is not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_local_cloud_process(pid):
            config.pid_file.unlink(missing_ok=True)
            return f"local cloud stopped (pid {pid}); state saved in {config.state_file}"
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    config.pid_file.unlink(missing_ok=True)
    raise LocalCloudError(f"local cloud (pid {pid}) did not stop within {timeout:.0f} s and was killed; "
                          f"changes since the last autosave are lost; see {config.log_file}")


# --- the server process -------------------------------------------------------


def _watch_pid_file(config: LocalCloudConfig, stop_requested: threading.Event) -> None:
    """Stop when the pid file no longer names this process (removed with
    the state folder, say): ``stop`` could no longer find the server, which
    would otherwise run on as an orphan."""
    while not stop_requested.wait(1.0):
        try:
            owner = int(config.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            owner = None
        if owner != os.getpid():
            log.warning("pid file %s no longer names this process: stopping", config.pid_file)
            stop_requested.set()


def _say(line: str) -> None:
    """One whole line on stdout (which shares the log file with stderr)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(config: LocalCloudConfig) -> int:
    """Run the server in this process until SIGTERM/SIGINT (``python -m
    local serve``; ``start`` runs this detached)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from local.server import LocalCloud

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    cloud = LocalCloud(config)
    try:
        cloud.start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            _say(f"local cloud: {port_busy_message(config)}")
            return EXIT_PORT_BUSY
        raise
    except Exception as error:  # noqa: BLE001 - one line for the user, details above it
        log.exception("start failed")
        _say(f"local cloud: {error}")
        return 1
    write_pid(config)
    threading.Thread(target=_watch_pid_file, args=(config, stop_requested), name="pid-file-watch",
                     daemon=True).start()
    _say(f"local cloud: serving at {cloud.endpoint_url} (pid {os.getpid()})")
    try:
        while not stop_requested.wait(0.5):
            pass
        can_save = config.state_dir.is_dir()
        log.info("stopping: saving state" if can_save else "stopping: the state folder is gone, nothing saved")
        cloud.stop(save=can_save)
    finally:
        remove_pid(config)
    log.info("stopped")
    return 0
