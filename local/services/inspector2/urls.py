"""Routing of Inspector2 requests: the operations in
:data:`responses.OPERATIONS` are answered here, every other Inspector2 path
is left to moto (``dispatch`` returns None).

``admin_dispatch`` serves the seeding route under ``/_local/inspector2/``:

* ``POST /_local/inspector2/findings`` with
  ``{"amiId": "ami-...", "findings": [...], "accountId"?: "...", "region"?: "..."}``
  replaces the findings seeded for that AMI (``[]`` clears them);
* ``GET /_local/inspector2/findings[?amiId=ami-...]`` lists the seeds.

A seed is a finding as ListFindings returns it minus what the scan fills in
(see :func:`models.validate_seed`).
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from typing import Any

from moto.iam.models import get_account_id_from
from werkzeug.wrappers import Request, Response

from local import faults
from local.config import load_config

from . import models, responses, wire
from .exceptions import Inspector2Error

log = logging.getLogger(__name__)

SERVICE = "inspector2"
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
ADMIN_PREFIX = "/_local/inspector2/"
# A fault on these shapes the job they start instead of failing the call.
FAULT_SHAPES_WORK = {"CreateFindingsReport", "CreateSbomExport"}


@lru_cache(maxsize=1)
def routes() -> dict[tuple[str, str], str]:
    model = wire.service_model()
    found = {}
    for name in responses.OPERATIONS:
        http = model.operation_model(name).http
        found[(http["method"], http["requestUri"])] = name
    return found


def dispatch(request: Request) -> Response | None:
    match = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
    if match is None or match.group(3) != SERVICE:
        return None
    operation = routes().get((request.method, request.path))
    if operation is None:
        return None
    access_key, region = match.group(1), match.group(2)
    try:
        if operation not in FAULT_SHAPES_WORK:
            faults.check(SERVICE, operation)
        params = wire.parse(operation, request, request.get_data())
        with models.lock:
            result = responses.OPERATIONS[operation](get_account_id_from(access_key), region, params)
        return wire.success(operation, result)
    except Inspector2Error as err:
        return wire.error(err.code, err.body(), err.status)
    except faults.InjectedFault as fault:
        return wire.error("InternalServerException",
                          {"message": f"{operation} failed: {fault.message} (injected fault)"}, 500)
    except Exception:  # noqa: BLE001 - a client must get an AWS-style error, never a traceback
        log.exception("Inspector2 %s failed", operation)
        return wire.error("InternalServerException",
                          {"message": f"{operation} failed inside the local cloud; see its log."}, 500)


def admin_dispatch(request: Request) -> Response | None:
    if not request.path.startswith(ADMIN_PREFIX):
        return None
    if request.path.rstrip("/") != ADMIN_PREFIX + "findings":
        return _json({"error": f"no admin route {request.method} {request.path}; use {ADMIN_PREFIX}findings"}, 404)
    config = load_config()
    if request.method == "GET":
        account_id = request.args.get("accountId", config.account_id)
        region = request.args.get("region", config.region)
        return _json({"seeds": models.seeded(account_id, region, request.args.get("amiId"))}, 200)
    if request.method != "POST":
        return _json({"error": f"{request.method} is not allowed on {request.path}; use GET or POST"}, 405)
    try:
        payload = json.loads(request.get_data() or b"null")
        if not isinstance(payload, dict):
            raise ValueError('the body must be a JSON object: {"amiId": "ami-...", "findings": [...]}')
        seeds = models.seed_findings(payload.get("accountId", config.account_id), payload.get("region", config.region),
                                     payload.get("amiId"), payload.get("findings"))
    except (ValueError, json.JSONDecodeError) as error:
        return _json({"error": str(error)}, 400)
    return _json({"amiId": payload["amiId"], "findings": len(seeds)}, 200)


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")
