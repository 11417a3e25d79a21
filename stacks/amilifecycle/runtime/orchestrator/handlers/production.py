"""The MARK_FOR_PRODUCTION state machine's Lambda steps (creation and patch share them).

Steps (stacks/amilifecycle/events/production.py wires them):

* :func:`start_backup` - start the AMI's store-image task into the backup
  bucket, the object tagged with the commit and product;
* :func:`check_backup` - one ``DescribeStoreImageTasks``: still running,
  completed, or failed with EC2's reason;
* :func:`publish_release` - add the approved AMI to its production channel
  (the SSM parameters follow the channel's head) and shape the event result.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..bootstrap import container
from ..domain.builds import result_message
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.production import backup_object_tags, backup_outcome, production_result, release_for
from .step_input import mapping, text

logger = Logger()

__all__ = ["check_backup", "publish_release", "start_backup"]


@logger.inject_lambda_context
def start_backup(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{lifecycle_id, ami, commit_ref, product_ver, product_name}`` -> ``{ami_id, bucket, key}``."""
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    ami_id = text(mapping(event, "ami"), "id")
    tags = backup_object_tags(commit_ref=str(event.get("commit_ref") or ""),
                              product_ver=str(event.get("product_ver") or ""),
                              product_name=str(event.get("product_name") or ""))
    started = container().ami_backups.start(ami_id, object_tags=tags)
    logger.info("AMI backup started", extra={"lifecycle_id": lifecycle_id, **started})
    return started


@logger.inject_lambda_context
def check_backup(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{ami_id, bucket, key}`` -> the backup's outcome (``done``, ``failed`` with ``reason``)."""
    ami_id = text(event, "ami_id")
    outcome = backup_outcome(container().ami_backups.latest_task(ami_id), ami_id=ami_id)
    outcome.setdefault("bucket", event.get("bucket"))
    outcome.setdefault("key", event.get("key"))
    return outcome


@logger.inject_lambda_context
def publish_release(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, stack_tag, event, product_name, ami, backup, approval}`` -> the result message."""
    built = container()
    now = built.clock()
    release = release_for(ami=mapping(event, "ami"), lifecycle_id=event.get("lifecycle_id"),
                          event=event.get("event"), now=now)
    outcome = built.production_channel.publish(text(event, "stack_tag"), text(event, "product_name"), release)
    result = production_result(lifecycle_id=release.lifecycle_id, event=release.event,
                               backup=mapping(event, "backup"), channel=outcome.to_dict(),
                               approval_properties=mapping(mapping(event, "approval"), "properties"), now=now)
    logger.info("release published", extra={"lifecycle_id": release.lifecycle_id, "ami_id": release.ami_id,
                                            "semver": release.semver, "channel_head": outcome.is_head})
    return result_message(result)
