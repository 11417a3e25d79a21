"""The semver seed table: the next semantic version of each stack tag.

Assigning a version is *read the seed, hand it out, store the bumped seed*.
Two receivers recording builds of one stack tag at the same moment must not
hand out the same version, so the write is conditional on the seed still
being the one read (or still absent, for a stack tag's first build). The
loser of a race re-reads and tries again with the new seed; every caller
ends up with a distinct version. The versioning rule itself
(``domain.versioning.assign_build_version``) stays in the domain.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from ..domain.timestamps import iso_utc
from ..domain.versioning import assign_build_version, parse_version, patch_version_candidates
from ..domain.vocabulary import SemverBump
from . import aws

PARTITION_KEY = "stack_tag"
SEED_ATTRIBUTE = "ami_semver"
DEFAULT_MAX_ATTEMPTS = 25
# Claims of patch versions live in the seed table beside the seeds, under ``<stack tag>#<version>``.
CLAIM_SEPARATOR = "#"


class SeedContention(RuntimeError):
    """Too many concurrent writers: no version could be assigned in the allowed attempts."""


class SemverSeeds:
    """Assigns build versions per stack tag, atomically."""

    def __init__(self, table_name: str, default_seed: str, client: Any | None = None, *,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not table_name:
            raise ValueError("SemverSeeds needs the seed table name (SEMVER_SEED_TABLE_NAME)")
        parse_version(default_seed, field="DEFAULT_SEMVER_SEED")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.table_name = table_name
        self.default_seed = default_seed
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._client = client

    client = aws.LazyClient("dynamodb")

    def current_seed(self, stack_tag: str) -> str | None:
        """The version the next build of ``stack_tag`` will get, or ``None`` before its first build."""
        response = self.client.get_item(TableName=self.table_name, Key={PARTITION_KEY: {"S": stack_tag}},
                                        ConsistentRead=True)
        item = response.get("Item") or {}
        seed = item.get(SEED_ATTRIBUTE, {}).get("S")
        return seed or None

    def assign(self, stack_tag: str) -> str:
        """Hand out the next build version of ``stack_tag`` and move the seed one MAJOR up."""
        if not stack_tag:
            raise ValueError("stack_tag must be a non-empty string")
        for attempt in range(self.max_attempts):
            seen = self.current_seed(stack_tag)
            assigned, following = assign_build_version(seen, self.default_seed)
            if self._store(stack_tag, seen, following):
                return assigned
            # Someone else took this version: back off a little (jittered) and re-read.
            self._sleep(random.uniform(0, min(0.05 * 2 ** attempt, 1.0)))
        raise SeedContention(
            f"could not assign a semantic version for stack tag {stack_tag!r} after {self.max_attempts} attempts: "
            f"too many concurrent builds are being recorded; the message will be retried")

    def _store(self, stack_tag: str, seen: str | None, following: str) -> bool:
        values: dict[str, Any] = {
            ":next": {"S": following},
            ":now": {"S": iso_utc(datetime.now(timezone.utc))},
        }
        if seen is None:
            condition = "attribute_not_exists(#seed)"
        else:
            condition = "#seed = :seen"
            values[":seen"] = {"S": seen}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={PARTITION_KEY: {"S": stack_tag}},
                UpdateExpression="SET #seed = :next, last_modified = :now",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#seed": SEED_ATTRIBUTE},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ------------------------------------------------------------ patch versions

    def claim_patch_version(self, stack_tag: str, *, base: str, bump: SemverBump, lifecycle_id: str) -> str:
        """The version of a patched AMI of ``lifecycle_id``: ``base`` bumped, never one another lifecycle of
        ``stack_tag`` holds.

        Each version is claimed with a conditional write (``<stack tag>#<version>``
        absent, or already this lifecycle's: a retried delivery gets the same
        version). A version another lifecycle claimed first is skipped to the
        next PATCH up.
        """
        if not stack_tag:
            raise ValueError("stack_tag must be a non-empty string")
        for version in patch_version_candidates(base, bump):
            if self._claim(stack_tag, version, lifecycle_id):
                return version
        raise SeedContention(f"no free patch version above {base} for stack tag {stack_tag!r}")

    def _claim(self, stack_tag: str, version: str, lifecycle_id: str) -> bool:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={PARTITION_KEY: {"S": f"{stack_tag}{CLAIM_SEPARATOR}{version}"},
                      "lifecycle_id": {"S": lifecycle_id}, SEED_ATTRIBUTE: {"S": version},
                      "last_modified": {"S": iso_utc(datetime.now(timezone.utc))}},
                ConditionExpression="attribute_not_exists(#key) OR lifecycle_id = :mine",
                ExpressionAttributeNames={"#key": PARTITION_KEY},
                ExpressionAttributeValues={":mine": {"S": lifecycle_id}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
