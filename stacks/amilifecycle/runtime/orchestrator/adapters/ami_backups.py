"""AMI backups to S3: EC2's store-image tasks.

``CreateStoreImageTask`` writes the AMI as one object (``<ami id>.bin``)
into the backup bucket, tagged with the lifecycle's commit and product;
``DescribeStoreImageTasks`` reports its progress. What an entry means is the
domain's (``domain.production.backup_outcome``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import aws


class AmiBackups:
    """Starts and reads store-image tasks of this account's AMIs."""

    def __init__(self, bucket: str | None, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client

    client = aws.LazyClient("ec2")

    def start(self, ami_id: str, *, object_tags: Sequence[Mapping[str, str]]) -> dict[str, str]:
        """Start backing ``ami_id`` up; ``{ami_id, bucket, key}`` of the object it will write."""
        if not self.bucket:
            raise ValueError("AmiBackups needs the backup bucket (BACKUP_BUCKET_NAME)")
        params: dict[str, Any] = {"ImageId": ami_id, "Bucket": self.bucket}
        if object_tags:
            params["S3ObjectTags"] = [dict(tag) for tag in object_tags]
        response = self.client.create_store_image_task(**params)
        return {"ami_id": ami_id, "bucket": self.bucket, "key": str(response["ObjectKey"])}

    def latest_task(self, ami_id: str) -> dict[str, Any] | None:
        """The newest store-image task of ``ami_id`` (EC2 lists every recent one), or ``None``."""
        tasks = self.client.describe_store_image_tasks(ImageIds=[ami_id]).get("StoreImageTaskResults") or []
        tasks = [task for task in tasks if task.get("AmiId") == ami_id]
        if not tasks:
            return None
        return max(tasks, key=lambda task: str(task.get("TaskStartTime") or ""))
