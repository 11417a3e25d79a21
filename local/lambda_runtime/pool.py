"""Warm worker processes, pooled per function spec.

A worker is a subprocess running ``worker.py``: it imports the handler once
and serves one invocation at a time, like a Lambda execution environment.
Workers exist because a function runs with its own environment variables,
and ``os.environ`` is process-wide: two functions invoked at once inside the
server process would see each other's variables. A process per environment
also keeps module-level state per function and turns a crash into an error
for one invocation instead of the end of the local cloud.

A pool holds at most ``spec.max_workers`` workers (the ceiling, or the
function's reserved concurrency when lower); an invocation that finds them
all busy waits for one, and is throttled if none frees up in time.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from local.lambda_runtime import worker as wire
from local.lambda_runtime.spec import FunctionSpec

WORKER_SCRIPT = Path(wire.__file__).resolve()
# Lambda allows an init phase of 10 s before it counts against the invocation.
INIT_SECONDS = 10.0
# A log file larger than this is emptied once its content has been read.
_LOG_FILE_LIMIT = 4 * 1024 * 1024
# Variables of the server's own environment a worker inherits; nothing else
# leaks in (no AWS profile, no real credentials, no PYTHONPATH).
_INHERITED = ("PATH", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR")


class WorkerGone(Exception):
    """The worker process ended (or was killed) before answering."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class Throttled(Exception):
    """Every worker of the function stayed busy for the whole wait."""


class PoolClosed(Exception):
    """The pool was retired (idle reaping or shutdown) while being asked
    for a worker; ask the registry again."""


@dataclass
class RunResult:
    """What one invocation produced inside a worker."""

    message: dict[str, Any] | None  # the worker's answer; None on timeout or crash
    timed_out: bool
    gone: str | None                # how the worker ended, when it did
    duration_ms: float
    max_memory_mb: int

    @property
    def reusable(self) -> bool:
        return self.message is not None and not self.message.get("exit")


