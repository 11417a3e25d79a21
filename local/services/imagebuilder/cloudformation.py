"""CloudFormation types of Image Builder, so a synthesized stack deploys its
components, recipes, configurations and pipelines into the simulated service.

moto builds its type map from the direct subclasses of
``CloudFormationModel``; defining these classes (importing this module)
registers the types. The map is cached on first use, so the import clears
that cache and works even after a first stack was created.

``Ref`` returns the resource ARN, ``Fn::GetAtt <id>.Arn`` too (and ``Name``,
plus ``Type``/``Encrypted`` for components), as on AWS.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from local.cloudformation.base import ResourceModel

from . import responses
from .exceptions import ImageBuilderError
from .models import (
    COMPONENT,
    DISTRIBUTION_CONFIGURATION,
    IMAGE_PIPELINE,
    IMAGE_RECIPE,
    INFRASTRUCTURE_CONFIGURATION,
    backend,
    lock,
)

# Properties whose values are maps with user-chosen keys: keep the keys as they are.
MAP_PROPERTIES = {"Tags", "AmiTags", "ResourceTags", "ImageTags"}
# CloudFormation names that differ from the API's beyond the first letter.
RENAMES = {"Version": "semanticVersion", "LaunchPermissionConfiguration": "launchPermission"}


def api_params(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation properties (PascalCase) -> API parameters (camelCase)."""
    return {_api_name(key): _convert(key, value) for key, value in properties.items()}


def _api_name(key: str) -> str:
    return RENAMES.get(key) or re.sub(r"^[A-Z]+(?=[A-Z][a-z]|$)|^[A-Z]", lambda m: m.group(0).lower(), key)


def _convert(key: str, value: Any) -> Any:
    if key in MAP_PROPERTIES:
        return value
    if isinstance(value, dict):
        return api_params(value)
    if isinstance(value, list):
        return [api_params(item) if isinstance(item, dict) else item for item in value]
    return value


class _ImageBuilderResource(ResourceModel):
    """What the stack keeps: the ARN and name of a resource in the backend,
    and the values of its ``Fn::GetAtt`` attributes (here mapped to keys of
    the resource's body)."""

    kind = ""
    create_operation = ""
    update_operation: str | None = None
    arn_member = ""
    name_property = "Name"
    attributes: dict[str, str] = {"Arn": "arn", "Name": "name"}

    def __init__(self, arn: str, name: str, body: dict[str, Any]) -> None:
        self.arn = arn
        self.name = name
        self.values = {attr: body.get(key) for attr, key in self.attributes.items()}

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.values[attribute_name]

    @classmethod
    def _create(cls, params: dict[str, Any], account_id: str, region_name: str) -> _ImageBuilderResource:
        params = {**params, "clientToken": str(uuid.uuid4())}
        with lock:
            ib = backend(account_id, region_name)
            result = responses.OPERATIONS[cls.create_operation](ib, params)
            resource = ib.get(cls.kind, result[cls.arn_member])
        return cls(resource.arn, resource.name, resource.body)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> _ImageBuilderResource:
        params = api_params(cloudformation_json.get("Properties") or {})
        params["name"] = resource_name
        return cls._create(params, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: _ImageBuilderResource, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> _ImageBuilderResource:
        params = api_params(cloudformation_json.get("Properties") or {})
        params["name"] = new_resource_name
        if cls.update_operation and new_resource_name == original_resource.name:
            params.update({cls.arn_member: original_resource.arn, "clientToken": str(uuid.uuid4())})
            with lock:
                ib = backend(account_id, region_name)
                responses.OPERATIONS[cls.update_operation](ib, params)
                resource = ib.get(cls.kind, original_resource.arn)
            return cls(resource.arn, resource.name, resource.body)
        replacement = cls._create(params, account_id, region_name)
        try:
            original_resource.delete(account_id, region_name)
        except ImageBuilderError:
            pass  # still referenced by a resource this update replaces next
        return replacement

    def delete(self, account_id: str, region_name: str) -> None:
        with lock:
            ib = backend(account_id, region_name)
            if self.arn in ib.resources:
                ib.delete(self.kind, self.arn)


class ImageBuilderComponent(_ImageBuilderResource, CloudFormationModel):
    cfn_type = "AWS::ImageBuilder::Component"
    kind = COMPONENT
    create_operation = "CreateComponent"
    arn_member = "componentBuildVersionArn"
    attributes = {"Arn": "arn", "Name": "name", "Type": "type", "Encrypted": "encrypted"}


class ImageBuilderImageRecipe(_ImageBuilderResource, CloudFormationModel):
    cfn_type = "AWS::ImageBuilder::ImageRecipe"
    kind = IMAGE_RECIPE
    create_operation = "CreateImageRecipe"
    arn_member = "imageRecipeArn"


class ImageBuilderInfrastructureConfiguration(_ImageBuilderResource, CloudFormationModel):
    cfn_type = "AWS::ImageBuilder::InfrastructureConfiguration"
    kind = INFRASTRUCTURE_CONFIGURATION
    create_operation = "CreateInfrastructureConfiguration"
    update_operation = "UpdateInfrastructureConfiguration"
    arn_member = "infrastructureConfigurationArn"


class ImageBuilderDistributionConfiguration(_ImageBuilderResource, CloudFormationModel):
    cfn_type = "AWS::ImageBuilder::DistributionConfiguration"
    kind = DISTRIBUTION_CONFIGURATION
    create_operation = "CreateDistributionConfiguration"
    update_operation = "UpdateDistributionConfiguration"
    arn_member = "distributionConfigurationArn"


class ImageBuilderImagePipeline(_ImageBuilderResource, CloudFormationModel):
    cfn_type = "AWS::ImageBuilder::ImagePipeline"
    kind = IMAGE_PIPELINE
    create_operation = "CreateImagePipeline"
    update_operation = "UpdateImagePipeline"
    arn_member = "imagePipelineArn"


TYPES = (ImageBuilderComponent, ImageBuilderImageRecipe, ImageBuilderInfrastructureConfiguration,
         ImageBuilderDistributionConfiguration, ImageBuilderImagePipeline)

parsing.get_model_list.cache_clear()
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
