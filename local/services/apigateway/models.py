"""The REST APIs the router serves, and how a request finds its method.

The APIs themselves (resources, methods, integrations, validators, models,
stages) live in moto's apigateway backend, created by the CloudFormation
types in ``cloudformation.py`` or by the API Gateway API; moto's state
persistence covers them, so this module keeps no state of its own.

Routing follows API Gateway REST semantics: at each level a literal path
part beats a ``{param}``, which beats a greedy ``{proxy+}``; a method beats
``ANY``; a path nothing matches is "Missing Authentication Token" (403).
Request validation follows the method's validator: required parameters
first, then the body against the method's model (JSON Schema draft 4).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from local.services.apigateway.openapi import model_url


@dataclass(frozen=True)
class ApiLocation:
    account_id: str
    region: str
    backend: Any
    api: Any


@dataclass(frozen=True)
class RouteMatch:
    resource: Any
    method: Any
    path_parameters: dict[str, str] = field(default_factory=dict)

    @property
    def route_key(self) -> str:
        """``GET /items/{id}``: how faults and logs name a route."""
        return f"{self.method.http_method} {self.resource.get_path()}"


@dataclass(frozen=True)
class ValidationFailure:
    response_type: str  # BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY
    message: str
    details: str


def find_api(api_id: str, preferred_region: str | None = None) -> ApiLocation | None:
    """The REST API ``api_id`` in whichever account and region holds it
    (an invoke URL names neither)."""
    from moto.backends import get_backend

    backends = get_backend("apigateway")
    candidates = []
    for account_id in list(backends.keys()):
        account = dict.get(backends, account_id)
        for region, backend in list(dict.items(account)) if account else []:
            if api_id in backend.apis:
                candidates.append(ApiLocation(account_id, region, backend, backend.apis[api_id]))
    candidates.sort(key=lambda location: location.region != preferred_region)
    return candidates[0] if candidates else None


def _children(api: Any) -> dict[str | None, list[Any]]:
    children: dict[str | None, list[Any]] = {}
    for resource in list(api.resources.values()):
        children.setdefault(resource.parent_id, []).append(resource)
    return children


def _candidates(children: dict[str | None, list[Any]], resource: Any, segments: list[str],
                parameters: dict[str, str]) -> list[tuple[Any, dict[str, str]]]:
    """Every resource under ``resource`` matching ``segments``, most specific
    first."""
    if not segments:
        return [(resource, parameters)]
    head, rest = segments[0], segments[1:]
    literal, single, greedy = [], [], []
    for child in children.get(resource.id, []):
        part = child.path_part
        if part.startswith("{") and part.endswith("+}"):
            greedy.append(child)
        elif part.startswith("{") and part.endswith("}"):
            single.append(child)
        elif part == head:
            literal.append(child)
    found: list[tuple[Any, dict[str, str]]] = []
    for child in literal:
        found += _candidates(children, child, rest, parameters)
    for child in single:
        found += _candidates(children, child, rest, {**parameters, child.path_part[1:-1]: head})
    for child in greedy:
        found.append((child, {**parameters, child.path_part[1:-2]: "/".join(segments)}))
    return found


def match_route(api: Any, http_method: str, path: str) -> RouteMatch | None:
    """The resource and method serving ``http_method path``, if any."""
    segments = [segment for segment in path.split("/") if segment]
    root = api.default
    for resource, parameters in _candidates(_children(api), root, segments, {}):
        methods = resource.resource_methods
        method = methods.get(http_method.upper()) or methods.get("ANY")
        if method is not None:
            return RouteMatch(resource, method, parameters)
    return None


def _required_parameters(method: Any) -> list[tuple[str, str]]:
    required = []
    for key, is_required in (method.request_parameters or {}).items():
        parts = key.split(".", 3)
        if is_required and len(parts) == 4 and parts[:2] == ["method", "request"]:
            required.append((parts[2], parts[3]))
    return required


def validate_request(api: Any, method: Any, query: dict[str, list[str]], headers: dict[str, str],
                     content_type: str, body: bytes) -> ValidationFailure | None:
    """Apply the method's request validator, as API Gateway does before
    calling the integration."""
    validator = api.request_validators.get(method.request_validator_id or "")
    if validator is None:
        return None
    if validator.validate_request_parameters:
        lowered = {name.lower() for name in headers}
        missing = [name for location, name in _required_parameters(method)
                   if (location == "querystring" and name not in query)
                   or (location == "header" and name.lower() not in lowered)]
        if missing:
            return ValidationFailure("BAD_REQUEST_PARAMETERS",
                                     f"Missing required request parameters: [{', '.join(missing)}]", "")
    if validator.validate_request_body:
        return _validate_body(api, method, content_type, body)
    return None


def _validate_body(api: Any, method: Any, content_type: str, body: bytes) -> ValidationFailure | None:
    models = method.request_models or {}
    name = models.get(content_type or "application/json") or models.get("$default")
    if not name or name == "Empty" or name not in api.models:
        return None
    try:
        document = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError) as error:
        return ValidationFailure("BAD_REQUEST_BODY", "Invalid request body", f"[Invalid JSON: {error}]")
    validator = Draft4Validator(json.loads(api.models[name].schema), registry=_registry(api))
    problems = sorted(validator.iter_errors(document),
                      key=lambda error: [str(part) for part in error.absolute_path])
    if not problems:
        return None
    details = ", ".join(_describe(problem) for problem in problems)
    return ValidationFailure("BAD_REQUEST_BODY", "Invalid request body", f"[{details}]")


def _describe(problem: Any) -> str:
    """One finding as ``<field>: <rule>``, the field in the API's own path style
    (``events[2].name``, ``properties.semver_bump_type``; ``request body`` for
    the whole document). API Gateway's own findings state the rule; the local
    validator also names the field, which is what a caller needs to fix it."""
    where = _field_path(problem.absolute_path)
    kind, expected, instance = problem.validator, problem.validator_value, problem.instance
    if kind == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        return f"{_join(where, missing[0] if missing else '?')}: missing (required)"
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = set((problem.schema or {}).get("properties") or {})
        extra = sorted(name for name in instance if name not in known)
        allowed = ", ".join(sorted(known)) or "none"
        return f"{_join(where, extra[0] if extra else '?')}: unknown field; allowed: {allowed}"
    if kind == "enum":
        return f"{where}: expected one of {', '.join(map(str, expected))}, got {_shown(instance)}"
    if kind == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where}: expected {_article(wanted)}, got {_shown(instance)}"
    if kind == "pattern":
        return f"{where}: expected text matching {expected}, got {_shown(instance)}"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"{where}: expected {bound} {expected} characters, got {len(instance)}"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if kind.startswith("min") else "at most"
        return f"{where}: expected {bound} {expected} entries, got {len(instance)}"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where}: expected {bound} {expected}, got {_shown(instance)}"
    return f"{where}: {problem.message}"


def _field_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "request body"


def _join(where: str, name: str) -> str:
    return name if where == "request body" else f"{where}.{name}"


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[:1] in "aeiou" else f"a {type_name}"


def _shown(value: Any) -> str:
    """The rejected value, short, as the API function's own messages show it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return "a list" if isinstance(value, list) else "an object"


def _registry(api: Any) -> Registry:
    """Every model of the API, addressable by its model URL, so schemas
    referencing other models resolve."""
    resources = []
    for name, model in api.models.items():
        try:
            schema = json.loads(model.schema) if isinstance(model.schema, str) else model.schema
        except ValueError:
            continue
        resources.append((model_url(api.id, name), Resource.from_contents(schema, default_specification=DRAFT4)))
    return Registry().with_resources(resources)


# Persistence contract of a simulated service: the APIs are moto's state.

def get_state() -> object:
    return None


def set_state(state: object) -> None:
    return None


def reset() -> None:
    return None
