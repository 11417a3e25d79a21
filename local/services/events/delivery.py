"""EventBridge delivers matching events to Lambda, Step Functions, SNS and
SQS targets.

moto's EventBridge stores rules and targets, and ``PutEvents`` matches each
rule's pattern (moto's own matcher: exact values, ``prefix``, ``suffix``,
``anything-but``, ``numeric``, ``exists``, ``equals-ignore-case``,
``wildcard``, ``cidr``, ``$or``), but only hands events to log groups,
archives, other buses and SQS, and never to a Lambda function.
:func:`install` takes over ``Rule.send_to_targets``:

* a rule that is ``DISABLED``, or has only a schedule (no pattern), matches
  nothing, as on AWS;
* the event a target receives is AWS's: ``version``, ``id``,
  ``detail-type``, ``source``, ``account``, ``time`` (ISO 8601),
  ``region``, ``resources``, ``detail``;
* each target's ``Input`` (a constant), ``InputPath`` (a JSONPath into the
  event) or ``InputTransformer`` (``InputPathsMap`` + ``InputTemplate``)
  shapes what it receives;
* Lambda targets are invoked asynchronously through the local Lambda
  runtime (retried as Lambda retries asynchronous invocations); Step
  Functions targets start an execution with the input; SNS targets publish
  it; SQS targets receive it (with ``SqsParameters.MessageGroupId``);
* other targets (log groups, archives, buses, API destinations) stay
  moto's.

A target that cannot be reached is logged and skipped; the other targets
of the rule still receive the event.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)

OWN_TARGETS = ("lambda", "states", "sns", "sqs")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_installed = False


def aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event message as EventBridge hands it to a target."""
    moment = event.get("time")
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": event.get("version", "0"), "id": event.get("id") or str(uuid.uuid4()),
        "detail-type": event.get("detail-type"), "source": event.get("source"), "account": event.get("account"),
        "time": moment, "region": event.get("region"), "resources": list(event.get("resources") or []),
        "detail": event.get("detail", {}),
    }


def _json_path(expression: str, document: Any) -> Any:
    from jsonpath_ng.ext import parse

    matches = parse(expression).find(document)
    if not matches:
        return None
    return matches[0].value if len(matches) == 1 else [match.value for match in matches]


def transform(template: str, paths: dict[str, str], event: dict[str, Any], rule: Any) -> Any:
    """An ``InputTransformer``'s output: each ``<name>`` of the template
    replaced by its value (inside a JSON string a string value goes in as
    its text, elsewhere any value goes in as JSON); JSON if the result parses, text
    otherwise. The predefined ``<aws.events.rule-arn>``,
    ``<aws.events.rule-name>``, ``<aws.events.event.ingestion-time>`` and
    ``<aws.events.event.json>`` are known too."""
    values = {name: _json_path(path, event) for name, path in (paths or {}).items()}
    values.update({"aws.events.rule-arn": getattr(rule, "arn", None), "aws.events.rule-name": rule.name,
                   "aws.events.event.ingestion-time": event.get("time"), "aws.events.event.json": event})

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        if _inside_string(template, match.start()) and isinstance(value, str):
            return json.dumps(value)[1:-1]
        return json.dumps(value)

    text = _PLACEHOLDER.sub(replace, template)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _inside_string(template: str, position: int) -> bool:
    """Whether ``position`` of a JSON template lies inside a string."""
    inside = escaped = False
    for character in template[:position]:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = inside
        elif character == '"':
            inside = not inside
    return inside


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Any) -> Any:
    """What one target receives for ``event``."""
    if target.get("Input") is not None:
        try:
            return json.loads(target["Input"])
        except ValueError:
            return target["Input"]
    if target.get("InputPath"):
        return _json_path(target["InputPath"], event)
    transformer = target.get("InputTransformer")
    if transformer:
        return transform(transformer.get("InputTemplate", ""), transformer.get("InputPathsMap") or {}, event, rule)
    return event


def _text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


def deliver(target: dict[str, Any], payload: Any) -> None:
    """Hand ``payload`` to one Lambda, Step Functions, SNS or SQS target."""
    from moto.utilities.arns import parse_arn

    arn = target["Arn"]
    parsed = parse_arn(arn)
    account, region = parsed.account, parsed.region
    if parsed.service == "lambda":
        from moto.awslambda.models import lambda_backends

        from local import lambda_runtime

        runtime = lambda_runtime.current_runtime()
        if runtime is None:
            raise RuntimeError("the local Lambda runtime is not running")
        function = lambda_backends[account][region].get_function(arn)
        runtime.invoke_async(function, payload)
    elif parsed.service == "states":
        from moto.stepfunctions.responses import get_backend

        get_backend(account, region).start_execution(arn, name=str(uuid.uuid4()), execution_input=_text(payload))
    elif parsed.service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(message=_text(payload), arn=arn)
    elif parsed.service == "sqs":
        from moto.sqs.models import sqs_backends

        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        sqs_backends[account][region].send_message(queue_name=arn.rsplit(":", 1)[1], message_body=_text(payload),
                                                   group_id=group, deduplication_id=str(uuid.uuid4())
                                                   if group else None)


def _service(target: dict[str, Any]) -> str:
    parts = str(target.get("Arn", "")).split(":")
    return parts[2] if len(parts) > 2 else ""


def install() -> None:
    """Take over moto's ``Rule.send_to_targets`` (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.events.models import Rule

    if "send_to_targets" not in Rule.__dict__:
        raise RuntimeError("moto's events Rule.send_to_targets is gone: this moto is not the version the local "
                           "cloud was written for (see requirements.txt)")
    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state != "ENABLED" or not self.event_pattern.get_pattern():
            return
        if not self.event_pattern.matches_event(original_event):
            return
        others = [target for target in self.targets if _service(target) not in OWN_TARGETS]
        if others:
            moto_rule = copy.copy(self)
            moto_rule.targets = others
            original(moto_rule, original_event, transform_input)
        event = aws_event(original_event)
        for target in self.targets:
            if _service(target) not in OWN_TARGETS:
                continue
            try:
                deliver(target, target_input(target, event, self))
            except Exception:  # noqa: BLE001 - one unreachable target must not stop the others
                log.exception("EventBridge rule %s: delivery to %s failed", self.name, target.get("Arn"))

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    _installed = True


def put_service_event(account_id: str, region: str, source: str, detail_type: str, detail: dict[str, Any],
                      resources: list[str]) -> None:
    """Emit an AWS service's event on the default bus of ``account_id`` /
    ``region``, as the service would: every matching rule's targets get it."""
    from moto.events.models import events_backends

    entries = events_backends[account_id][region].put_events([{
        "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
        "Resources": resources,
    }])
    failed = [entry for entry in entries if "ErrorCode" in entry]
    if failed:
        log.warning("%s %s event not put: %s", source, detail_type, failed)
