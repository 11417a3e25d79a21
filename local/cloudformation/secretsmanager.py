"""``AWS::SecretsManager::Secret`` and ``::ResourcePolicy`` on moto's
Secrets Manager backend (moto's CloudFormation skips secrets, and every Ref
to one then resolves to nothing).

``GenerateSecretString`` is honoured as Secrets Manager documents it, with
the ``secrets`` module as the source of randomness.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel

from local.cloudformation.base import CreatedAgainOnUpdate, ResourceModel

PUNCTUATION = string.punctuation  # the set Secrets Manager draws from


class SecretGenerationError(ValueError):
    """GenerateSecretString asks for something impossible."""


def generate_secret_string(spec: dict[str, Any]) -> str:
    """The value Secrets Manager would generate for ``spec`` (the
    CloudFormation ``GenerateSecretString`` property)."""
    length = int(spec.get("PasswordLength", 32))
    if not 1 <= length <= 4096:
        raise SecretGenerationError(f"PasswordLength must be from 1 to 4096, got {length}")
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    groups = []
    for flag, characters in (
        ("ExcludeLowercase", string.ascii_lowercase),
        ("ExcludeUppercase", string.ascii_uppercase),
        ("ExcludeNumbers", string.digits),
        ("ExcludePunctuation", PUNCTUATION),
    ):
        if not _flag(spec.get(flag, False)):
            allowed = "".join(c for c in characters if c not in excluded)
            if allowed:
                groups.append(allowed)
    if _flag(spec.get("IncludeSpace", False)):
        groups.append(" ")
    if not groups:
        raise SecretGenerationError("GenerateSecretString excludes every character")
    alphabet = "".join(groups)
    require_each = _flag(spec.get("RequireEachIncludedType", True))
    if require_each and length < len(groups):
        raise SecretGenerationError(
            f"PasswordLength {length} is too short to include each of the {len(groups)} character types"
        )
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        if not require_each or all(any(c in group for c in value) for group in groups):
            break
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if template is None and key is None:
        return value
    if template is None or key is None:
        raise SecretGenerationError("SecretStringTemplate and GenerateStringKey go together")
    document = json.loads(template)
    if not isinstance(document, dict):
        raise SecretGenerationError("SecretStringTemplate must be a JSON object")
    document[key] = value
    return json.dumps(document)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _backend(account_id: str, region_name: str) -> Any:
    return get_backend("secretsmanager")[account_id][region_name]


class Secret(ResourceModel, CloudFormationModel):
    cfn_type = "AWS::SecretsManager::Secret"
    name_property = "Name"
    attributes = {"Id": "arn"}

    def __init__(self, account_id: str, region_name: str, arn: str, name: str, properties: dict[str, Any]) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.arn = arn
        self.name = name
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Secret:
        properties = cloudformation_json.get("Properties", {})
        if "SecretString" in properties and "GenerateSecretString" in properties:
            raise SecretGenerationError("a secret has either SecretString or GenerateSecretString, not both")
        if "SecretString" in properties:
            value = str(properties["SecretString"])
        else:
            value = generate_secret_string(properties.get("GenerateSecretString", {}))
        created = _backend(account_id, region_name).create_secret(
            name=resource_name,
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"]
        return cls(account_id, region_name, arn, resource_name, properties)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Secret, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Secret:
        properties = cloudformation_json.get("Properties", {})
        if properties.get("Name", original_resource.name) != original_resource.name:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(properties["Name"], cloudformation_json, account_id, region_name)
        backend = _backend(account_id, region_name)
        secret_string = None
        if "SecretString" in properties and properties["SecretString"] != original_resource.properties.get("SecretString"):
            secret_string = str(properties["SecretString"])
        backend.update_secret(
            secret_id=original_resource.arn,
            secret_string=secret_string,
            kms_key_id=properties.get("KmsKeyId"),
            description=properties.get("Description"),
        )
        return cls(account_id, region_name, original_resource.arn, original_resource.name, properties)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if backend._is_valid_identifier(self.arn):
            backend.delete_secret(self.arn, recovery_window_in_days=None, force_delete_without_recovery=True)


class SecretResourcePolicy(CreatedAgainOnUpdate, ResourceModel, CloudFormationModel):
    cfn_type = "AWS::SecretsManager::ResourcePolicy"
    attributes = {"Id": "secret_id"}

    def __init__(self, secret_id: str, policy: Any) -> None:
        self.secret_id = secret_id
        self.policy = policy

    @property
    def physical_resource_id(self) -> str:
        return self.secret_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> SecretResourcePolicy:
        properties = cloudformation_json["Properties"]
        policy = properties["ResourcePolicy"]
        document = policy if isinstance(policy, str) else json.dumps(policy)
        _backend(account_id, region_name).put_resource_policy(properties["SecretId"], document)
        return cls(properties["SecretId"], policy)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if backend._is_valid_identifier(self.secret_id):
            backend.delete_resource_policy(self.secret_id)
