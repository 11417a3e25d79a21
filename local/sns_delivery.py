"""SNS deliveries carry what the publisher sent, as on AWS.

moto hands a subscription's endpoint less than the publication held:

* a Lambda subscriber gets only the message and subject
  (``LambdaBackend.send_sns_message``), so the event record has no
  ``MessageAttributes`` and a ``MessageId`` other than the one ``Publish``
  returned;
* a raw SQS delivery turns a ``Binary`` attribute into the base64 text of
  its value, which moto's queue cannot then answer (ReceiveMessage fails).

:func:`install` wraps ``Subscription.publish`` so that, while moto delivers
one publication to one subscription, :func:`current` tells the delivery
code which publication it is (message id, attributes, topic,
subscription). The Lambda runtime builds the SNS event from it
(:func:`lambda_message_attributes`); raw SQS deliveries get their binary
attributes back as bytes. Filter policies (either scope), message
structure and the non-raw SQS envelope (whose ``MessageAttributes`` are
already AWS's ``{"Type", "Value"}`` shape) stay moto's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_local = threading.local()
_originals: list[tuple[type, str, Callable[..., Any]]] = []


@dataclass(frozen=True)
class Delivery:
    """One publication on its way to one subscription. ``message_attributes``
    is in SNS's notification shape: ``{name: {"Type", "Value"}}``."""

    message_id: str
    topic_arn: str
    subscription_arn: str
    protocol: str
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)


def current() -> Delivery | None:
    """The delivery this thread is making, if moto is delivering one."""
    return getattr(_local, "delivery", None)


def lambda_message_attributes(delivery: Delivery | None) -> dict[str, dict[str, str]]:
    """``Sns.MessageAttributes`` of a Lambda event record: every attribute
    as ``{"Type": <data type>, "Value": <text>}`` (a String.Array's value
    is its JSON text, a Binary's the base64 of its bytes)."""
    if delivery is None:
        return {}
    return {name: {"Type": str(value.get("Type")), "Value": _text(value.get("Value"))}
            for name, value in delivery.message_attributes.items()}


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return "" if value is None else str(value)


def _binary_values_as_bytes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS message attributes with each binary value as bytes, the way the
    queue holds what SendMessage received."""
    fixed = {}
    for name, value in attributes.items():
        binary = value.get("BinaryValue") if isinstance(value, dict) else None
        if isinstance(binary, str):
            try:
                value = {**value, "BinaryValue": base64.b64decode(binary, validate=True)}
            except (binascii.Error, ValueError):
                value = {**value, "BinaryValue": binary.encode("utf-8")}
        fixed[name] = value
    return fixed


def install() -> None:
    """Wrap moto's SNS delivery and SQS send (idempotent)."""
    if _originals:
        return
    from moto.sns.models import Subscription
    from moto.sqs.models import SQSBackend

    publish = Subscription.__dict__["publish"]
    send_message = SQSBackend.__dict__["send_message"]

    def publish_to_subscription(subscription: Any, message: str, message_id: str, *args: Any,
                                **kwargs: Any) -> Any:
        attributes = kwargs.get("message_attributes")
        if attributes is None and len(args) >= 2:
            attributes = args[1]
        delivery = Delivery(
            message_id=message_id,
            topic_arn=subscription.topic.arn,
            subscription_arn=subscription.arn,
            protocol=subscription.protocol,
            message_attributes=copy.deepcopy(attributes or {}),
        )
        previous, _local.delivery = current(), delivery
        try:
            return publish(subscription, message, message_id, *args, **kwargs)
        finally:
            _local.delivery = previous

    def send_message_from_sns(backend: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        delivery = current()
        # Only a raw delivery passes attributes; their binary values are
        # base64 text there.
        if delivery is not None and delivery.protocol == "sqs":
            if kwargs.get("message_attributes"):
                kwargs["message_attributes"] = _binary_values_as_bytes(kwargs["message_attributes"])
            elif args and args[0]:
                args = (_binary_values_as_bytes(args[0]), *args[1:])
        return send_message(backend, queue_name, message_body, *args, **kwargs)

    for owner, name, original, replacement in (
        (Subscription, "publish", publish, publish_to_subscription),
        (SQSBackend, "send_message", send_message, send_message_from_sns),
    ):
        _originals.append((owner, name, original))
        setattr(owner, name, replacement)


def uninstall() -> None:
    """Give moto its methods back (tests)."""
    while _originals:
        owner, name, original = _originals.pop()
        setattr(owner, name, original)
