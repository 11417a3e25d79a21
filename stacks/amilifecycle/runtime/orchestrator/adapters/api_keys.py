"""Checking a presented API key against the route's key in Secrets Manager.

Keys are read through Powertools' secrets provider, which keeps each value
for a few minutes, so a busy API does not call Secrets Manager on every
request. When a presented key does not match the cached value, the secret
is read once more (at most every ``min_refresh_seconds``) before the key is
refused: a key rotated a minute ago is accepted without waiting for the
cache to expire, and a stream of wrong keys cannot turn into a stream of
Secrets Manager calls. Comparisons take constant time (``hmac.compare_digest``)
and no key value is ever logged or put into an error message.
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any, Callable, Iterable

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from . import aws

DEFAULT_MAX_AGE_SECONDS = 300
DEFAULT_MIN_REFRESH_SECONDS = 30


class ApiKeyUnavailable(RuntimeError):
    """The route's key cannot be read (missing secret, no permission): a deployment fault."""


class ApiKeys:
    """The API keys of one deployment, by key setting name."""

    def __init__(self, secret_name: Callable[[str], str], *, provider: Any | None = None,
                 max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
                 min_refresh_seconds: float = DEFAULT_MIN_REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._secret_name = secret_name
        self._provider = provider
        self._max_age = max_age_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._last_forced: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def _secrets(self) -> Any:
        if self._provider is None:
            self._provider = SecretsProvider(boto3_client=aws.client("secretsmanager"))
        return self._provider

    def matches(self, setting: str, presented: str) -> bool:
        """True when ``presented`` is the key configured under ``setting``."""
        if _same(presented, self._key(setting, force=False)):
            return True
        if not self._may_refresh(setting):
            return False
        return _same(presented, self._key(setting, force=True))

    def matching(self, settings: Iterable[str], presented: str) -> list[str]:
        """The ``settings`` whose key ``presented`` is, in the given order.

        The cached values are compared first; only when none matches are the
        secrets read again (each at most every ``min_refresh_seconds``), so a
        valid key never costs a read of the other routes' secrets.
        """
        settings = list(settings)
        found = [setting for setting in settings if _same(presented, self._key(setting, force=False))]
        if found:
            return found
        return [setting for setting in settings
                if self._may_refresh(setting) and _same(presented, self._key(setting, force=True))]

    def _may_refresh(self, setting: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last_forced.get(setting)
            if last is not None and now - last < self._min_refresh:
                return False
            self._last_forced[setting] = now
            return True

    def _key(self, setting: str, *, force: bool) -> str:
        name = self._secret_name(setting)
        try:
            value = self._secrets.get(name, max_age=self._max_age, force_fetch=force)
        except GetParameterError as error:
            raise ApiKeyUnavailable(f"API key secret {name} cannot be read: {_reason(error)}") from None
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if not isinstance(value, str) or not value:
            raise ApiKeyUnavailable(f"API key secret {name} holds no key")
        return value


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def _reason(error: GetParameterError) -> str:
    """The AWS error code behind a failed read, never the response text."""
    cause = error.__cause__ or error.__context__
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "unknown error"))
    return type(cause).__name__ if cause is not None else "unknown error"
