"""CloudFormation types of API Gateway (REST) that moto lacks or gets
wrong, backed by moto's own apigateway backend.

* ``AWS::ApiGateway::RestApi`` - moto ignores ``Body``: here an inline
  OpenAPI document (or one at ``BodyS3Location``) is imported with its
  integrations, validators, models and gateway responses;
* ``AWS::ApiGateway::Deployment`` - moto's has no physical id, so a Ref to
  it (a Stage's ``DeploymentId``) resolved to an object;
* ``AWS::ApiGateway::Stage``, ``RequestValidator``, ``Model``,
  ``GatewayResponse``, ``Account`` - missing in moto;
* ``AWS::ApiGateway::Method`` - moto's requires an integration URI (a MOCK
  CORS preflight has none) and drops request parameters, models and the
  validator.

Every type also updates, as a stack update applies it on AWS: a RestApi
imports its changed ``Body`` again (``Mode`` merge by default, or
overwrite), a sub-resource is changed in place (keeping the id others hold)
unless a property that requires replacement (its ``RestApiId``, a name)
changed, in which case it is replaced.

Importing this module registers the types: each class is a direct subclass
of moto's ``CloudFormationModel``, defined after moto's own, so it wins
moto's type map (the server imports it before the first stack).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from moto.apigateway.models import APIGatewayBackend, apigateway_backends
from moto.core.common_models import CloudFormationModel

from local.cloudformation.base import CreatedAgainOnUpdate, ReplacedOnUpdate, ResourceModel

from local.services.apigateway.openapi import IMPORT_MODES, OpenApiError, import_document, load_document


class ApiGatewayTemplateError(ValueError):
    """A resource's properties cannot be applied; the message names the
    resource type and what was wrong."""


def _backend(account_id: str, region: str) -> APIGatewayBackend:
    return apigateway_backends[account_id][region]


def _api(account_id: str, region: str, rest_api_id: Any, resource_type: str) -> Any:
    api = _backend(account_id, region).apis.get(str(rest_api_id))
    if api is None:
        raise ApiGatewayTemplateError(f"{resource_type}: RestApiId {rest_api_id!r} names no REST API")
    return api


def _definition(properties: dict[str, Any], account_id: str) -> dict[str, Any] | None:
    """The OpenAPI document of a RestApi, inline or in S3."""
    if "Body" in properties:
        return load_document(properties["Body"])
    location = properties.get("BodyS3Location")
    if not location:
        return None
    from moto.backends import get_backend

    try:
        key = get_backend("s3")[account_id]["aws"].get_object(location["Bucket"], location["Key"])
    except Exception as error:  # noqa: BLE001 - moto raises its own missing-key types
        raise OpenApiError(
            f"BodyS3Location s3://{location.get('Bucket')}/{location.get('Key')} cannot be read: {error}"
        ) from None
    if key is None:
        raise OpenApiError(f"BodyS3Location s3://{location['Bucket']}/{location['Key']} does not exist")
    return load_document(key.value)


def _import_mode(properties: dict[str, Any], default: str) -> str:
    """How a definition is imported: CloudFormation merges a changed body
    into the API unless ``Mode`` says overwrite."""
    mode = str(properties.get("Mode") or default).lower()
    if mode not in IMPORT_MODES:
        raise ApiGatewayTemplateError(
            f"AWS::ApiGateway::RestApi: Mode {properties.get('Mode')!r} is not one of: {', '.join(IMPORT_MODES)}"
        )
    return mode


def _apply_rest_api(backend: APIGatewayBackend, api: Any, properties: dict[str, Any],
                    account_id: str, mode: str = "overwrite") -> None:
    try:
        document = _definition(properties, account_id)
        if document is not None:
            import_document(backend, api, document, mode)
    except OpenApiError as error:
        raise ApiGatewayTemplateError(f"AWS::ApiGateway::RestApi {api.name}: {error}") from None
    if properties.get("BinaryMediaTypes"):
        api.binaryMediaTypes = list(properties["BinaryMediaTypes"])
    if properties.get("Description"):
        api.description = properties["Description"]


class RestApiModel(CloudFormationModel):
    """Creates moto's RestAPI (whose Ref and RootResourceId already work)
    and imports its definition."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::RestApi"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("RootResourceId", "RestApiId")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = _backend(account_id, region_name)
        name = properties.get("Name")
        if not name and "Body" in properties and isinstance(properties["Body"], dict):
            name = (properties["Body"].get("info") or {}).get("title")
        tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags") or []}
        policy = properties.get("Policy")
        api = backend.create_rest_api(
            name=name or resource_name,
            description=properties.get("Description", ""),
            api_key_source=properties.get("ApiKeySourceType"),
            endpoint_configuration=properties.get("EndpointConfiguration"),
            tags=tags or None,
            policy=json.dumps(policy) if isinstance(policy, dict) else policy,
            minimum_compression_size=properties.get("MinimumCompressionSize"),
            disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
        )
        try:
            _apply_rest_api(backend, api, properties, account_id, _import_mode(properties, "overwrite"))
        except Exception:
            backend.apis.pop(api.id, None)
            raise
        return api

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        mode = _import_mode(properties, "merge")
        if properties.get("Name"):
            original_resource.name = properties["Name"]
        _apply_rest_api(_backend(account_id, region_name), original_resource, properties, account_id, mode)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        _backend(account_id, region_name).apis.pop(resource_name, None)


