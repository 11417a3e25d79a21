"""Findings reports and SBOM exports: asynchronous jobs that write to S3.

A job is IN_PROGRESS for ``clock.scaled(REPORT_SECONDS)``, then evaluates
its criteria against the findings (or covered resources) of that moment and
writes to the destination bucket in moto's S3, encrypted with the given KMS
key, or ends FAILED with the service's error codes: ``BUCKET_NOT_FOUND``,
``MALFORMED_KMS_KEY``, ``NO_FINDINGS_FOUND`` (nothing matched) or
``INTERNAL_ERROR`` (an injected ``fail`` fault). A ``hang`` fault keeps the
job IN_PROGRESS; ``delay`` lengthens it.

Objects written:
* findings report: ``<keyPrefix>/<reportId>.json`` (``{"findings": [...]}``,
  each finding as ListFindings returns it, timestamps ISO 8601) or ``.csv``;
* SBOM export: ``<keyPrefix>/<reportId>/<resourceId>.json`` per resource,
  CycloneDX 1.4 or SPDX 2.3 JSON, listing the packages known for the
  resource (those named by its findings' ``vulnerablePackages``) and, for
  CycloneDX, the vulnerabilities.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.kms.models import kms_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from local import clock, faults

from . import models, wire
from .exceptions import ResourceNotFoundException, ValidationException
from .filters import (
    FINDING_DATE_FIELDS,
    FINDING_MAP_FIELDS,
    FINDING_NUMBER_FIELDS,
    FINDING_STRING_FIELDS,
    RESOURCE_MAP_FIELDS,
    RESOURCE_STRING_FIELDS,
    Criteria,
)

log = logging.getLogger(__name__)

REPORT_SECONDS = 30.0
FINDINGS_FORMATS = ("JSON", "CSV")
SBOM_FORMATS = ("CYCLONEDX_1_4", "SPDX_2_3")
CSV_COLUMNS = (
    ("AWS Account Id", "awsAccountId"), ("Severity", "severity"), ("Fix Available", "fixAvailable"),
    ("Finding Type", "type"), ("Title", "title"), ("Description", "description"), ("Finding ARN", "findingArn"),
    ("First Seen", "firstObservedAt"), ("Last Seen", "lastObservedAt"), ("Last Updated", "updatedAt"),
    ("Resource ID", "resourceId"), ("Resource Type", "resourceType"), ("Region", "region"), ("AMI", "imageId"),
    ("Affected Packages", "packages"), ("Fixed in Version", "fixedIn"), ("Inspector Score", "inspectorScore"),
    ("Status", "status"), ("Vulnerability Id", "vulnerabilityId"), ("Vendor Severity", "vendorSeverity"),
    ("Exploit Available", "exploitAvailable"), ("Remediation", "remediation"),
)


@dataclass
class Report:
    report_id: str
    kind: str  # "findings" | "sbom"
    account_id: str
    region: str
    report_format: str
    destination: dict[str, Any]
    criteria: dict[str, Any]
    due: float | None  # None: never finishes (hang)
    fail_reason: str | None = None
    status: str = "IN_PROGRESS"
    error_code: str | None = None
    error_message: str | None = None
    keys: list[str] = field(default_factory=list)


_timers: dict[str, threading.Timer] = {}


def _plan(operation: str) -> tuple[float | None, str | None]:
    fault = faults.use("inspector2", operation)
    extra = fault.seconds if fault is not None and fault.kind == "delay" else 0.0
    due = time.time() + clock.scaled(REPORT_SECONDS + extra)
    if fault is not None and fault.kind == "hang":
        return None, None
    if fault is not None and fault.kind == "fail":
        return due, f"{fault.message} (fault injected into {operation})"
    return due, None


def _validate_destination(destination: dict[str, Any] | None) -> dict[str, Any]:
    destination = destination or {}
    for key in ("bucketName", "kmsKeyArn"):
        if not destination.get(key):
            raise ValidationException(f"s3Destination.{key} is required.", field=f"s3Destination.{key}")
    return destination


def create_findings_report(account_id: str, region: str, params: dict[str, Any]) -> Report:
    if params.get("reportFormat") not in FINDINGS_FORMATS:
        raise ValidationException(
            f"reportFormat '{params.get('reportFormat')}' is not valid: use JSON or CSV.", field="reportFormat"
        )
    criteria = params.get("filterCriteria") or {}
    _finding_criteria(criteria)  # refuse unsupported criteria now, not when the report runs
    due, reason = _plan("CreateFindingsReport")
    report = Report(str(uuid.uuid4()), "findings", account_id, region, params["reportFormat"],
                    _validate_destination(params.get("s3Destination")), criteria, due, reason)
    _add(report)
    return report


def create_sbom_export(account_id: str, region: str, params: dict[str, Any]) -> Report:
    if params.get("reportFormat") not in SBOM_FORMATS:
        raise ValidationException(
            f"reportFormat '{params.get('reportFormat')}' is not valid: use CYCLONEDX_1_4 or SPDX_2_3.",
            field="reportFormat",
        )
    criteria = params.get("resourceFilterCriteria") or {}
    _resource_criteria(criteria)
    due, reason = _plan("CreateSbomExport")
    report = Report(str(uuid.uuid4()), "sbom", account_id, region, params["reportFormat"],
                    _validate_destination(params.get("s3Destination")), criteria, due, reason)
    _add(report)
    return report


def get(account_id: str, region: str, kind: str, report_id: str | None) -> Report:
    reports = [r for r in models.backend(account_id, region).reports.values() if r.kind == kind]
    if report_id is None:
        if not reports:
            raise ResourceNotFoundException("No report has been created in this account and region yet.")
        return reports[-1]
    for report in reports:
        if report.report_id == report_id:
            return report
    raise ResourceNotFoundException(f"The report '{report_id}' does not exist.")


def cancel(account_id: str, region: str, kind: str, report_id: str) -> Report:
    report = get(account_id, region, kind, report_id)
    if report.status == "IN_PROGRESS":
        _disarm(report.report_id)
        report.status = "CANCELLED"
    return report


def _finding_criteria(criteria: dict[str, Any]) -> Criteria:
    return Criteria(criteria, strings=FINDING_STRING_FIELDS, numbers=FINDING_NUMBER_FIELDS,
                    dates=FINDING_DATE_FIELDS, maps=FINDING_MAP_FIELDS)


def _resource_criteria(criteria: dict[str, Any]) -> Criteria:
    return Criteria(criteria, strings=RESOURCE_STRING_FIELDS, maps=RESOURCE_MAP_FIELDS,
                    name="resourceFilterCriteria")


# ---- running ----------------------------------------------------------
def _add(report: Report) -> None:
    with models.lock:
        models.backend(report.account_id, report.region).reports[report.report_id] = report
        _arm(report)


def _arm(report: Report) -> None:
    if report.status != "IN_PROGRESS" or report.due is None:
        return
    timer = threading.Timer(max(0.0, report.due - time.time()), _finish,
                            args=(report.account_id, report.region, report.report_id))
    timer.daemon = True
    _timers[report.report_id] = timer
    timer.start()


def _disarm(report_id: str) -> None:
    timer = _timers.pop(report_id, None)
    if timer is not None:
        timer.cancel()


def _finish(account_id: str, region: str, report_id: str) -> None:
    """End a job. S3 is written outside the lock: an S3 event it triggers
    may run a Lambda that calls back into this service."""
    outcome: tuple[str, str | None, str | None] = ("SUCCEEDED", None, None)
    with models.lock:
        _timers.pop(report_id, None)
        report = models.backend(account_id, region).reports.get(report_id)
        if report is None or report.status != "IN_PROGRESS":
            return
        try:
            documents = _prepare(report)
        except _JobFailed as failed:
            documents, outcome = [], ("FAILED", failed.code, failed.message)
    try:
        _write(report, documents)
    except Exception as error:  # noqa: BLE001 - the job fails with the reason, as the service reports it
        log.exception("Inspector2 report %s failed", report_id)
        outcome = ("FAILED", "INTERNAL_ERROR", str(error))
    with models.lock:
        if report.status == "IN_PROGRESS":
            report.status, report.error_code, report.error_message = outcome


class _JobFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _prepare(report: Report) -> list[tuple[str, bytes]]:
    """The objects to write, or why the job fails."""
    if report.fail_reason:
        raise _JobFailed("INTERNAL_ERROR", report.fail_reason)
    bucket = report.destination["bucketName"]
    try:
        s3_backends[report.account_id]["aws"].get_bucket(bucket)
    except MissingBucket:
        raise _JobFailed("BUCKET_NOT_FOUND", f"The bucket '{bucket}' does not exist.") from None
    _check_key(report, report.destination["kmsKeyArn"])
    return _findings_report(report) if report.kind == "findings" else _sbom_documents(report)


def _write(report: Report, documents: list[tuple[str, bytes]]) -> None:
    s3 = s3_backends[report.account_id]["aws"]
    prefix = (report.destination.get("keyPrefix") or "").strip("/")
    for name, body in documents:
        key = f"{prefix}/{name}" if prefix else name
        s3.put_object(report.destination["bucketName"], key, body, encryption="aws:kms",
                      kms_key_id=report.destination["kmsKeyArn"])
        report.keys.append(key)


def _check_key(report: Report, key_arn: str) -> None:
    kms = kms_backends[report.account_id][report.region]
    try:
        kms.describe_key(key_arn)
    except Exception:  # noqa: BLE001 - moto raises KeyError or its own NotFound for unknown keys
        raise _JobFailed("MALFORMED_KMS_KEY", f"The KMS key '{key_arn}' does not exist in {report.region}.") from None


def _findings_report(report: Report) -> list[tuple[str, bytes]]:
    criteria = _finding_criteria(report.criteria)
    matched = [f for f in models.findings(report.account_id, report.region) if criteria.matches(f)]
    if not matched:
        raise _JobFailed("NO_FINDINGS_FOUND", "No findings match the report's filter criteria.")
    documents = [_iso_timestamps(d) for d in wire.serialize("ListFindings", {"findings": matched})["findings"]]
    if report.report_format == "JSON":
        return [(f"{report.report_id}.json", json.dumps({"findings": documents}, indent=2).encode())]
    return [(f"{report.report_id}.csv", _csv(documents))]


def _iso_timestamps(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _iso_timestamps(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_timestamps(v) for v in value]
    if isinstance(value, (int, float)) and (key.endswith("At") or key.endswith("Observed")):
        return datetime.fromtimestamp(value, timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def _csv(documents: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for title, _ in CSV_COLUMNS])
    for finding in documents:
        resource = finding["resources"][0]
        vulnerability = finding.get("packageVulnerabilityDetails") or {}
        packages = vulnerability.get("vulnerablePackages") or []
        flat = {
            **finding, "resourceId": resource["id"], "resourceType": resource["type"], "region": resource.get("region"),
            "imageId": ((resource.get("details") or {}).get("awsEc2Instance") or {}).get("imageId"),
            "packages": "; ".join(f"{p['name']}-{p['version']}" for p in packages),
            "fixedIn": "; ".join(p.get("fixedInVersion", "") for p in packages),
            "vulnerabilityId": vulnerability.get("vulnerabilityId"),
            "vendorSeverity": vulnerability.get("vendorSeverity"),
            "remediation": ((finding.get("remediation") or {}).get("recommendation") or {}).get("text"),
        }
        writer.writerow(["" if flat.get(key) is None else flat[key] for _, key in CSV_COLUMNS])
    return out.getvalue().encode()


def _sbom_documents(report: Report) -> list[tuple[str, bytes]]:
    criteria = _resource_criteria(report.criteria)
    resources = [c for c in models.coverage(report.account_id, report.region)
                 if c["scanStatus"]["reason"] == "SUCCESSFUL" and criteria.matches(c)]
    if not resources:
        raise _JobFailed("NO_FINDINGS_FOUND", "No scanned resource matches the export's resource filter criteria.")
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for finding in models.findings(report.account_id, report.region):
        by_resource.setdefault(finding["resources"][0]["id"], []).append(finding)
    render = _cyclonedx if report.report_format == "CYCLONEDX_1_4" else _spdx
    return [(f"{report.report_id}/{r['resourceId']}.json",
             json.dumps(render(r, by_resource.get(r["resourceId"], [])), indent=2).encode())
            for r in resources]


def _packages(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        for package in (finding.get("packageVulnerabilityDetails") or {}).get("vulnerablePackages") or []:
            seen.setdefault((package["name"], package["version"]), package)
    return list(seen.values())


def _purl(package: dict[str, Any]) -> str:
    manager = (package.get("packageManager") or "OS").lower()
    kind = {"os": "rpm", "pip": "pypi", "npm": "npm", "gomod": "golang", "jar": "maven"}.get(manager, manager)
    return f"pkg:{kind}/{package['name']}@{package['version']}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cyclonedx(resource: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    packages = _packages(findings)
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.4", "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
        "metadata": {
            "timestamp": _now(), "tools": [{"vendor": "Amazon Web Services, Inc. (AWS)", "name": "Amazon Inspector"}],
            "component": {"type": "operating-system", "name": resource["resourceId"], "bom-ref": resource["resourceId"],
                          "properties": [{"name": "amazon:inspector:ami_id",
                                          "value": resource["resourceMetadata"]["ec2"]["amiId"]}]},
        },
        "components": [{"type": "library", "bom-ref": _purl(p), "name": p["name"], "version": p["version"],
                        "purl": _purl(p)} for p in packages],
        "vulnerabilities": [{
            "id": (f.get("packageVulnerabilityDetails") or {}).get("vulnerabilityId") or f["title"],
            "ratings": [{"severity": f["severity"].lower(), **({"score": f["inspectorScore"]}
                                                              if "inspectorScore" in f else {})}],
            "description": f["description"],
            "affects": [{"ref": _purl(p)} for p in (f.get("packageVulnerabilityDetails") or {})
                        .get("vulnerablePackages") or []],
        } for f in findings if f["status"] == "ACTIVE"],
    }


def _spdx(resource: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    packages = _packages(findings)
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": resource["resourceId"],
        "documentNamespace": f"https://inspector.amazonaws.com/sbom/{resource['resourceId']}/{uuid.uuid4()}",
        "creationInfo": {"created": _now(), "creators": ["Tool: Amazon Inspector"]},
        "packages": [{
            "SPDXID": f"SPDXRef-Package-{i}", "name": p["name"], "versionInfo": p["version"],
            "downloadLocation": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": _purl(p)}],
        } for i, p in enumerate(packages)],
    }


# ---- views --------------------------------------------------------------
def findings_report_status(report: Report) -> dict[str, Any]:
    view = {"reportId": report.report_id, "status": report.status, "destination": report.destination,
            "filterCriteria": report.criteria}
    if report.error_code:
        view.update(errorCode=report.error_code, errorMessage=report.error_message)
    return view


def sbom_export_status(report: Report) -> dict[str, Any]:
    view = {"reportId": report.report_id, "format": report.report_format, "status": report.status,
            "s3Destination": report.destination, "filterCriteria": report.criteria}
    if report.error_code:
        view.update(errorCode=report.error_code, errorMessage=report.error_message)
    return view


def resume_all(backends: list[Any]) -> None:
    with models.lock:
        for inspector in backends:
            for report in inspector.reports.values():
                _arm(report)


def stop_all() -> None:
    with models.lock:
        for timer in _timers.values():
            timer.cancel()
        _timers.clear()
