"""``AWS::SSM::Parameter`` on moto's SSM backend, with its ``Tags`` as CloudFormation writes them.

CloudFormation's ``Tags`` of a parameter is a map (``{"key": "value"}``);
moto's model hands it to ``PutParameter`` unchanged, which expects the API's
list of ``{Key, Value}`` and fails the resource. This model turns the map
into the list and lets moto's own model do the rest.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ssm.models import Parameter


def _with_api_tags(cloudformation_json: Any) -> Any:
    fixed = copy.deepcopy(cloudformation_json)
    properties = fixed.get("Properties") or {}
    tags = properties.get("Tags")
    if isinstance(tags, dict):
        properties["Tags"] = [{"Key": str(key), "Value": str(value)} for key, value in tags.items()]
    return fixed


class SsmParameter(CloudFormationModel):
    """Creates, replaces and deletes the parameter through moto's ``Parameter`` model."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SSM::Parameter"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any,
    ) -> Any:
        return Parameter.create_from_cloudformation_json(resource_name, _with_api_tags(cloudformation_json),
                                                         account_id, region_name, **kwargs)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: Any, account_id: str,
        region_name: str,
    ) -> Any:
        return Parameter.update_from_cloudformation_json(original_resource, new_resource_name,
                                                         _with_api_tags(cloudformation_json), account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
    ) -> None:
        Parameter.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)
