"""Amazon Inspector (inspector2) and the scan metrics, for the vulnerability scans.

Inspector scans an instance of the AMI under test once it is running with
the Systems Manager agent; its findings are read for that instance alone.
The findings report (JSON) and the SBOM (CycloneDX 1.4) are written by
Inspector itself to the findings bucket, encrypted with the findings key,
under a prefix per lifecycle, event and attempt.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..domain.errors import DomainError, ErrorCode
from . import aws

METRIC_NAMESPACE = "AmiVulnerabilityScanFindings"
SBOM_FORMAT = "CYCLONEDX_1_4"
REPORT_FORMAT = "JSON"
FINAL_EXPORT_STATUSES = ("SUCCEEDED", "FAILED", "CANCELLED")


class ScanningNotEnabled(DomainError):
    """Amazon Inspector does not scan EC2 instances in this account and region (a state of the
    account that forbids the scan: a conflict, recorded as the event's error with its type's name)."""

    code = ErrorCode.CONFLICT
    http_status = 409


def _is(value: str) -> list[dict[str, str]]:
    return [{"comparison": "EQUALS", "value": value}]


class Inspector:
    def __init__(self, *, findings_bucket: str | None = None, findings_key_arn: str | None = None,
                 client: Any | None = None, cloudwatch: Any | None = None, sts: Any | None = None) -> None:
        self.findings_bucket = findings_bucket
        self.findings_key_arn = findings_key_arn
        self._client = client
        self._cloudwatch = cloudwatch
        self._sts = sts

    inspector2 = aws.LazyClient("inspector2")

    @property
    def cloudwatch(self) -> Any:
        if self._cloudwatch is None:
            self._cloudwatch = aws.client("cloudwatch")
        return self._cloudwatch

    def account_id(self) -> str:
        if self._sts is None:
            self._sts = aws.client("sts")
        return str(self._sts.get_caller_identity()["Account"])

    def require_ec2_scanning(self) -> dict[str, str]:
        """The account's EC2 scanning status; :class:`ScanningNotEnabled` unless it is ENABLED."""
        account = self.account_id()
        accounts = self.inspector2.batch_get_account_status(accountIds=[account]).get("accounts") or []
        state = ((accounts[0].get("resourceState") or {}).get("ec2") or {}) if accounts else {}
        status = str(state.get("status") or "DISABLED")
        if status != "ENABLED":
            raise ScanningNotEnabled(
                f"Amazon Inspector EC2 scanning is {status} in account {account} "
                f"({self.inspector2.meta.region_name}): run `bash deploy.sh` (it offers to enable it), or "
                f"`aws inspector2 enable --resource-types EC2`, then start the vulnerability scans again")
        return {"account_id": account, "status": status}

    def scan_completed(self, instance_id: str) -> bool:
        """Whether Inspector finished its first scan of the instance (coverage ACTIVE / SUCCESSFUL)."""
        paginator = self.inspector2.get_paginator("list_coverage")
        for page in paginator.paginate(filterCriteria={"resourceId": _is(instance_id)}):
            for resource in page.get("coveredResources") or []:
                scan = resource.get("scanStatus") or {}
                if scan.get("statusCode") == "ACTIVE" and scan.get("reason") == "SUCCESSFUL":
                    return True
        return False

    def active_findings(self, instance_id: str) -> list[dict[str, Any]]:
        """Every active finding of the instance."""
        paginator = self.inspector2.get_paginator("list_findings")
        found: list[dict[str, Any]] = []
        for page in paginator.paginate(filterCriteria={"resourceId": _is(instance_id),
                                                       "findingStatus": _is("ACTIVE")}):
            found += page.get("findings") or []
        return found

    def publish_metrics(self, ami_id: str, counts: Mapping[str, int]) -> None:
        """One ``Severity_<LEVEL>`` count per severity, by AMI."""
        self.cloudwatch.put_metric_data(Namespace=METRIC_NAMESPACE, MetricData=[
            {"MetricName": f"Severity_{severity}", "Dimensions": [{"Name": "AmiId", "Value": ami_id}],
             "Value": float(count), "Unit": "Count"} for severity, count in counts.items()])

    def _destination(self, key_prefix: str) -> dict[str, str]:
        if not self.findings_bucket or not self.findings_key_arn:
            raise DomainError("FINDINGS_BUCKET_NAME and FINDINGS_KEY_ARN are needed to write reports")
        return {"bucketName": self.findings_bucket, "keyPrefix": key_prefix, "kmsKeyArn": self.findings_key_arn}

    def start_findings_report(self, instance_id: str, *, key_prefix: str) -> dict[str, str]:
        response = self.inspector2.create_findings_report(
            reportFormat=REPORT_FORMAT, s3Destination=self._destination(key_prefix),
            filterCriteria={"resourceId": _is(instance_id)})
        return {"id": str(response["reportId"]), "bucket": str(self.findings_bucket), "prefix": key_prefix,
                "status": "IN_PROGRESS"}

    def start_sbom_export(self, instance_id: str, *, key_prefix: str) -> dict[str, str]:
        response = self.inspector2.create_sbom_export(
            reportFormat=SBOM_FORMAT, s3Destination=self._destination(key_prefix),
            resourceFilterCriteria={"resourceId": _is(instance_id)})
        return {"id": str(response["reportId"]), "bucket": str(self.findings_bucket), "prefix": key_prefix,
                "status": "IN_PROGRESS", "format": SBOM_FORMAT, "instance_id": instance_id}

    def report_status(self, report: dict[str, str]) -> dict[str, str]:
        if not report or report.get("status") in FINAL_EXPORT_STATUSES:
            return report
        answer = self.inspector2.get_findings_report_status(reportId=report["id"])
        return {**report, **_status(answer), "key": f"{report['prefix']}/{report['id']}.json"}

    def sbom_status(self, sbom: dict[str, str]) -> dict[str, str]:
        if sbom.get("status") in FINAL_EXPORT_STATUSES:
            return sbom
        answer = self.inspector2.get_sbom_export(reportId=sbom["id"])
        return {**sbom, **_status(answer), "key": f"{sbom['prefix']}/{sbom['id']}/{sbom['instance_id']}.json"}

    @staticmethod
    def location(export: Any) -> dict[str, str] | None:
        """Where a finished export is: ``{S3Bucket, S3Key, status[, error]}``; ``None`` without one."""
        if not isinstance(export, Mapping) or not export.get("id"):
            return None
        place = {"S3Bucket": str(export.get("bucket") or ""), "S3Key": str(export.get("key") or export.get("prefix")),
                 "status": str(export.get("status") or ""), "id": str(export["id"])}
        if export.get("error"):
            place["error"] = str(export["error"])
        if export.get("format"):
            place["format"] = str(export["format"])
        return place


def _status(answer: Mapping[str, Any]) -> dict[str, str]:
    status = {"status": str(answer.get("status") or "IN_PROGRESS")}
    if answer.get("errorCode") or answer.get("errorMessage"):
        status["error"] = f"{answer.get('errorCode') or ''} {answer.get('errorMessage') or ''}".strip()
    return status


__all__: Sequence[str] = ("Inspector", "ScanningNotEnabled")
