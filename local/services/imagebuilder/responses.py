"""Image Builder operations: parameters in (already parsed by the model),
the result object out. Each handler returns what the operation's output
shape holds; :mod:`.wire` serializes it."""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from . import builds
from .exceptions import (
    InvalidPaginationTokenException,
    InvalidParameterValueException,
    InvalidRequestException,
)
from .models import (
    COMPONENT,
    DISTRIBUTION_CONFIGURATION,
    IMAGE_PIPELINE,
    IMAGE_RECIPE,
    INFRASTRUCTURE_CONFIGURATION,
    ImageBuilderBackend,
    Resource,
    validate_component_document,
    version_key,
)

DEFAULT_PAGE_SIZE = 25
Handler = Callable[[ImageBuilderBackend, dict[str, Any]], dict[str, Any]]


# ---- components -------------------------------------------------------
def create_component(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    def create() -> dict[str, Any]:
        data = _component_data(ib.account_id, params)
        resource = ib.create_component(params, data)
        return {"clientToken": params["clientToken"], "componentBuildVersionArn": resource.arn}

    return ib.idempotent("CreateComponent", params, create)


def _component_data(account_id: str, params: dict[str, Any]) -> str:
    data, uri = params.get("data"), params.get("uri")
    if bool(data) == bool(uri):
        raise InvalidParameterValueException("Give exactly one of 'data' (inline YAML) or 'uri' (s3://bucket/key).")
    if uri:
        data = _read_s3(account_id, uri)
    validate_component_document(data)
    return data


def _read_s3(account_id: str, uri: str) -> str:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise InvalidParameterValueException(f"uri '{uri}' is not an S3 URL: use s3://<bucket>/<key>.")
    bucket, key = uri[5:].split("/", 1)
    try:
        obj = s3_backends[account_id]["aws"].get_object(bucket, key)
    except MissingBucket:
        raise InvalidParameterValueException(f"The bucket of uri '{uri}' does not exist.") from None
    if obj is None:
        raise InvalidParameterValueException(f"The object '{uri}' does not exist.")
    try:
        return obj.value.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterValueException(f"The object '{uri}' is not UTF-8 text (a YAML document).") from None


def get_component(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"component": ib.get(COMPONENT, params["componentBuildVersionArn"]).body}


def delete_component(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"componentBuildVersionArn": ib.delete(COMPONENT, params["componentBuildVersionArn"]).arn}


def list_components(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    versions = [_as_version(r) for r in _owned(ib, COMPONENT, params)]
    unique = {v["arn"]: v for v in versions}
    items = _filtered(list(unique.values()), params, ("name", "platform", "type", "version"))
    if params.get("byName"):
        items = _latest_per_name(items)
    page, token = _page(items, params)
    return {"componentVersionList": page, **token}


def list_component_build_versions(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    version_arn = params["componentVersionArn"]
    items = [r.body for r in ib.list(COMPONENT) if r.arn.rsplit("/", 1)[0] == version_arn]
    page, token = _page(items, params)
    return {"componentSummaryList": page, **token}


def _as_version(resource: Resource) -> dict[str, Any]:
    return {**resource.body, "arn": resource.arn.rsplit("/", 1)[0]}


# ---- image recipes ----------------------------------------------------
def create_image_recipe(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return ib.idempotent("CreateImageRecipe", params, lambda: {
        "clientToken": params["clientToken"], "imageRecipeArn": ib.create_image_recipe(params).arn,
    })


def get_image_recipe(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"imageRecipe": ib.get(IMAGE_RECIPE, params["imageRecipeArn"]).body}


def delete_image_recipe(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"imageRecipeArn": ib.delete(IMAGE_RECIPE, params["imageRecipeArn"]).arn}


def list_image_recipes(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    items = _filtered([r.body for r in _owned(ib, IMAGE_RECIPE, params)], params, ("name", "parentImage", "platform"))
    page, token = _page(items, params)
    return {"imageRecipeSummaryList": page, **token}


# ---- infrastructure configurations ------------------------------------
def create_infrastructure_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return ib.idempotent("CreateInfrastructureConfiguration", params, lambda: {
        "clientToken": params["clientToken"],
        "infrastructureConfigurationArn": ib.create_infrastructure_configuration(params).arn,
    })


def get_infrastructure_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["infrastructureConfigurationArn"]
    return {"infrastructureConfiguration": ib.get(INFRASTRUCTURE_CONFIGURATION, arn).body}


def update_infrastructure_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["infrastructureConfigurationArn"]
    return ib.idempotent("UpdateInfrastructureConfiguration", params, lambda: {
        "clientToken": params["clientToken"],
        "infrastructureConfigurationArn": ib.update(INFRASTRUCTURE_CONFIGURATION, arn, params).arn,
    })


def delete_infrastructure_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["infrastructureConfigurationArn"]
    return {"infrastructureConfigurationArn": ib.delete(INFRASTRUCTURE_CONFIGURATION, arn).arn}


def list_infrastructure_configurations(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    items = _filtered([r.body for r in ib.list(INFRASTRUCTURE_CONFIGURATION)], params, ("name",))
    page, token = _page(items, params)
    return {"infrastructureConfigurationSummaryList": page, **token}


# ---- distribution configurations --------------------------------------
def create_distribution_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return ib.idempotent("CreateDistributionConfiguration", params, lambda: {
        "clientToken": params["clientToken"],
        "distributionConfigurationArn": ib.create_distribution_configuration(params).arn,
    })


def get_distribution_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["distributionConfigurationArn"]
    return {"distributionConfiguration": ib.get(DISTRIBUTION_CONFIGURATION, arn).body}


def update_distribution_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["distributionConfigurationArn"]
    return ib.idempotent("UpdateDistributionConfiguration", params, lambda: {
        "clientToken": params["clientToken"],
        "distributionConfigurationArn": ib.update(DISTRIBUTION_CONFIGURATION, arn, params).arn,
    })


def delete_distribution_configuration(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["distributionConfigurationArn"]
    return {"distributionConfigurationArn": ib.delete(DISTRIBUTION_CONFIGURATION, arn).arn}


def list_distribution_configurations(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    items = [{**r.body, "regions": [d["region"] for d in r.body.get("distributions", [])]}
             for r in ib.list(DISTRIBUTION_CONFIGURATION)]
    page, token = _page(_filtered(items, params, ("name",)), params)
    return {"distributionConfigurationSummaryList": page, **token}


# ---- image pipelines --------------------------------------------------
def create_image_pipeline(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return ib.idempotent("CreateImagePipeline", params, lambda: {
        "clientToken": params["clientToken"], "imagePipelineArn": ib.create_image_pipeline(params).arn,
    })


def get_image_pipeline(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"imagePipeline": ib.get(IMAGE_PIPELINE, params["imagePipelineArn"]).body}


def update_image_pipeline(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["imagePipelineArn"]
    return ib.idempotent("UpdateImagePipeline", params, lambda: {
        "clientToken": params["clientToken"], "imagePipelineArn": ib.update(IMAGE_PIPELINE, arn, params).arn,
    })


def delete_image_pipeline(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"imagePipelineArn": ib.delete(IMAGE_PIPELINE, params["imagePipelineArn"]).arn}


def list_image_pipelines(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    allowed = ("description", "distributionConfigurationArn", "imageRecipeArn",
               "infrastructureConfigurationArn", "name", "status")
    page, token = _page(_filtered([r.body for r in ib.list(IMAGE_PIPELINE)], params, allowed), params)
    return {"imagePipelineList": page, **token}


def start_image_pipeline_execution(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return ib.idempotent("StartImagePipelineExecution", params, lambda: {
        "clientToken": params["clientToken"],
        "imageBuildVersionArn": builds.start(ib, params["imagePipelineArn"], params.get("tags")).arn,
    })


# ---- images -----------------------------------------------------------
def get_image(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"image": builds.get(ib, params["imageBuildVersionArn"]).body}


def delete_image(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"imageBuildVersionArn": builds.delete(ib, params["imageBuildVersionArn"]).arn}


def cancel_image_creation(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    return ib.idempotent("CancelImageCreation", params, lambda: {
        "clientToken": params["clientToken"],
        "imageBuildVersionArn": builds.cancel(ib, params["imageBuildVersionArn"]).arn,
    })


def list_image_pipeline_images(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    pipeline = ib.get(IMAGE_PIPELINE, params["imagePipelineArn"])
    items = [b.body for b in _builds(ib) if b.body["sourcePipelineArn"] == pipeline.arn]
    page, token = _page(_filtered(items, params, ("name", "version")), params)
    return {"imageSummaryList": page, **token}


def list_images(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    if (params.get("owner") or "Self") != "Self":
        return {"imageVersionList": []}
    versions = {b.arn.rsplit("/", 1)[0]: {**b.body, "arn": b.arn.rsplit("/", 1)[0],
                                           "version": b.body["version"].split("/")[0]}
                for b in _builds(ib)}
    items = _filtered(list(versions.values()), params, ("name", "osVersion", "platform", "type", "version"))
    if params.get("byName"):
        items = _latest_per_name(items)
    page, token = _page(items, params)
    return {"imageVersionList": page, **token}


def list_image_build_versions(ib: ImageBuilderBackend, params: dict[str, Any]) -> dict[str, Any]:
    version_arn = params.get("imageVersionArn")
    items = [b.body for b in _builds(ib) if version_arn is None or b.arn.rsplit("/", 1)[0] == version_arn]
    page, token = _page(_filtered(items, params, ("name", "osVersion", "platform", "type", "version")), params)
    return {"imageSummaryList": page, **token}


def _builds(ib: ImageBuilderBackend) -> list[builds.ImageBuild]:
    return sorted(ib.images.values(), key=lambda b: (b.arn.rsplit("/", 1)[0], int(b.arn.rsplit("/", 1)[1])))


# ---- listing helpers --------------------------------------------------
def _owned(ib: ImageBuilderBackend, kind: str, params: dict[str, Any]) -> list[Resource]:
    """Only the caller's own resources exist here; AWS-managed and shared
    ones are not simulated, so those owners list nothing."""
    return ib.list(kind) if (params.get("owner") or "Self") == "Self" else []


def _filtered(items: list[dict[str, Any]], params: dict[str, Any], allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    for flt in params.get("filters") or []:
        name, values = flt.get("name"), flt.get("values") or []
        if name not in allowed:
            raise InvalidParameterValueException(
                f"Filter name '{name}' is not supported here; use one of: {', '.join(allowed)}."
            )
        items = [item for item in items if str(item.get(name)) in values]
    return items


def _latest_per_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for item in items:
        current = latest.get(item["name"])
        if current is None or version_key(item["version"].split("/")[0]) > version_key(current["version"].split("/")[0]):
            latest[item["name"]] = item
    return list(latest.values())


def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    size = params.get("maxResults") or DEFAULT_PAGE_SIZE
    if not 1 <= size <= 100:
        raise InvalidParameterValueException(f"maxResults must be between 1 and 100, got {size}.")
    start = 0
    if params.get("nextToken"):
        try:
            start = int(json.loads(base64.b64decode(params["nextToken"]))["offset"])
        except (ValueError, KeyError, TypeError):
            raise InvalidPaginationTokenException(
                "nextToken is not a token this service returned; pass the nextToken of the previous page."
            ) from None
    end = start + size
    token = {"nextToken": base64.b64encode(json.dumps({"offset": end}).encode()).decode()} if end < len(items) else {}
    return items[start:end], token


OPERATIONS: dict[str, Handler] = {
    "CreateComponent": create_component,
    "GetComponent": get_component,
    "DeleteComponent": delete_component,
    "ListComponents": list_components,
    "ListComponentBuildVersions": list_component_build_versions,
    "CreateImageRecipe": create_image_recipe,
    "GetImageRecipe": get_image_recipe,
    "DeleteImageRecipe": delete_image_recipe,
    "ListImageRecipes": list_image_recipes,
    "CreateInfrastructureConfiguration": create_infrastructure_configuration,
    "GetInfrastructureConfiguration": get_infrastructure_configuration,
    "UpdateInfrastructureConfiguration": update_infrastructure_configuration,
    "DeleteInfrastructureConfiguration": delete_infrastructure_configuration,
    "ListInfrastructureConfigurations": list_infrastructure_configurations,
    "CreateDistributionConfiguration": create_distribution_configuration,
    "GetDistributionConfiguration": get_distribution_configuration,
    "UpdateDistributionConfiguration": update_distribution_configuration,
    "DeleteDistributionConfiguration": delete_distribution_configuration,
    "ListDistributionConfigurations": list_distribution_configurations,
    "CreateImagePipeline": create_image_pipeline,
    "GetImagePipeline": get_image_pipeline,
    "UpdateImagePipeline": update_image_pipeline,
    "DeleteImagePipeline": delete_image_pipeline,
    "ListImagePipelines": list_image_pipelines,
    "StartImagePipelineExecution": start_image_pipeline_execution,
    "GetImage": get_image,
    "DeleteImage": delete_image,
    "CancelImageCreation": cancel_image_creation,
    "ListImagePipelineImages": list_image_pipeline_images,
    "ListImages": list_images,
    "ListImageBuildVersions": list_image_build_versions,
}


def require(operation_input: Any, params: dict[str, Any]) -> None:
    """Refuse a call that lacks a required member, naming it (boto3 checks
    this client-side; raw HTTP callers get the service's answer)."""
    if operation_input is None:
        return
    missing = [name for name in operation_input.required_members if params.get(name) in (None, "")]
    if missing:
        raise InvalidRequestException(f"Missing required parameter(s): {', '.join(missing)}.")

