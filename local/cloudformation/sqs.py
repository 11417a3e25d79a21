"""``AWS::SQS::QueuePolicy`` on moto's SQS backend (moto's CloudFormation
skips it). The policy becomes each queue's ``Policy`` attribute, as
``get_queue_attributes`` reports it on AWS."""

from __future__ import annotations

import json
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel


def _queue(account_id: str, region_name: str, queue_url: str) -> tuple[Any, str]:
    backend = get_backend("sqs")[account_id][region_name]
    return backend, queue_url.rstrip("/").rsplit("/", 1)[-1]


class QueuePolicy(CloudFormationModel):
    def __init__(self, physical_id: str, queues: list[str], document: Any) -> None:
        self.physical_id = physical_id
        self.queues = queues
        self.document = document

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.physical_id

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> QueuePolicy:
        properties = cloudformation_json["Properties"]
        document = properties["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        for url in properties["Queues"]:
            backend, name = _queue(account_id, region_name, url)
            backend.set_queue_attributes(name, {"Policy": policy})
        return cls(resource_name, list(properties["Queues"]), document)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: QueuePolicy, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> QueuePolicy:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            original_resource.physical_id, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        for url in self.queues:
            backend, name = _queue(account_id, region_name, url)
            queue = backend.queues.get(name)
            if queue is not None:
                queue.policy = None

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        """Deletion goes through :meth:`delete`."""
