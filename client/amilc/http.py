"""Calling the orchestrator API.

The route key travels in the ``x-api-key`` header only (never in a URL or a
body), so it cannot end up in a proxy log, shell history or an error
message. An error answer becomes :class:`ApiError`, whose message is the
API's own: ``HTTP 400 VALIDATION_ERROR: <message> (field: x; allowed: a, b)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import requests

from .errors import ClientError, ExitCode, one_line

USER_AGENT = "ami-lifecycle-cli"
TIMEOUT_SECONDS = 30
_MAX_SHOWN_BODY = 200


@dataclass(frozen=True)
class ApiResponse:
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise ClientError(f"the API answered HTTP {self.status} with a body that is not JSON: "
                              f"{_excerpt(self.text)}", ExitCode.REFUSED) from None


class ApiError(ClientError):
    """The API refused a request; the message is the API's, on one line."""

    def __init__(self, status: int, code: str | None, message: str, *, field: str | None = None,
                 allowed: list[str] | None = None) -> None:
        self.status = status
        self.code = code
        self.api_message = message
        self.field = field
        self.allowed = allowed
        super().__init__(format_api_error(status, code, message, field, allowed), ExitCode.REFUSED)


def format_api_error(status: int, code: str | None, message: str, field: str | None = None,
                     allowed: list[str] | None = None) -> str:
    """``HTTP <status> <CODE>: <message> (field: x; allowed: a, b)``."""
    head = f"HTTP {status} {code}" if code else f"HTTP {status}"
    hints = []
    if field:
        hints.append(f"field: {field}")
    if allowed:
        hints.append(f"allowed: {', '.join(str(a) for a in allowed)}")
    tail = f" ({'; '.join(hints)})" if hints else ""
    return one_line(f"{head}: {message}{tail}")


def _excerpt(text: str) -> str:
    shown = one_line(text)
    return shown if len(shown) <= _MAX_SHOWN_BODY else shown[: _MAX_SHOWN_BODY - 3] + "..."


def error_from_response(status: int, text: str) -> ApiError:
    """An :class:`ApiError` from an error answer, JSON (the API's error model) or not (a gateway's)."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("error") or body.get("message"), str):
        allowed = body.get("allowed")
        return ApiError(status, body.get("code") if isinstance(body.get("code"), str) else None,
                        str(body.get("error") or body.get("message")),
                        field=body.get("field") if isinstance(body.get("field"), str) else None,
                        allowed=[str(a) for a in allowed] if isinstance(allowed, list) else None)
    reason = _excerpt(text) if text and text.strip() else "no details in the answer"
    return ApiError(status, None, reason)


class NoAnswer(ClientError):
    """The request was sent but no answer came in time: the API may still have acted on it."""


class ApiClient:
    """One API deployment: ``base_url`` is the stage URL (``amiOrchestratorApiGatewayUrl``)."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def call(self, method: str, path: str, *, key: str, body: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None) -> ApiResponse:
        """Send one request; 2xx answers are returned, anything else raises :class:`ApiError`."""
        headers = {"x-api-key": key, "Accept": "application/json, text/html", "User-Agent": USER_AGENT}
        query = {name: value for name, value in (params or {}).items() if value is not None}
        try:
            answer = self._session.request(method, self.url(path), headers=headers, params=query or None,
                                           json=dict(body) if body is not None else None, timeout=self._timeout)
        except requests.Timeout:
            raise NoAnswer(f"the API at {self.base_url} did not answer within {self._timeout:g} s; "
                           "try again later") from None
        except requests.RequestException as error:
            raise ClientError(f"cannot reach the API at {self.base_url} ({type(error).__name__}); check the "
                              "network, or that the local cloud runs") from None
        if not 200 <= answer.status_code < 300:
            raise error_from_response(answer.status_code, answer.text)
        return ApiResponse(answer.status_code, answer.headers.get("Content-Type", ""), answer.text)
