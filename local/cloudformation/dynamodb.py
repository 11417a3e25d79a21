"""``AWS::DynamoDB::Table`` with the settings the template declares.

moto's model passes ``SSESpecification`` on in CloudFormation's shape
(``SSEEnabled``), which its API reads as ``Enabled``, so an encrypted
table describes as unencrypted; and it ignores
``PointInTimeRecoverySpecification``. Here ``describe-table`` shows
``SSEDescription`` with the declared KMS key, and
``describe-continuous-backups`` the declared point-in-time recovery. An
update applies both (and deletion protection) to the same table; a new
``TableName`` replaces it.
"""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models.table import Table as MotoTable


def _enabled(value: Any) -> bool:
    return str(value).lower() == "true"


def _sse_specification(properties: dict[str, Any]) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification in the API's shape, or None when
    the table uses the default (AWS owned key: no SSEDescription)."""
    declared = properties.get("SSESpecification") or {}
    if not _enabled(declared.get("SSEEnabled", False)):
        return None
    specification: dict[str, Any] = {"Enabled": True, "SSEType": declared.get("SSEType", "KMS")}
    if declared.get("KMSMasterKeyId"):
        specification["KMSMasterKeyId"] = declared["KMSMasterKeyId"]
    return specification


def _apply(table: MotoTable, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = get_backend("dynamodb")[account_id][region_name]
    specification = _sse_specification(properties)
    if specification is not None and "KMSMasterKeyId" not in specification:
        specification["KMSMasterKeyId"] = table._get_default_encryption_key(account_id, region_name)
    table.sse_specification = specification
    recovery = properties.get("PointInTimeRecoverySpecification") or {}
    point_in_time: dict[str, Any] = {"PointInTimeRecoveryEnabled": _enabled(
        recovery.get("PointInTimeRecoveryEnabled", False))}
    if recovery.get("RecoveryPeriodInDays"):
        point_in_time["RecoveryPeriodInDays"] = int(recovery["RecoveryPeriodInDays"])
    backend.update_continuous_backups(table.name, point_in_time)
    table.deletion_protection_enabled = _enabled(properties.get("DeletionProtectionEnabled", False))


class Table(MotoTable, CloudFormationModel):
    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> MotoTable:
        properties = cloudformation_json.get("Properties") or {}
        without_sse = {**cloudformation_json, "Properties": {
            key: value for key, value in properties.items() if key != "SSESpecification"}}
        table = super().create_from_cloudformation_json(resource_name, without_sse, account_id, region_name,
                                                        **kwargs)
        _apply(table, properties, account_id, region_name)
        return table

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: MotoTable, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> MotoTable:
        properties = cloudformation_json.get("Properties") or {}
        name = properties.get("TableName") or original_resource.name
        if name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
            get_backend("dynamodb")[account_id][region_name].delete_table(name=original_resource.name)
            return replacement
        _apply(original_resource, properties, account_id, region_name)
        return original_resource
