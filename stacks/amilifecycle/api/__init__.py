"""The orchestrator's OpenAPI 3 document and small readers over it.

``orchestrator/api/openapi.yaml`` in the Lambda package is the single description of the API's
routes, request and response schemas and per-route API keys. The gateway
definition, the request validation and the client documentation all start
from :func:`load_openapi`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "runtime" / "orchestrator" / "api" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Operation extension naming the cdk.json setting that holds the route's key leaf.
API_KEY_EXTENSION = "x-ami-lifecycle-api-key"


class OpenApiDocumentError(ValueError):
    """The OpenAPI document cannot be read or is not a mapping."""


@dataclass(frozen=True)
class Operation:
    """One route: HTTP method (upper case), path, operationId and key setting."""

    method: str
    path: str
    operation_id: str
    api_key_setting: str | None


@functools.lru_cache(maxsize=1)
def _parsed() -> dict[str, Any]:
    try:
        text = OPENAPI_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OpenApiDocumentError(f"{OPENAPI_PATH}: not found") from None
    try:
        document = yaml.safe_load(text)
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
    document = load_openapi() if document is None else document
    for path, path_item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if operation is not None:
                yield Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=operation.get("operationId", ""),
                    api_key_setting=operation.get(API_KEY_EXTENSION),
                )
