"""``AWS::SQS::QueuePolicy`` on moto's SQS backend (moto's CloudFormation
skips it). The policy becomes each queue's ``Policy`` attribute, as
``get_queue_attributes`` reports it on AWS."""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel

from local.cloudformation.base import AttachedPolicy


def _queue(account_id: str, region_name: str, queue_url: str) -> tuple[Any, str]:
    backend = get_backend("sqs")[account_id][region_name]
    return backend, queue_url.rstrip("/").rsplit("/", 1)[-1]


class QueuePolicy(AttachedPolicy, CloudFormationModel):
    cfn_type = "AWS::SQS::QueuePolicy"
    targets_property = "Queues"

    def attach(self, account_id: str, region_name: str) -> None:
        for url in self.targets:
            backend, name = _queue(account_id, region_name, url)
            backend.set_queue_attributes(name, {"Policy": self.policy_text})

    def delete(self, account_id: str, region_name: str) -> None:
        for url in self.targets:
            backend, name = _queue(account_id, region_name, url)
            queue = backend.queues.get(name)
            if queue is not None:
                queue.policy = None
