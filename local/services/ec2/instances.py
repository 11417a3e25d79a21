"""Simulated instances run their user data.

When ``RunInstances`` launches an instance whose user data is a shell
script (``#!`` naming bash or sh), the script runs after a simulated boot
of ``BOOT_SECONDS`` (time-scaled), as ``bash`` in a subprocess, in the
instance's scratch folder ``<state dir>/instances/<instance id>/``:

* ``root/``: the instance's root filesystem (:mod:`.rootfs`), given to the
  script as ``SMOKE_TEST_ROOT``;
* ``bin/python3``: the local cloud's own Python (with boto3 and pytest),
  first on ``PATH``;
* ``user-data`` (the script) and ``user-data.log`` (its output);
* ``tmp/``: ``TMPDIR``; the folder itself is ``HOME`` and the working
  directory.

The script reaches the local cloud through ``AWS_ENDPOINT_URL``, with
dummy credentials and the instance's region. It runs in the background
(``RunInstances`` answers at once), at most ``LOCAL_CLOUD_INSTANCE_SCRIPTS``
(default 4) at a time; more wait their turn. Terminating the instance kills
a script still running (its whole process group) or one still waiting.

Faults, decided at launch: ``ec2 instance-no-callback`` leaves the user
data unrun (the instance boots and does nothing); ``ec2 smoke-test-fail``
lays the root filesystem out non-compliant (``PermitRootLogin yes``).
A script running when the local cloud stops is killed and not resumed.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import clock, faults
from local.config import LocalCloudConfig

from . import lifecycle
from .rootfs import ImageFacts, lay_out

log = logging.getLogger(__name__)

BOOT_SECONDS = 20.0
DEFAULT_MAX_SCRIPTS = 4
FAULT_NO_CALLBACK = "instance-no-callback"
FAULT_SMOKE_TEST_FAIL = "smoke-test-fail"
SHELLS = ("bash", "sh")


@dataclass
class UserDataRun:
    instance_id: str
    region: str
    directory: Path
    state: str = "booting"  # booting | waiting | running | finished | killed | not-run
    exit_code: int | None = None
    process: subprocess.Popen | None = None
    timer: threading.Timer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def log_file(self) -> Path:
        return self.directory / "user-data.log"


def shell_script(user_data: Any) -> str | None:
    """The user data as a shell script, or None if it is none (absent, not
    base64, binary, cloud-config, MIME, another interpreter)."""
    if user_data is None:
        return None
    try:
        text = base64.b64decode(str(user_data), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    first = text.split("\n", 1)[0]
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    interpreter = Path(words[0]).name if words else ""
    if interpreter == "env" and len(words) > 1:
        interpreter = words[1]
    return text if interpreter in SHELLS else None


class InstanceScripts:
    """The user-data runs of one local cloud."""

    def __init__(self, config: LocalCloudConfig, max_scripts: int) -> None:
        self.config = config
        self.base = config.state_dir / "instances"
        self.runs: dict[str, UserDataRun] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_scripts, thread_name_prefix="instance-user-data")

    # ---- events from EC2 ----------------------------------------------
    def launched(self, launch: lifecycle.Launch) -> None:
        instance = launch.instance
        script = shell_script(getattr(instance, "user_data", None))
        if script is None:
            return
        directory = self.base / instance.id
        run = UserDataRun(instance.id, launch.region, directory)
        with self._lock:
            self.runs[instance.id] = run
        if faults.find("ec2", "RunInstances", (FAULT_NO_CALLBACK,)) is not None:
            run.state = "not-run"
            log.info("instance %s: user data not run (ec2 %s fault)", instance.id, FAULT_NO_CALLBACK)
            return
        compliant = faults.find("ec2", "RunInstances", (FAULT_SMOKE_TEST_FAIL,)) is None
        self._prepare(run, script, _image_facts(launch), compliant)
        run.timer = threading.Timer(clock.scaled(BOOT_SECONDS), self._booted, args=(run,))
        run.timer.daemon = True
        run.timer.start()

    def terminated(self, instance_id: str) -> None:
        with self._lock:
            run = self.runs.get(instance_id)
        if run is None:
            return
        with run.lock:
            if run.timer is not None:
                run.timer.cancel()
            if run.state in ("booting", "waiting"):
                run.state = "killed"
                return
            if run.state == "running" and run.process is not None:
                run.state = "killed"
                _kill_group(run.process)
        log.info("instance %s terminated: its user data was %s", instance_id, run.state)

    # ---- running ------------------------------------------------------
    def _prepare(self, run: UserDataRun, script: str, image: ImageFacts, compliant: bool) -> None:
        directory = run.directory
        (directory / "tmp").mkdir(parents=True, exist_ok=True)
        bin_dir = directory / "bin"
        bin_dir.mkdir(exist_ok=True)
        python = bin_dir / "python3"
        python.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} \"$@\"\n", encoding="utf-8")
        python.chmod(0o755)
        (directory / "user-data").write_text(script, encoding="utf-8")
        (directory / "user-data").chmod(0o700)
        lay_out(directory / "root", image, compliant=compliant)

    def _booted(self, run: UserDataRun) -> None:
        with run.lock:
            if run.state != "booting":
                return
            run.state = "waiting"
        self._pool.submit(self._run, run)

    def _environment(self, run: UserDataRun) -> dict[str, str]:
        directory = run.directory
        return {
            "PATH": f"{directory / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(directory), "TMPDIR": str(directory / "tmp"), "LANG": "C.UTF-8",
            "SMOKE_TEST_ROOT": str(directory / "root"),
            "AWS_ENDPOINT_URL": self.config.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": run.region, "AWS_REGION": run.region,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def _run(self, run: UserDataRun) -> None:
        try:
            with run.lock:
                if run.state != "waiting":
                    return
                with open(run.log_file, "ab") as output:
                    run.process = subprocess.Popen(
                        ["bash", str(run.directory / "user-data")], cwd=run.directory, env=self._environment(run),
                        stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
                run.state = "running"
            log.info("instance %s: user data started (pid %s, log %s)", run.instance_id, run.process.pid,
                     run.log_file)
            code = run.process.wait()
            with run.lock:
                run.exit_code = code
                if run.state == "running":
                    run.state = "finished"
            with open(run.log_file, "a", encoding="utf-8") as output:
                output.write(f"\n[local cloud] user data {run.state} with exit status {code}\n")
            log.info("instance %s: user data %s, exit status %s", run.instance_id, run.state, code)
        except Exception:  # noqa: BLE001 - a failed launch of the script is logged, never raised
            log.exception("instance %s: user data could not run", run.instance_id)
            with run.lock:
                run.state = "finished"

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self.runs.values())
        for run in runs:
            with run.lock:
                if run.timer is not None:
                    run.timer.cancel()
                if run.state == "running" and run.process is not None:
                    run.state = "killed"
                    _kill_group(run.process)
                elif run.state in ("booting", "waiting"):
                    run.state = "killed"
        self._pool.shutdown(wait=False, cancel_futures=True)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _image_facts(launch: lifecycle.Launch) -> ImageFacts:
    instance = launch.instance
    name = ""
    try:
        from moto.ec2.models import ec2_backends

        image = ec2_backends[launch.account_id][launch.region].amis.get(instance.image_id)
        name = getattr(image, "name", "") or ""
    except Exception:  # noqa: BLE001 - an unknown AMI still boots, as Amazon Linux 2023
        name = ""
    return ImageFacts(image_id=instance.image_id, name=name,
                      architecture=getattr(instance, "architecture", None) or "x86_64")


_scripts: InstanceScripts | None = None


def install(config: LocalCloudConfig) -> InstanceScripts:
    """Start running user data for the instances of this local cloud."""
    global _scripts
    if _scripts is not None:
        _scripts.shutdown()
    raw = os.environ.get("LOCAL_CLOUD_INSTANCE_SCRIPTS", "")
    max_scripts = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_SCRIPTS
    _scripts = InstanceScripts(config, max_scripts)
    lifecycle.install()
    lifecycle.on_launch(_on_launch)
    lifecycle.on_terminate(_on_terminate)
    return _scripts


def current() -> InstanceScripts | None:
    return _scripts


def _on_launch(launch: lifecycle.Launch) -> None:
    if _scripts is not None:
        _scripts.launched(launch)


def _on_terminate(instance_id: str) -> None:
    if _scripts is not None:
        _scripts.terminated(instance_id)


def shutdown() -> None:
    global _scripts
    if _scripts is not None:
        _scripts.shutdown()
        _scripts = None
