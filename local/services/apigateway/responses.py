"""Serving one HTTP request through a deployed REST API, the way API
Gateway does: find the API and stage, route to a method, run the method's
Lambda authorizer (``authorizers.py``), apply the method's request
validator, call the integration, answer.

Integrations served: ``AWS_PROXY`` to a Lambda function (invoked through
moto's Lambda backend, hence through the local Lambda runtime) and
``MOCK`` (CORS preflights). Errors the gateway answers itself use API
Gateway's messages and statuses, shaped by the API's gateway responses when
it defines them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from local import clock, faults
from local.services.apigateway import access_log, authorizers, models
from local.services.apigateway.proxy import (
    MalformedProxyResponse,
    RequestInfo,
    from_proxy_response,
    gateway_headers,
    proxy_event,
)

log = logging.getLogger("local.apigateway")

# API Gateway's longest integration timeout for a REST API (29 s).
DEFAULT_INTEGRATION_TIMEOUT_MS = 29000
_LAMBDA_URI = re.compile(r":lambda:path/[0-9-]+/functions/(?P<arn>arn:[^/]+)/invocations$")
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")

# Status and message of API Gateway's default gateway responses.
GATEWAY_RESPONSES: dict[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "Forbidden"),
    "AUTHORIZER_FAILURE": (500, "Authorizer Error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Authorizer configuration error"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "RESOURCE_NOT_FOUND": (404, "Not Found"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "THROTTLED": (429, "Too Many Requests"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "API_CONFIGURATION_ERROR": (500, "Internal server error"),
}
_ERROR_TYPES = {
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "UNAUTHORIZED": "UnauthorizedException",
    "ACCESS_DENIED": "AccessDeniedException",
    "INVALID_API_KEY": "ForbiddenException",
    "RESOURCE_NOT_FOUND": "NotFoundException",
    "BAD_REQUEST_PARAMETERS": "BadRequestException",
    "BAD_REQUEST_BODY": "BadRequestException",
    "THROTTLED": "TooManyRequestsException",
}
_CONTEXT_VARIABLE = re.compile(r"\$(?:context\.([A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])|\{context\.([A-Za-z0-9.]+)\})")

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _integration_executor() -> ThreadPoolExecutor:
    """Integrations run beside the request thread so the gateway can give
    up at the integration timeout while the function runs on, as on AWS."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(16, thread_name_prefix="apigateway-integration")
        return _executor


def gateway_response(api: Any, response_type: str, info: RequestInfo, message: str | None = None,
                     validation_error: str = "", resource_path: str = "", http_method: str = "") -> Response:
    """An error the gateway answers itself, shaped by the API's gateway
    response for the type (or for DEFAULT_4XX / DEFAULT_5XX) when the API
    defines one (``x-amazon-apigateway-gateway-responses``)."""
    status, default_message = GATEWAY_RESPONSES.get(response_type, (500, "Internal server error"))
    message = message or default_message
    info.facts.setdefault("error.responseType", response_type)
    info.facts.setdefault("error.message", message)
    headers = Headers()
    headers["x-amzn-ErrorType"] = _ERROR_TYPES.get(response_type, "InternalServerErrorException")
    body = json.dumps({"message": message})
    custom = None
    if api is not None:
        family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        custom = api.gateway_responses.get(response_type) or api.gateway_responses.get(family)
    if custom is not None:
        if custom.status_code:
            status = int(custom.status_code)
        context = {
            "error.message": message,
            "error.messageString": json.dumps(message),
            # As on AWS: JSON-escaped, so a template can put it between quotes.
            "error.validationErrorString": json.dumps(validation_error)[1:-1],
            "error.responseType": response_type,
            "requestId": info.request_id,
            "extendedRequestId": info.request_id[:16],
            "stage": info.stage,
            "apiId": info.api_id,
            "resourcePath": resource_path,
            "httpMethod": http_method,
            "path": f"/{info.stage}{info.path}",
            "accountId": info.account_id,
        }
        template = (custom.response_templates or {}).get("application/json")
        if template is not None:
            body = _render(template, context)
        for key, value in (custom.response_parameters or {}).items():
            if key.startswith("gatewayresponse.header."):
                headers[key.removeprefix("gatewayresponse.header.")] = _static_value(value)
    headers["Content-Type"] = "application/json"
    gateway_headers(headers, info)
    return Response(body, status=status, headers=headers)


def _render(template: str, context: dict[str, str]) -> str:
    """The ``$context.*`` variables of a gateway response template (those
    meaningful for an error); unknown ones render empty, as in VTL."""
    def substitute(match: re.Match[str]) -> str:
        return context.get(match.group(1) or match.group(2), "")

    return _CONTEXT_VARIABLE.sub(substitute, template)


def _static_value(value: Any) -> str:
    """``'text'`` is a literal in a mapping; anything else (a
    ``method.request...`` reference) has no value here."""
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return ""


