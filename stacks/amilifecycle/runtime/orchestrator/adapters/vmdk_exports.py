"""VM Import/Export of an AMI to S3, and the presigned link to the exported disk.

Three EC2 calls (``DescribeImages``, ``ExportImage``,
``DescribeExportImageTasks``) and one local S3 signature. The export bucket
and the VM Import/Export role come from the function's environment
(``EXPORT_BUCKET_NAME``, ``VMIMPORT_ROLE_NAME``); ExportImage takes the
role's *name*.
"""

from __future__ import annotations

from typing import Any, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import aws

NOT_FOUND_CODES = ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable")


class VmdkExports:
    """Exports of AMIs into one bucket with one service role."""

    def __init__(self, *, bucket: str | None, role_name: str | None, ec2: Any | None = None,
                 s3: Any | None = None) -> None:
        self.bucket = bucket
        self.role_name = role_name
        self._client = ec2
        self._s3_client = s3

    _ec2 = aws.LazyClient("ec2")

    @property
    def _s3(self) -> Any:
        """S3 signing with SigV4 (botocore may presign with the legacy signature otherwise)."""
        if self._s3_client is None:
            self._s3_client = boto3.session.Session().client(
                "s3", config=aws.CLIENT_CONFIG.merge(Config(signature_version="s3v4")))
        return self._s3_client

    def image(self, ami_id: str) -> dict[str, Any] | None:
        """The AMI as DescribeImages shows it, or ``None`` when it does not exist."""
        try:
            images = self._ec2.describe_images(ImageIds=[ami_id]).get("Images") or []
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                return None
            raise
        return images[0] if images else None

    def export_tasks(self, ami_id: str) -> list[dict[str, Any]]:
        """Every export task of ``ami_id`` (all pages)."""
        tasks: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Filters": [{"Name": "image-id", "Values": [ami_id]}]}
        while True:
            page = self._ec2.describe_export_image_tasks(**kwargs)
            tasks.extend(page.get("ExportImageTasks") or [])
            if not page.get("NextToken"):
                return tasks
            kwargs["NextToken"] = page["NextToken"]

    def start(self, ami_id: str, *, prefix: str, description: str, client_token: str,
              tags: Mapping[str, str]) -> dict[str, Any]:
        """ExportImage as VMDK into ``s3://<bucket>/<prefix>``; the client token makes a retried step start
        one export."""
        return self._ec2.export_image(
            ImageId=ami_id, DiskImageFormat="VMDK", RoleName=self._role(), Description=description[:255],
            S3ExportLocation={"S3Bucket": self._bucket(), "S3Prefix": prefix}, ClientToken=client_token[:64],
            TagSpecifications=[{"ResourceType": "export-image-task",
                                "Tags": [{"Key": k, "Value": str(v)[:255]} for k, v in tags.items()]}],
        )

    def task(self, task_id: str) -> dict[str, Any]:
        """One export task (``InvalidExportImageTaskId.NotFound`` raises)."""
        return self._ec2.describe_export_image_tasks(ExportImageTaskIds=[task_id])["ExportImageTasks"][0]

    def cancel(self, task_id: str) -> None:
        """CancelExportTask; an export that already ended is left as it is."""
        try:
            self._ec2.cancel_export_task(ExportTaskId=task_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "IncorrectState":
                raise

    def download_url(self, bucket: str, key: str, expiry_secs: int) -> str:
        """A presigned GET of ``s3://bucket/key`` valid ``expiry_secs`` (signed with this function's
        credentials, so it stops working when they expire, whichever comes first)."""
        return self._s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                               ExpiresIn=int(expiry_secs))

    def _bucket(self) -> str:
        if not self.bucket:
            raise RuntimeError("EXPORT_BUCKET_NAME: missing (the export steps need the export bucket)")
        return self.bucket

    def _role(self) -> str:
        if not self.role_name:
            raise RuntimeError("VMIMPORT_ROLE_NAME: missing (the export steps need the VM Import/Export role)")
        return self.role_name
