"""Where a patch's Image Builder component document comes from.

``--patchComponent`` takes either an ``s3://`` URL of a document already
uploaded, or a local file, which is uploaded to the deployment's patch
component bucket under ``<lifecycle_id>/<UTC time>-<file name>`` (a new key
per patch, so a running patch never sees its document replaced). If the
request then fails (the API refuses it, or cannot be reached), every
version of that key is deleted again, so nothing is left behind in the
versioned bucket (no old version, no delete marker); the CLI says so on
stderr. A request that timed out may still have started the patch, so its
document is kept, and the CLI says where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import botocore.exceptions
from boto3.exceptions import S3UploadFailedError

from .aws import aws_failure
from .discovery import PATCH_BUCKET_OUTPUT, Deployment
from .errors import UsageError
from .operations import FLAGS


@dataclass
class PatchComponent:
    url: str
    bucket: str | None = None
    key: str | None = None

    @property
    def uploaded(self) -> bool:
        return self.key is not None

    def discard(self, deployment: Deployment) -> str:
        """Delete every version of the uploaded document; returns the line that tells the user.

        Best effort: the request's own failure is what the user must see, so
        a failed clean-up is reported, never raised.
        """
        if not (self.bucket and self.key):
            return ""
        where = f"s3://{self.bucket}/{self.key}"
        try:
            removed = _delete_every_version(deployment.aws.client("s3"), self.bucket, self.key)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            return (f"the uploaded patch component {where} could not be removed ({type(error).__name__}: "
                    f"{error}); delete it with: aws s3api delete-object --bucket {self.bucket} --key {self.key} "
                    "--version-id <each version>")
        return f"removed the uploaded patch component {where} ({removed} version{'s' if removed != 1 else ''}): " \
               "the request failed"


def _delete_every_version(s3: Any, bucket: str, key: str) -> int:
    """Delete each version and delete marker of ``key`` (the key is this upload's own); returns how many."""
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if entry["Key"] == key:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=entry["VersionId"])
                removed += 1
    return removed


def object_key(lifecycle_id: str, path: Path, now: datetime) -> str:
    return f"{lifecycle_id}/{now.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{path.name}"


def local_document(value: str) -> Path:
    """The local component file named by ``--patchComponent``; it must exist and not be empty."""
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(f"{FLAGS['patch_component']} {value!r}: no such file; give a local component "
                         "document (YAML) or the s3:// URL of an uploaded one")
    if path.stat().st_size == 0:
        raise UsageError(f"{FLAGS['patch_component']} {value!r}: the file is empty")
    return path


def prepare(deployment: Deployment, lifecycle_id: str, value: str, *, now: datetime | None = None) -> PatchComponent:
    """An ``s3://`` URL is used as given; a local file is uploaded first."""
    if value.startswith("s3://"):
        return PatchComponent(url=value)
    path = local_document(value)
    bucket = deployment.output(PATCH_BUCKET_OUTPUT, meaning="the bucket patch components are uploaded to")
    key = object_key(lifecycle_id, path, now or datetime.now(timezone.utc))
    try:
        deployment.aws.client("s3").upload_file(str(path), bucket, key)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, S3UploadFailedError) as error:
        raise aws_failure(error, f"uploading {path} to s3://{bucket}/{key}") from None
    return PatchComponent(url=f"s3://{bucket}/{key}", bucket=bucket, key=key)
