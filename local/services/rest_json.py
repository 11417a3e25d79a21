"""The rest-json wire format of a simulated service: requests parsed and
answers written by botocore's own model of the service, through moto's
protocol parser and serializer, so field names, nesting and timestamps are
exactly what boto3 sends and expects."""

from __future__ import annotations

import json
import uuid
from functools import cached_property
from typing import Any

from botocore.model import OperationModel, ServiceModel
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from werkzeug.wrappers import Request, Response


class RestJsonService:
    """Parse and answer the rest-json requests of one service.

    ``request_id_in_results`` adds a ``requestId`` member to every answer,
    for services whose output shapes carry one (Image Builder)."""

    def __init__(self, service: str, *, request_id_in_results: bool = False) -> None:
        self.service = service
        self._request_id_in_results = request_id_in_results

    @cached_property
    def service_model(self) -> ServiceModel:
        return get_service_model(self.service)

    def operation_model(self, name: str) -> OperationModel:
        return self.service_model.operation_model(name)

    def parse(self, operation: str, request: Request, body: bytes) -> dict[str, Any]:
        """Request parameters keyed by their model names (camelCase)."""
        parser = PROTOCOL_PARSERS["rest-json"](self.operation_model(operation))
        return parser.parse({
            "method": request.method,
            "values": request.args,
            "headers": request.headers,
            "body": body,
            "url_path": request.path,
            "url_params": {},
        })

    def serialize(self, operation: str, result: dict[str, Any]) -> dict[str, Any]:
        """The JSON document boto3 would receive for ``result``: members outside
        the operation's output shape are dropped, as the service never sends them."""
        serializer = get_serializer_class(self.service, "rest-json")(
            self.operation_model(operation), value_picker=XFormedAttributePicker()
        )
        body = serializer.serialize(result)["body"]
        return json.loads(body) if body else {}

    def success(self, operation: str, result: dict[str, Any]) -> Response:
        if self._request_id_in_results:
            result = {"requestId": str(uuid.uuid4()), **result}
        return Response(json.dumps(self.serialize(operation, result)), status=200, content_type="application/json")

    @staticmethod
    def error(code: str, body: dict[str, Any], status: int) -> Response:
        """AWS rest-json error: the code in ``x-amzn-ErrorType`` and ``__type``,
        the error shape's members (``message``, ``reason``, ...) in the body."""
        response = Response(json.dumps({"__type": code, **body}), status=status, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = code
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response
