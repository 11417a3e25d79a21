"""The Lambda proxy integration's wire format: the REST API proxy event
(payload format 1.0) a function receives, and the proxy response it
returns, turned into the HTTP response as is.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class RequestInfo:
    """What the gateway knows about a request before routing it."""

    request_id: str
    api_id: str
    stage: str
    path: str
    account_id: str
    # What routing and the integration learn on the way (resource path,
    # integration status, the gateway error type...), for the access log.
    facts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @staticmethod
    def new(api_id: str, stage: str, path: str, account_id: str) -> "RequestInfo":
        return RequestInfo(str(uuid.uuid4()), api_id, stage, path, account_id)


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def is_binary(binary_media_types: list[str], media_types: list[str]) -> bool:
    """Whether any of ``media_types`` is one of the API's binary media types
    (which may use wildcards such as ``image/*`` or ``*/*``)."""
    patterns = [_media_type(pattern) for pattern in binary_media_types or []]
    return any(fnmatch.fnmatch(_media_type(media), pattern)
               for media in media_types if media for pattern in patterns)


def proxy_event(request: Request, info: RequestInfo, resource_path: str, resource_id: str,
                path_parameters: dict[str, str], stage_variables: dict[str, str],
                binary_media_types: list[str]) -> dict[str, Any]:
    """The REST API Lambda proxy event, payload format 1.0."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    forwarded = {
        "X-Forwarded-For": request.remote_addr or "127.0.0.1",
        "X-Forwarded-Proto": request.scheme,
        "X-Forwarded-Port": str(request.host.rsplit(":", 1)[-1] if ":" in request.host else "80"),
    }
    for name, value in forwarded.items():
        if name not in headers:
            headers[name] = value
            multi_headers[name] = [value]
    query = {name: values[-1] for name, values in request.args.lists()}
    multi_query = {name: list(values) for name, values in request.args.lists()}
    raw = request.get_data(cache=True)
    binary = is_binary(binary_media_types, [request.headers.get("Content-Type", "")])
    if not raw:
        body = None
    elif binary:
        body = base64.b64encode(raw).decode("ascii")
    else:
        body = raw.decode("utf-8", errors="replace")
    now = time.time()
    return {
        "resource": resource_path,
        "path": info.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": stage_variables or None,
        "requestContext": {
            "resourceId": resource_id,
            "resourcePath": resource_path,
            "httpMethod": request.method,
            "extendedRequestId": info.request_id[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            # The path the client really requested: on AWS the stage plus the route
            # path; here the local URL prefix comes in front, as a custom domain's
            # base path would, so handlers derive their own base URL correctly.
            "path": request.path,
            "accountId": info.account_id,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": info.stage,
            "domainPrefix": info.api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": info.request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.remote_addr or "127.0.0.1",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent"),
                "user": None,
                "apiKey": request.headers.get("x-api-key"),
            },
            "domainName": request.host,
            "apiId": info.api_id,
        },
        "body": body,
        "isBase64Encoded": bool(body) and binary,
    }


class MalformedProxyResponse(ValueError):
    """The function's answer is not a Lambda proxy response."""


def from_proxy_response(payload: bytes, request: Request, info: RequestInfo,
                        binary_media_types: list[str]) -> Response:
    """The HTTP response a function's proxy response describes, as is."""
    try:
        result = json.loads(payload)
    except ValueError:
        raise MalformedProxyResponse("the function did not return JSON") from None
    if not isinstance(result, dict):
        raise MalformedProxyResponse("the function's response is not a JSON object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode must be an HTTP status number, got {status!r}")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string, got {type(body).__name__}")
    headers = Headers()
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyResponse("headers and multiValueHeaders must be JSON objects")
    lowered_multi = {name.lower() for name in multi}
    for name, value in single.items():
        if name.lower() not in lowered_multi and value is not None:
            headers.add(name, str(value))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.add(name, str(value))
    content = (body or "").encode("utf-8")
    if result.get("isBase64Encoded") and body:
        accepted = [part.strip() for part in request.headers.get("Accept", "").split(",")]
        if is_binary(binary_media_types, [*accepted, headers.get("Content-Type", "")]):
            try:
                content = base64.b64decode(body, validate=True)
            except ValueError:
                raise MalformedProxyResponse("isBase64Encoded is true but body is not base64") from None
    if "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    gateway_headers(headers, info)
    return Response(content, status=status, headers=headers)


def gateway_headers(headers: Headers, info: RequestInfo) -> None:
    """The headers API Gateway adds to every response it sends."""
    headers["x-amzn-RequestId"] = info.request_id
    headers["x-amz-apigw-id"] = info.request_id[:16]
    headers["X-Amzn-Trace-Id"] = f"Root=1-{int(time.time()):08x}-{info.request_id.replace('-', '')[:24]}"


