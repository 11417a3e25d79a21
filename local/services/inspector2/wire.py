"""Inspector2's wire format: rest-json."""

from __future__ import annotations

from botocore.model import ServiceModel
from local.services.rest_json import RestJsonService

_WIRE = RestJsonService("inspector2")
SERVICE = _WIRE.service
operation_model = _WIRE.operation_model
parse = _WIRE.parse
serialize = _WIRE.serialize
success = _WIRE.success
error = _WIRE.error


def service_model() -> ServiceModel:
    return _WIRE.service_model