class _ApiPart(ResourceModel):
    """A sub-resource of a REST API: the entry ``key`` of the API's
    ``collection`` (its deployments, stages, ...); Ref is the key."""

    collection: ClassVar[str]

    def __init__(self, account_id: str, region: str, api_id: str, key: str) -> None:
        self.account_id, self.region, self.api_id = account_id, region, api_id
        self.key = key

    @property
    def physical_resource_id(self) -> str:
        return self.key

    def delete(self, account_id: str, region: str) -> None:
        api = _backend(self.account_id, self.region).apis.get(self.api_id)
        if api is not None:
            getattr(api, self.collection).pop(self.key, None)

    def entry(self) -> Any:
        """The backend's object this resource stands for, or None once it
        (or its API) is gone."""
        api = _backend(self.account_id, self.region).apis.get(self.api_id)
        return getattr(api, self.collection).get(self.key) if api is not None else None

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        """Change the entry in place when it stays the same entry of the
        same API; replace it otherwise (as CloudFormation does when a
        property requiring replacement changes)."""
        properties = cloudformation_json.get("Properties") or {}
        entry = original_resource.entry()
        if entry is not None and str(properties.get("RestApiId")) == original_resource.api_id \
                and original_resource.keeps_key(properties):
            original_resource.change(entry, properties)
            return original_resource
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            original_resource.replacement_name(new_resource_name, properties), cloudformation_json,
            account_id, region_name,
        )

    def keeps_key(self, properties: dict[str, Any]) -> bool:
        """Whether the new properties still name this entry."""
        return True

    def change(self, entry: Any, properties: dict[str, Any]) -> None:
        """Apply the new properties to the backend's entry."""
        raise NotImplementedError

    def replacement_name(self, new_resource_name: str, properties: dict[str, Any]) -> str:
        """The name a replacement is created with when the template gives
        none (moto generates a new random one on every update)."""
        return new_resource_name


class DeploymentModel(_ApiPart, CloudFormationModel):
    cfn_type = "AWS::ApiGateway::Deployment"
    collection = "deployments"
    attributes = {"DeploymentId": "key"}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "DeploymentModel":
        properties = cloudformation_json.get("Properties") or {}
        api_id = str(properties.get("RestApiId"))
        _api(account_id, region_name, api_id, "AWS::ApiGateway::Deployment")
        stage_description = properties.get("StageDescription") or {}
        deployment = _backend(account_id, region_name).create_deployment(
            function_id=api_id,
            name=properties.get("StageName"),
            description=properties.get("Description", ""),
            stage_variables=stage_description.get("Variables"),
        )
        return cls(account_id, region_name, api_id, deployment.id)

    def keeps_key(self, properties: dict[str, Any]) -> bool:
        # A deployment is a snapshot: only its description changes in place.
        entry = self.entry()
        return properties.get("StageName") == getattr(entry, "stage_name", None) \
            and not properties.get("StageDescription")

    def change(self, entry: Any, properties: dict[str, Any]) -> None:
        entry.description = properties.get("Description", "")


