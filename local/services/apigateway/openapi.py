"""Importing an OpenAPI 3 document into a REST API, as API Gateway's
``PutRestApi`` does, into moto's apigateway backend.

moto's own import misreads real documents (a path-level ``parameters`` key
becomes a method, ``x-amazon-apigateway-any-method`` is not ANY) and drops
what the router needs: request parameters, request models and validators,
binary media types and gateway responses. This importer builds all of them
from the document and its API Gateway extensions:

* ``x-amazon-apigateway-integration`` (per operation),
* ``x-amazon-apigateway-any-method``,
* ``x-amazon-apigateway-request-validators`` and
  ``x-amazon-apigateway-request-validator`` (document default, per operation),
* ``x-amazon-apigateway-gateway-responses``,
* ``x-amazon-apigateway-authorizer`` in ``components.securitySchemes``
  (``x-amazon-apigateway-authtype: custom``): Lambda TOKEN / REQUEST
  authorizers, attached to the operations whose ``security`` names them,
* ``x-amazon-apigateway-binary-media-types``.

``components.schemas`` become models whose schemas are JSON Schema draft 4
with ``#/components/schemas/X`` references rewritten to model URLs, as API
Gateway stores them.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ANY_METHOD = "x-amazon-apigateway-any-method"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
_PARAMETER_LOCATIONS = {"query": "querystring", "header": "header", "path": "path"}
_SCHEMA_REF = re.compile(r"^#/components/schemas/(?P<name>[^/]+)$")


class OpenApiError(ValueError):
    """The document cannot be imported; the message names the problem."""


def model_url(api_id: str, name: str) -> str:
    return f"https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"


def load_document(body: Any) -> dict[str, Any]:
    """The OpenAPI document from a CloudFormation ``Body`` (an object, or
    JSON / YAML text)."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    if isinstance(body, str):
        try:
            body = yaml.safe_load(body)
        except yaml.YAMLError as error:
            raise OpenApiError(f"the API definition is neither JSON nor YAML: {error}") from None
    if not isinstance(body, dict):
        raise OpenApiError("the API definition must be an OpenAPI object (a mapping at the top level)")
    version = str(body.get("openapi", ""))
    if not version.startswith("3."):
        found = f"swagger {body['swagger']}" if "swagger" in body else f"openapi {version or '(missing)'}"
        raise OpenApiError(f"only OpenAPI 3.x definitions can be imported here, found {found}")
    if not isinstance(body.get("paths"), dict):
        raise OpenApiError("the API definition has no 'paths' object")
    return body


