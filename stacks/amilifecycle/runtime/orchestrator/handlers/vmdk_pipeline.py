"""The standalone VMDK export pipeline's Lambda functions (stacks/amilifecycle/vmdk_export_pipeline.py).

* :func:`on_image_build` - subscribed to the Image Builder topic: a build
  tagged ``AMI_LC_VMDK_EXPORT=TRUE`` that ended AVAILABLE starts the export
  state machine (execution named after the build, so a repeated
  notification starts nothing more); other builds are ignored;
* :func:`notify_export` - after the export steps: presign the disk's link
  and email it on the export topic;
* :func:`notify_failure` - an export that ended without a disk: say why.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..bootstrap import container
from ..domain.errors import Conflict
from ..domain.vmdk_pipeline import export_failed_message, export_ready_message, export_request
from .step_input import mapping, text
from .vmdk_export import download_link

logger = Logger()

__all__ = ["notify_export", "notify_failure", "on_image_build"]


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""


@logger.inject_lambda_context
def on_image_build(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    built = container()
    started, ignored = [], 0
    for record in event.get("Records") or []:
        document = json.loads((record.get("Sns") or {}).get("Message") or "{}")
        arn = document.get("arn")
        image = built.image_builder.get_image(arn) if arn else document
        request = export_request(image, _region())
        if request is None:
            ignored += 1
            continue
        try:
            built.workflows.start(built.config.require("VMDK_EXPORT_STATE_MACHINE_ARN"),
                                  name=request["execution_name"], execution_input=request)
        except Conflict:
            logger.info("export already started", extra={"image_build_version_arn": request["image_build_version_arn"]})
            continue
        started.append(request["ami"]["id"])
        logger.info("export started", extra={"image_build_version_arn": request["image_build_version_arn"],
                                             "ami_id": request["ami"]["id"]})
    return {"started": started, "ignored": ignored}


@logger.inject_lambda_context
def notify_export(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    built = container()
    now = built.clock()
    exported, url = download_link(mapping(event, "export"), now=now)
    message = export_ready_message(stack_tag=built.config.stack_tag, ami=mapping(event, "ami"),
                                   image_build_version_arn=text(event, "image_build_version_arn"),
                                   export=exported, download_url=url, now=now)
    message_id = built.export_notifier.publish(message)
    logger.info("export emailed", extra={"ami_id": exported.ami_id, "export": exported.path})
    return {"message_id": message_id, "export_image_path": exported.path,
            "export_link_expires_at": exported.link_expires_at}


@logger.inject_lambda_context
def notify_failure(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    built = container()
    ami = mapping(event, "ami")
    message = export_failed_message(stack_tag=built.config.stack_tag, ami_id=str(ami.get("id")),
                                    image_build_version_arn=str(event.get("image_build_version_arn")),
                                    error=mapping(event, "error"), now=built.clock())
    return {"message_id": built.export_notifier.publish(message)}