class WorkerProcess:
    """One execution environment of ``spec``."""

    def __init__(self, spec: FunctionSpec, log_dir: Path) -> None:
        self.spec = spec
        self.worker_id = uuid.uuid4().hex
        today = datetime.now(timezone.utc).strftime("%Y/%m/%d")
        self.log_stream_name = f"{today}/[{spec.version}]{self.worker_id}"
        self.log_path = log_dir / f"{self.worker_id}.log"
        self.last_used = time.monotonic()
        self.init_duration_ms: float | None = None
        self.invocations = 0
        self._read_offset = 0
        self._inbox = bytearray()
        environment = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        environment.update(dict(spec.environment))
        with open(self.log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-I", str(WORKER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=environment,
                cwd=spec.code_dir,
                start_new_session=True,
                close_fds=True,
            )
        self._stdout_fd = self._process.stdout.fileno()  # type: ignore[union-attr]

    @property
    def pid(self) -> int:
        return self._process.pid

    def start(self) -> dict[str, Any] | None:
        """Send the setup and wait for the handler import. None when ready;
        Lambda's init error payload otherwise (the worker is then dead)."""
        started = time.monotonic()
        deadline = started + max(INIT_SECONDS, self.spec.timeout_seconds)
        try:
            self._send({
                "handler": self.spec.handler,
                "code_dir": self.spec.code_dir,
                "layer_dirs": list(self.spec.layer_dirs),
                "function_name": self.spec.function_name,
                "function_version": self.spec.version,
                "memory_mb": self.spec.memory_mb,
                "log_group_name": self.spec.log_group_name,
                "log_stream_name": self.log_stream_name,
            })
            message = self._receive(deadline)
        except TimeoutError:
            self.kill()
            return {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"Init phase timed out after {deadline - started:.2f} seconds",
                    "stackTrace": []}
        except WorkerGone as gone:
            return {"errorType": "Runtime.ExitError",
                    "errorMessage": f"Runtime exited with error: {gone.description}", "stackTrace": []}
        self.init_duration_ms = (time.monotonic() - started) * 1000
        if message.get("type") == "init_error":
            self.kill()  # it exits by itself; make sure, and reap it
            return message["error"]
        return None

    def run(self, request_id: str, event_text: str, invoked_arn: str) -> RunResult:
        """One invocation, with Lambda's timeout: past it the worker (and
        anything it started) is killed."""
        self.invocations += 1
        started = time.monotonic()
        deadline = started + self.spec.timeout_seconds
        deadline_ms = int(time.time() * 1000 + self.spec.timeout_seconds * 1000)
        try:
            self._send({"request_id": request_id, "event": event_text,
                        "deadline_ms": deadline_ms, "invoked_function_arn": invoked_arn})
            message = self._receive(deadline)
        except TimeoutError:
            self.kill()
            return RunResult(None, True, None, (time.monotonic() - started) * 1000, 0)
        except WorkerGone as gone:
            self.kill()
            return RunResult(None, False, gone.description, (time.monotonic() - started) * 1000, 0)
        self.last_used = time.monotonic()
        return RunResult(message, False, None, (time.monotonic() - started) * 1000,
                         int(message.get("max_memory_mb") or 0))

    def take_logs(self) -> str:
        """What the worker wrote since the last call."""
        try:
            with open(self.log_path, "rb") as log_file:
                log_file.seek(self._read_offset)
                data = log_file.read()
        except FileNotFoundError:
            return ""
        self._read_offset += len(data)
        if self._read_offset > _LOG_FILE_LIMIT and self.alive:
            os.truncate(self.log_path, 0)
            self._read_offset = 0
        return data.decode("utf-8", errors="replace")

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        """End the worker and every process it started."""
        if self.alive:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def discard(self) -> None:
        """Kill the worker and delete its log file."""
        self.kill()
        try:
            self.log_path.unlink()
        except FileNotFoundError:
            pass

    def _send(self, message: dict[str, Any]) -> None:
        try:
            wire.write_frame(self._process.stdin, message)  # type: ignore[arg-type]
        except (BrokenPipeError, ValueError):
            raise WorkerGone(self._exit_description()) from None

    def _receive(self, deadline: float) -> dict[str, Any]:
        header_size = wire.FRAME_HEADER.size
        while True:
            if len(self._inbox) >= header_size:
                (length,) = wire.FRAME_HEADER.unpack(self._inbox[:header_size])
                if len(self._inbox) >= header_size + length:
                    body = bytes(self._inbox[header_size:header_size + length])
                    del self._inbox[:header_size + length]
                    return json.loads(body.decode("utf-8"))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([self._stdout_fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(self._stdout_fd, 65536)
            if not chunk:
                raise WorkerGone(self._exit_description())
            self._inbox.extend(chunk)

    def _exit_description(self) -> str:
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        if code < 0:
            return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
        return f"exit status {code}"


class FunctionPool:
    """The workers of one function spec."""

    def __init__(self, spec: FunctionSpec, log_dir: Path,
                 make_room: Callable[[], None] = lambda: None) -> None:
        self.spec = spec
        self._log_dir = log_dir
        self._make_room = make_room
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self._starting = 0
        self._closed = False
        self._condition = threading.Condition()

    def acquire(self, wait_seconds: float) -> tuple[WorkerProcess, dict[str, Any] | None]:
        """A ready worker, started if needed, and the init error when the
        handler failed to load (the worker is then already dead)."""
        deadline = time.monotonic() + wait_seconds
        with self._condition:
            while True:
                if self._closed:
                    raise PoolClosed
                if self._idle:
                    return self._idle.pop(), None
                if len(self._all) + self._starting < self.spec.max_workers:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Throttled
                self._condition.wait(remaining)
        worker: WorkerProcess | None = None
        try:
            self._make_room()
            worker = WorkerProcess(self.spec, self._log_dir)
            init_error = worker.start()
        except BaseException:
            if worker is not None:
                worker.discard()
            with self._condition:
                self._starting -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._starting -= 1
            closed = self._closed
            if not closed:
                self._all.add(worker)
        if closed:  # shut down while the worker was starting
            worker.discard()
            raise PoolClosed
        return worker, init_error

    def release(self, worker: WorkerProcess, reusable: bool) -> None:
        with self._condition:
            keep = reusable and worker.alive and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
            self._condition.notify()
        if not keep:
            worker.discard()

    def reap(self, idle_seconds: float) -> bool:
        """Stop workers idle for longer than ``idle_seconds``; True when the
        pool is then empty and has been closed (the registry drops it)."""
        now = time.monotonic()
        with self._condition:
            stale = [w for w in self._idle if now - w.last_used > idle_seconds or not w.alive]
            for worker in stale:
                self._idle.remove(worker)
                self._all.discard(worker)
            empty = not self._all and not self._starting
            if empty:
                self._closed = True
        for worker in stale:
            worker.discard()
        return empty

    def oldest_idle(self) -> WorkerProcess | None:
        with self._condition:
            return min(self._idle, key=lambda w: w.last_used, default=None)

    def evict(self, worker: WorkerProcess) -> bool:
        """Stop ``worker`` if it is still idle; True when it was."""
        with self._condition:
            if worker not in self._idle:
                return False
            self._idle.remove(worker)
            self._all.discard(worker)
        worker.discard()
        return True

    def close(self) -> None:
        with self._condition:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._condition.notify_all()
        for worker in workers:
            worker.discard()

    @property
    def size(self) -> int:
        with self._condition:
            return len(self._all)


class PoolRegistry:
    """Every pool, by function spec, with a ceiling on the workers of all
    pools together: a deployment with dozens of functions must not keep
    dozens of idle interpreters alive."""

    def __init__(self, log_dir: Path, max_total_workers: int = 64) -> None:
        self._log_dir = log_dir
        self._max_total = max_total_workers
        self._pools: dict[FunctionSpec, FunctionPool] = {}
        self._lock = threading.Lock()

    def pool_for(self, spec: FunctionSpec) -> FunctionPool:
        with self._lock:
            pool = self._pools.get(spec)
            if pool is None:
                pool = FunctionPool(spec, self._log_dir, self._make_room)
                self._pools[spec] = pool
            return pool

    def _make_room(self) -> None:
        """Before a worker starts: at the ceiling, stop the least recently
        used idle worker of any function."""
        for _ in range(4):
            with self._lock:
                pools = list(self._pools.values())
            if sum(pool.size for pool in pools) < self._max_total:
                return
            candidates = [(w.last_used, pool, w) for pool in pools if (w := pool.oldest_idle()) is not None]
            if not candidates:
                return
            _, pool, worker = min(candidates, key=lambda c: c[0])
            pool.evict(worker)

    def reap(self, idle_seconds: float) -> None:
        with self._lock:
            pools = list(self._pools.items())
        for spec, pool in pools:
            if pool.reap(idle_seconds):
                with self._lock:
                    if self._pools.get(spec) is pool:
                        del self._pools[spec]

    def worker_count(self, function_name: str | None = None) -> int:
        with self._lock:
            pools = list(self._pools.values())
        return sum(pool.size for pool in pools if function_name in (None, pool.spec.function_name))

    def close_all(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()
