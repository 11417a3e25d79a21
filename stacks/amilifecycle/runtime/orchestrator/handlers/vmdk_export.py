"""The VMDK export steps (stacks/amilifecycle/events/vmdk_export.py wires them), and the download link.

* :func:`check_image` - ``{ami_id}`` -> is the AMI available with no other
  export of it active (``ready``), and how long to wait otherwise;
* :func:`start_export` - ``{ami_id, export_scope, description,
  execution_name}`` -> the export task, under ``exports/<scope>/<ami>/``;
* :func:`check_export` - ``{task_id, checks, max_wait_seconds}`` -> its
  status: ``done``, ``failed`` (with ``failure``, AWS's StatusMessage) or
  still active, and the wait before the next look; an export still active
  when the waits have added up to ``max_wait_seconds`` is cancelled and
  :class:`VmdkExportTimedOut` raised;
* :func:`download_link` - used by the step that sends the link: the
  presigned GET of the exported disk.

A missing or failed AMI raises :class:`VmdkExportFailed` (the state
machine reports it as the event's error).
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..adapters.vmdk_exports import VmdkExports
from ..bootstrap import container
from ..domain.errors import ValidationError
from ..domain.vmdk_exports import (ExportedImage, VmdkExportFailed, VmdkExportTimedOut, check_budget, export_prefix,
                                   export_status, exported_image, failure_message, image_readiness)
from .step_input import text

logger = Logger()

__all__ = ["VmdkExportFailed", "VmdkExportTimedOut", "check_export", "check_image", "download_link", "start_export"]


def _exports() -> VmdkExports:
    return container().vmdk_exports


@logger.inject_lambda_context
def check_image(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    ami_id = text(event, "ami_id")
    exports = _exports()
    image = exports.image(ami_id)
    readiness = image_readiness(ami_id, image, exports.export_tasks(ami_id) if image is not None else [])
    logger.info("image checked", extra=readiness.to_dict())
    return readiness.to_dict()


@logger.inject_lambda_context
def start_export(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    ami_id = text(event, "ami_id")
    scope = text(event, "export_scope")
    prefix = export_prefix(scope, ami_id)
    task = _exports().start(ami_id, prefix=prefix, description=str(event.get("description") or "VMDK export"),
                            client_token=text(event, "execution_name"),
                            tags={"AMI_LC_EXPORT_SCOPE": scope, "AMI_LC_EXPORT_AMI": ami_id})
    status = export_status(task).to_dict(checks_so_far=0)
    logger.info("export started", extra={"ami_id": ami_id, "task_id": status["task_id"], "prefix": prefix})
    return {**status, "ami_id": ami_id, "prefix": prefix, "failure": ""}


@logger.inject_lambda_context
def check_export(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    task_id = text(event, "task_id")
    checks = event.get("checks")
    if isinstance(checks, bool) or not isinstance(checks, int) or checks < 0:
        raise ValidationError("checks: expected a whole number >= 0 (the looks taken so far)", field="checks")
    max_wait = event.get("max_wait_seconds")
    if isinstance(max_wait, bool) or not isinstance(max_wait, int) or max_wait < 1:
        raise ValidationError("max_wait_seconds: expected a whole number of seconds >= 1", field="max_wait_seconds")
    exports = _exports()
    task = exports.task(task_id)
    status = export_status(task)
    try:
        check_budget(status, checks, max_wait)
    except VmdkExportTimedOut:
        exports.cancel(task_id)
        raise
    view = status.to_dict(checks_so_far=checks)
    view.update(ami_id=task.get("ImageId"), failure=failure_message(view) if view["failed"] else "")
    logger.info("export checked", extra={key: view[key] for key in ("task_id", "status", "progress", "checks")})
    return view


def download_link(export: Mapping[str, Any], *, now: Any) -> tuple[ExportedImage, str]:
    """The finished export (``$.export``) and a presigned GET of its disk, valid ``EXPORT_LINK_EXPIRY_SECS``."""
    built = container()
    expiry = int(built.config.require("EXPORT_LINK_EXPIRY_SECS"))
    exported = exported_image(ami_id=text(export, "ami_id"), task_id=text(export, "task_id"),
                              bucket=text(export, "bucket"), prefix=text(export, "prefix"), expiry_secs=expiry,
                              now=now)
    return exported, built.vmdk_exports.download_url(exported.bucket, exported.key, expiry)

