"""The QA_CERTIFICATION_REQUEST state machine's last Lambda step (after the VMDK export steps).

:func:`notify_qa` - ``{lifecycle_id, stack_tag, ami, product_name,
product_ver, export}``: presign the exported disk's download link, tell the
QA team on the QA topic (the link, its expiry, how to answer and where the
QA key is kept; never the key), and return the event result, which records
where the disk is and when the link expires but not the link.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..bootstrap import container
from ..domain.builds import result_message
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.qa_certification import qa_request_message, request_result
from .step_input import mapping, text
from .vmdk_export import download_link

logger = Logger()

__all__ = ["notify_qa"]


@logger.inject_lambda_context
def notify_qa(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    built = container()
    now = built.clock()
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    stack_tag = text(event, "stack_tag")
    ami = mapping(event, "ami")
    exported, url = download_link(mapping(event, "export"), now=now)
    message = qa_request_message(
        lifecycle_id=lifecycle_id, stack_tag=stack_tag, ami=ami, export=exported, download_url=url,
        api_url=built.api_url, key_secret_name=built.config.require("QA_KEY_SECRET_NAME"), now=now,
        product={"name": event.get("product_name"), "version": event.get("product_ver")})
    message_id = built.qa_notifier.publish(message)
    logger.info("QA team notified", extra={"lifecycle_id": lifecycle_id, "ami_id": exported.ami_id,
                                           "export": exported.path, "message_id": message_id})
    return result_message(request_result(lifecycle_id=lifecycle_id, ami=ami, export=exported, now=now))
