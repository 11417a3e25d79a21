"""What an AWS request is, and how AWS would answer it with an error.

The local cloud answers every failure the way the real service would: an SDK
parses the error body by the service's protocol (JSON ``__type``, query-XML
``<ErrorResponse>``, EC2's ``<Response><Errors>``, S3's ``<Error>``), so a
client sees a proper ``ClientError`` with a code and a message it can act
on, never an HTML page or a Python traceback.

The service and region come from the SigV4 credential scope; the protocol
and the operation name come from botocore's own service model, so nothing
here keeps a second, hand-written list of AWS operations.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
from botocore.exceptions import UnknownServiceError
from werkzeug.wrappers import Request, Response

# SigV4 signing names that differ from botocore's service names.
_SIGNING_NAME_TO_SERVICE = {
    "states": "stepfunctions",
    "monitoring": "cloudwatch",
    "email": "ses",
    "events": "events",
    "execute-api": "apigateway",
    "cognito-identity": "cognito-identity",
}

_CREDENTIAL_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class AwsRequest:
    """The coordinates of one AWS API call, as far as they can be known."""

    service: str | None
    region: str | None
    operation: str | None
    protocol: str

    @property
    def label(self) -> str:
        """``service.Operation`` for messages (``?`` where unknown)."""
        return f"{self.service or '?'}.{self.operation or '?'}"


def credential_scope(request: Request) -> tuple[str | None, str | None]:
    """(service signing name, region) from the Authorization header or a
    presigned URL's ``X-Amz-Credential``; (None, None) when unsigned."""
    match = _CREDENTIAL_RE.search(request.headers.get("Authorization", ""))
    if match:
        return match.group(2), match.group(1)
    credential = request.args.get("X-Amz-Credential", "")
    parts = credential.split("/")
    if len(parts) == 5:
        return parts[3], parts[2]
    return None, None


@lru_cache(maxsize=64)
def _service_model(service: str) -> Any:
    session = botocore.session.get_session()
    name = _SIGNING_NAME_TO_SERVICE.get(service, service)
    try:
        return session.get_service_model(name)
    except UnknownServiceError:
        return None


def identify(request: Request) -> AwsRequest:
    """Name the service, region, protocol and operation of ``request``."""
    service, region = credential_scope(request)
    model = _service_model(service) if service else None
    protocol = model.protocol if model is not None else _guess_protocol(request)
    operation = _operation_name(request, model, protocol)
    return AwsRequest(service=service, region=region, operation=operation, protocol=protocol)


def _guess_protocol(request: Request) -> str:
    if request.headers.get("X-Amz-Target"):
        return "json"
    if (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return "query"
    return "rest-json"


def _operation_name(request: Request, model: Any, protocol: str) -> str | None:
    target = request.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if protocol in ("query", "ec2"):
        action = request.args.get("Action")
        if not action and (request.content_type or "").startswith("application/x-www-form-urlencoded"):
            values = parse_qs(request.get_data(as_text=True)).get("Action")
            action = values[0] if values else None
        return action
    if model is None:
        return None
    return _match_rest_operation(model, request.method, request.path, set(request.args.keys()))


def _match_rest_operation(model: Any, method: str, path: str, query_keys: set[str]) -> str | None:
    """The operation whose ``requestUri`` template matches, preferring the
    template with the most literal characters (as API routers do)."""
    best: tuple[int, str] | None = None
    for name in model.operation_names:
        http = model.operation_model(name).http
        if http.get("method") != method:
            continue
        template, _, query = http.get("requestUri", "/").partition("?")
        required_query = {part.split("=")[0] for part in query.split("&") if part}
        if not required_query <= query_keys:
            continue
        if re.fullmatch(_template_regex(template), path.rstrip("/") or "/") is None:
            continue
        literal = len(re.sub(r"\{[^}]+\}", "", template)) + 10 * len(required_query)
        if best is None or literal > best[0]:
            best = (literal, name)
    return best[1] if best else None


@lru_cache(maxsize=4096)
def _template_regex(template: str) -> str:
    pattern = ""
    for literal, greedy, plain in re.findall(r"([^{]+)|\{([^}]+)\+\}|\{([^}]+)\}", template):
        if literal:
            pattern += re.escape(literal)
        elif greedy:
            pattern += ".+"
        else:
            pattern += "[^/]+"
    return pattern.rstrip("/") or "/"


def error_response(aws: AwsRequest, status: int, code: str, message: str) -> Response:
    """An error shaped like ``aws.service`` answers errors."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id, "x-amz-request-id": request_id}
    if aws.protocol in ("json", "rest-json", "smithy-rpc-v2-cbor"):
        headers["x-amzn-ErrorType"] = code
        content_type = "application/x-amz-json-1.1" if aws.protocol == "json" else "application/json"
        body = json.dumps({"__type": code, "message": message, "Message": message})
        return Response(body, status=status, headers=headers, content_type=content_type)
    code_xml, message_xml = escape(code), escape(message)
    if aws.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code_xml}</Code><Message>{message_xml}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    elif aws.protocol == "query":
        fault = "Sender" if status < 500 else "Receiver"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code_xml}</Code>"
            f"<Message>{message_xml}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code_xml}</Code><Message>{message_xml}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
    return Response(body, status=status, headers=headers, content_type="text/xml")


def not_supported(aws: AwsRequest) -> Response:
    """501 for an operation neither the simulated services nor moto serve."""
    return error_response(
        aws, 501, "NotImplemented", f"{aws.label} is not supported by the local cloud"
    )


def internal_failure(aws: AwsRequest, detail: str) -> Response:
    """500 for an unexpected failure inside the local cloud itself."""
    code = "InternalFailure" if aws.protocol in ("query", "ec2", "rest-xml") else "InternalServerException"
    return error_response(aws, 500, code, f"{aws.label} failed inside the local cloud: {detail}")
