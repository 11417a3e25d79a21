"""Vulnerability scans: the severity gate and the event result.

Amazon Inspector scans an instance of the AMI; its findings are counted by
severity. The *severity gate* decides whether the AMI may go on: a rule
such as ``CRITICAL=0,HIGH=5`` allows at most that many findings of each
named severity (``CRITICAL=0``: any critical finding trips it). The gate
comes from the deployment's settings (``vulnerabilityScans.severityGate``)
unless the lifecycle's properties name one (``vulnerability_gate``); an
empty rule never trips. A tripped gate ends the event FAILED (the AMI was
scanned and refused), with the counts and the findings that tripped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from .errors import ValidationError, describe_value
from .fields import lifecycle_id as parse_lifecycle_id
from .results import EventResult
from .timestamps import iso_utc
from .vocabulary import EventName, Status, lifecycle_type_of, parse_event_name

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED")
SCAN_TASK = "VULNERABILITY_SCANS"
SCAN_EVENTS = (EventName.VULNERABILITY_SCANS_AMI_CREATE, EventName.VULNERABILITY_SCANS_AMI_PATCH)
GATE_PROPERTY = "vulnerability_gate"
# At most this many tripping findings are kept in the record (and shown on the page and in mails).
MAX_TRIPPING_FINDINGS = 20


@dataclass(frozen=True)
class SeverityGate:
    """At most ``limits[severity]`` findings of each listed severity."""

    limits: Mapping[str, int]

    @property
    def rule(self) -> str:
        return ",".join(f"{severity}={self.limits[severity]}" for severity in SEVERITIES if severity in self.limits)

    def tripped_by(self, counts: Mapping[str, int]) -> list[str]:
        """The severities whose count is over the limit, most severe first."""
        return [severity for severity in SEVERITIES
                if severity in self.limits and int(counts.get(severity, 0)) > self.limits[severity]]


def parse_gate(text: Any, *, field: str = GATE_PROPERTY) -> SeverityGate:
    """``CRITICAL=0,HIGH=5`` (case-insensitive, spaces allowed; empty: no gate)."""
    if text is None:
        return SeverityGate({})
    if not isinstance(text, str):
        raise ValidationError(f"{field}: expected text like CRITICAL=0,HIGH=5, got {describe_value(text)}",
                              field=field)
    limits: dict[str, int] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        severity, _, limit = (value.strip() for value in part.partition("="))
        severity = severity.upper()
        if severity not in SEVERITIES or not limit.isdigit():
            raise ValidationError(
                f"{field}: {part!r} is not SEVERITY=N with SEVERITY one of {', '.join(SEVERITIES)} and N a whole "
                f"number >= 0 (e.g. CRITICAL=0,HIGH=5)", field=field, allowed=list(SEVERITIES))
        if severity in limits:
            raise ValidationError(f"{field}: {severity} is given twice", field=field)
        limits[severity] = int(limit)
    return SeverityGate(limits)


def gate_for(properties: Mapping[str, Any] | None, default_rule: str) -> SeverityGate:
    """The lifecycle's own gate when its properties name one, else the deployment's."""
    own = (properties or {}).get(GATE_PROPERTY)
    return parse_gate(own) if own is not None else parse_gate(default_rule, field="severityGate")


def severity_counts(findings: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Active findings per severity (every severity listed, zeros included)."""
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        severity = str(finding.get("severity") or "UNTRIAGED").upper()
        counts[severity if severity in counts else "UNTRIAGED"] += 1
    return counts


def finding_summary(finding: Mapping[str, Any]) -> dict[str, Any]:
    """What the record keeps of one finding: enough to act on it."""
    details = finding.get("packageVulnerabilityDetails") or {}
    packages = [f"{p.get('name')} {p.get('version')}".strip() for p in details.get("vulnerablePackages") or []
                if isinstance(p, Mapping)]
    summary = {"title": str(finding.get("title") or "")[:256], "severity": str(finding.get("severity") or ""),
               "vulnerability_id": details.get("vulnerabilityId"), "packages": packages[:5],
               "inspector_score": finding.get("inspectorScore"), "finding_arn": finding.get("findingArn")}
    return {key: value for key, value in summary.items() if value not in (None, "", [])}


def summarize_findings(findings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a scan hands on: the counts, and the worst findings (most severe, highest score first)."""
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    worst = sorted(findings, key=lambda f: (rank.get(str(f.get("severity") or "").upper(), len(SEVERITIES)),
                                            -float(f.get("inspectorScore") or 0)))
    return {"counts": severity_counts(findings), "worst": [finding_summary(f) for f in worst[:MAX_TRIPPING_FINDINGS * 3]]}


def scan_result(*, lifecycle_id: Any, event: Any, summary: Mapping[str, Any], gate: SeverityGate,
                report: Mapping[str, str] | None, sbom: Mapping[str, str] | None, instance_id: str | None,
                now: datetime) -> EventResult:
    """The VULNERABILITY_SCANS_AMI_CREATE / _PATCH result of one scan (``summary``: :func:`summarize_findings`)."""
    name = parse_event_name(event, field="event", allowed=SCAN_EVENTS)
    counts = {severity: int((summary.get("counts") or {}).get(severity, 0)) for severity in SEVERITIES}
    tripped = gate.tripped_by(counts)
    properties: dict[str, Any] = {
        "task": SCAN_TASK,
        "vulnerability_severities": counts,
        "total_vulnerabilities": sum(counts.values()),
        "severity_gate": {"rule": gate.rule or "none", "passed": not tripped, "tripped_by": tripped},
    }
    if report:
        properties["vulnerability_scan_report"] = dict(report)
    if sbom:
        properties["sbom"] = dict(sbom)
    if instance_id:
        properties["vulnerability_scan_instance_id"] = instance_id
    if tripped:
        offending = [f for f in summary.get("worst") or [] if str(f.get("severity") or "").upper() in tripped]
        properties["tripping_findings"] = offending[:MAX_TRIPPING_FINDINGS]
        over = ", ".join(f"{severity} {counts[severity]} > {gate.limits[severity]}" for severity in tripped)
        properties["failure_reason"] = f"the severity gate {gate.rule} tripped: {over}"
    return EventResult(lifecycle_id=parse_lifecycle_id(lifecycle_id), name=name,
                       status=Status.FAILED if tripped else Status.COMPLETED, status_date=iso_utc(now),
                       properties=properties, attributes={"operation_type": str(lifecycle_type_of(name))})
