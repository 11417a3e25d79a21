"""The API function: every route of the orchestrator API, behind one handler.

API Gateway (REST, Lambda proxy integration) hands over the route's
resource template (``/ami-creation/lifecycles/{lifecycle-id}/status``) and
method; :data:`ROUTES` maps them to the route's API key setting and action.
Each request goes through the same steps:

1. authentication: the key comes from the ``x-api-key`` header, else from
   the legacy ``api_key`` body field (POST, PUT) or query parameter (GET);
   none -> 401, not the route's key -> 403;
2. routes whose capability is not deployed yet -> 501;
3. the action: validation errors -> 400, unknown lifecycle -> 404, rule
   violations -> 409 (the domain's errors carry their status);
4. anything unexpected -> 500 ``INTERNAL_ERROR`` with the request id, the
   stack trace in the function's log and an error notification; the
   response never repeats an internal error text.

Logs carry the route, the status and redacted parameters; never a header
or a body, which may hold a key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger

from ..bootstrap import Container, container, reset
from ..domain.capabilities import capability_not_available
from ..domain.errors import DomainError, ValidationError
from ..domain.notifications import error_notification
from ..domain.redaction import redact
from ..domain.vocabulary import LifecycleType, Operator

logger = Logger()

API_KEY_HEADER = "x-api-key"
LEGACY_API_KEY_FIELD = "api_key"
MAX_API_KEY_LENGTH = 128
JSON_CONTENT_TYPE = "application/json"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_BASE_PATH_PATTERN = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")
_COMMON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# The page loads nothing from elsewhere (its own policy says so); these keep it out of frames and keep
# a key that came in the query string out of Referer headers.
_PAGE_HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY",
                 "Referrer-Policy": "no-referrer"}


# ---------------------------------------------------------------- HTTP errors

class Unauthorized(DomainError):
    """No API key was sent."""

    code = "UNAUTHORIZED"
    http_status = 401


class Forbidden(DomainError):
    """The API key sent is not the route's key."""

    code = "FORBIDDEN"
    http_status = 403


class RouteNotFound(DomainError):
    """No route has this method and path."""

    code = "NOT_FOUND"
    http_status = 404


# -------------------------------------------------------- request and response

