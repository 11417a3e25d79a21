"""The API's Lambda REQUEST authorizer: the route key is checked before the gateway validates anything.

API Gateway calls this function before its request validator and before the
API function, so a caller without the route's key learns nothing about the
request schemas. The presented key comes from the ``x-api-key`` header; on
GET routes (status, lists, timeline pages opened from a browser link) the
legacy ``api_key`` query parameter is accepted when no header is sent.

* no key -> ``Unauthorized`` is raised, which API Gateway answers ``401``
  (its ``UNAUTHORIZED`` gateway response);
* a key -> an IAM policy. It allows every route whose key this is (all four
  status routes share one key) and nothing else. The whole policy is
  computed, not only the called route's, because API Gateway caches the
  result by identity source (the header) and evaluates the cached policy
  against later calls' method ARNs: a policy naming one route would refuse
  the same key on a sibling route for the cache's lifetime. A key that is no
  route's key gets an explicit deny of everything: ``403`` (``ACCESS_DENIED``).

Keys are read and compared by :class:`~orchestrator.adapters.api_keys.ApiKeys`
(cached, constant-time). No key value is logged or put into the policy or
its context: the principal is the key's setting name.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping

from aws_lambda_powertools import Logger

from ..api import Operation, operations
from ..bootstrap import container
from .http import LEGACY_API_KEY_FIELD

logger = Logger()

API_KEY_HEADER = "x-api-key"
MAX_API_KEY_LENGTH = 128
UNAUTHORIZED_MESSAGE = "Unauthorized"  # the exact text API Gateway turns into a 401
DENIED_PRINCIPAL = "anonymous"
_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


class Unauthorized(Exception):
    """No key was presented: API Gateway answers 401 when an authorizer fails with this message."""

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED_MESSAGE)


def presented_key(event: Mapping[str, Any]) -> str | None:
    """The key of a REQUEST authorizer event: the header, else (GET only) the legacy query parameter."""
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    key = headers.get(API_KEY_HEADER)
    if not key and str(event.get("httpMethod", "")).upper() == "GET":
        key = (event.get("queryStringParameters") or {}).get(LEGACY_API_KEY_FIELD)
    return key if isinstance(key, str) and key else None


def stage_arn(method_arn: str) -> str:
    """``arn:...:execute-api:<region>:<account>:<api-id>/<stage>`` of a method ARN."""
    parts = method_arn.split("/")
    if len(parts) < 3 or ":execute-api:" not in parts[0]:
        raise ValueError(f"not an execute-api method ARN: {method_arn!r}")
    return "/".join(parts[:2])


def route_arn(stage: str, operation: Operation) -> str:
    """The method ARN pattern of ``operation``: each ``{parameter}`` becomes ``*``."""
    return f"{stage}/{operation.method}/{_PATH_PARAMETER.sub('*', operation.path).lstrip('/')}"


def policy(principal: str, effect: str, resources: list[str], context: Mapping[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}]},
        "context": dict(context),
    }


def authorize(event: Mapping[str, Any], declared: Iterable[Operation],
              matching: Callable[[list[str], str], list[str]]) -> dict[str, Any]:
    """The authorizer's answer for ``event``; ``matching(settings, key)``: the settings whose key it is."""
    key = presented_key(event)
    if key is None:
        raise Unauthorized()
    stage = stage_arn(str(event.get("methodArn", "")))
    by_setting: dict[str, list[Operation]] = {}
    for operation in declared:
        if operation.api_key_setting:
            by_setting.setdefault(operation.api_key_setting, []).append(operation)
    accepted = [] if len(key) > MAX_API_KEY_LENGTH else matching(sorted(by_setting), key)
    if not accepted:
        return policy(DENIED_PRINCIPAL, "Deny", [f"{stage}/*/*"], {"keySetting": ""})
    resources = [route_arn(stage, operation) for setting in accepted for operation in by_setting[setting]]
    return policy(accepted[0], "Allow", resources, {"keySetting": ",".join(accepted)})


def handle(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (``orchestrator.handlers.authorizer.handle``)."""
    logger.append_keys(aws_request_id=getattr(context, "aws_request_id", None))
    try:
        answer = authorize(event, operations(), container().api_keys.matching)
    except Unauthorized:
        logger.info("authorization", extra={"method": event.get("httpMethod"), "resource": event.get("resource"),
                                            "result": "no key"})
        raise
    logger.info("authorization", extra={"method": event.get("httpMethod"), "resource": event.get("resource"),
                                        "result": answer["policyDocument"]["Statement"][0]["Effect"],
                                        "key_setting": answer["principalId"]})
    return answer
