"""Routing of the EC2 actions simulated here; every other EC2 action is left
to moto (``dispatch`` returns None), unless a fault names that action.

EC2 names its action in the form body (``Action=ExportImage``), so the body
is read to decide; it is then put back into the WSGI environment so moto can
read it again when the action is not ours.
"""

from __future__ import annotations

import io
import logging
import re
from urllib.parse import parse_qsl

from moto.iam.models import get_account_id_from
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from local import faults

from . import models, responses
from .exceptions import EC2Error

log = logging.getLogger(__name__)

SERVICE = "ec2"
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# A fault on these shapes the task they start instead of failing the call.
FAULT_SHAPES_WORK = {"ExportImage", "CreateStoreImageTask"}


def request_values(request: Request) -> MultiDict:
    """Query and form fields, leaving the body readable for whoever comes next."""
    values = MultiDict(request.args)
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", ""):
        body = request.get_data(cache=True)
        request.environ["wsgi.input"] = io.BytesIO(body)
        request.environ["CONTENT_LENGTH"] = str(len(body))
        values.update(MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
    return values


def _fault_on_moto_action(action: str | None) -> Response | None:
    """An EC2 action moto answers (RunInstances, ...) is faulted only by a
    fault that names it: ``fail`` answers the error, ``delay`` waits, then
    moto answers; a service-wide fault never touches moto's actions."""
    fault = faults.active(SERVICE, action) if action else None
    if fault is None or fault.operation != action:
        return None
    try:
        faults.check(SERVICE, action)
    except faults.InjectedFault as injected:
        return responses.error("InternalFailure", f"{action} failed: {injected.message} (injected fault)", 500)
    return None


def dispatch(request: Request) -> Response | None:
    match = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
    if match is None or match.group(3) != SERVICE:
        return None
    action = request.args.get("Action")
    values = None
    if action is None:
        values = request_values(request)
        action = values.get("Action")
    if action not in responses.OPERATIONS:
        return _fault_on_moto_action(action)
    if values is None:
        values = request_values(request)
    access_key, region = match.group(1), match.group(2)
    try:
        if action not in FAULT_SHAPES_WORK:
            faults.check(SERVICE, action)
        params = responses.parse(action, values)
        with models.lock:
            result = responses.OPERATIONS[action](get_account_id_from(access_key), region, params)
        return responses.success(action, result)
    except EC2Error as err:
        return responses.error(err.code, err.message, err.status)
    except faults.InjectedFault as fault:
        return responses.error("InternalFailure", f"{action} failed: {fault.message} (injected fault)", 500)
    except Exception:  # noqa: BLE001 - a client must get an AWS-style error, never a traceback
        log.exception("EC2 %s failed", action)
        return responses.error("InternalError", f"{action} failed inside the local cloud; see its log.", 500)
