"""The local cloud's Lambda runtime: deployed functions run their real
handlers.

moto stores functions but, without Docker, cannot run them. :func:`install`
makes every invocation path (Invoke API, Step Functions task, SQS event
source mapping, SNS subscription, CloudFormation custom resource) run the
function's handler in a warm worker process that holds exactly the
function's environment, with Lambda's timeout, error payloads and logs.
See docs/local-cloud.md, section "Lambda runtime".

Knobs (environment variables, read at install):

* ``LOCAL_CLOUD_LAMBDA_MAX_WORKERS`` - workers per function (default 4;
  a function's reserved concurrency lowers it);
* ``LOCAL_CLOUD_LAMBDA_MAX_TOTAL_WORKERS`` - workers of all functions
  together (default 64; at the ceiling the least recently used idle worker
  is stopped before a new one starts);
* ``LOCAL_CLOUD_LAMBDA_IDLE_SECONDS`` - idle time after which a worker is
  stopped (default 300).
"""

from __future__ import annotations

import logging
import os
import threading

from local.config import LocalCloudConfig
from local.lambda_runtime.event_sources import SqsEventSource
from local.lambda_runtime.patches import Patches
from local.lambda_runtime.runtime import LambdaRuntime, RuntimeSettings

log = logging.getLogger("local.lambda")

_lock = threading.Lock()
_installed: tuple[LambdaRuntime, SqsEventSource, Patches] | None = None


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected a positive number, got {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{name}: expected a positive number, got {raw!r}")
    return value


def settings_from_environment() -> RuntimeSettings:
    return RuntimeSettings(
        max_workers_per_function=int(_positive("LOCAL_CLOUD_LAMBDA_MAX_WORKERS", 4)),
        max_total_workers=int(_positive("LOCAL_CLOUD_LAMBDA_MAX_TOTAL_WORKERS", 64)),
        idle_seconds=_positive("LOCAL_CLOUD_LAMBDA_IDLE_SECONDS", 300.0),
    )


def install(config: LocalCloudConfig) -> None:
    """Patch moto so every invocation runs the deployed handler. Installing
    again replaces the previous installation (new config, fresh workers)."""
    global _installed
    with _lock:
        if _installed is not None:
            _stop(_installed)
        runtime = LambdaRuntime(config, settings_from_environment())
        sqs = SqsEventSource(runtime)
        patches = Patches(runtime, sqs)
        patches.install()
        _installed = (runtime, sqs, patches)
    log.info("Lambda runtime installed: functions reach %s; code cache %s",
             config.endpoint_url, runtime.code_cache)


def shutdown() -> None:
    """Stop every worker and poller and give moto its methods back."""
    global _installed
    with _lock:
        if _installed is not None:
            _stop(_installed)
            _installed = None


def current_runtime() -> LambdaRuntime | None:
    """The installed runtime, if any (for diagnostics and tests)."""
    return _installed[0] if _installed else None


def _stop(installed: tuple[LambdaRuntime, SqsEventSource, Patches]) -> None:
    runtime, sqs, patches = installed
    patches.uninstall()
    sqs.stop()
    runtime.shutdown()
