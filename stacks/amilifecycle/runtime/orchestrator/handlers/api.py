"""The API function: every operation of the OpenAPI document, served by Powertools.

The routes are declared once, in ``orchestrator/api/openapi.yaml``. At cold
start :func:`build_resolver` registers each of the document's operations
(path, method) on an ``APIGatewayRestResolver``, with the action that
:data:`ACTIONS` names for its operationId; an operation without an action,
or an action without an operation, stops the function from starting. Each
request goes through the same steps:

1. authentication: the key comes from the ``x-api-key`` header, else from
   the legacy ``api_key`` body field (POST, PUT) or query parameter (GET);
   none -> 401, not the key of the operation's ``x-ami-lifecycle-api-key``
   setting -> 403. Behind the gateway the Lambda authorizer
   (:mod:`.authorizer`) has already refused those before request
   validation; this check stays for any other way the function is invoked;
2. operations whose capability is not deployed yet -> 501;
3. the action: validation errors -> 400, unknown lifecycle -> 404, rule
   violations -> 409 (a ``DomainError`` carries its status; one exception
   handler answers them all);
4. anything unexpected -> 500 ``INTERNAL_ERROR`` with the request id, the
   stack trace in the function's log and an error notification naming the
   operation's ``x-ami-lifecycle-operator``; the response never repeats an
   internal error text.

Logs carry the operation, the status and redacted parameters; never a
header or a body, which may hold a key. The proxy event's parts and the
answers' shapes are in :mod:`.http`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from ..api import Operation, operations
from ..bootstrap import Container, container, reset
from ..domain.errors import DomainError, ErrorCode
from ..domain.notifications import error_notification
from ..domain.redaction import redact
from ..domain.vocabulary import LifecycleType, Operator
from .http import LEGACY_API_KEY_FIELD, Request, json_response, page_response

logger = Logger()

API_KEY_HEADER = "x-api-key"
MAX_API_KEY_LENGTH = 128
_PATH_TEMPLATE_PARAMETER = re.compile(r"\{([^}]+)\}")
_ANY_SEGMENT = "[^/]+"


# ---------------------------------------------------------------- HTTP errors

class Unauthorized(DomainError):
    """No API key was sent."""

    code = ErrorCode.UNAUTHORIZED
    http_status = 401


class Forbidden(DomainError):
    """The API key sent is not the operation's key."""

    code = ErrorCode.FORBIDDEN
    http_status = 403


class RouteNotFound(DomainError):
    """No operation has this method and path."""

    code = ErrorCode.NOT_FOUND
    http_status = 404


class RouteDeclarationError(RuntimeError):
    """The OpenAPI document and :data:`ACTIONS` do not describe the same operations."""


# ------------------------------------------------------------------ application

Application = Container


def application() -> Container:
    """The execution environment's container; a broken environment fails here, on the first request."""
    return container()


def reset_application() -> None:
    """Forget the container (tests change the environment between cases)."""
    reset()


# ---------------------------------------------------------------------- actions

Action = Callable[[Application, Request], Response]


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
    return json_response(200, app.lifecycles.create_lifecycle(request.json_body()))


def update_lifecycle(app: Application, request: Request) -> Response:
    return json_response(200, app.lifecycles.update_lifecycle(request.json_body()))


def create_patch(app: Application, request: Request) -> Response:
    return json_response(200, app.patches.create_patch(request.json_body()))


def update_patch(app: Application, request: Request) -> Response:
    return json_response(200, app.patches.update_patch(request.json_body()))


def list_statuses(app: Application, request: Request) -> Response:
    items, next_token = app.lifecycles.list_statuses(request.query)
    page: dict[str, Any] = {"items": [_with_timeline_links(item, request) for item in items]}
    if next_token:
        page["next_token"] = next_token
    return json_response(200, page)


def get_status(app: Application, request: Request) -> Response:
    status = app.lifecycles.get_status(request.path_parameters.get("lifecycle-id"))
    return json_response(200, _with_timeline_links(status, request))


def get_timeline(app: Application, request: Request) -> Response:
    from ..rendering import render_timeline  # Jinja2 is only loaded by the timeline routes

    view = app.lifecycles.timeline_view(request.path_parameters.get("lifecycle-id"), _lifecycle_type(request.resource))
    return page_response(render_timeline(view))


def approve(app: Application, request: Request) -> Response:
    return json_response(200, app.approvals.decide(request.json_body(), request.path_parameters.get("lifecycle-id"),
                                                   _lifecycle_type(request.resource)))


def revoke(app: Application, request: Request) -> Response:
    return json_response(200, app.revocations.revoke(request.json_body(), request.path_parameters.get("lifecycle-id")))


def certify_lifecycle(app: Application, request: Request) -> Response:
    return json_response(200, app.certifications.certify(request.json_body(),
                                                         request.path_parameters.get("lifecycle-id")))


# operationId (openapi.yaml) -> what the operation does.
ACTIONS: Mapping[str, Action] = MappingProxyType({
    "create_ami_lifecycle": create_lifecycle,
    "update_ami_lifecycle": update_lifecycle,
    "list_ami_creation_lifecycle_statuses": list_statuses,
    "get_ami_creation_lifecycle_status": get_status,
    "certify_ami_lifecycle": certify_lifecycle,
    "approve_ami_lifecycle": approve,
    "get_ami_creation_timeline": get_timeline,
    "create_ami_patch": create_patch,
    "update_ami_patch": update_patch,
    "list_ami_patch_lifecycle_statuses": list_statuses,
    "get_ami_patch_lifecycle_status": get_status,
    "get_ami_patch_timeline": get_timeline,
    "approve_ami_patch": approve,
    "revoke_ami": revoke,
})


