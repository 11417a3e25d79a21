"""Routing of Image Builder requests into the simulation.

A request is ours when its SigV4 credential scope names ``imagebuilder``;
the operation follows from the HTTP method and path of botocore's model
(``PUT /CreateComponent``, ``GET /GetImage``, ...).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from moto.iam.models import get_account_id_from
from werkzeug.wrappers import Request, Response

from local import faults

from . import responses, wire
from .exceptions import ImageBuilderError
from .models import backend, lock

log = logging.getLogger(__name__)

SERVICE = "imagebuilder"
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Starting a build never fails synchronously: a fault on it shapes the build.
FAULT_SHAPES_WORK = {"StartImagePipelineExecution"}


@lru_cache(maxsize=1)
def routes() -> dict[tuple[str, str], str]:
    """(method, path) -> operation, for the operations simulated here."""
    model = wire.service_model()
    found = {}
    for name in responses.OPERATIONS:
        http = model.operation_model(name).http
        found[(http["method"], http["requestUri"])] = name
    return found


def credential_scope(request: Request) -> tuple[str, str, str] | None:
    """(access key, region, service) from a SigV4 Authorization header."""
    match = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
    return (match.group(1), match.group(2), match.group(3)) if match else None


def dispatch(request: Request) -> Response | None:
    scope = credential_scope(request)
    if scope is None or scope[2] != SERVICE:
        return None
    access_key, region, _ = scope
    operation = routes().get((request.method, request.path))
    if operation is None:
        return wire.error(
            "InvalidRequestException",
            f"{request.method} {request.path} is not an Image Builder operation the local cloud simulates; "
            f"simulated: {', '.join(sorted(responses.OPERATIONS))}.",
            400,
        )
    try:
        if operation not in FAULT_SHAPES_WORK:
            faults.check(SERVICE, operation)
        params = wire.parse(operation, request, request.get_data())
        responses.require(wire.operation_model(operation).input_shape, params)
        with lock:
            result = responses.OPERATIONS[operation](backend(get_account_id_from(access_key), region), params)
        return wire.success(operation, result)
    except ImageBuilderError as err:
        return wire.error(err.code, err.message, err.status)
    except faults.InjectedFault as fault:
        return wire.error("InternalFailure", f"{operation} failed: {fault.message} (injected fault)", 500)
    except Exception:  # noqa: BLE001 - a client must get an AWS-style error, never a traceback
        log.exception("Image Builder %s failed", operation)
        return wire.error("ServiceException", f"{operation} failed inside the local cloud; see its log.", 500)
