"""Access logging of a REST API stage, as API Gateway does it: after each
request a stage whose ``accessLogSettings`` name a log group answers, one
line in the stage's format, its ``$context`` variables filled in, goes to
that group.

A variable with no value in the request renders ``-``, as in API Gateway's
access logs. Values are escaped for a JSON string (the formats the CDK
builds are JSON), so a message with quotes keeps the line parseable. The
stream is named after the API and stage (API Gateway names its streams with
a hash); the line's timestamp is the request's arrival. A log group that
does not exist gets nothing, as on AWS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

from werkzeug.wrappers import Request, Response

log = logging.getLogger("local.apigateway")

_VARIABLE = re.compile(r"\$(?:context\.([A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])|\{context\.([A-Za-z0-9.]+)\})")
_LOG_GROUP = re.compile(r"^arn:[^:]+:logs:(?P<region>[^:]+):(?P<account>[0-9]+):log-group:(?P<name>[^:]+)(?::\*)?$")


def log_group_of(destination_arn: str) -> tuple[str, str, str] | None:
    """(account, region, log group name) of an access-log destination."""
    match = _LOG_GROUP.match(destination_arn or "")
    if match is None:
        return None
    return match.group("account"), match.group("region"), match.group("name")


def context_values(request: Request, info: Any, response: Response, started: float,
                   latency_ms: int) -> dict[str, str]:
    """The ``$context`` variables an access log can use, for one request."""
    facts = dict(info.facts)
    body = response.get_data()
    values = {
        "requestId": info.request_id,
        "extendedRequestId": info.request_id[:16],
        "apiId": info.api_id,
        "stage": info.stage,
        "accountId": info.account_id,
        "domainName": request.host,
        "domainPrefix": info.api_id,
        "httpMethod": request.method,
        "path": f"/{info.stage}{info.path}",
        "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(started)),
        "requestTimeEpoch": str(int(started * 1000)),
        "status": str(response.status_code),
        "responseLength": str(len(body)),
        "responseLatency": str(latency_ms),
        "identity.sourceIp": request.remote_addr or "127.0.0.1",
        "identity.userAgent": request.headers.get("User-Agent", ""),
        "identity.apiKey": request.headers.get("x-api-key", ""),
        "resourcePath": facts.get("resourcePath", ""),
        "resourceId": facts.get("resourceId", ""),
        "integrationStatus": facts.get("integrationStatus", ""),
        "integrationLatency": facts.get("integrationLatency", ""),
        "integrationErrorMessage": facts.get("integrationErrorMessage", ""),
        "error.message": facts.get("error.message", ""),
        "error.messageString": json.dumps(facts["error.message"]) if facts.get("error.message") else "",
        "error.responseType": facts.get("error.responseType", ""),
    }
    values["integration.status"] = values["integrationStatus"]
    values["integration.latency"] = values["integrationLatency"]
    values["integration.error"] = values["integrationErrorMessage"]
    return values


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``$context`` variable filled: ``-`` when it
    has no value, JSON-string escaped otherwise."""
    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1) or match.group(2), "")
        if value in ("", None):
            return "-"
        return json.dumps(str(value))[1:-1]

    return _VARIABLE.sub(substitute, template)


def stream_name(api_id: str, stage: str) -> str:
    return hashlib.sha256(f"{api_id}/{stage}".encode()).hexdigest()[:32]


def deliver(stage: Any, request: Request, info: Any, response: Response, started: float,
            latency_ms: int) -> None:
    """Write the request's access-log line if the stage logs access."""
    settings = getattr(stage, "access_log_settings", None) or {}
    destination = log_group_of(settings.get("destinationArn", ""))
    if destination is None or not settings.get("format"):
        return
    account, region, group = destination
    line = render(settings["format"], context_values(request, info, response, started, latency_ms))
    try:
        from moto.backends import get_backend

        backend = get_backend("logs")[account][region]
        if group not in backend.groups:
            log.warning("access log of API %s stage %s: log group %s does not exist", info.api_id, info.stage, group)
            return
        stream = stream_name(info.api_id, info.stage)
        backend.ensure_log_stream(group, stream)
        backend.put_log_events(group, stream, [{"timestamp": int(started * 1000), "message": line}])
    except Exception:  # noqa: BLE001 - a lost access-log line must not fail the request
        log.exception("could not write the access log of API %s stage %s", info.api_id, info.stage)
