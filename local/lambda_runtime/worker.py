"""One Lambda execution environment: a Python process that imports a
function's handler once and then serves its invocations, one at a time.

The parent (``local.lambda_runtime.pool``) starts it as
``python -I worker.py`` with exactly the function's environment, in the
directory holding the function's extracted code (Lambda's ``/var/task``).
``-I`` keeps the parent's ``PYTHON*`` variables, the user site and this
file's own folder off ``sys.path``, so the handler sees its code, its layers
and the installed libraries, as on Lambda, and nothing of the local cloud.
For the same reason this module uses the standard library only.

Wire protocol, over the process's original stdin and stdout (a frame is a
4-byte big-endian length followed by UTF-8 JSON):

* parent -> worker, once: the setup (``handler``, ``code_dir``,
  ``layer_dirs``, ``function_name``, ``function_version``, ``memory_mb``,
  ``log_group_name``, ``log_stream_name``);
* worker -> parent: ``{"type": "ready"}`` or
  ``{"type": "init_error", "error": {...}}`` (then the worker exits);
* parent -> worker, per invocation: ``request_id``, ``event`` (JSON text),
  ``deadline_ms`` (epoch milliseconds) and ``invoked_function_arn``;
* worker -> parent: ``{"type": "result", "payload": "<JSON text>"}`` or
  ``{"type": "error", "error": {...}}``, each with ``max_memory_mb``.

Everything the handler prints (fd 1 and 2, so child processes and C
extensions too) goes to the log file the parent passed as stderr; the
parent reads it after each invocation, or after killing a worker that ran
past its timeout.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import resource
import struct
import sys
import time
import traceback
from typing import Any, BinaryIO

FRAME_HEADER = struct.Struct(">I")


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Send one message: length header, then the JSON body."""
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    stream.write(FRAME_HEADER.pack(len(body)) + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """Read one message; None when the other side has closed the pipe."""
    header = _read_exactly(stream, FRAME_HEADER.size)
    if header is None:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    body = _read_exactly(stream, length)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = stream.read(size - len(chunks))
        if not chunk:
            return None
        chunks.extend(chunk)
    return bytes(chunks)


class LambdaContext:
    """The ``context`` argument of a handler, with the attributes and the
    method Lambda's Python runtime provides (``memory_limit_in_mb`` is a
    string there too)."""

    def __init__(self, setup: dict[str, Any], request: dict[str, Any]) -> None:
        self.function_name: str = setup["function_name"]
        self.function_version: str = setup["function_version"]
        self.memory_limit_in_mb: str = str(setup["memory_mb"])
        self.log_group_name: str = setup["log_group_name"]
        self.log_stream_name: str = setup["log_stream_name"]
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.aws_request_id: str = request["request_id"]
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )


class _RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id, as the Lambda
    runtime's log format includes it."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


class _LambdaFormatter(logging.Formatter):
    default_msec_format = "%s.%03dZ"
    converter = time.gmtime


def _install_logging() -> _RequestIdFilter:
    """Root logger output in Lambda's format: level, UTC time, request id."""
    request_filter = _RequestIdFilter()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _LambdaFormatter("[%(levelname)s]\t%(asctime)s\t%(aws_request_id)s\t%(message)s\n",
                         "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(request_filter)
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())
    return request_filter


def _error(error_type: str, message: str, request_id: str = "",
           stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id,
            "stackTrace": stack or []}


def _stack_of(error: BaseException) -> list[str]:
    """The traceback entries below the worker's own frame, as Lambda lists
    them (``File ..., line N, in f`` + source line, one string each)."""
    entries = traceback.extract_tb(error.__traceback__)
    own_file = os.path.abspath(__file__)
    user = [entry for entry in entries if os.path.abspath(entry.filename) != own_file]
    return traceback.format_list(user)