def serve(request: Request, api_id: str, stage_name: str, path: str,
          preferred_region: str | None = None) -> Response:
    """Answer ``request`` for stage ``stage_name`` of REST API ``api_id``."""
    started, arrived = time.monotonic(), time.time()
    location = models.find_api(api_id, preferred_region)
    if location is None:
        info = RequestInfo.new(api_id, stage_name, path, "")
        log.warning("no REST API %s in the local cloud", api_id)
        return gateway_response(None, "RESOURCE_NOT_FOUND", info)
    api = location.api
    info = RequestInfo.new(api_id, stage_name, path, location.account_id)
    stage = api.stages.get(stage_name)
    if stage is None:
        log.warning("REST API %s has no stage %r (stages: %s)", api_id, stage_name,
                    ", ".join(api.stages) or "none")
        return gateway_response(api, "ACCESS_DENIED", info)
    response, route = _route_and_call(request, location, stage, info)
    latency_ms = (time.monotonic() - started) * 1000
    log.info("%s /%s%s -> %d (%.0f ms) [%s %s]", request.method, stage_name, path, response.status_code,
             latency_ms, api_id, route or "no route")
    access_log.deliver(stage, request, info, response, arrived, round(latency_ms))
    return response


def _route_and_call(request: Request, location: models.ApiLocation, stage: Any,
                    info: RequestInfo) -> tuple[Response, str | None]:
    api = location.api
    match = models.match_route(api, request.method, info.path)
    if match is None:
        return gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", info), None
    resource_path = match.resource.get_path()
    info.facts.update(resourcePath=resource_path, resourceId=match.resource.id)
    errors = {"resource_path": resource_path, "http_method": request.method}
    fault = faults.active("apigateway", match.route_key)
    try:
        faults.check("apigateway", match.route_key)
    except faults.InjectedFault as injected:
        log.warning("injected fault on %s: %s", match.route_key, injected.message)
        return gateway_response(api, "API_CONFIGURATION_ERROR", info, **errors), match.route_key
    if fault is not None and fault.kind == "hang":
        time.sleep(clock.scaled(_integration_timeout(match.method.method_integration)))
        return gateway_response(api, "INTEGRATION_TIMEOUT", info, **errors), match.route_key
    authorizer_context = None
    if str(match.method.authorization_type or "").upper() == "CUSTOM":
        decision = _authorize(request, location, stage, info, match)
        if not decision.allowed:
            return gateway_response(api, decision.response_type, info, message=decision.message,
                                    **errors), match.route_key
        authorizer_context = decision.context
    if match.method.api_key_required and not _valid_api_key(location.backend, request):
        return gateway_response(api, "INVALID_API_KEY", info, **errors), match.route_key
    failure = models.validate_request(api, match.method, request.args.to_dict(flat=False),
                                      dict(request.headers), request.mimetype, request.get_data(cache=True))
    if failure is not None:
        return gateway_response(api, failure.response_type, info, message=failure.message,
                                validation_error=failure.details, **errors), match.route_key
    integration = match.method.method_integration
    if integration is None:
        log.warning("%s of API %s has no integration", match.route_key, api.id)
        return gateway_response(api, "API_CONFIGURATION_ERROR", info, **errors), match.route_key
    if integration.integration_type == "AWS_PROXY":
        return _lambda_proxy(request, location, stage, info, match, integration,
                             authorizer_context), match.route_key
    if integration.integration_type == "MOCK":
        return _mock(integration, info), match.route_key
    log.warning("%s of API %s: integration type %s is not served by the local cloud (AWS_PROXY and MOCK are)",
                match.route_key, api.id, integration.integration_type)
    return gateway_response(api, "API_CONFIGURATION_ERROR", info, **errors), match.route_key


def _authorize(request: Request, location: models.ApiLocation, stage: Any, info: RequestInfo,
               match: models.RouteMatch) -> authorizers.Decision:
    api = location.api
    authorizer = api.authorizers.get(match.method.authorizer_id or "")
    if authorizer is None:
        log.warning("%s of API %s names authorizer %r, which the API does not have", match.route_key, api.id,
                    match.method.authorizer_id)
        return authorizers.Decision("AUTHORIZER_CONFIGURATION_ERROR", "Authorizer configuration error")
    arn = authorizers.method_arn(location.region, location.account_id, api.id, stage.name, request.method,
                                 info.path)
    event = proxy_event(request, info, match.resource.get_path(), match.resource.id, match.path_parameters,
                        stage.variables or {}, api.binaryMediaTypes)
    decision = authorizers.authorize(authorizer, api_id=api.id, stage=stage, request=request, arn=arn,
                                     event=event, invoke=_invoke_function, function_arn=function_arn)
    if not decision.allowed:
        log.info("%s of API %s: authorizer %s answered %s", match.route_key, api.id, authorizer.name,
                 decision.response_type)
    return decision


