"""``AWS::SNS::Subscription`` and ``AWS::SNS::TopicPolicy`` on moto's SNS
backend (moto's CloudFormation skips both). A subscription created here is
a real moto subscription: messages published to the topic reach its SQS
queue or Lambda function, through its filter policy."""

from __future__ import annotations

import json
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel
from moto.core.utils import ensure_boolean
from moto.utilities.arns import parse_arn

from local.cloudformation.base import AttachedPolicy, ResourceModel

# Applied in this order: the scope decides how the filter policy is read.
_SUBSCRIPTION_ATTRIBUTES = ("FilterPolicyScope", "FilterPolicy", "RawMessageDelivery",
                            "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn")


def _backend(arn: str) -> Any:
    parsed = parse_arn(arn)
    return get_backend("sns")[parsed.account][parsed.region]


def _attribute_value(name: str, value: Any) -> Any:
    """A template value as SetSubscriptionAttributes passes it to moto's
    backend: RawMessageDelivery as a boolean (moto tests its truth, so the
    text "false" would mean raw), everything else as text."""
    if name == "RawMessageDelivery":
        return ensure_boolean(value) if isinstance(value, (bool, str)) else bool(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Subscription(ResourceModel, CloudFormationModel):
    cfn_type = "AWS::SNS::Subscription"
    attributes = {"Arn": "arn"}

    def __init__(self, arn: str, properties: dict[str, Any]) -> None:
        self.arn = arn
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Subscription:
        properties = cloudformation_json["Properties"]
        topic_arn = properties["TopicArn"]
        backend = _backend(topic_arn)
        subscription = backend.subscribe(topic_arn, properties.get("Endpoint", ""), properties["Protocol"])
        for name in _SUBSCRIPTION_ATTRIBUTES:
            if name in properties:
                backend.set_subscription_attributes(subscription.arn, name, _attribute_value(name, properties[name]))
        return cls(subscription.arn, properties)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Subscription, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Subscription:
        properties = cloudformation_json["Properties"]
        old = original_resource.properties
        if any(properties.get(key) != old.get(key) for key in ("TopicArn", "Endpoint", "Protocol")):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        backend = _backend(original_resource.arn)
        for name in _SUBSCRIPTION_ATTRIBUTES:
            if name in properties or name in old:
                backend.set_subscription_attributes(original_resource.arn, name,
                                                    _attribute_value(name, properties.get(name, "")))
        return cls(original_resource.arn, properties)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(self.arn).unsubscribe(self.arn)


class TopicPolicy(AttachedPolicy, CloudFormationModel):
    cfn_type = "AWS::SNS::TopicPolicy"
    targets_property = "Topics"

    def attach(self, account_id: str, region_name: str) -> None:
        for topic_arn in self.targets:
            _backend(topic_arn).set_topic_attribute(topic_arn, "policy", self.policy_text)

    def delete(self, account_id: str, region_name: str) -> None:
        for topic_arn in self.targets:
            topic = _backend(topic_arn).topics.get(topic_arn)
            if topic is not None:
                # Back to the default policy SNS gives a new topic.
                topic._policy_json = topic._create_default_topic_policy(topic.region, topic.account_id, topic.name)
