"""Where the runtime joins moto: replacements for the methods of moto's
Lambda model that every invocation path goes through.

* ``LambdaFunction.invoke`` - the Invoke API, Step Functions tasks (which
  call the Invoke API), DynamoDB streams, EventBridge targets: runs the
  handler; ``Event`` invocations run in the background, ``DryRun`` ones do
  not run; a function error is flagged ``Unhandled``;
* ``LambdaFunction._invoke_lambda`` - kept for any caller of moto's private
  entry point, with its ``(payload, errored, logs)`` return;
* ``LambdaBackend.send_sqs_batch`` - SQS event source mappings (see
  ``event_sources``);
* ``LambdaBackend.send_sns_message`` - SNS subscriptions, asynchronous;
  the event carries the publication's message id and attributes, which
  :mod:`local.sns_delivery` keeps while moto delivers it;
* ``LambdaFunction.__init__``, ``get_configuration`` and
  ``update_configuration`` - the function's ``LoggingConfig``, which moto
  drops (see :mod:`local.lambda_runtime.logging_config`).

These are private methods of moto: requirements.txt pins moto exactly, and
the tests of this package fail loudly if a new moto changes them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.core.exceptions import JsonRESTError

from local import sns_delivery
from local.lambda_runtime.event_sources import SqsEventSource, sns_event, subscription_of
from local.lambda_runtime.logging_config import logging_config, set_logging_config
from local.lambda_runtime.runtime import LambdaRuntime, TooManyRequests

# Lambda returns the last 4 KB of the log with LogType=Tail.
_LOG_TAIL_BYTES = 4096


class TooManyRequestsException(JsonRESTError):
    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def parse_event(body: Any) -> Any:
    """The JSON value of an Invoke payload; an empty payload is ``{}`` as
    on Lambda, and anything that is not JSON is the client's error."""
    if body is None or body in ("", b""):
        return {}
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str):
        return body
    try:
        return json.loads(body)
    except ValueError as error:
        raise LambdaClientError("InvalidRequestContentException",
                                f"Could not parse request body into json: {error}") from None


class Patches:
    """Installs the replacements and restores moto's originals."""

    def __init__(self, runtime: LambdaRuntime, sqs: SqsEventSource) -> None:
        self.runtime = runtime
        self.sqs = sqs
        self._originals: list[tuple[type, str, Callable[..., Any]]] = []

    def install(self) -> None:
        runtime, sqs = self.runtime, self.sqs
        sns_delivery.install()  # what send_sns_message reads the publication from

        def invoke(function: LambdaFunction, body: Any, request_headers: Any,
                   response_headers: Any) -> bytes:
            invocation_type = _header(request_headers, "x-amz-invocation-type") or "RequestResponse"
            event = parse_event(body)
            response_headers["x-amz-executed-version"] = str(function.version or "$LATEST")
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                runtime.invoke_async(function, event)
                return b""
            try:
                outcome = runtime.invoke(function, event)
            except TooManyRequests as error:
                raise TooManyRequestsException(str(error)) from None
            if outcome.function_error:
                response_headers["x-amz-function-error"] = outcome.function_error
            tail = outcome.log_text.encode("utf-8")[-_LOG_TAIL_BYTES:]
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
            return outcome.payload

        def invoke_lambda(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            outcome = runtime.invoke(function, {} if event is None else event)
            return outcome.payload.decode("utf-8"), bool(outcome.function_error), outcome.log_text

        def send_sqs_batch(backend: LambdaBackend, function_arn: str, messages: Any, queue_arn: str) -> bool:
            # The queue deletes the messages of a successful batch right
            # after this returns. Delivery happens later, in the background,
            # and settles each message itself: hand the queue nothing.
            batch = list(messages)
            del messages[:]
            sqs.take_batch(backend.account_id, backend.region_name, function_arn, queue_arn, batch)
            return True

        def send_sns_message(backend: LambdaBackend, function_name: str, message: str,
                             subject: str | None = None, qualifier: str | None = None) -> None:
            function = backend.get_function(function_name, qualifier)
            delivery = sns_delivery.current()
            if delivery is not None and delivery.protocol != "lambda":
                delivery = None
            if delivery is not None:
                topic_arn, subscription_arn = delivery.topic_arn, delivery.subscription_arn
                message_id: str | None = delivery.message_id
            else:
                topic_arn, subscription_arn = subscription_of(backend.account_id, backend.region_name,
                                                              function.function_arn)
                message_id = None
            event = sns_event(message, subject, topic_arn, subscription_arn, message_id=message_id,
                              message_attributes=sns_delivery.lambda_message_attributes(delivery))
            runtime.invoke_async(function, event)

        original_init = LambdaFunction.__dict__["__init__"]
        original_get_configuration = LambdaFunction.__dict__["get_configuration"]
        original_update_configuration = LambdaFunction.__dict__["update_configuration"]

        def init(function: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            original_init(function, account_id, spec, *args, **kwargs)
            set_logging_config(function, spec.get("LoggingConfig"))

        def get_configuration(function: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
            configuration = original_get_configuration(function, *args, **kwargs)
            configuration["LoggingConfig"] = logging_config(function)
            return configuration

        def update_configuration(function: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
            if "LoggingConfig" in config_updates:
                set_logging_config(function, {**(getattr(function, "logging_config", None) or {}),
                                              **(config_updates["LoggingConfig"] or {})})
            return original_update_configuration(function, config_updates)

        self._replace(LambdaFunction, "__init__", init)
        self._replace(LambdaFunction, "get_configuration", get_configuration)
        self._replace(LambdaFunction, "update_configuration", update_configuration)
        self._replace(LambdaFunction, "invoke", invoke)
        self._replace(LambdaFunction, "_invoke_lambda", invoke_lambda)
        self._replace(LambdaBackend, "send_sqs_batch", send_sqs_batch)
        self._replace(LambdaBackend, "send_sns_message", send_sns_message)

    def _replace(self, owner: type, name: str, replacement: Callable[..., Any]) -> None:
        original = owner.__dict__.get(name)
        if original is None:
            raise RuntimeError(
                f"moto's {owner.__name__}.{name} is gone: this moto is not the version the "
                "local cloud's Lambda runtime was written for (see requirements.txt)"
            )
        self._originals.append((owner, name, original))
        setattr(owner, name, replacement)

    def uninstall(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)
