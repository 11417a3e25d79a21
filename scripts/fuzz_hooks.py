"""schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS=scripts.fuzz_hooks).

FUZZ_KEYS_FILE: a JSON object, key setting (``x-ami-lifecycle-api-key``) -> key value.
FUZZ_AUTH: ``valid`` (each operation gets its own route's key), ``none`` (no key at all) or
``wrong`` (a key that is no route's). With ``none`` / ``wrong`` the ``refused_with_json`` check
requires every answer to be 401 / 403 with a JSON error body.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

API_KEY_HEADER = "x-api-key"
KEY_EXTENSION = "x-ami-lifecycle-api-key"
WRONG_KEY = "wrongkey0000000000000000000000000000000"
_MODE = os.environ.get("FUZZ_AUTH", "valid")
_KEYS: dict[str, str] = json.loads(open(os.environ["FUZZ_KEYS_FILE"]).read()) if _MODE == "valid" else {}
_EXPECTED = {"none": (401, "UNAUTHORIZED"), "wrong": (403, "FORBIDDEN")}


def _setting(case: Any) -> str | None:
    return (case.operation.definition.raw or {}).get(KEY_EXTENSION)


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = dict(case.headers or {})
    for name in list(headers):
        if name.lower() == API_KEY_HEADER:
            del headers[name]
    query = dict(case.query or {})
    query.pop("api_key", None)  # the legacy query key is generated as a parameter: keep it out of the way
    case.query = query
    if _MODE == "valid":
        headers[API_KEY_HEADER] = _KEYS[_setting(case)]
    elif _MODE == "wrong":
        headers[API_KEY_HEADER] = WRONG_KEY
    case.headers = headers


@schemathesis.check
def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, except a 501 ``NOT_IMPLEMENTED`` the operation declares (a capability this deployment
    does not have yet: answered before anything is read or changed)."""
    if response.status_code < 500:
        return True
    declared = {str(status) for status in ((case.operation.definition.raw or {}).get("responses") or {})}
    if response.status_code == 501 and "501" in declared:
        try:
            if json.loads(response.text).get("code") == "NOT_IMPLEMENTED":
                return True
        except (ValueError, AttributeError):
            pass
    raise AssertionError(f"server error {response.status_code}: {response.text[:300]!r}")


@schemathesis.check
def refused_with_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """Without the route's key every answer is the authorizer's refusal, as JSON."""
    if _MODE not in _EXPECTED:
        return None
    status, code = _EXPECTED[_MODE]
    if str(case.method).upper() != str(case.operation.method).upper():
        # A method the document does not declare on this path is no route at all: 404 before any key.
        status, code = 404, "NOT_FOUND"
    if response.status_code != status:
        raise AssertionError(f"expected {status} without a valid key, got {response.status_code}")
    try:
        body = json.loads(response.text)
    except ValueError:
        raise AssertionError(f"the {status} answer is not JSON: {response.text[:200]!r}") from None
    if not isinstance(body, dict) or body.get("code") != code or not body.get("error"):
        raise AssertionError(f"the {status} answer is not the API's error shape: {response.text[:200]!r}")
    return True
