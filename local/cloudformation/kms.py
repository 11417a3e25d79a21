"""``AWS::KMS::Key`` as CloudFormation defines it. moto's model reads the
tags in the KMS API's shape (``TagKey``/``TagValue``, so a CDK template's
``Key``/``Value`` tags fail it), stores the key policy as a dict where the
API hands out a JSON string, and ignores the key spec and usage."""

from __future__ import annotations

import json
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel
from moto.kms.models import Key


class KmsKey(Key, CloudFormationModel):
    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any,
    ) -> Key:
        properties = cloudformation_json.get("Properties", {})
        policy = properties.get("KeyPolicy")
        key = get_backend("kms")[account_id][region_name].create_key(
            policy=json.dumps(policy) if isinstance(policy, dict) else policy,
            key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=properties.get("Description", ""),
            tags=[{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])],
            multi_region=str(properties.get("MultiRegion", False)).lower() == "true",
        )
        key.key_rotation_status = str(properties.get("EnableKeyRotation", False)).lower() == "true"
        key.enabled = str(properties.get("Enabled", True)).lower() == "true"
        return key

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Key, new_resource_name: str, cloudformation_json: Any,
        account_id: str, region_name: str,
    ) -> Key:
        properties = cloudformation_json.get("Properties", {})
        policy = properties.get("KeyPolicy")
        if policy is not None:
            original_resource.policy = json.dumps(policy) if isinstance(policy, dict) else policy
        original_resource.description = properties.get("Description", original_resource.description)
        original_resource.key_rotation_status = str(properties.get("EnableKeyRotation", False)).lower() == "true"
        original_resource.enabled = str(properties.get("Enabled", True)).lower() == "true"
        return original_resource
