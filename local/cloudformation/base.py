"""What the local cloud's CloudFormation resource models have in common.

moto maps a resource type to the *direct* subclasses of
``CloudFormationModel`` (see :mod:`local.cloudformation.types`), so nothing
here derives from it: a model takes these mixins first and
``CloudFormationModel`` last in its bases, e.g.
``class QueuePolicy(AttachedPolicy, CloudFormationModel)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException


class ResourceModel:
    """A resource the stack holds as a record of ours.

    A subclass declares its type (``cfn_type``), the property that names it
    (``name_property``, none by default) and its ``Fn::GetAtt`` attributes,
    each read from an instance attribute; an unknown attribute is a template
    error, as on AWS. The resource exists once its model does, and the stack
    deletes it through the instance's ``delete``, which knows what the
    template no longer says.
    """

    cfn_type: ClassVar[str]
    name_property: ClassVar[str] = ""
    # Fn::GetAtt name -> the instance attribute holding its value.
    attributes: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.cfn_type

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.name_property

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.attributes[attribute_name])

    def is_created(self) -> bool:
        return True

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        """Deletion goes through the instance's ``delete``."""


class CreatedAgainOnUpdate:
    """An update creates the resource again from the new properties, over
    the old one (the backend's create overwrites or adopts it)."""

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )


class ReplacedOnUpdate:
    """An update deletes the resource, then creates it from the new
    properties."""

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )


class AttachedPolicy(ResourceModel):
    """A policy document that a stack sets on a list of other resources
    (``AWS::SQS::QueuePolicy`` on queues, ``AWS::SNS::TopicPolicy`` on
    topics). Ref and ``Id`` are the logical id, which an update keeps: it
    takes the policy off every target and sets the new one.

    A subclass names the property listing its targets and implements
    :meth:`attach` and ``delete``.
    """

    targets_property: ClassVar[str]
    attributes = {"Id": "physical_id"}

    def __init__(self, physical_id: str, targets: list[str], document: Any) -> None:
        self.physical_id = physical_id
        self.targets = targets
        self.document = document

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @property
    def policy_text(self) -> str:
        """The document as the services store it: JSON text."""
        return self.document if isinstance(self.document, str) else json.dumps(self.document)

    def attach(self, account_id: str, region_name: str) -> None:
        """Set the policy on every target."""
        raise NotImplementedError

    def delete(self, account_id: str, region_name: str) -> None:
        """Take the policy off every target that still exists."""
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        policy = cls(resource_name, list(properties[cls.targets_property]), properties["PolicyDocument"])
        policy.attach(account_id, region_name)
        return policy

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: AttachedPolicy, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            original_resource.physical_id, cloudformation_json, account_id, region_name
        )
