"""The production channel: which AMI a stack tag's product runs in production.

Consumers read an SSM parameter (``/ami-lifecycle/<stack tag>/<product>/
production``, data type ``aws:ec2:image``, so ``resolve:ssm:`` works in a
launch template) and its sibling ``.../production-release`` (JSON: version,
lifecycle, approval date). The parameters are a projection; the channel
itself is one DynamoDB item per channel holding every approved release.

Why a DynamoDB record and not SSM alone: ``PutParameter`` has no condition
(``Overwrite`` always wins), so two concurrent approvals that each read,
compare and write the parameter can leave the older version last. The
channel item is written conditionally on its ``revision`` (a lost race
re-reads and re-applies the domain rule), and the domain chooses the head
(highest semantic version not revoked). Projecting it to SSM converges:
each writer reads the head, writes the parameters, reads the head again,
and writes again until the head it read last is the one it wrote. The last
writer to touch the parameters therefore wrote the final head, and an older
version can never stay there. The history also lets a revocation restore
the previous release.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any, Callable

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from datetime import datetime

from ..domain.production import (ChannelOutcome, ChannelState, Release, channel_id, channel_parameter,
                                 release_parameter, with_release, with_revocation)
from . import aws

PARTITION_KEY = "channel"
DEFAULT_MAX_ATTEMPTS = 10

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ChannelContention(RuntimeError):
    """Too many concurrent writers on one channel: the change did not land in the allowed attempts."""


class ProductionChannel:
    """Publishes approved releases to their channel and projects the head to SSM."""

    def __init__(self, table_name: str, *, dynamodb: Any | None = None, ssm: Any | None = None,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, sleep: Callable[[float], None] = time.sleep) -> None:
        if not table_name:
            raise ValueError("ProductionChannel needs the channel table name (PRODUCTION_CHANNEL_TABLE_NAME)")
        self.table_name = table_name
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._client = dynamodb
        self._ssm = ssm

    client = aws.LazyClient("dynamodb")

    @property
    def ssm(self) -> Any:
        if self._ssm is None:
            self._ssm = aws.client("ssm")
        return self._ssm

    # ------------------------------------------------------------ reading

    def state(self, stack_tag: str, product_name: str) -> ChannelState:
        channel = channel_id(stack_tag, product_name)
        response = self.client.get_item(TableName=self.table_name, Key={PARTITION_KEY: {"S": channel}},
                                        ConsistentRead=True)
        item = response.get("Item")
        plain = {key: _deserializer.deserialize(value) for key, value in item.items()} if item else None
        return ChannelState.from_item(channel, plain)

    # ------------------------------------------------------------ writing

    def publish(self, stack_tag: str, product_name: str, release: Release) -> ChannelOutcome:
        """Add ``release`` to its channel; the parameters then show the channel's head."""
        state = self._change(stack_tag, product_name, lambda current: with_release(current, release))
        head = self._project(stack_tag, product_name)
        return ChannelOutcome(parameter=channel_parameter(stack_tag, product_name), release=release, head=head,
                              history=len(state.releases))

    def revoke(self, stack_tag: str, product_name: str, *, ami_id: str, region: str, reason: str,
               now: datetime) -> Release | None:
        """Revoke ``ami_id``'s release; the parameters then show the previous approved release (or are
        deleted when none is left). Returns the channel's head."""
        self._change(stack_tag, product_name, lambda current: with_revocation(
            current, ami_id=ami_id, region=region, reason=reason, now=now))
        return self._project(stack_tag, product_name)

    def _change(self, stack_tag: str, product_name: str,
                change: Callable[[ChannelState], ChannelState]) -> ChannelState:
        for attempt in range(self.max_attempts):
            current = self.state(stack_tag, product_name)
            changed = change(current)
            if changed is current:
                return current
            condition = ({"ConditionExpression": "attribute_not_exists(#c)",
                          "ExpressionAttributeNames": {"#c": PARTITION_KEY}} if current.revision == 0 else
                         {"ConditionExpression": "#r = :r", "ExpressionAttributeNames": {"#r": "revision"},
                          "ExpressionAttributeValues": {":r": {"N": str(current.revision)}}})
            item = {key: _serializer.serialize(value) for key, value in changed.to_item().items()}
            try:
                self.client.put_item(TableName=self.table_name, Item=item, **condition)
                return changed
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                self._sleep(random.uniform(0, min(1.0, 0.05 * 2 ** attempt)))
        raise ChannelContention(f"the production channel {channel_id(stack_tag, product_name)} changed "
                                f"{self.max_attempts} times while this approval tried to record itself")

    def _project(self, stack_tag: str, product_name: str) -> Release | None:
        """Write the head to the parameters until the head read after writing is the one written."""
        head = self.state(stack_tag, product_name).head
        for _ in range(self.max_attempts):
            self._write_parameters(stack_tag, product_name, head)
            after = self.state(stack_tag, product_name).head
            if after == head:
                return head
            head = after
        raise ChannelContention(f"the production channel {channel_id(stack_tag, product_name)} kept changing "
                                f"while its parameters were written")

    def _write_parameters(self, stack_tag: str, product_name: str, head: Release | None) -> None:
        names = (channel_parameter(stack_tag, product_name), release_parameter(stack_tag, product_name))
        if head is None:
            for name in names:
                try:
                    self.ssm.delete_parameter(Name=name)
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
                        raise
            return
        self.ssm.put_parameter(Name=names[0], Value=head.ami_id, Type="String", DataType="aws:ec2:image",
                               Overwrite=True, Description=head.describe()[:1024])
        self.ssm.put_parameter(Name=names[1], Value=json.dumps(head.to_dict(), sort_keys=True), Type="String",
                               DataType="text", Overwrite=True,
                               Description=f"the release {names[0]} points at"[:1024])