# ---------------------------------------------------------------------- serving

def presented_key(operation: Operation, request: Request) -> str | None:
    """The key the caller sent: the header first, then the operation's legacy place."""
    key = request.headers.get(API_KEY_HEADER)
    if not key:
        key = request.query.get(LEGACY_API_KEY_FIELD) if operation.method == "GET" else request.legacy_body_key()
    return key or None


def authenticate(app: Application, operation: Operation, request: Request) -> None:
    key = presented_key(operation, request)
    if key is None:
        raise Unauthorized(f"an API key is required: send it in the {API_KEY_HEADER} header")
    if len(key) > MAX_API_KEY_LENGTH or not app.api_keys.matches(operation.api_key_setting, key):
        raise Forbidden("the API key is not valid for this route")


def route_rule(path: str) -> str:
    """The resolver's rule for an OpenAPI path: each ``{parameter}`` matches any one path segment.

    Powertools' own ``<parameter>`` matches fewer characters than API Gateway
    lets into a segment (no ``"``, for one), and such a request would be
    answered 404 before authentication. A rule may be a regular expression,
    so each parameter becomes ``[^/]+``, exactly what API Gateway matched;
    the actions read API Gateway's ``pathParameters``.
    """
    parts = _PATH_TEMPLATE_PARAMETER.split(path)  # literal, name, literal, name, ..., literal
    return "".join(re.escape(part) if index % 2 == 0 else _ANY_SEGMENT for index, part in enumerate(parts))


def _checked(declared: Iterable[Operation], actions: Mapping[str, Action]) -> list[Operation]:
    """The declared operations, once each has an action, a key setting and an operator (and no action is spare)."""
    declared = list(declared)
    problems = [f"{op.method} {op.path} ({op.operation_id or 'no operationId'}): no action"
                for op in declared if op.operation_id not in actions]
    problems += [f"{op.method} {op.path}: no x-ami-lifecycle-api-key" for op in declared if not op.api_key_setting]
    problems += [f"{op.method} {op.path}: x-ami-lifecycle-operator {op.operator!r} is not one of "
                 f"{', '.join(Operator)}" for op in declared if op.operator not in set(Operator)]
    ids = {op.operation_id for op in declared}
    problems += [f"action {name}: no operation has this operationId" for name in actions if name not in ids]
    if problems:
        raise RouteDeclarationError("the API's operations and actions disagree: " + "; ".join(problems))
    return declared


def build_resolver(declared: Iterable[Operation], actions: Mapping[str, Action]) -> APIGatewayRestResolver:
    """A resolver serving every declared operation with its action (see the module docstring)."""
    resolver = APIGatewayRestResolver(debug=False)  # never True: debug mode prints whole events, keys included

    def serve(operation: Operation, action: Action) -> Callable[..., Response]:
        def endpoint(**_path_parameters: str) -> Response:  # the action reads API Gateway's own pathParameters
            resolver.append_context(operation=operation)
            logger.append_keys(operation=operation.operation_id)
            request: Request = resolver.context["request"]
            app = application()
            authenticate(app, operation, request)
            return action(app, request)
        return endpoint

    for operation in _checked(declared, actions):
        resolver.route(route_rule(operation.path), operation.method)(serve(operation, actions[operation.operation_id]))

    @resolver.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return json_response(error.http_status, error.to_dict())

    @resolver.not_found
    def no_route(_: NotFoundError) -> Response:
        request: Request = resolver.context["request"]
        return domain_error(RouteNotFound(f"no route {request.method} {request.resource or request.path}"))

    @resolver.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        return _internal_error(resolver.context["request"], resolver.context.get("operation"), error)

    return resolver


def _internal_error(request: Request, operation: Operation | None, error: Exception) -> Response:
    reference = request.request_id or "unknown"
    logger.exception("request failed", extra={"request_id": reference})
    operator = Operator(operation.operator) if operation else Operator.ORCHESTRATOR_SERVICE
    lifecycle_id = request.path_parameters.get("lifecycle-id")
    try:
        app = application()
        app.notifier.publish(error_notification(
            operator, app.config.stack_tag, lifecycle_id,
            f"{type(error).__name__} while handling {request.method} {request.resource} (request id {reference})",
            datetime.now(timezone.utc)))
    except Exception:  # noqa: BLE001
        logger.exception("error notification not published", extra={"request_id": reference})
    return json_response(500, {"error": f"an internal error occurred; request id {reference}",
                               "code": ErrorCode.INTERNAL_ERROR})


def _log(request: Request, status: int) -> None:
    logger.info("request handled", extra={
        "method": request.method,
        "resource": request.resource,
        "path_parameters": redact(dict(request.path_parameters)),
        "query": redact(dict(request.query)),
        "status": status,
        "request_id": request.request_id,
    })


resolver = build_resolver(operations(), ACTIONS)


def handle(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (``orchestrator.handlers.api.handle``)."""
    logger.append_keys(aws_request_id=getattr(context, "aws_request_id", None), operation=None)
    request = Request.from_event(event)
    resolver.append_context(request=request)
    answer = resolver.resolve(event, context)
    _log(request, answer["statusCode"])
    return answer
