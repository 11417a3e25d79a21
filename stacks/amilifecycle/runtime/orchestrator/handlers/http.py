"""The HTTP side of the API function: the proxy event's parts it reads, and its two kinds of answer.

A request is API Gateway's REST proxy event (payload 1.0); answers are
Powertools ``Response`` objects, JSON or the HTML timeline page, each with
the headers every answer of this API carries.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from aws_lambda_powertools.event_handler import Response

from ..domain.errors import ValidationError

LEGACY_API_KEY_FIELD = "api_key"
JSON_CONTENT_TYPE = "application/json"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_BASE_PATH_PATTERN = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
_COMMON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# The page loads nothing from elsewhere (its own policy says so); these keep it out of frames and keep
# a key that came in the query string out of Referer headers.
_PAGE_HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY",
                 "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Request:
    """The parts of an API Gateway proxy event (payload 1.0) the actions use."""

    method: str
    resource: str
    path: str
    path_parameters: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body_text: str | None
    request_id: str
    base_url: str | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "Request":
        context = event.get("requestContext") or {}
        headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()
                   if value is not None}
        body = event.get("body")
        if body is not None and event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                body = None
        return cls(
            method=str(event.get("httpMethod") or context.get("httpMethod") or "").upper(),
            resource=str(event.get("resource") or context.get("resourcePath") or ""),
            path=str(event.get("path") or ""),
            path_parameters=dict(event.get("pathParameters") or {}),
            query=dict(event.get("queryStringParameters") or {}),
            headers=headers,
            body_text=body if isinstance(body, str) else None,
            request_id=str(context.get("requestId") or ""),
            base_url=_base_url(event, headers),
        )

    def json_body(self) -> Any:
        """The parsed JSON body; a missing or malformed body is a 400."""
        if self.body_text is None or not self.body_text.strip():
            raise ValidationError("request body: missing (required); expected a JSON object")
        try:
            return json.loads(self.body_text)
        except ValueError:
            raise ValidationError("request body: expected a JSON object, got text that is not valid JSON") from None

    def legacy_body_key(self) -> str | None:
        """The ``api_key`` field of a JSON body, if there is one (a malformed body has none)."""
        try:
            body = json.loads(self.body_text) if self.body_text else None
        except ValueError:
            return None
        value = body.get(LEGACY_API_KEY_FIELD) if isinstance(body, dict) else None
        return value if isinstance(value, str) else None


def json_response(status: int, payload: Any) -> Response:
    return Response(status_code=status, content_type=JSON_CONTENT_TYPE, body=json.dumps(payload, default=str),
                    headers=dict(_COMMON_HEADERS))


def page_response(html: str) -> Response:
    return Response(status_code=200, content_type=HTML_CONTENT_TYPE, body=html,
                    headers={**_COMMON_HEADERS, **_PAGE_HEADERS})


def _base_url(event: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """``scheme://host[/base path]`` under which this API's routes were called, or ``None`` if unknown.

    On the default endpoint the base path is the stage (``/dev``); behind a
    custom domain it is the mapping's base path, which is what the request
    context's path holds in front of the route's path.
    """
    context = event.get("requestContext") or {}
    host = str(context.get("domainName") or headers.get("host") or "")
    if not _HOST_PATTERN.match(host):
        return None
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
    scheme = scheme if scheme in ("http", "https") else "https"
    full_path, path = str(context.get("path") or ""), str(event.get("path") or "")
    if path and full_path.endswith(path):
        prefix = full_path[: len(full_path) - len(path)]
    else:
        stage = str(context.get("stage") or "")
        prefix = f"/{stage}" if stage and stage != "$default" else ""
    if not _BASE_PATH_PATTERN.match(prefix):
        return None
    return f"{scheme}://{host}{prefix}"