# CloudFormation's MethodSetting property -> the key GetStage reports it
# under, and how the value is typed there.
_METHOD_SETTINGS: dict[str, tuple[str, type]] = {
    "CacheDataEncrypted": ("cacheDataEncrypted", bool),
    "CacheTtlInSeconds": ("cacheTtlInSeconds", int),
    "CachingEnabled": ("cachingEnabled", bool),
    "DataTraceEnabled": ("dataTraceEnabled", bool),
    "LoggingLevel": ("loggingLevel", str),
    "MetricsEnabled": ("metricsEnabled", bool),
    "ThrottlingBurstLimit": ("throttlingBurstLimit", int),
    "ThrottlingRateLimit": ("throttlingRateLimit", float),
}
# What API Gateway reports for a setting a MethodSetting leaves out.
_METHOD_SETTING_DEFAULTS: dict[str, Any] = {
    "metricsEnabled": False,
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}


def _typed(value: Any, kind: type) -> Any:
    if kind is bool:
        return str(value).lower() == "true"
    return kind(value)


def method_setting_key(resource_path: str, http_method: str) -> str:
    """GetStage's key of a method setting: ``*/*`` for every method,
    otherwise the resource path with ``/`` escaped as ``~1`` and the method
    (``~1items~1{id}/GET``)."""
    resource = "*" if resource_path in ("/*", "*") else resource_path.replace("/", "~1")
    return f"{resource}/{http_method}"


