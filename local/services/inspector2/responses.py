"""Inspector2 operations simulated here (the rest are moto's): parameters in,
parsed by botocore's model; the result object out, serialized by :mod:`.wire`."""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

from . import models, reports
from .exceptions import ValidationException
from .filters import (
    COVERAGE_DATE_FIELDS,
    COVERAGE_MAP_FIELDS,
    COVERAGE_STRING_FIELDS,
    FINDING_DATE_FIELDS,
    FINDING_MAP_FIELDS,
    FINDING_NUMBER_FIELDS,
    FINDING_STRING_FIELDS,
    Criteria,
)

Handler = Callable[[str, str, dict[str, Any]], dict[str, Any]]
SEVERITY_RANK = {"UNTRIAGED": 0, "INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "SEVERITY": lambda f: SEVERITY_RANK[f["severity"]],
    "FIRST_OBSERVED_AT": lambda f: f["firstObservedAt"],
    "LAST_OBSERVED_AT": lambda f: f["lastObservedAt"],
    "INSPECTOR_SCORE": lambda f: f.get("inspectorScore") or 0.0,
    "FINDING_TYPE": lambda f: f["type"],
    "FINDING_STATUS": lambda f: f["status"],
    "RESOURCE_TYPE": lambda f: f["resources"][0]["type"],
    "AWS_ACCOUNT_ID": lambda f: f["awsAccountId"],
    "VULNERABILITY_ID": lambda f: (f.get("packageVulnerabilityDetails") or {}).get("vulnerabilityId") or "",
}


def _page(items: list[Any], params: dict[str, Any], default: int, limit: int) -> tuple[list[Any], dict[str, str]]:
    size = params.get("maxResults") or default
    if not 1 <= size <= limit:
        raise ValidationException(f"maxResults must be between 1 and {limit}, got {size}.", field="maxResults")
    start = 0
    if params.get("nextToken"):
        try:
            start = int(json.loads(base64.b64decode(params["nextToken"]))["offset"])
        except (ValueError, KeyError, TypeError):
            raise ValidationException("nextToken is not a token this service returned.", field="nextToken") from None
    end = start + size
    token = {"nextToken": base64.b64encode(json.dumps({"offset": end}).encode()).decode()} if end < len(items) else {}
    return items[start:end], token


def list_coverage(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    criteria = Criteria(params.get("filterCriteria"), strings=COVERAGE_STRING_FIELDS,
                        dates=COVERAGE_DATE_FIELDS, maps=COVERAGE_MAP_FIELDS)
    items = [c for c in models.coverage(account_id, region) if criteria.matches(c)]
    page, token = _page(items, params, 200, 200)
    return {"coveredResources": page, **token}


def list_findings(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    criteria = Criteria(params.get("filterCriteria"), strings=FINDING_STRING_FIELDS, numbers=FINDING_NUMBER_FIELDS,
                        dates=FINDING_DATE_FIELDS, maps=FINDING_MAP_FIELDS)
    items = [f for f in models.findings(account_id, region) if criteria.matches(f)]
    sort = params.get("sortCriteria")
    if sort:
        if sort.get("field") not in SORT_KEYS:
            raise ValidationException(
                f"sortCriteria.field '{sort.get('field')}' is not supported by the local cloud; "
                f"supported: {', '.join(SORT_KEYS)}.", field="sortCriteria.field",
            )
        items.sort(key=SORT_KEYS[sort["field"]], reverse=sort.get("sortOrder") == "DESC")
    page, token = _page(items, params, 50, 100)
    return {"findings": page, **token}


def create_findings_report(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"reportId": reports.create_findings_report(account_id, region, params).report_id}


def get_findings_report_status(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    report = reports.get(account_id, region, "findings", params.get("reportId"))
    return reports.findings_report_status(report)


def cancel_findings_report(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"reportId": reports.cancel(account_id, region, "findings", params["reportId"]).report_id}


def create_sbom_export(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"reportId": reports.create_sbom_export(account_id, region, params).report_id}


def get_sbom_export(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    return reports.sbom_export_status(reports.get(account_id, region, "sbom", params["reportId"]))


def cancel_sbom_export(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"reportId": reports.cancel(account_id, region, "sbom", params["reportId"]).report_id}


def enable(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("resourceTypes"):
        raise ValidationException("resourceTypes is required: name what to scan, e.g. EC2.", field="resourceTypes")
    accounts = models.set_scanning(account_id, region, params.get("accountIds"), params["resourceTypes"], True)
    return {"accounts": accounts, "failedAccounts": []}


def disable(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    accounts = models.set_scanning(account_id, region, params.get("accountIds"), params.get("resourceTypes"), False)
    return {"accounts": accounts, "failedAccounts": []}


def batch_get_account_status(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"accounts": models.account_states(account_id, region, params.get("accountIds")), "failedAccounts": []}


def list_account_permissions(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    page, token = _page(models.permissions(params.get("service")), params, 100, 1024)
    return {"permissions": page, **token}


OPERATIONS: dict[str, Handler] = {
    "ListCoverage": list_coverage,
    "ListFindings": list_findings,
    "CreateFindingsReport": create_findings_report,
    "GetFindingsReportStatus": get_findings_report_status,
    "CancelFindingsReport": cancel_findings_report,
    "CreateSbomExport": create_sbom_export,
    "GetSbomExport": get_sbom_export,
    "CancelSbomExport": cancel_sbom_export,
    "Enable": enable,
    "Disable": disable,
    "BatchGetAccountStatus": batch_get_account_status,
    "ListAccountPermissions": list_account_permissions,
}
