"""Publishing notifications on the lifecycle topic, and subscribing owners to it.

Each EMAIL address gets exactly one subscription, whose filter policy is
fixed at ``{"recipients": ["<address>"]}`` (matched against message
attributes). Every message carries a ``recipients`` attribute listing the
EMAIL targets of the lifecycle it is about, so an address receives the
messages of its own lifecycles only, and neither the number of
subscriptions nor the size of a policy grows with the number of lifecycles
(the first version appended one lifecycle id per lifecycle to a policy and
broke past SNS's policy limits). Subscriptions without a filter (the
notification log sink) receive everything.

Addresses are compared and stored in lower case, so ``Team@Example.com``
and ``team@example.com`` share one subscription.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..domain.notifications import NotificationMessage
from ..domain.vocabulary import NotificationMethod
from . import aws

MAX_SUBJECT_LENGTH = 100
RECIPIENTS_ATTRIBUTE = "recipients"
EMAIL_PROTOCOL = "email"

Renderer = Callable[[NotificationMessage], str]


def recipient_address(address: str) -> str:
    """The canonical form of an email address in subscriptions and message attributes."""
    return address.strip().lower()


def email_recipients(notifications: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The EMAIL targets of a lifecycle's ``notifications``, canonical and without repeats."""
    addresses: list[str] = []
    for channel in notifications or []:
        if channel.get("method") == NotificationMethod.EMAIL and isinstance(channel.get("target"), str):
            address = recipient_address(channel["target"])
            if address and address not in addresses:
                addresses.append(address)
    return addresses


def filter_policy(address: str) -> dict[str, list[str]]:
    """The one filter policy of ``address``'s subscription."""
    return {RECIPIENTS_ATTRIBUTE: [recipient_address(address)]}


def _default_renderer(message: NotificationMessage) -> str:
    from ..rendering import render_notification  # Jinja2 loads only when a message is sent

    return render_notification(message)


class Notifier:
    """The notification topic of one deployment."""

    def __init__(self, topic_arn: str, *, sns: Any | None = None, render: Renderer = _default_renderer) -> None:
        self._topic_arn = topic_arn
        self._client = sns
        self._render = render

    _sns = aws.LazyClient("sns")

    def publish(self, message: NotificationMessage, recipients: Sequence[str] = ()) -> str:
        """Publish ``message`` to the subscribers of ``recipients`` (and to unfiltered subscribers).

        Returns the SNS message id.
        """
        attributes = dict(message.message_attributes())
        addresses = sorted({recipient_address(address) for address in recipients if address.strip()})
        if addresses:
            attributes[RECIPIENTS_ATTRIBUTE] = {"DataType": "String.Array", "StringValue": json.dumps(addresses)}
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=message.subject[:MAX_SUBJECT_LENGTH],
            Message=self._render(message),
            MessageAttributes=attributes,
        )
        return str(response["MessageId"])

    def subscribe_emails(self, addresses: Iterable[str]) -> list[str]:
        """Subscribe each address that has no subscription yet; returns the newly subscribed ones.

        An address with a subscription (confirmed or still pending
        confirmation) is left alone: subscribing it again would only send
        another confirmation email.
        """
        wanted = []
        for address in addresses:
            canonical = recipient_address(address)
            if canonical and canonical not in wanted:
                wanted.append(canonical)
        if not wanted:
            return []
        existing = self._subscribed_emails()
        added = []
        for address in wanted:
            if address in existing:
                continue
            self._sns.subscribe(
                TopicArn=self._topic_arn,
                Protocol=EMAIL_PROTOCOL,
                Endpoint=address,
                Attributes={
                    "FilterPolicy": json.dumps(filter_policy(address)),
                    "FilterPolicyScope": "MessageAttributes",
                },
                ReturnSubscriptionArn=True,
            )
            added.append(address)
        return added

    def _subscribed_emails(self) -> set[str]:
        found: set[str] = set()
        paginator = self._sns.get_paginator("list_subscriptions_by_topic")
        for page in paginator.paginate(TopicArn=self._topic_arn):
            for subscription in page.get("Subscriptions", []):
                if subscription.get("Protocol") == EMAIL_PROTOCOL and subscription.get("Endpoint"):
                    found.add(recipient_address(subscription["Endpoint"]))
        return found
