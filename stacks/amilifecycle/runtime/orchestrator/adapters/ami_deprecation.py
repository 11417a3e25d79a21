"""Deprecating an AMI (``EnableImageDeprecation``): EC2 then hides it from image listings that do not
ask for deprecated images, and launch wizards warn about it. The AMI stays usable by whoever names it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import aws

# EC2 refuses a deprecation time in the past; one minute ahead is the soonest it accepts.
LEAD_TIME = timedelta(minutes=1)


class AmiDeprecations:
    """Deprecates AMIs of this account in the function's region (where the lifecycle's AMIs are built)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    client = aws.LazyClient("ec2")

    def deprecate(self, ami_id: str, *, now: datetime) -> str:
        """Deprecate ``ami_id`` as soon as EC2 allows; the deprecation time set (ISO 8601)."""
        at = now + LEAD_TIME
        self.client.enable_image_deprecation(ImageId=ami_id, DeprecateAt=at)
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