def _valid_api_key(backend: Any, request: Request) -> bool:
    supplied = request.headers.get("x-api-key")
    return bool(supplied) and any(key.value == supplied and key.enabled for key in backend.keys.values())


def _integration_timeout(integration: Any) -> float:
    millis = getattr(integration, "timeout_in_millis", None) or DEFAULT_INTEGRATION_TIMEOUT_MS
    return int(millis) / 1000


def function_arn(uri: str, stage_variables: dict[str, str]) -> str | None:
    """The Lambda function an AWS_PROXY integration URI names, with
    ``${stageVariables.x}`` substituted."""
    uri = _STAGE_VARIABLE.sub(lambda m: stage_variables.get(m.group(1), ""), uri or "")
    match = _LAMBDA_URI.search(uri)
    return match.group("arn") if match else None


def _invoke_function(arn: str, event: dict[str, Any]) -> tuple[bytes, str | None]:
    """Invoke through moto's Lambda backend: the same path as the Invoke
    API, so the local Lambda runtime runs the handler."""
    from moto.backends import get_backend

    parts = arn.split(":")
    region, account_id = parts[3], parts[4]
    response_headers: dict[str, str] = {}
    payload = get_backend("lambda")[account_id][region].invoke(
        function_name=arn, qualifier=None, body=json.dumps(event), headers={},
        response_headers=response_headers,
    )
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return payload or b"", response_headers.get("x-amz-function-error")


def _lambda_proxy(request: Request, location: models.ApiLocation, stage: Any, info: RequestInfo,
                  match: models.RouteMatch, integration: Any,
                  authorizer_context: dict[str, Any] | None = None) -> Response:
    api = location.api
    resource_path = match.resource.get_path()
    errors = {"resource_path": resource_path, "http_method": request.method}
    arn = function_arn(integration.uri, stage.variables or {})
    if arn is None:
        log.warning("%s of API %s: integration URI %r names no Lambda function", match.route_key, api.id,
                    integration.uri)
        return gateway_response(api, "API_CONFIGURATION_ERROR", info, **errors)
    event = proxy_event(request, info, resource_path, match.resource.id, match.path_parameters,
                        stage.variables or {}, api.binaryMediaTypes)
    if authorizer_context is not None:
        event["requestContext"]["authorizer"] = dict(authorizer_context)
    future = _integration_executor().submit(_invoke_function, arn, event)
    invoked = time.monotonic()
    try:
        payload, function_error = future.result(timeout=_integration_timeout(integration))
    except FutureTimeout:
        log.warning("%s of API %s: %s did not answer within the integration timeout", match.route_key, api.id, arn)
        info.facts["integrationErrorMessage"] = "Execution failed due to a timeout error"
        return gateway_response(api, "INTEGRATION_TIMEOUT", info, **errors)
    except Exception as error:  # noqa: BLE001 - any invoke failure is the gateway's 5xx
        reason = getattr(error, "message", None) or str(error)
        log.warning("%s of API %s: invoking %s failed: %s", match.route_key, api.id, arn, reason)
        info.facts["integrationErrorMessage"] = reason
        if "TooManyRequests" in type(error).__name__:
            return gateway_response(api, "THROTTLED", info, **errors)
        return gateway_response(api, "API_CONFIGURATION_ERROR", info, **errors)
    # The Lambda service answered: its status is the integration's.
    info.facts.update(integrationStatus="200", integrationLatency=str(round((time.monotonic() - invoked) * 1000)))
    if function_error:
        info.facts["integrationErrorMessage"] = "Lambda function error"
        log.warning("%s of API %s: Lambda function error: %s", match.route_key, api.id,
                    payload.decode("utf-8", errors="replace")[:1000])
        return gateway_response(api, "INTEGRATION_FAILURE", info, **errors)
    try:
        return from_proxy_response(payload, request, info, api.binaryMediaTypes)
    except MalformedProxyResponse as error:
        info.facts["integrationErrorMessage"] = "Malformed Lambda proxy response"
        log.warning("%s of API %s: Execution failed due to configuration error: "
                    "Malformed Lambda proxy response (%s)", match.route_key, api.id, error)
        return gateway_response(api, "INTEGRATION_FAILURE", info, **errors)


def _mock(integration: Any, info: RequestInfo) -> Response:
    """A MOCK integration answers with its default integration response:
    its status, its static header mappings and its JSON template."""
    responses = list((integration.integration_responses or {}).values())
    chosen = next((r for r in responses if not r.selection_pattern), None) or (responses[0] if responses else None)
    headers = Headers()
    status, body = 200, ""
    if chosen is not None:
        status = int(chosen.status_code)
        for key, value in (chosen.response_parameters or {}).items():
            if key.startswith("method.response.header."):
                headers[key.removeprefix("method.response.header.")] = _static_value(value)
        body = (chosen.response_templates or {}).get("application/json", "") or ""
    headers.setdefault("Content-Type", "application/json")
    gateway_headers(headers, info)
    return Response(body, status=status, headers=headers)
