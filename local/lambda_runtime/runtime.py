"""Running one invocation of a deployed function, the way Lambda reports it.

:class:`LambdaRuntime` owns the worker pools, the code cache, the thread
that retires idle workers and the executor for asynchronous invocations.
:meth:`LambdaRuntime.invoke` is what every invocation path ends in: it
returns the payload Lambda would return, whether it is a function error
(``Unhandled``, as the Python runtime reports every uncaught exception),
and writes the invocation's log to CloudWatch Logs under
``/aws/lambda/<name>`` and to the server log.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from local import clock
from local.config import LocalCloudConfig
from local.lambda_runtime.pool import (
    INIT_SECONDS,
    FunctionPool,
    PoolClosed,
    PoolRegistry,
    RunResult,
    Throttled,
    WorkerProcess,
)
from local.lambda_runtime.spec import CodeUnavailable, FunctionSpec, spec_for

log = logging.getLogger("local.lambda")

FUNCTION_ERROR = "Unhandled"
# Lambda retries a failed asynchronous invocation twice, after about one and
# then two minutes (simulated time: the time scale applies).
ASYNC_RETRY_DELAYS = (60.0, 120.0)


@dataclass(frozen=True)
class RuntimeSettings:
    max_workers_per_function: int = 4
    max_total_workers: int = 64
    idle_seconds: float = 300.0
    reap_interval_seconds: float = 15.0
    async_threads: int = 8


@dataclass(frozen=True)
class InvocationOutcome:
    """The result of one invocation as the Invoke API reports it."""

    request_id: str
    payload: bytes
    function_error: str | None
    log_text: str  # the handler's output; after recording, the whole log

    @property
    def error_type(self) -> str | None:
        if not self.function_error:
            return None
        try:
            return json.loads(self.payload).get("errorType")
        except (ValueError, AttributeError):
            return None


class TooManyRequests(Exception):
    """Lambda's throttling error: reserved concurrency 0, or every worker
    stayed busy."""

    def __init__(self, function_name: str, reason: str) -> None:
        super().__init__(f"Rate Exceeded. ({function_name}: {reason})")
        self.function_name = function_name
        self.reason = reason


def _error_payload(error_type: str, message: str, request_id: str = "") -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "requestId": request_id,
                       "stackTrace": []}).encode("utf-8")


class LambdaRuntime:
    def __init__(self, config: LocalCloudConfig, settings: RuntimeSettings | None = None) -> None:
        self.config = config
        self.settings = settings or RuntimeSettings()
        root = Path(config.state_dir) / "lambda"
        self.code_cache = root / "code"
        self.worker_logs = root / "workers"
        # Both are caches of this run: worker logs of processes that are
        # gone, code packages of functions that may since have changed.
        for folder in (self.worker_logs, self.code_cache):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
        self.pools = PoolRegistry(self.worker_logs, self.settings.max_total_workers)
        self.async_executor = ThreadPoolExecutor(self.settings.async_threads,
                                                 thread_name_prefix="lambda-async")
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap_forever, name="lambda-reaper", daemon=True)
        self._reaper.start()

    @property
    def local_environment(self) -> dict[str, str]:
        """What every function's environment gets from the local cloud: its
        endpoint, dummy credentials, and no way to read a real AWS profile."""
        return {
            "AWS_ENDPOINT_URL": self.config.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    # -- invocation ----------------------------------------------------------

    def invoke(self, function: Any, event: Any) -> InvocationOutcome:
        """Run ``function`` (moto's LambdaFunction) on ``event`` (a JSON
        value) and wait for the outcome."""
        if self._stopping.is_set():
            raise TooManyRequests(function.function_name, "the local cloud is stopping")
        request_id = str(uuid.uuid4())
        event_text = json.dumps(self._rewrite_custom_resource(event))
        try:
            spec = spec_for(function, self.code_cache, self.local_environment,
                            self.settings.max_workers_per_function)
        except CodeUnavailable as error:
            message = str(error)
            log.warning("[%s] %s", function.function_name, message)
            outcome = InvocationOutcome(request_id, _error_payload(error.error_type, message, request_id),
                                        FUNCTION_ERROR, message)
            self._publish(function.account_id, function.region, function.logs_group_name,
                          f"{time.strftime('%Y/%m/%d')}/[$LATEST]local-cloud", [message])
            return outcome
        pool, worker, init_error = self._acquire(spec)
        reusable = False
        try:
            if init_error is not None:
                init_error = {**init_error, "requestId": request_id}
                outcome = InvocationOutcome(request_id, json.dumps(init_error).encode("utf-8"),
                                            FUNCTION_ERROR, worker.take_logs())
                return self._record(spec, worker, outcome, None, cold=True)
            cold = worker.invocations == 0
            result = worker.run(request_id, event_text, spec.function_arn)
            outcome = self._outcome(spec, request_id, result, worker.take_logs())
            reusable = result.reusable
            return self._record(spec, worker, outcome, result, cold=cold)
        finally:
            pool.release(worker, reusable)

    def _acquire(self, spec: FunctionSpec) -> tuple[FunctionPool, WorkerProcess, dict[str, Any] | None]:
        """A worker of ``spec``'s pool; waiting for a busy one may take the
        function's whole timeout plus a fresh worker's init."""
        if spec.max_workers == 0:
            raise TooManyRequests(spec.function_name, "its reserved concurrency is 0")
        while True:
            if self._stopping.is_set():
                raise TooManyRequests(spec.function_name, "the local cloud is stopping")
            pool = self.pools.pool_for(spec)
            try:
                worker, init_error = pool.acquire(wait_seconds=spec.timeout_seconds + INIT_SECONDS)
                return pool, worker, init_error
            except PoolClosed:
                continue  # retired by the reaper meanwhile: the registry makes a new one
            except Throttled:
                raise TooManyRequests(spec.function_name,
                                      f"all {spec.max_workers} workers stayed busy") from None

    def invoke_async(self, function: Any, event: Any) -> None:
        """Queue an asynchronous invocation (InvocationType=Event, SNS):
        retried on a function error as Lambda does, then dropped with a log
        line."""
        self.async_executor.submit(self._run_async, function.function_arn, function.account_id,
                                   function.region, event)

    def _run_async(self, function_arn: str, account_id: str, region: str, event: Any) -> None:
        from moto.awslambda.utils import get_backend

        attempts = 1 + len(ASYNC_RETRY_DELAYS)
        for attempt in range(attempts):
            if self._stopping.is_set():
                return
            try:
                function = get_backend(account_id, region).get_function(function_arn)
                outcome = self.invoke(function, event)
            except TooManyRequests as error:
                log.warning("async invocation of %s throttled: %s", function_arn, error.reason)
            except Exception:  # noqa: BLE001 - an async failure must not kill the executor
                log.exception("async invocation of %s failed inside the local cloud", function_arn)
                return
            else:
                if not outcome.function_error:
                    return
                log.warning("async invocation %s of %s failed (%s), attempt %d of %d",
                            outcome.request_id, function_arn, outcome.error_type, attempt + 1, attempts)
            if attempt < len(ASYNC_RETRY_DELAYS):
                if self._stopping.wait(clock.scaled(ASYNC_RETRY_DELAYS[attempt])):
                    return

    @staticmethod
    def _outcome(spec: FunctionSpec, request_id: str, result: RunResult, logs: str) -> InvocationOutcome:
        if result.timed_out:
            message = f"RequestId: {request_id} Error: Task timed out after {spec.timeout_seconds:.2f} seconds"
            payload = _error_payload("Sandbox.Timedout", message, request_id)
            return InvocationOutcome(request_id, payload, FUNCTION_ERROR,
                                     logs + _utc_stamp() + f" {request_id} Task timed out after "
                                     f"{spec.timeout_seconds:.2f} seconds\n")
        if result.message is None:
            message = f"RequestId: {request_id} Error: Runtime exited with error: {result.gone}"
            return InvocationOutcome(request_id, _error_payload("Runtime.ExitError", message, request_id),
                                     FUNCTION_ERROR, logs + message + "\n")
        if result.message["type"] == "result":
            return InvocationOutcome(request_id, result.message["payload"].encode("utf-8"), None, logs)
        return InvocationOutcome(request_id, json.dumps(result.message["error"]).encode("utf-8"),
                                 FUNCTION_ERROR, logs)

    # -- logs ----------------------------------------------------------------

    def _record(self, spec: FunctionSpec, worker: WorkerProcess, outcome: InvocationOutcome,
                result: RunResult | None, cold: bool) -> InvocationOutcome:
        """Write the invocation's log (START / output / END / REPORT, as
        Lambda does) and return the outcome carrying that whole log."""
        request_id = outcome.request_id
        lines = [f"START RequestId: {request_id} Version: {spec.version}"]
        lines.extend(outcome.log_text.splitlines())
        lines.append(f"END RequestId: {request_id}")
        duration = result.duration_ms if result else 0.0
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
                  f"Billed Duration: {max(1, math.ceil(duration))} ms\tMemory Size: {spec.memory_mb} MB\t"
                  f"Max Memory Used: {result.max_memory_mb if result else 0} MB")
        if cold and worker.init_duration_ms is not None:
            report += f"\tInit Duration: {worker.init_duration_ms:.2f} ms"
        if result is not None and result.timed_out:
            report += "\tStatus: timeout"
        lines.append(report)
        for line in lines:
            log.info("[%s] %s", spec.function_name, line)
        if outcome.function_error:
            log.warning("[%s] invocation %s failed: %s", spec.function_name, request_id,
                        outcome.payload.decode("utf-8", errors="replace")[:2000])
        self._publish(spec.account_id, spec.region, spec.log_group_name, worker.log_stream_name, lines)
        return replace(outcome, log_text="\n".join(lines) + "\n")

    @staticmethod
    def _publish(account_id: str, region: str, group: str, stream: str, lines: list[str]) -> None:
        from moto.backends import get_backend

        try:
            backend = get_backend("logs")[account_id][region]
            backend.ensure_log_group(group)
            backend.ensure_log_stream(group, stream)
            now = int(time.time() * 1000)
            backend.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])
        except Exception:  # noqa: BLE001 - losing a log line must not fail the invocation
            log.exception("could not write the log of %s to CloudWatch Logs", group)

    # -- custom resources ----------------------------------------------------

    def _rewrite_custom_resource(self, event: Any) -> Any:
        """moto addresses custom resource replies to a Docker host name
        (``host.docker.internal``); point them at this endpoint instead."""
        if not (isinstance(event, dict) and "RequestType" in event and "StackId" in event):
            return event
        url = event.get("ResponseURL")
        if not isinstance(url, str):
            return event
        if "://" not in url:
            url = "http://" + url
        parts = urlsplit(url)
        if parts.hostname != "host.docker.internal":
            return event
        local = urlsplit(self.config.endpoint_url)
        return {**event, "ResponseURL": urlunsplit((local.scheme, local.netloc, parts.path, parts.query, ""))}

    # -- lifecycle -----------------------------------------------------------

    def _reap_forever(self) -> None:
        while not self._stopping.wait(self.settings.reap_interval_seconds):
            try:
                self.pools.reap(self.settings.idle_seconds)
            except Exception:  # noqa: BLE001 - the reaper must survive a bad pool
                log.exception("reaping idle Lambda workers failed")

    def shutdown(self) -> None:
        self._stopping.set()
        self.pools.close_all()
        self.async_executor.shutdown(wait=False, cancel_futures=True)
        self._reaper.join(timeout=5)



def _utc_stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