def method_settings(declared: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    settings: dict[str, dict[str, Any]] = {}
    for setting in declared or []:
        key = method_setting_key(setting.get("ResourcePath", "/*"), setting.get("HttpMethod", "*"))
        values = dict(_METHOD_SETTING_DEFAULTS)
        for name, (api_name, kind) in _METHOD_SETTINGS.items():
            if setting.get(name) is not None:
                values[api_name] = _typed(setting[name], kind)
        settings[key] = values
    return settings


def access_log_settings(declared: dict[str, Any] | None) -> dict[str, str] | None:
    if not declared or not declared.get("DestinationArn"):
        return None
    settings = {"destinationArn": str(declared["DestinationArn"])}
    if declared.get("Format"):
        settings["format"] = str(declared["Format"])
    return settings


def apply_stage_settings(stage: Any, properties: dict[str, Any]) -> None:
    """The stage's method settings (throttling, metrics, logging, caching)
    and access logging as declared, so GetStage reports them as API Gateway
    does (and the router logs each request to the access-log group)."""
    stage.method_settings = method_settings(properties.get("MethodSettings") or [])
    stage.access_log_settings = access_log_settings(properties.get("AccessLogSetting"))


class StageModel(_ApiPart, CloudFormationModel):
    cfn_type = "AWS::ApiGateway::Stage"
    name_property = "StageName"
    collection = "stages"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "StageModel":
        properties = cloudformation_json.get("Properties") or {}
        api = _api(account_id, region_name, properties.get("RestApiId"), "AWS::ApiGateway::Stage")
        stage_name = properties.get("StageName") or resource_name
        deployment_id = properties.get("DeploymentId")
        deployment_id = getattr(deployment_id, "id", deployment_id)
        if deployment_id and deployment_id not in api.deployments:
            raise ApiGatewayTemplateError(
                f"AWS::ApiGateway::Stage {stage_name}: DeploymentId {deployment_id!r} names no deployment of "
                f"REST API {api.id}"
            )
        existing = api.stages.get(stage_name)
        if existing is not None:
            # A Deployment's StageName already made it: CloudFormation adopts it.
            existing.deployment_id = deployment_id
            existing.variables = properties.get("Variables") or existing.variables
            stage = existing
        else:
            tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags") or []}
            stage = api.create_stage(
                stage_name, deployment_id, variables=properties.get("Variables") or {},
                description=properties.get("Description", ""),
                cacheClusterEnabled=properties.get("CacheClusterEnabled"),
                cacheClusterSize=properties.get("CacheClusterSize"),
                tags=tags or None,
                tracing_enabled=properties.get("TracingEnabled"),
            )
        apply_stage_settings(stage, properties)
        return cls(account_id, region_name, api.id, stage_name)

    def keeps_key(self, properties: dict[str, Any]) -> bool:
        return (properties.get("StageName") or self.key) == self.key

    def change(self, entry: Any, properties: dict[str, Any]) -> None:
        deployment_id = properties.get("DeploymentId")
        deployment_id = getattr(deployment_id, "id", deployment_id)
        api = _api(self.account_id, self.region, self.api_id, "AWS::ApiGateway::Stage")
        if deployment_id and deployment_id not in api.deployments:
            raise ApiGatewayTemplateError(
                f"AWS::ApiGateway::Stage {self.key}: DeploymentId {deployment_id!r} names no deployment of "
                f"REST API {api.id}"
            )
        entry.deployment_id = deployment_id
        entry.variables = properties.get("Variables") or {}
        entry.description = properties.get("Description", "")
        entry.tracing_enabled = properties.get("TracingEnabled")
        entry.tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags") or []} or None
        apply_stage_settings(entry, properties)

    def replacement_name(self, new_resource_name: str, properties: dict[str, Any]) -> str:
        return properties.get("StageName") or self.key


class MethodModel(ReplacedOnUpdate, ResourceModel, CloudFormationModel):
    cfn_type = "AWS::ApiGateway::Method"

    def __init__(self, account_id: str, region: str, api_id: str, resource_id: str, http_method: str) -> None:
        self.account_id, self.region, self.api_id = account_id, region, api_id
        self.resource_id = resource_id
        self.http_method = http_method

    @property
    def physical_resource_id(self) -> str:
        return f"{self.api_id}|{self.resource_id}|{self.http_method}"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "MethodModel":
        properties = cloudformation_json.get("Properties") or {}
        api = _api(account_id, region_name, properties.get("RestApiId"), "AWS::ApiGateway::Method")
        backend = _backend(account_id, region_name)
        resource_id = str(properties.get("ResourceId"))
        method_type = str(properties.get("HttpMethod", "")).upper()
        where = f"AWS::ApiGateway::Method {method_type} on resource {resource_id}"
        if resource_id not in api.resources:
            raise ApiGatewayTemplateError(f"{where}: ResourceId names no resource of REST API {api.id}")
        backend.put_method(
            function_id=api.id,
            resource_id=resource_id,
            method_type=method_type,
            authorization_type=properties.get("AuthorizationType", "NONE"),
            api_key_required=bool(properties.get("ApiKeyRequired")),
            request_parameters=properties.get("RequestParameters"),
            request_models=properties.get("RequestModels"),
            operation_name=properties.get("OperationName"),
            authorizer_id=properties.get("AuthorizerId"),
            authorization_scopes=properties.get("AuthorizationScopes"),
            request_validator_id=properties.get("RequestValidatorId"),
        )
        for response in properties.get("MethodResponses") or []:
            backend.put_method_response(api.id, resource_id, method_type, str(response.get("StatusCode")),
                                        response_models=response.get("ResponseModels"),
                                        response_parameters=response.get("ResponseParameters"))
        integration = properties.get("Integration")
        if integration:
            _put_integration(backend, api.id, resource_id, method_type, integration, where)
        return cls(account_id, region_name, api.id, resource_id, method_type)

    def delete(self, account_id: str, region: str) -> None:
        api = _backend(self.account_id, self.region).apis.get(self.api_id)
        resource = api.resources.get(self.resource_id) if api is not None else None
        if resource is not None:
            resource.resource_methods.pop(self.http_method, None)


def _put_integration(backend: APIGatewayBackend, api_id: str, resource_id: str, method_type: str,
                     integration: dict[str, Any], where: str) -> None:
    try:
        backend.put_integration(
            function_id=api_id,
            resource_id=resource_id,
            method_type=method_type,
            integration_type=str(integration.get("Type", "")).upper(),
            uri=integration.get("Uri"),
            integration_method=integration.get("IntegrationHttpMethod"),
            credentials=integration.get("Credentials"),
            request_templates=integration.get("RequestTemplates"),
            passthrough_behavior=integration.get("PassthroughBehavior"),
            timeout_in_millis=integration.get("TimeoutInMillis"),
            request_parameters=integration.get("RequestParameters"),
            content_handling=integration.get("ContentHandling"),
            connection_type=integration.get("ConnectionType"),
        )
    except Exception as error:  # moto's validation errors carry AWS's message
        raise ApiGatewayTemplateError(f"{where}: invalid Integration: "
                                      f"{getattr(error, 'message', None) or error}") from None
    for response in integration.get("IntegrationResponses") or []:
        backend.put_integration_response(
            function_id=api_id, resource_id=resource_id, method_type=method_type,
            status_code=str(response.get("StatusCode")),
            selection_pattern=response.get("SelectionPattern", ""),
            response_templates=response.get("ResponseTemplates") or {},
            response_parameters=response.get("ResponseParameters") or {},
            content_handling=response.get("ContentHandling"),
        )


class RequestValidatorModel(_ApiPart, CloudFormationModel):
    cfn_type = "AWS::ApiGateway::RequestValidator"
    name_property = "Name"
    collection = "request_validators"
    attributes = {"RequestValidatorId": "key"}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "RequestValidatorModel":
        properties = cloudformation_json.get("Properties") or {}
        api = _api(account_id, region_name, properties.get("RestApiId"), "AWS::ApiGateway::RequestValidator")
        validator = api.create_request_validator(
            name=properties.get("Name") or resource_name,
            validateRequestBody=bool(properties.get("ValidateRequestBody")),
            validateRequestParameters=bool(properties.get("ValidateRequestParameters")),
        )
        return cls(account_id, region_name, api.id, validator.id)

    def change(self, entry: Any, properties: dict[str, Any]) -> None:
        entry.name = properties.get("Name") or entry.name
        entry.validate_request_body = bool(properties.get("ValidateRequestBody"))
        entry.validate_request_parameters = bool(properties.get("ValidateRequestParameters"))


class ModelModel(_ApiPart, CloudFormationModel):
    """``AWS::ApiGateway::Model``: a request body schema (Ref is its name)."""

    cfn_type = "AWS::ApiGateway::Model"
    name_property = "Name"
    collection = "models"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "ModelModel":
        properties = cloudformation_json.get("Properties") or {}
        api = _api(account_id, region_name, properties.get("RestApiId"), "AWS::ApiGateway::Model")
        # A generated name carries the stack name's dashes; model names are alphanumeric.
        name = properties.get("Name") or re.sub(r"[^A-Za-z0-9]", "", resource_name)
        schema = properties.get("Schema") or {}
        api.add_model(name=name, description=properties.get("Description", ""),
                      schema=schema if isinstance(schema, str) else json.dumps(schema),
                      content_type=properties.get("ContentType", "application/json"))
        return cls(account_id, region_name, api.id, name)

    def keeps_key(self, properties: dict[str, Any]) -> bool:
        return (properties.get("Name") or self.key) == self.key

    def change(self, entry: Any, properties: dict[str, Any]) -> None:
        schema = properties.get("Schema") or {}
        api = _api(self.account_id, self.region, self.api_id, "AWS::ApiGateway::Model")
        api.add_model(name=self.key, description=properties.get("Description", ""),
                      schema=schema if isinstance(schema, str) else json.dumps(schema),
                      content_type=properties.get("ContentType", "application/json"))

    def replacement_name(self, new_resource_name: str, properties: dict[str, Any]) -> str:
        # Without a Name the model keeps the one it was created with.
        return properties.get("Name") or self.key


class GatewayResponseModel(_ApiPart, CloudFormationModel):
    cfn_type = "AWS::ApiGateway::GatewayResponse"
    collection = "gateway_responses"

    @property
    def physical_resource_id(self) -> str:
        return f"{self.api_id}|{self.key}"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "GatewayResponseModel":
        properties = cloudformation_json.get("Properties") or {}
        api = _api(account_id, region_name, properties.get("RestApiId"), "AWS::ApiGateway::GatewayResponse")
        response_type = str(properties.get("ResponseType"))
        api.put_gateway_response(
            response_type=response_type,
            status_code=properties.get("StatusCode"),
            response_parameters=properties.get("ResponseParameters") or {},
            response_templates=properties.get("ResponseTemplates") or {},
        )
        return cls(account_id, region_name, api.id, response_type)

    def keeps_key(self, properties: dict[str, Any]) -> bool:
        return str(properties.get("ResponseType")) == self.key

    def change(self, entry: Any, properties: dict[str, Any]) -> None:
        api = _api(self.account_id, self.region, self.api_id, "AWS::ApiGateway::GatewayResponse")
        api.put_gateway_response(
            response_type=self.key,
            status_code=properties.get("StatusCode"),
            response_parameters=properties.get("ResponseParameters") or {},
            response_templates=properties.get("ResponseTemplates") or {},
        )


class AccountModel(CreatedAgainOnUpdate, ResourceModel, CloudFormationModel):
    """``AWS::ApiGateway::Account``: the region's CloudWatch role setting."""

    cfn_type = "AWS::ApiGateway::Account"

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region

    @property
    def physical_resource_id(self) -> str:
        return f"{self.account_id}-{self.region}-apigateway-account"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> "AccountModel":
        properties = cloudformation_json.get("Properties") or {}
        _backend(account_id, region_name).account.cloudwatch_role_arn = properties.get("CloudWatchRoleArn")
        return cls(account_id, region_name)

    def delete(self, account_id: str, region: str) -> None:
        return None