def _log_exception(error: BaseException) -> None:
    """Lambda's log line for an uncaught exception, with the traceback of
    the function's code only."""
    lines = ["Traceback (most recent call last):\n", *_stack_of(error),
             *traceback.format_exception_only(type(error), error)]
    sys.stderr.write(f"[ERROR] {type(error).__name__}: {error}\n{''.join(lines)}")


def load_handler(handler: str) -> Any:
    """Import ``module.function`` the way Lambda's runtime does; raise
    ``_InitError`` carrying Lambda's error payload when that fails."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise _InitError(_error("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}"))
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        _log_exception(error)
        raise _InitError(_error("Runtime.ImportModuleError",
                                f"Unable to import module '{module_name}': {error}"))
    except SyntaxError as error:
        _log_exception(error)
        raise _InitError(_error("Runtime.UserCodeSyntaxError",
                                f"Syntax error in module '{module_name}': {error}"))
    except Exception as error:  # noqa: BLE001 - any failure at import is the function's init error
        _log_exception(error)
        raise _InitError(_error(type(error).__name__, str(error), stack=_stack_of(error)))
    function = getattr(module, function_name, None)
    if function is None:
        raise _InitError(_error("Runtime.HandlerNotFound",
                                f"Handler '{function_name}' missing on module '{module_name}'"))
    return function


class _InitError(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["errorMessage"])
        self.payload = payload


def _encode_default(value: Any) -> Any:
    """Lambda's own JSON encoder turns Decimal (what DynamoDB returns) into
    numbers; anything else unknown is a marshalling error."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _invoke(function: Any, setup: dict[str, Any], request: dict[str, Any],
            request_filter: _RequestIdFilter) -> dict[str, Any]:
    request_id = request["request_id"]
    request_filter.request_id = request_id
    try:
        event = json.loads(request["event"])
        result = function(event, LambdaContext(setup, request))
    except SystemExit as error:
        _log_exception(error)
        code = error.code if isinstance(error.code, int) else 1
        return {"type": "error", "exit": True, "error": _error(
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
            request_id)}
    except Exception as error:  # noqa: BLE001 - every handler exception is a function error
        _log_exception(error)
        return {"type": "error", "error": _error(type(error).__name__, str(error), request_id,
                                                  _stack_of(error))}
    try:
        payload = json.dumps(result, default=_encode_default, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        return {"type": "error", "error": _error(
            "Runtime.MarshalError", f"Unable to marshal response: {error}", request_id)}
    return {"type": "result", "payload": payload}


def _take_protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Keep private copies of stdin/stdout for the protocol, then point fd 0
    at /dev/null and fd 1 at the log file (fd 2), so nothing a handler does
    with the standard streams can corrupt a frame."""
    protocol_in = os.fdopen(os.dup(0), "rb", buffering=0)
    protocol_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True, write_through=True)
    sys.stderr.reconfigure(line_buffering=True, write_through=True)
    return protocol_in, protocol_out


def _max_memory_mb() -> int:
    return max(1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def main() -> int:
    protocol_in, protocol_out = _take_protocol_streams()
    setup = read_frame(protocol_in)
    if setup is None:
        return 0
    for layer_dir in reversed(setup.get("layer_dirs", [])):
        sys.path.insert(0, layer_dir)
        sys.path.insert(0, os.path.join(layer_dir, "python"))
    sys.path.insert(0, setup["code_dir"])
    os.chdir(setup["code_dir"])
    request_filter = _install_logging()
    try:
        function = load_handler(setup["handler"])
    except _InitError as error:
        write_frame(protocol_out, {"type": "init_error", "error": error.payload,
                                   "max_memory_mb": _max_memory_mb()})
        return 1
    write_frame(protocol_out, {"type": "ready"})
    while True:
        request = read_frame(protocol_in)
        if request is None:
            return 0
        response = _invoke(function, setup, request, request_filter)
        sys.stdout.flush()
        sys.stderr.flush()
        response["max_memory_mb"] = _max_memory_mb()
        write_frame(protocol_out, response)
        if response.get("exit"):
            return 1


if __name__ == "__main__":
    sys.exit(main())
