"""Lambda authorizers of a REST API method, run the way API Gateway runs them.

A method whose ``authorizationType`` is ``CUSTOM`` is authorized before its
request validator and its integration:

1. identity sources (``method.request.header.X``, ``method.request.querystring.X``,
   ``stageVariables.X``, ``context.X``) are read; one that is missing or empty
   is ``401 UNAUTHORIZED`` without calling the function;
2. when the authorizer caches (``authorizerResultTtlInSeconds`` > 0, the
   default 300), a policy returned for the same identity source values within
   the TTL is reused without calling the function; the cache is per API,
   stage deployment and authorizer, as on AWS;
3. otherwise the function is called with the ``TOKEN`` or ``REQUEST`` event.
   A function error whose message is ``Unauthorized`` is ``401``; any other
   failure or an answer without a policy is ``500`` (AUTHORIZER_FAILURE /
   AUTHORIZER_CONFIGURATION_ERROR);
4. the policy, cached or fresh, is evaluated against this request's method
   ARN: an explicit ``Deny`` or no matching ``Allow`` is ``403 ACCESS_DENIED``.
   An allowed request carries ``principalId`` and the policy's ``context`` in
   ``requestContext.authorizer``.

``invocations()`` counts function calls per authorizer, for tests that show
the cache at work.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from werkzeug.wrappers import Request

DEFAULT_TTL_SECONDS = 300
UNAUTHORIZED_MESSAGE = "Unauthorized"
_IDENTITY_SOURCE = re.compile(r"^(method\.request\.(header|querystring)|stageVariables|context)\.(.+)$")


@dataclass(frozen=True)
class Decision:
    """What the authorizer step concluded: a gateway response type to answer with, or the caller's context."""

    response_type: str | None = None
    message: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.response_type is None


@dataclass
class _Entry:
    expires: float
    answer: dict[str, Any]


_lock = threading.Lock()
_cache: dict[tuple[Any, ...], _Entry] = {}
_invocations: dict[str, int] = {}


def invocations(authorizer_id: str) -> int:
    """How many times the function of ``authorizer_id`` was called."""
    with _lock:
        return _invocations.get(authorizer_id, 0)


def flush() -> None:
    """Forget every cached result (as a stage's "flush authorizer cache" does)."""
    with _lock:
        _cache.clear()


def identity_values(authorizer: Any, request: Request, stage_variables: dict[str, str],
                    context: dict[str, str]) -> tuple[str, ...] | None:
    """The identity source values, in order; ``None`` if one is missing or empty."""
    sources = [part.strip() for part in str(authorizer.identity_source or "").split(",") if part.strip()]
    values = []
    for source in sources:
        match = _IDENTITY_SOURCE.match(source)
        if match is None:
            return None
        kind, location, name = match.group(1), match.group(2), match.group(3)
        if location == "header":
            value = request.headers.get(name)
        elif location == "querystring":
            value = request.args.get(name)
        elif kind == "stageVariables":
            value = stage_variables.get(name)
        else:
            value = context.get(name)
        if not value:
            return None
        values.append(value)
    return tuple(values)


def ttl_seconds(authorizer: Any) -> int:
    ttl = authorizer.authorizer_result_ttl
    return DEFAULT_TTL_SECONDS if ttl is None or ttl == "" else int(ttl)


def method_arn(region: str, account_id: str, api_id: str, stage: str, http_method: str, path: str) -> str:
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{http_method}/{path.lstrip('/')}"


def _wildcard(pattern: str) -> re.Pattern[str]:
    """An IAM resource pattern: ``*`` any run of characters (``/`` included), ``?`` one character."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value or []]


def evaluate(policy: Any, arn: str) -> str:
    """``Allow``, ``Deny`` (explicit) or ``None``-like ``NoMatch`` for ``arn`` under an IAM policy document."""
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    statements = [statements] if isinstance(statements, dict) else statements or []
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        actions = _listed(statement.get("Action"))
        if not any(_wildcard(action.lower()).match("execute-api:invoke") for action in actions):
            continue
        if not any(_wildcard(resource).match(arn) for resource in _listed(statement.get("Resource"))):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        if statement.get("Effect") == "Allow":
            allowed = True
    return "Allow" if allowed else "NoMatch"


def authorize(authorizer: Any, *, api_id: str, stage: Any, request: Request, arn: str, event: dict[str, Any],
              invoke: Callable[[str, dict[str, Any]], tuple[bytes, str | None]],
              function_arn: Callable[[str, dict[str, str]], str | None]) -> Decision:
    """Run ``authorizer`` for one request (see the module docstring)."""
    stage_variables = stage.variables or {}
    context_values = {"httpMethod": request.method, "stage": stage.name,
                      "resourcePath": str(event.get("resource", ""))}
    identity = identity_values(authorizer, request, stage_variables, context_values)
    authorizer_type = str(authorizer.type or "").upper()
    if identity is None or (authorizer_type == "TOKEN" and not identity):
        return Decision("UNAUTHORIZED", UNAUTHORIZED_MESSAGE)
    ttl = ttl_seconds(authorizer)
    cache_key = (api_id, stage.name, getattr(stage, "deployment_id", None), authorizer.id, identity)
    answer = None
    if ttl > 0 and identity:
        with _lock:
            entry = _cache.get(cache_key)
            if entry is not None and entry.expires > time.monotonic():
                answer = entry.answer
    if answer is None:
        target = function_arn(authorizer.authorizer_uri or "", stage_variables)
        if target is None:
            return Decision("AUTHORIZER_CONFIGURATION_ERROR", "Authorizer configuration error")
        if authorizer_type == "TOKEN":
            authorizer_event: dict[str, Any] = {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        else:
            authorizer_event = {"type": "REQUEST", "methodArn": arn,
                                **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}}
        with _lock:
            _invocations[authorizer.id] = _invocations.get(authorizer.id, 0) + 1
        try:
            payload, function_error = invoke(target, authorizer_event)
        except Exception:  # noqa: BLE001 - the function could not be called
            return Decision("AUTHORIZER_CONFIGURATION_ERROR", "Authorizer configuration error")
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:
            answer = None
        if function_error:
            message = answer.get("errorMessage") if isinstance(answer, dict) else None
            if message == UNAUTHORIZED_MESSAGE:
                return Decision("UNAUTHORIZED", UNAUTHORIZED_MESSAGE)
            return Decision("AUTHORIZER_FAILURE", "Authorizer Error")
        if not isinstance(answer, dict) or not isinstance(answer.get("policyDocument"), dict) \
                or "principalId" not in answer:
            return Decision("AUTHORIZER_CONFIGURATION_ERROR", "Authorizer configuration error")
        if ttl > 0 and identity:
            with _lock:
                _cache[cache_key] = _Entry(time.monotonic() + ttl, answer)
    effect = evaluate(answer["policyDocument"], arn)
    if effect == "Deny":
        return Decision("ACCESS_DENIED", "User is not authorized to access this resource with an explicit deny")
    if effect != "Allow":
        return Decision("ACCESS_DENIED", "User is not authorized to access this resource")
    context = {name: value for name, value in (answer.get("context") or {}).items()
               if isinstance(value, (str, int, float, bool))}
    return Decision(context={"principalId": str(answer["principalId"]), **context})
