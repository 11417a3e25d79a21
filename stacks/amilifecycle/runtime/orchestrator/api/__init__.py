"""The orchestrator's OpenAPI 3 document and small readers over it.

``openapi.yaml`` beside this module is the single description of the API:
routes, operationIds, request and response schemas, each route's API key
setting (``x-ami-lifecycle-api-key``) and the operator its error
notifications name (``x-ami-lifecycle-operator``). It lives in the Lambda
package because the API function registers its routes from it at cold
start; the stacks (gateway definition, request validation) and the client
documentation read the same file through :mod:`stacks.amilifecycle.api`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Operation extension naming the cdk.json setting that holds the route's key leaf.
API_KEY_EXTENSION = "x-ami-lifecycle-api-key"
# Operation extension naming the operator (domain vocabulary) of the route's error notifications.
OPERATOR_EXTENSION = "x-ami-lifecycle-operator"
# libyaml's parser when the installed PyYAML has it (the Lambda wheels do): ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class OpenApiDocumentError(ValueError):
    """The OpenAPI document cannot be read or is not a mapping."""


@dataclass(frozen=True)
class Operation:
    """One route: HTTP method (upper case), path, operationId, key setting and operator."""

    method: str
    path: str
    operation_id: str
    api_key_setting: str | None
    operator: str | None = None


@functools.lru_cache(maxsize=1)
def _parsed() -> dict[str, Any]:
    try:
        text = OPENAPI_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OpenApiDocumentError(f"{OPENAPI_PATH}: not found") from None
    try:
        document = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise OpenApiDocumentError(f"{OPENAPI_PATH}: not valid YAML ({exc})") from None
    if not isinstance(document, dict):
        raise OpenApiDocumentError(f"{OPENAPI_PATH}: expected a mapping at the top level")
    return document


def load_openapi() -> dict[str, Any]:
    """The OpenAPI document as a fresh dict (callers may add integrations to it).

    The file is parsed once per process; each call returns a deep copy so one
    caller's changes never leak into another's document.
    """
    return copy.deepcopy(_parsed())


def operations(document: dict[str, Any] | None = None) -> Iterator[Operation]:
    """Every operation of ``document`` (default: the project's), in document order."""
    document = _parsed() if document is None else document
    for path, path_item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if operation is not None:
                yield Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=operation.get("operationId", ""),
                    api_key_setting=operation.get(API_KEY_EXTENSION),
                    operator=operation.get(OPERATOR_EXTENSION),
                )
