"""What one execution environment is made of, taken from moto's function.

A :class:`FunctionSpec` is everything that makes two workers
interchangeable: the same code, handler, environment, timeout and memory.
It is the key of a worker pool, so a function whose code or configuration
changes gets fresh workers, as Lambda starts new execution environments
after an update.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PYTHON_RUNTIME_PREFIX = "python3"


class CodeUnavailable(Exception):
    """The function's code cannot be run here; the message says why and
    what to do, ``error_type`` is the Lambda error type reported for it."""

    def __init__(self, message: str, error_type: str = "Runtime.InvalidEntrypoint") -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(frozen=True)
class FunctionSpec:
    function_name: str
    function_arn: str
    version: str
    account_id: str
    region: str
    runtime: str
    handler: str
    timeout_seconds: float
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    code_dir: str
    layer_dirs: tuple[str, ...]
    max_workers: int
    # The function's LoggingConfig.LogGroup (``/aws/lambda/<name>`` unless
    # the function names another), where its log lines go.
    log_group_name: str


def materialize_zip(cache_root: Path, code: bytes, label: str, digest: str | None = None) -> Path:
    """The directory holding ``code`` (a zip) extracted, keyed by its
    sha256 (``digest``, when moto already computed it) so every function and
    worker sharing a package shares one copy. Extraction goes to a temporary
    folder renamed into place, so concurrent first invocations never see a
    half-written tree."""
    if not code:
        raise CodeUnavailable(
            f"{label} has no code package: its S3 object was missing when it was created "
            "(publish the stack's assets before creating the stack)"
        )
    digest = digest or hashlib.sha256(code).hexdigest()
    target = cache_root / digest
    if target.is_dir():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache_root))
    try:
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
    except zipfile.BadZipFile as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise CodeUnavailable(f"{label}: the code package is not a zip file ({error})") from None
    try:
        os.rename(staging, target)
    except OSError:
        # Another invocation extracted the same package first.
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _max_workers(reserved_concurrency: Any, ceiling: int) -> int:
    if reserved_concurrency in (None, ""):
        return ceiling
    return max(0, min(int(reserved_concurrency), ceiling))


def spec_for(function: Any, cache_root: Path, extra_environment: dict[str, str],
             worker_ceiling: int) -> FunctionSpec:
    """Build the spec of moto's ``LambdaFunction`` ``function``: extract its
    code and layers and compose the environment Lambda would give it.

    ``extra_environment`` is what the local cloud adds (endpoint, dummy
    credentials); the function's own variables win over nothing but the
    reserved ``AWS_LAMBDA_*`` ones, as on Lambda."""
    runtime = function.run_time or ""
    label = f"function {function.function_name}"
    if not runtime.startswith(PYTHON_RUNTIME_PREFIX):
        raise CodeUnavailable(
            f"{label} uses runtime {runtime or 'none'}: the local cloud runs python3.x functions only",
            "Runtime.InvalidRuntime",
        )
    code_dir = materialize_zip(cache_root, function.code_bytes, label, getattr(function, "code_digest", None))
    layer_dirs = tuple(str(path) for path in _layer_dirs(function, cache_root))
    version = str(function.version or "$LATEST")
    environment = dict(extra_environment)
    environment.update({key: str(value) for key, value in (function.environment_vars or {}).items()})
    environment.update({
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "_HANDLER": function.handler or "",
        "TZ": ":UTC",
    })
    return FunctionSpec(
        function_name=function.function_name,
        function_arn=function.function_arn,
        version=version,
        account_id=function.account_id,
        region=function.region,
        runtime=runtime,
        handler=function.handler or "",
        timeout_seconds=float(function.timeout or 3),
        memory_mb=int(function.memory_size or 128),
        environment=tuple(sorted(environment.items())),
        code_dir=str(code_dir),
        layer_dirs=layer_dirs,
        max_workers=_max_workers(function.reserved_concurrency, worker_ceiling),
        log_group_name=function.logs_group_name,
    )


def _layer_dirs(function: Any, cache_root: Path) -> list[Path]:
    """Each attached layer extracted (Lambda mounts them under /opt; the
    worker puts ``<layer>/python`` and ``<layer>`` on sys.path)."""
    if not function.layers:
        return []
    from moto.awslambda.utils import get_backend

    backend = get_backend(function.account_id, function.region)
    dirs = []
    for layer in function.layers:
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is None:
            raise CodeUnavailable(f"function {function.function_name}: layer {layer['Arn']} no longer exists")
        dirs.append(materialize_zip(cache_root, version.code_bytes, f"layer {layer['Arn']}",
                                    getattr(version, "code_digest", None)))
    return dirs
