"""The receiver functions: SQS consumers that record results and errors.

Each SQS batch is processed record by record (Powertools' batch
processor); a record that fails is reported in ``batchItemFailures`` so
only it is retried, and after the queue's maximum receive count it moves
to the queue's dead-letter queue. Every other record of the batch is
recorded and deleted. Message bodies are never logged: a result may come
from a producer that still puts keys in it.

Message formats (docs/events.md):

* creation receiver: ``{"task_token": "...", "task_details": {"value": <result>}}``;
  ``task_token`` is optional (results sent without a waiting state
  machine), and a bare ``<result>`` is accepted too;
* error receiver: ``{lifecycle_id, name, status, status_date, execution_arn,
  error: {Error, Cause}}`` as state machines send it, or the flat form with
  ``error_message`` and ``stack_trace``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Mapping

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..adapters.ami_tags import DEFAULT_SESSION_NAME, AmiTagger, parse_accounts
from ..adapters.lookup_repository import LookupRepository
from ..adapters.notifier import Notifier
from ..adapters.semver_seeds import SemverSeeds
from ..adapters.state_repository import StateRepository
from ..adapters.workflows import Workflows
from ..config import RuntimeConfig
from ..domain.errors import DomainError, ValidationError, describe_value
from ..domain.workflow_errors import parse_workflow_error
from ..service.next_event import NextEventService
from ..service.results import ResultService

logger = Logger()


def build_service(config: RuntimeConfig, environ: Mapping[str, str] | None = None) -> ResultService:
    """The receivers' service for one deployment (``DISTRIBUTION_ACCOUNTS`` and
    ``TAGGER_SESSION_NAME`` are the creation receiver's own variables)."""
    env = os.environ if environ is None else environ
    repository = StateRepository(config.state_table_name)
    notifier = Notifier(config.notification_topic_arn)
    return ResultService(
        repository=repository,
        notifier=notifier,
        seeds=SemverSeeds(config.semver_seed_table_name, config.default_semver_seed),
        lookup=LookupRepository(config.lookup_table_name),
        tagger=AmiTagger(tagger_role_name=config.tagger_role_name,
                         distribution_accounts=parse_accounts(env.get("DISTRIBUTION_ACCOUNTS")),
                         session_name=env.get("TAGGER_SESSION_NAME") or DEFAULT_SESSION_NAME),
        workflows=Workflows(),
        next_events=NextEventService(repository=repository, notifier=notifier),
    )


_service: ResultService | None = None
_service_lock = threading.Lock()


def service() -> ResultService:
    """The container's service (configuration is read on first use)."""
    global _service
    with _service_lock:
        if _service is None:
            _service = build_service(RuntimeConfig.from_env())
        return _service


def reset_service() -> None:
    """Forget the service; the next invocation reads the environment again (tests)."""
    global _service
    with _service_lock:
        _service = None


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
        recorded = service().record_error(error)
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
def error_receiver(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch of the error receiver queue -> ``{"batchItemFailures": [...]}``."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=dict(event), record_handler=_record_error, processor=processor,
                                         context=context))
