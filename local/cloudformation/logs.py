"""``AWS::Logs::LogGroup`` as declared. moto's model reads the KMS key
from ``kmsKeyId`` (the API's spelling), so a template's ``KmsKeyId`` is
dropped and ``describe-log-groups`` shows the group unencrypted; and it
cannot update a group in place. Here the key, the retention and the tags
are the template's, and an update changes them on the same group
(CloudFormation replaces a log group only when its name changes)."""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel
from moto.logs.models import LogGroup as MotoLogGroup


def _backend(account_id: str, region_name: str) -> Any:
    return get_backend("logs")[account_id][region_name]


def _tags(properties: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in properties.get("Tags") or []}


def _retention(properties: dict[str, Any]) -> int | None:
    value = properties.get("RetentionInDays")
    return int(value) if value not in (None, "") else None


class LogGroup(MotoLogGroup, CloudFormationModel):
    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any,
    ) -> MotoLogGroup:
        properties = cloudformation_json.get("Properties") or {}
        name = properties.get("LogGroupName") or resource_name
        group = _backend(account_id, region_name).create_log_group(name, _tags(properties))
        _apply(group, properties)
        return group

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: MotoLogGroup, new_resource_name: str, cloudformation_json: Any,
        account_id: str, region_name: str,
    ) -> MotoLogGroup:
        properties = cloudformation_json.get("Properties") or {}
        name = properties.get("LogGroupName") or original_resource.name
        backend = _backend(account_id, region_name)
        if name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
            backend.delete_log_group(original_resource.name)
            return replacement
        old_tags = backend.list_tags_for_resource(original_resource.arn)
        new_tags = _tags(properties)
        gone = [key for key in old_tags if key not in new_tags]
        if gone:
            backend.untag_resource(original_resource.arn, gone)
        backend.tag_resource(original_resource.arn, new_tags)
        _apply(original_resource, properties)
        return original_resource


def _apply(group: MotoLogGroup, properties: dict[str, Any]) -> None:
    """The settings ``describe-log-groups`` reports: an absent property is
    the service default (no key, never expire)."""
    group.kms_key_id = properties.get("KmsKeyId") or None
    group.retention_in_days = _retention(properties)
