"""Inspector2's wire format (rest-json): requests parsed and answers
written by botocore's own model of the service, through moto's protocol
parser and serializer, so field names, nesting and timestamps are exactly
what boto3 sends and expects."""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any

from botocore.model import OperationModel, ServiceModel
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from werkzeug.wrappers import Request, Response

SERVICE = "inspector2"


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return get_service_model(SERVICE)


def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


def parse(operation: str, request: Request, body: bytes) -> dict[str, Any]:
    """Request parameters keyed by their model names (camelCase)."""
    parser = PROTOCOL_PARSERS["rest-json"](operation_model(operation))
    return parser.parse({
        "method": request.method,
        "values": request.args,
        "headers": request.headers,
        "body": body,
        "url_path": request.path,
        "url_params": {},
    })


def serialize(operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """The JSON document boto3 would receive for ``result``: members outside
    the operation's output shape are dropped, as the service never sends them."""
    serializer = get_serializer_class(SERVICE, "rest-json")(
        operation_model(operation), value_picker=XFormedAttributePicker()
    )
    body = serializer.serialize(result)["body"]
    return json.loads(body) if body else {}


def success(operation: str, result: dict[str, Any]) -> Response:
    return Response(json.dumps(serialize(operation, result)), status=200, content_type="application/json")


def error(code: str, body: dict[str, Any], status: int) -> Response:
    """AWS rest-json error: the code in ``x-amzn-ErrorType`` and ``__type``,
    the error shape's members (``message``, ``reason``, ...) in the body."""
    response = Response(json.dumps({"__type": code, **body}), status=status, content_type="application/json")
    response.headers["x-amzn-ErrorType"] = code
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return response
