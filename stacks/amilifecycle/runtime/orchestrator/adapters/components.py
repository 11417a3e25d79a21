"""Patch component documents in S3: read one before a patch creates anything."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..domain.errors import ValidationError
from ..domain.patches import MAX_DOCUMENT_BYTES, split_s3_url
from . import aws

FIELD = "properties.patch_component_url"
_MISSING = ("NoSuchKey", "NoSuchBucket", "404", "NotFound")


class ComponentDocuments:
    """Reads component documents (at most Image Builder's size, plus one byte to tell it is larger)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    client = aws.LazyClient("s3")

    def read(self, url: str) -> bytes:
        """The document's bytes; a ValidationError (400) naming the URL when there is no such object."""
        bucket, key = split_s3_url(url)
        try:
            response = self.client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_DOCUMENT_BYTES}")
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            if code in _MISSING:
                raise ValidationError(f"{FIELD}: there is no object {url}; upload the component document first "
                                      "(AMI_PATCH --patchComponent FILE does)", field=FIELD) from None
            if code == "InvalidRange":
                return b""
            raise
        return bytes(response["Body"].read())