@dataclass(frozen=True)
class Request:
    """The parts of an API Gateway proxy event (payload 1.0) the routes use."""

    method: str
    resource: str
    path: str
    path_parameters: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body_text: str | None
    request_id: str
    base_url: str | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "Request":
        context = event.get("requestContext") or {}
        headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()
                   if value is not None}
        body = event.get("body")
        if body is not None and event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(body, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                body = None
        return cls(
            method=str(event.get("httpMethod") or context.get("httpMethod") or "").upper(),
            resource=str(event.get("resource") or context.get("resourcePath") or ""),
            path=str(event.get("path") or ""),
            path_parameters=dict(event.get("pathParameters") or {}),
            query=dict(event.get("queryStringParameters") or {}),
            headers=headers,
            body_text=body if isinstance(body, str) else None,
            request_id=str(context.get("requestId") or ""),
            base_url=_base_url(event, headers),
        )

    def json_body(self) -> Any:
        """The parsed JSON body; a missing or malformed body is a 400."""
        if self.body_text is None or not self.body_text.strip():
            raise ValidationError("request body: missing (required); expected a JSON object")
        try:
            return json.loads(self.body_text)
        except ValueError:
            raise ValidationError("request body: expected a JSON object, got text that is not valid JSON") from None

    def legacy_body_key(self) -> str | None:
        """The ``api_key`` field of a JSON body, if there is one (a malformed body has none)."""
        try:
            body = json.loads(self.body_text) if self.body_text else None
        except ValueError:
            return None
        value = body.get(LEGACY_API_KEY_FIELD) if isinstance(body, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = JSON_CONTENT_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> "Response":
        return cls(status, json.dumps(payload, default=str))

    def to_proxy(self) -> dict[str, Any]:
        headers = {"Content-Type": self.content_type, **_COMMON_HEADERS, **dict(self.headers)}
        return {"statusCode": self.status, "headers": headers, "body": self.body, "isBase64Encoded": False}


def _base_url(event: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """``scheme://host[/base path]`` under which this API's routes were called, or ``None`` if unknown.

    On the default endpoint the base path is the stage (``/dev``); behind a
    custom domain it is the mapping's base path, which is what the request
    context's path holds in front of the route's path.
    """
    context = event.get("requestContext") or {}
    host = str(context.get("domainName") or headers.get("host") or "")
    if not _HOST_PATTERN.match(host):
        return None
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
    scheme = scheme if scheme in ("http", "https") else "https"
    full_path, path = str(context.get("path") or ""), str(event.get("path") or "")
    if path and full_path.endswith(path):
        prefix = full_path[: len(full_path) - len(path)]
    else:
        stage = str(context.get("stage") or "")
        prefix = f"/{stage}" if stage and stage != "$default" else ""
    if not _BASE_PATH_PATTERN.match(prefix):
        return None
    return f"{scheme}://{host}{prefix}"


# ------------------------------------------------------------------ application

Application = Container


def application() -> Container:
    """The execution environment's container; a broken environment fails here, on the first request."""
    return container()


def reset_application() -> None:
    """Forget the container (tests change the environment between cases)."""
    reset()


# ----------------------------------------------------------------------- routes

Action = Callable[[Application, Request], Response]


@dataclass(frozen=True)
class Route:
    """One operation of the OpenAPI document, as this function serves it."""

    method: str
    resource: str
    operation_id: str
    key_setting: str
    operator: Operator
    action: Action | None = None
    capability: str | None = None  # what a 501 names, for routes without an action


def _lifecycle_type(resource: str) -> LifecycleType:
    return LifecycleType.AMI_PATCH if resource.startswith("/ami-patch/") else LifecycleType.AMI_CREATION


def _with_timeline_links(status: dict[str, Any], request: Request) -> dict[str, Any]:
    """Add the timeline page links (without any key) built from the request's own address."""
    if request.base_url is None:
        return status
    lifecycle_id = status["lifecycle_id"]
    links = {"ami_creation": f"{request.base_url}/ami-creation/lifecycles/{lifecycle_id}/timeline"}
    patch_link = f"{request.base_url}/ami-patch/lifecycles/{lifecycle_id}/timeline"
    if status.get("inputs_ami_patch") or status.get("outputs_ami_patch"):
        links["ami_patch"] = patch_link
    status["timeline"] = links
    status["timeline_url"] = patch_link if _lifecycle_type(request.resource) is LifecycleType.AMI_PATCH \
        else links["ami_creation"]
    return status


def create_lifecycle(app: Application, request: Request) -> Response:
    return Response.json(200, app.lifecycles.create_lifecycle(request.json_body()))


def update_lifecycle(app: Application, request: Request) -> Response:
    return Response.json(200, app.lifecycles.update_lifecycle(request.json_body()))


def list_statuses(app: Application, request: Request) -> Response:
    items, next_token = app.lifecycles.list_statuses(request.query)
    page: dict[str, Any] = {"items": [_with_timeline_links(item, request) for item in items]}
    if next_token:
        page["next_token"] = next_token
    return Response.json(200, page)


def get_status(app: Application, request: Request) -> Response:
    status = app.lifecycles.get_status(request.path_parameters.get("lifecycle-id"))
    return Response.json(200, _with_timeline_links(status, request))


def get_timeline(app: Application, request: Request) -> Response:
    from ..rendering import render_timeline  # Jinja2 is only loaded by the timeline routes

    view = app.lifecycles.timeline_view(request.path_parameters.get("lifecycle-id"), _lifecycle_type(request.resource))
    return Response(200, render_timeline(view), content_type=HTML_CONTENT_TYPE, headers=_PAGE_HEADERS)


_CREATION = "/ami-creation/lifecycles"
_PATCH = "/ami-patch/lifecycles"
_STATUS_KEY = "ami_creation_status_secret_name"

ROUTES: Mapping[tuple[str, str], Route] = {
    (route.method, route.resource): route for route in (
        Route("POST", _CREATION, "create_ami_lifecycle", "ami_creation_post_secret_name",
              Operator.AMI_CREATION_POST, create_lifecycle),
        Route("PUT", _CREATION, "update_ami_lifecycle", "ami_creation_put_secret_name",
              Operator.AMI_CREATION_PUT, update_lifecycle),
        Route("GET", f"{_CREATION}/status", "list_ami_creation_lifecycle_statuses", _STATUS_KEY,
              Operator.AMI_LIFECYCLE_STATUS, list_statuses),
        Route("GET", f"{_CREATION}/{{lifecycle-id}}/status", "get_ami_creation_lifecycle_status", _STATUS_KEY,
              Operator.AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID, get_status),
        Route("POST", f"{_CREATION}/{{lifecycle-id}}/certify", "certify_ami_lifecycle",
              "ami_creation_qa_certification_secret_name", Operator.AMI_CREATION_QA_CERTIFICATION_POST,
              capability="QA certification (POST /ami-creation/lifecycles/{lifecycle-id}/certify)"),
        Route("POST", f"{_CREATION}/{{lifecycle-id}}/approve", "approve_ami_lifecycle",
              "ami_creation_mark_for_production_secret_name",
              Operator.AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST,
              capability="approval for production (POST /ami-creation/lifecycles/{lifecycle-id}/approve)"),
        Route("GET", f"{_CREATION}/{{lifecycle-id}}/timeline", "get_ami_creation_timeline",
              "ami_creation_timeline_secret_name", Operator.AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID, get_timeline),
        Route("POST", _PATCH, "create_ami_patch", "ami_patch_post_secret_name", Operator.AMI_PATCH_POST,
              capability="patching an AMI (POST /ami-patch/lifecycles)"),
        Route("PUT", _PATCH, "update_ami_patch", "ami_patch_put_secret_name", Operator.AMI_PATCH_PUT,
              capability="updating a patch (PUT /ami-patch/lifecycles)"),
        Route("GET", f"{_PATCH}/status", "list_ami_patch_lifecycle_statuses", _STATUS_KEY,
              Operator.AMI_LIFECYCLE_STATUS, list_statuses),
        Route("GET", f"{_PATCH}/{{lifecycle-id}}/status", "get_ami_patch_lifecycle_status", _STATUS_KEY,
              Operator.AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID, get_status),
        Route("GET", f"{_PATCH}/{{lifecycle-id}}/timeline", "get_ami_patch_timeline",
              "ami_patch_timeline_secret_name", Operator.AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID, get_timeline),
        Route("POST", f"{_PATCH}/{{lifecycle-id}}/approve", "approve_ami_patch",
              "ami_patch_mark_for_production_secret_name", Operator.AMI_PATCH_MARK_FOR_PRODUCTION_APPROVAL_POST,
              capability="approval of a patched AMI for production "
                         "(POST /ami-patch/lifecycles/{lifecycle-id}/approve)"),
    )
}


# ---------------------------------------------------------------------- handling

def presented_key(route: Route, request: Request) -> str | None:
    """The key the caller sent: the header first, then the route's legacy place."""
    key = request.headers.get(API_KEY_HEADER)
    if not key:
        key = request.query.get(LEGACY_API_KEY_FIELD) if route.method == "GET" else request.legacy_body_key()
    return key or None


def authenticate(app: Application, route: Route, request: Request) -> None:
    key = presented_key(route, request)
    if key is None:
        raise Unauthorized(f"an API key is required: send it in the {API_KEY_HEADER} header")
    if len(key) > MAX_API_KEY_LENGTH or not app.api_keys.matches(route.key_setting, key):
        raise Forbidden("the API key is not valid for this route")


def dispatch(event: Mapping[str, Any], app: Application) -> dict[str, Any]:
    """Answer one proxy event (see the module docstring for the steps)."""
    request = Request.from_event(event)
    route = ROUTES.get((request.method, request.resource))
    try:
        if route is None:
            raise RouteNotFound(f"no route {request.method} {request.resource or request.path}")
        authenticate(app, route, request)
        if route.action is None:
            raise capability_not_available(route.capability or f"{route.method} {route.resource}")
        response = route.action(app, request)
    except DomainError as error:
        response = Response.json(error.http_status, error.to_dict())
    except Exception as error:  # noqa: BLE001 - the last line of defence answers 500, never a stack trace
        response = _internal_error(app, route, request, error)
    _log(route, request, response)
    return response.to_proxy()


def _internal_error(app: Application, route: Route | None, request: Request, error: Exception) -> Response:
    reference = request.request_id or "unknown"
    logger.exception("request failed", extra={"operation": route.operation_id if route else None,
                                              "request_id": reference})
    operator = route.operator if route else Operator.ORCHESTRATOR_SERVICE
    lifecycle_id = request.path_parameters.get("lifecycle-id")
    try:
        app.notifier.publish(error_notification(
            operator, app.config.stack_tag, lifecycle_id,
            f"{type(error).__name__} while handling {request.method} {request.resource} (request id {reference})",
            datetime.now(timezone.utc)))
    except Exception:  # noqa: BLE001
        logger.exception("error notification not published", extra={"request_id": reference})
    return Response.json(500, {"error": f"an internal error occurred; request id {reference}",
                               "code": "INTERNAL_ERROR"})


def _log(route: Route | None, request: Request, response: Response) -> None:
    logger.info("request handled", extra={
        "operation": route.operation_id if route else None,
        "method": request.method,
        "resource": request.resource,
        "path_parameters": redact(dict(request.path_parameters)),
        "query": redact(dict(request.query)),
        "status": response.status,
        "request_id": request.request_id,
    })


def handle(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (``orchestrator.handlers.api.handle``)."""
    logger.append_keys(aws_request_id=getattr(context, "aws_request_id", None))
    return dispatch(event, application())
