"""Admin routes under ``/_local/``: the local cloud's own control surface.

They are plain JSON over HTTP (no signing) so that the CLI, tests and a
curious user with curl can drive them:

=====================================  =======================================
``GET  /_local/health``                liveness, endpoint, region, time scale
``GET  /_local/faults``                the faults currently injected
``POST /_local/faults``                inject one (``service``, ``kind``, ``count``...)
``DELETE /_local/faults[/<service>]``  clear all faults, or one service's
``POST /_local/save``                  write the state file now
``GET|POST /_local/time-scale``        read or change the time scale
``PUT  /_local/cloudformation/responses/<token>``  custom resource replies
``GET|POST /_local/inspector2/findings``  Inspector2 findings seeded per AMI
``GET  /_local/events/rules``          the scheduled EventBridge rules
``POST /_local/events/rules/<name>/run``  fire a rule's targets now
=====================================  =======================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from local import clock, faults
from local.cloudformation import custom_resources
from local.config import LocalCloudConfig
from local.services.inspector2 import urls as inspector2_urls

PREFIX = "/_local/"


@dataclass(frozen=True)
class AdminContext:
    config: LocalCloudConfig
    services: tuple[str, ...]
    save: Callable[[], dict[str, Any]]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, indent=1, default=str) + "\n", status=status,
                    content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"request body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body


def handle(request: Request, context: AdminContext) -> Response:
    """Answer an admin request (the path starts with ``/_local/``)."""
    route = request.path[len(PREFIX):].rstrip("/")
    try:
        if route == "health" and request.method == "GET":
            return _health(context)
        if route == "faults" or route.startswith("faults/"):
            return _faults(request, route)
        if route == "save" and request.method == "POST":
            return _json(context.save())
        if route == "time-scale":
            return _time_scale(request)
        if route == "events/rules" and request.method == "GET":
            from local.services.events import schedules

            return _json({"rules": schedules.scheduled_rules()})
        if route.startswith("events/rules/") and route.endswith("/run") and request.method == "POST":
            from local.services.events import schedules

            return _json(schedules.run_rule(route[len("events/rules/"):-len("/run")]))
        if route.startswith("inspector2/"):
            seeded = inspector2_urls.admin_dispatch(request)
            if seeded is not None:
                return seeded
        if route.startswith("cloudformation/responses/") and request.method in ("PUT", "POST"):
            token = route.rsplit("/", 1)[1]
            custom_resources.receive_response(token, request.get_data())
            return Response("", status=200)
    except ValueError as error:
        return _error(400, str(error))
    except KeyError as error:
        return _error(404, str(error.args[0]) if error.args else "not found")
    return _error(404, f"no admin route {request.method} {request.path}; see docs/local-cloud.md")


def _health(context: AdminContext) -> Response:
    config = context.config
    return _json({
        "status": "ok",
        "endpoint": config.endpoint_url,
        "region": config.region,
        "account": config.account_id,
        "time_scale": clock.time_scale(),
        "simulated_services": list(context.services),
        "faults": [fault.to_dict() for fault in faults.list_faults()],
    })


def _faults(request: Request, route: str) -> Response:
    if request.method == "GET":
        return _json({"faults": [fault.to_dict() for fault in faults.list_faults()]})
    if request.method == "POST" and route == "faults":
        body = _body(request)
        unknown = set(body) - {"service", "kind", "operation", "seconds", "message", "count"}
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}: expected service, kind, "
                             "operation, seconds, message, count")
        if "service" not in body or "kind" not in body:
            raise ValueError("a fault needs 'service' and 'kind'")
        fault = faults.set_fault(
            service=str(body["service"]),
            kind=str(body["kind"]),
            operation=str(body.get("operation") or "*"),
            seconds=_number(body.get("seconds", 0), "seconds"),
            message=str(body.get("message") or faults.DEFAULT_MESSAGE),
            count=_count(body.get("count")),
        )
        return _json(fault.to_dict(), 201)
    if request.method == "DELETE":
        service = route[len("faults/"):] if route.startswith("faults/") else request.args.get("service")
        if service and service not in faults.SERVICES:
            raise ValueError(f"unknown service {service!r}: expected one of {', '.join(faults.SERVICES)}")
        faults.clear(service or None)
        return _json({"faults": [fault.to_dict() for fault in faults.list_faults()]})
    return _error(405, f"{request.method} is not allowed on /_local/{route}: use GET, POST or DELETE")


def _time_scale(request: Request) -> Response:
    if request.method == "POST":
        body = _body(request)
        if "scale" not in body:
            raise ValueError("expected {\"scale\": <number >= 0>}")
        clock.set_time_scale(_number(body["scale"], "scale"))
    elif request.method != "GET":
        return _error(405, f"{request.method} is not allowed on /_local/time-scale: use GET or POST")
    return _json({"scale": clock.time_scale()})


def _count(value: Any) -> int | None:
    """A fault's number of uses: absent or null for "until cleared", else a whole number >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"count must be a whole number >= 1 (or absent: until cleared), got {value!r}")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number