def to_draft4(schema: Any, api_id: str) -> Any:
    """An OpenAPI schema as the JSON Schema draft 4 API Gateway validates
    with: model references become model URLs, ``nullable`` becomes a
    ``null`` type."""
    if isinstance(schema, list):
        return [to_draft4(item, api_id) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            match = _SCHEMA_REF.match(value)
            converted[key] = model_url(api_id, match.group("name")) if match else value
        elif key == "nullable":
            continue
        else:
            converted[key] = to_draft4(value, api_id)
    if schema.get("nullable") is True and "type" in converted:
        types = converted["type"] if isinstance(converted["type"], list) else [converted["type"]]
        converted["type"] = [*types, "null"] if "null" not in types else types
    return converted


IMPORT_MODES = ("overwrite", "merge")


class OpenApiImporter:
    """Builds one REST API of moto's backend from an OpenAPI document.

    ``overwrite`` replaces whatever the API held; ``merge`` (what
    CloudFormation applies when a RestApi's ``Body`` changes, unless its
    ``Mode`` says otherwise) adds and updates what the document describes
    and keeps the rest, such as methods other stack resources attached.
    """

    def __init__(self, backend: Any, api: Any, document: dict[str, Any], mode: str = "overwrite") -> None:
        if mode not in IMPORT_MODES:
            raise OpenApiError(f"import mode {mode!r} is not one of: {', '.join(IMPORT_MODES)}")
        self.backend = backend
        self.api = api
        self.document = document
        self.mode = mode
        self._validator_ids: dict[str, str] = {}
        self._authorizer_ids: dict[str, str] = {}

    def run(self) -> None:
        if self.mode == "overwrite":
            self._reset()
        else:
            self._validator_ids = {validator.name: validator.id
                                   for validator in self.api.request_validators.values()}
        info = self.document.get("info") or {}
        if info.get("description") and not self.api.description:
            self.api.description = info["description"]
        binary_types = self.document.get("x-amazon-apigateway-binary-media-types")
        if binary_types:
            self.api.binaryMediaTypes = list(binary_types)
        self._import_models()
        self._import_validators()
        self._import_authorizers()
        self._import_gateway_responses()
        for path in sorted(self.document["paths"]):
            self._import_path(path, self.document["paths"][path] or {})

    def _reset(self) -> None:
        """Overwrite mode: only the root resource (whose id other resources
        may hold) survives, without its methods."""
        root = self.api.default
        root.resource_methods = {}
        self.api.resources = {root.id: root}
        self.api.models = {}
        self.api.request_validators = {}
        self.api.gateway_responses = {}
        self.api.authorizers = {}

    def _resolve(self, node: Any) -> Any:
        """Follow a local ``$ref`` (parameters, request bodies)."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 16:
            pointer = node["$ref"]
            if not pointer.startswith("#/"):
                raise OpenApiError(f"only local references can be imported, found {pointer!r}")
            target: Any = self.document
            for part in pointer[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise OpenApiError(f"reference {pointer!r} points to nothing")
                target = target[part]
            node, seen = target, seen + 1
        return node

    def _import_models(self) -> None:
        schemas = (self.document.get("components") or {}).get("schemas") or {}
        for name, schema in schemas.items():
            self._add_model(name, schema, description=(schema or {}).get("description", ""))

    def _add_model(self, name: str, schema: Any, description: str = "") -> str:
        converted = to_draft4(copy.deepcopy(schema), self.api.id)
        if isinstance(converted, dict):
            converted.setdefault("$schema", DRAFT4)
            converted.setdefault("title", name)
        self.api.add_model(name=name, description=description, schema=json.dumps(converted),
                           content_type="application/json")
        return name

    def _import_validators(self) -> None:
        validators = self.document.get("x-amazon-apigateway-request-validators") or {}
        for name, settings in validators.items():
            validate_body = bool(settings.get("validateRequestBody"))
            validate_parameters = bool(settings.get("validateRequestParameters"))
            existing = self.api.request_validators.get(self._validator_ids.get(name, ""))
            if existing is not None:
                # Merging keeps the validator's id, which methods hold.
                existing.validate_request_body = validate_body
                existing.validate_request_parameters = validate_parameters
                continue
            validator = self.api.create_request_validator(
                name=name, validateRequestBody=validate_body, validateRequestParameters=validate_parameters,
            )
            self._validator_ids[name] = validator.id

    def _validator_id(self, name: str | None, where: str) -> str | None:
        if not name:
            return None
        if name not in self._validator_ids:
            raise OpenApiError(
                f"{where} names request validator {name!r}, which x-amazon-apigateway-request-validators "
                f"does not define (defined: {', '.join(self._validator_ids) or 'none'})"
            )
        return self._validator_ids[name]

    def _import_authorizers(self) -> None:
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        existing = {authorizer.name: authorizer for authorizer in self.api.authorizers.values()}
        for name, scheme in schemes.items():
            settings = (scheme or {}).get("x-amazon-apigateway-authorizer")
            if not isinstance(settings, dict):
                continue
            authorizer_type = str(settings.get("type", "token")).upper()
            if authorizer_type not in ("TOKEN", "REQUEST"):
                raise OpenApiError(f"security scheme {name!r}: authorizer type {settings.get('type')!r} is not "
                                   f"served by the local cloud (token and request are)")
            identity_source = settings.get("identitySource")
            if authorizer_type == "TOKEN" and not identity_source:
                identity_source = f"method.request.header.{scheme.get('name', 'Authorization')}"
            ttl = settings.get("authorizerResultTtlInSeconds")
            if ttl not in (None, "") and int(ttl) > 0 and not identity_source:
                raise OpenApiError(f"security scheme {name!r}: an authorizer that caches its results "
                                   f"(authorizerResultTtlInSeconds {ttl}) needs an identitySource")
            values = {"authorizer_uri": settings.get("authorizerUri"),
                      "authorizer_credentials": settings.get("authorizerCredentials"),
                      "identity_source": identity_source,
                      "identiy_validation_expression": settings.get("identityValidationExpression"),
                      "authorizer_result_ttl": ttl}
            if name in existing:
                authorizer = existing[name]
                authorizer.type = authorizer_type
                authorizer.authorizer_uri = values["authorizer_uri"]
                authorizer.authorizer_credentials = values["authorizer_credentials"]
                authorizer.identity_source = values["identity_source"]
                authorizer.authorizer_result_ttl = values["authorizer_result_ttl"]
            else:
                authorizer = self.backend.create_authorizer(self.api.id, name, authorizer_type, **values)
            self._authorizer_ids[name] = authorizer.id

    def _authorizer_of(self, operation: dict[str, Any]) -> str | None:
        """The id of the Lambda authorizer the operation's ``security`` names (or the document's default)."""
        for requirement in operation.get("security", self.document.get("security")) or []:
            for name in requirement:
                if name in self._authorizer_ids:
                    return self._authorizer_ids[name]
        return None

    def _import_gateway_responses(self) -> None:
        responses = self.document.get("x-amazon-apigateway-gateway-responses") or {}
        for response_type, settings in responses.items():
            self.api.put_gateway_response(
                response_type=response_type,
                status_code=settings.get("statusCode"),
                response_parameters=settings.get("responseParameters") or {},
                response_templates=settings.get("responseTemplates") or {},
            )

    def _resource_for(self, path: str) -> Any:
        """The resource of ``path``, creating missing ancestors."""
        resource = self.api.default
        for part in [segment for segment in path.split("/") if segment]:
            child = next((r for r in self.api.resources.values()
                          if r.parent_id == resource.id and r.path_part == part), None)
            if child is None:
                child = self.backend.create_resource(function_id=self.api.id, parent_resource_id=resource.id,
                                                     path_part=part)
            resource = child
        return resource

    def _import_path(self, path: str, item: dict[str, Any]) -> None:
        if not path.startswith("/"):
            raise OpenApiError(f"path {path!r} must start with '/'")
        resource = self._resource_for(path)
        shared_parameters = item.get("parameters") or []
        default_validator = self.document.get("x-amazon-apigateway-request-validator")
        for key, operation in item.items():
            if key == ANY_METHOD:
                method = "ANY"
            elif key in HTTP_METHODS:
                method = key.upper()
            else:
                continue
            operation = operation or {}
            where = f"{method} {path}"
            validator_name = operation.get("x-amazon-apigateway-request-validator", default_validator)
            authorizer_id = self._authorizer_of(operation)
            self.backend.put_method(
                function_id=self.api.id,
                resource_id=resource.id,
                method_type=method,
                authorization_type="CUSTOM" if authorizer_id else "NONE",
                authorizer_id=authorizer_id,
                api_key_required=self._requires_api_key(operation),
                request_parameters=self._request_parameters(shared_parameters, operation.get("parameters") or []),
                request_models=self._request_models(operation, method, path),
                operation_name=operation.get("operationId"),
                request_validator_id=self._validator_id(validator_name, where),
            )
            for status in (operation.get("responses") or {}):
                self.backend.put_method_response(self.api.id, resource.id, method, str(status),
                                                 response_models=None, response_parameters=None)
            integration = operation.get("x-amazon-apigateway-integration")
            if integration:
                self._put_integration(resource.id, method, integration, where)

    def _requires_api_key(self, operation: dict[str, Any]) -> bool:
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        requirements = operation.get("security", self.document.get("security")) or []
        for requirement in requirements:
            for name in requirement:
                scheme = schemes.get(name) or {}
                if scheme.get("type") == "apiKey" and scheme.get("in") == "header" \
                        and str(scheme.get("name", "")).lower() == "x-api-key" \
                        and scheme.get("x-amazon-apigateway-authtype") in (None, "api_key"):
                    return True
        return False

    def _request_parameters(self, shared: list[Any], own: list[Any]) -> dict[str, bool]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for parameter in [*shared, *own]:
            parameter = self._resolve(parameter)
            merged[(parameter.get("in"), parameter.get("name"))] = parameter
        result = {}
        for (location, name), parameter in merged.items():
            if location in _PARAMETER_LOCATIONS and name:
                required = bool(parameter.get("required")) or location == "path"
                result[f"method.request.{_PARAMETER_LOCATIONS[location]}.{name}"] = required
        return result

    def _request_models(self, operation: dict[str, Any], method: str, path: str) -> dict[str, str]:
        body = self._resolve(operation.get("requestBody"))
        if not isinstance(body, dict):
            return {}
        models = {}
        for content_type, media in (body.get("content") or {}).items():
            schema = (media or {}).get("schema")
            if not schema:
                continue
            match = _SCHEMA_REF.match(schema.get("$ref", "")) if isinstance(schema, dict) else None
            if match:
                models[content_type] = match.group("name")
            else:
                base = operation.get("operationId") or f"{method.title()}{path}"
                name = re.sub(r"[^A-Za-z0-9]", "", f"{base}Body{len(models) or ''}")
                models[content_type] = self._add_model(name, schema)
        return models

    def _put_integration(self, resource_id: str, method: str, integration: dict[str, Any], where: str) -> None:
        integration_type = str(integration.get("type", "")).upper()
        if not integration_type:
            raise OpenApiError(f"{where}: x-amazon-apigateway-integration has no 'type'")
        try:
            self.backend.put_integration(
                function_id=self.api.id,
                resource_id=resource_id,
                method_type=method,
                integration_type=integration_type,
                uri=integration.get("uri"),
                integration_method=integration.get("httpMethod"),
                credentials=integration.get("credentials"),
                request_templates=integration.get("requestTemplates"),
                passthrough_behavior=integration.get("passthroughBehavior"),
                timeout_in_millis=integration.get("timeoutInMillis"),
                request_parameters=integration.get("requestParameters"),
                content_handling=integration.get("contentHandling"),
                connection_type=integration.get("connectionType"),
            )
        except Exception as error:  # moto's validation errors carry AWS's message
            raise OpenApiError(f"{where}: invalid x-amazon-apigateway-integration: "
                               f"{getattr(error, 'message', None) or error}") from None
        for selection, response in (integration.get("responses") or {}).items():
            self.backend.put_integration_response(
                function_id=self.api.id,
                resource_id=resource_id,
                method_type=method,
                status_code=str(response.get("statusCode", "200")),
                selection_pattern="" if selection == "default" else selection,
                response_templates=response.get("responseTemplates") or {},
                response_parameters=response.get("responseParameters") or {},
                content_handling=response.get("contentHandling"),
            )


def import_document(backend: Any, api: Any, document: dict[str, Any], mode: str = "overwrite") -> None:
    """Replace (``overwrite``) or update (``merge``) ``api``'s routes and
    settings with those of ``document``."""
    OpenApiImporter(backend, api, document, mode).run()
