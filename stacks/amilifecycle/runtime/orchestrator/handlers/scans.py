"""The VULNERABILITY_SCANS state machine's Lambda steps, and the Inspector2 scan listener.

Steps (stacks/amilifecycle/events/vulnerability_scans.py wires them):

* :func:`check_scanning` - Amazon Inspector scans EC2 in this account, or a
  clear error naming ``deploy.sh``;
* :func:`wait_for_scan` - register the step's task token for the instance
  (answered at once when its scan already completed);
* :func:`scan_notification` - EventBridge target of Inspector2's
  ``Inspector2 Scan`` events: records the scan's end and answers the token;
* :func:`check_scan` - the slow safety check after a wait timed out;
* :func:`collect_findings` - findings by severity, metrics, and the findings
  report and SBOM export started;
* :func:`check_exports` - have the report and the SBOM been written?
* :func:`scan_result` - the event result, the severity gate applied.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..adapters.inspector import Inspector, ScanningNotEnabled
from ..adapters.task_waits import TaskWaits
from ..adapters.workflows import answered
from ..bootstrap import container
from ..domain.builds import result_message
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.scans import gate_for, summarize_findings
from ..domain.scans import scan_result as shape_scan_result
from .step_input import mapping, text

logger = Logger()

SCANNED = "SCANNED"

__all__ = ["ScanningNotEnabled", "check_exports", "check_scan", "check_scanning", "collect_findings",
           "scan_notification", "scan_result", "wait_for_scan"]


def _inspector() -> Inspector:
    return container().inspector


def _waits() -> TaskWaits:
    return container().scan_waits


def _answer(task_token: str | None, instance_id: str) -> bool:
    if not task_token:
        return False
    done = answered(lambda: container().workflows.send_task_success(
        task_token, {"instance_id": instance_id, "scan_status": SCANNED}))
    logger.info("scan wait answered" if done else "scan wait token no longer waiting",
                extra={"instance_id": instance_id})
    return done


@logger.inject_lambda_context
def check_scanning(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{}`` -> ``{account_id, status}``; ``ScanningNotEnabled`` when Inspector does not scan EC2."""
    return _inspector().require_ec2_scanning()


@logger.inject_lambda_context
def wait_for_scan(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{task_token, lifecycle_id, instance_id}``: register the token; answer it at once when the
    instance's scan already completed."""
    token = text(event, "task_token")
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    instance_id = text(event, "instance_id")
    waits, now = _waits(), container().clock()
    wait = waits.register_token(instance_id, token, lifecycle_id=lifecycle_id, now=now)
    if wait.outcome is None and _inspector().scan_completed(instance_id):
        wait = waits.record_outcome(instance_id, {"status": SCANNED}, now=now)
    answered_now = wait.ready and _answer(wait.task_token, instance_id)
    logger.info("scan wait registered", extra={"lifecycle_id": lifecycle_id, "instance_id": instance_id,
                                               "answered_at_once": answered_now})
    return {"instance_id": instance_id, "answered": answered_now}


@logger.inject_lambda_context
def scan_notification(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """An ``Inspector2 Scan`` event (EventBridge): record the instance's scan and resume its wait."""
    detail = mapping(event, "detail")
    instance_id = detail.get("instance-id") or next(
        (str(r).rsplit("/", 1)[-1] for r in event.get("resources") or [] if "instance/" in str(r) or
         str(r).startswith("i-")), None)
    if not instance_id or detail.get("scan-status") != "INITIAL_SCAN_COMPLETE":
        logger.info("inspector event ignored", extra={"detail_type": event.get("detail-type"),
                                                      "scan_status": detail.get("scan-status")})
        return {"answered": False}
    wait = _waits().record_outcome(str(instance_id), {"status": SCANNED}, now=container().clock())
    return {"instance_id": instance_id, "answered": wait.ready and _answer(wait.task_token, str(instance_id))}


@logger.inject_lambda_context
def check_scan(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{instance_id}`` -> ``{instance_id, scanned}`` (the safety check)."""
    instance_id = text(event, "instance_id")
    return {"instance_id": instance_id, "scanned": _inspector().scan_completed(instance_id)}


@logger.inject_lambda_context
def collect_findings(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, event, attempt, instance_id, ami}`` -> ``{summary, report, sbom}``: the instance's
    active findings counted (and the worst kept), per-severity metrics published, the findings report and
    the SBOM export started."""
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    instance_id = text(event, "instance_id")
    ami_id = text(mapping(event, "ami"), "id")
    prefix = f"{lifecycle_id}/{text(event, 'event')}-{event.get('attempt', 1)}"
    inspector = _inspector()
    findings = inspector.active_findings(instance_id)
    summary = summarize_findings(findings)
    inspector.publish_metrics(ami_id, summary["counts"])
    # Inspector refuses a report over no findings (NO_FINDINGS_FOUND): without findings there is none to ask for.
    report = inspector.start_findings_report(instance_id, key_prefix=f"findings/{prefix}") if findings else {}
    sbom = inspector.start_sbom_export(instance_id, key_prefix=f"sbom/{prefix}")
    logger.info("findings collected", extra={"lifecycle_id": lifecycle_id, "instance_id": instance_id,
                                             "findings": len(findings)})
    return {"summary": summary, "report": report, "sbom": sbom}


@logger.inject_lambda_context
def check_exports(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{report, sbom}`` -> ``{report, sbom, done}``: statuses of the findings report and the SBOM export."""
    inspector = _inspector()
    report = inspector.report_status(dict(event.get("report") or {}))
    sbom = inspector.sbom_status(dict(event.get("sbom") or {}))
    done = all(item.get("status") in ("SUCCEEDED", "FAILED", "CANCELLED") for item in (report, sbom) if item)
    return {"report": report, "sbom": sbom, "done": done}


@logger.inject_lambda_context
def scan_result(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, event, properties, summary, exports, instance}`` -> the result message."""
    built = container()
    gate = gate_for(mapping(event, "properties"),
                    built.config.optional("VULNERABILITY_GATE") or "")
    exports = mapping(event, "exports")
    instance = mapping(event, "instance")
    instance_ids = list(instance.get("instance_ids") or [])
    result = shape_scan_result(
        lifecycle_id=event.get("lifecycle_id"), event=event.get("event"),
        summary=mapping(event, "summary"), gate=gate,
        report=Inspector.location(exports.get("report")), sbom=Inspector.location(exports.get("sbom")),
        instance_id=instance_ids[0] if instance_ids else None, now=built.clock())
    logger.info("scan result", extra={"lifecycle_id": result.lifecycle_id, "status": str(result.status),
                                      "gate": result.properties.get("severity_gate")})
    return result_message(result)
