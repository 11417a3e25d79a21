"""A function's ``LoggingConfig``: where Lambda writes its logs.

moto ignores ``LoggingConfig`` (in CreateFunction, UpdateFunctionConfiguration
and CloudFormation) and always logs to ``/aws/lambda/<name>``, so a function
whose template declares its own log group writes to a group nobody
created, and the declared one stays empty. Here the configuration is kept
on moto's function (``logs_group_name`` is the group moto and the runtime
write to), reported by GetFunction / GetFunctionConfiguration as Lambda
reports it, and changed by UpdateFunctionConfiguration.
"""

from __future__ import annotations

from typing import Any

DEFAULT_LOG_FORMAT = "Text"


def default_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def logging_config(function: Any) -> dict[str, Any]:
    """The function's LoggingConfig as Lambda returns it."""
    stored = dict(getattr(function, "logging_config", None) or {})
    config: dict[str, Any] = {
        "LogFormat": stored.get("LogFormat") or DEFAULT_LOG_FORMAT,
        "LogGroup": stored.get("LogGroup") or default_log_group(function.function_name),
    }
    if config["LogFormat"] == "JSON":
        config["ApplicationLogLevel"] = stored.get("ApplicationLogLevel") or "INFO"
        config["SystemLogLevel"] = stored.get("SystemLogLevel") or "INFO"
    return config


def set_logging_config(function: Any, declared: dict[str, Any] | None) -> None:
    """Keep ``declared`` (a LoggingConfig, None for the default) on moto's
    function and point its log group at the one it names."""
    function.logging_config = {key: value for key, value in (declared or {}).items() if value not in (None, "")}
    function.logs_group_name = logging_config(function)["LogGroup"]
