"""The receiver functions: SQS consumers that record results and errors.

Each SQS batch is processed record by record (Powertools' batch
processor); a record that fails is reported in ``batchItemFailures`` so
only it is retried, and after the queue's maximum receive count it moves
to the queue's dead-letter queue. Every other record of the batch is
recorded and deleted. Message bodies are never logged: a result may come
from a producer that still puts keys in it.

Message formats (docs/events.md):

* creation and patch receivers: ``{"task_token": "...", "task_details": {"value": <result>}}``;
  ``task_token`` is optional (results sent without a waiting state
  machine), and a bare ``<result>`` is accepted too;
* error receiver: ``{lifecycle_id, name, status, status_date, execution_arn,
  error: {Error, Cause}}`` as state machines send it, or the flat form with
  ``error_message`` and ``stack_trace``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..bootstrap import container, reset
from ..domain.errors import DomainError, ValidationError, describe_value
from ..domain.workflow_errors import parse_workflow_error
from ..service.results import ResultService

logger = Logger()


def service() -> ResultService:
    """The execution environment's result service (configuration is read on first use)."""
    return container().results


def reset_service() -> None:
    """Forget the container; the next invocation reads the environment again (tests)."""
    reset()


def parse_body(body: Any) -> Mapping[str, Any]:
    """A message body as a JSON object."""
    try:
        parsed = json.loads(body) if isinstance(body, (str, bytes)) else body
    except ValueError:
        raise ValidationError("message body: expected a JSON object, got text that is not JSON") from None
    if not isinstance(parsed, Mapping):
        raise ValidationError(f"message body: expected a JSON object, got {describe_value(parsed)}")
    return parsed


def result_envelope(body: Any) -> tuple[Any, str | None]:
    """``(result, task token)`` of a creation receiver message."""
    message = parse_body(body)
    details = message.get("task_details")
    value = details.get("value") if isinstance(details, Mapping) and "value" in details else message
    token = message.get("task_token")
    return value, token if isinstance(token, str) and token.strip() else None


def _record_result(record: SQSRecord) -> None:
    try:
        value, token = result_envelope(record.body)
        recorded = service().record_result(value, task_token=token)
    except DomainError as refused:
        logger.warning("result refused", extra={"message_id": record.message_id, "code": refused.code,
                                                 "reason": refused.message})
        raise
    except Exception:
        logger.exception("result not recorded; the message will be retried", extra={"message_id": record.message_id})
        raise
    logger.info("result message processed", extra={"message_id": record.message_id,
                                                   "lifecycle_id": recorded.result.lifecycle_id,
                                                   "event": str(recorded.result.name),
                                                   "duplicate": recorded.duplicate})


def _record_error(record: SQSRecord) -> None:
    try:
        error = parse_workflow_error(parse_body(record.body))
        recorded = container().errors.record_error(error)
    except DomainError as refused:
        logger.warning("error report refused", extra={"message_id": record.message_id, "code": refused.code,
                                                       "reason": refused.message})
        raise
    except Exception:
        logger.exception("error report not recorded; the message will be retried",
                         extra={"message_id": record.message_id})
        raise
    logger.info("error report processed", extra={"message_id": record.message_id,
                                                  "lifecycle_id": recorded.error.lifecycle_id,
                                                  "applied": recorded.applied})


@logger.inject_lambda_context
def creation_receiver(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch of the creation receiver queue -> ``{"batchItemFailures": [...]}``."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=dict(event), record_handler=_record_result, processor=processor,
                                         context=context))


@logger.inject_lambda_context
def patch_receiver(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch of the patch receiver queue -> ``{"batchItemFailures": [...]}`` (results of patch events,
    recorded as the creation receiver records creation results)."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=dict(event), record_handler=_record_result, processor=processor,
                                         context=context))


@logger.inject_lambda_context
def error_receiver(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch of the error receiver queue -> ``{"batchItemFailures": [...]}``."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=dict(event), record_handler=_record_error, processor=processor,
                                         context=context))
