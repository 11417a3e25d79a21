"""boto3 clients: created on first use, then shared by the whole process.

A Lambda container serves many invocations; creating a client costs tens of
milliseconds, so each service gets one client per container. Region,
credentials and endpoint come from boto3's standard sources (``AWS_REGION``,
the function role, ``AWS_ENDPOINT_URL``), which is what lets the same code
run against the local cloud. Retries use botocore's *standard* mode (it
backs off on throttling) and timeouts stay well inside the API's 29 seconds.
botocore's own loggers are kept at INFO or above: at DEBUG they print whole
responses, including the API keys Secrets Manager returns.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
from botocore.config import Config

USER_AGENT_EXTRA = "ami-lifecycle-orchestrator"
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra=USER_AGENT_EXTRA,
)

# At DEBUG, botocore logs whole request and response bodies, and one of those is
# GetSecretValue's answer: an API key. Its loggers never go below INFO, whatever
# level the function's logging is set to.
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
for _name in QUIET_LOGGERS:
    _logger = logging.getLogger(_name)
    _logger.setLevel(max(_logger.level, logging.INFO))

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}


def client(service_name: str) -> Any:
    """The process-wide client of ``service_name`` (``"dynamodb"``, ``"sns"``, ...).

    boto3 clients are thread-safe; sessions are not, so the shared session
    is only touched under a lock.
    """
    global _session
    with _lock:
        existing = _clients.get(service_name)
        if existing is None:
            if _session is None:
                _session = boto3.session.Session()
            existing = _session.client(service_name, config=CLIENT_CONFIG)
            _clients[service_name] = existing
        return existing


class LazyClient:
    """An adapter's ``client`` attribute: the client it was given (tests
    pass moto or stub clients as ``_client``), else this process's shared
    client of ``service_name``, created on first use."""

    def __init__(self, service_name: str) -> None:
        self.service_name = service_name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        if instance._client is None:
            instance._client = client(self.service_name)
        return instance._client


def reset_clients() -> None:
    """Forget every client (and the session): the next call builds fresh ones.

    For tests that switch between mocked accounts, and for nothing else.
    """
    global _session
    with _lock:
        _clients.clear()
        _session = None
