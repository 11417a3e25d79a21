"""Image Builder's wire format: rest-json, answers carry a ``requestId``."""

from __future__ import annotations

from botocore.model import ServiceModel
from werkzeug.wrappers import Response

from local.services.rest_json import RestJsonService

_WIRE = RestJsonService("imagebuilder", request_id_in_results=True)
SERVICE = _WIRE.service
operation_model = _WIRE.operation_model
parse = _WIRE.parse
serialize = _WIRE.serialize
success = _WIRE.success


def service_model() -> ServiceModel:
    return _WIRE.service_model


def error(code: str, message: str, status: int) -> Response:
    """AWS rest-json error with a ``message`` member."""
    return _WIRE.error(code, {"message": message}, status)
