"""Inspector2 filter criteria, evaluated the service's way: filters on one
field are alternatives (any EQUALS/PREFIX may match; no NOT_EQUALS may),
different fields must all match.

A field the local cloud cannot evaluate is refused with a
ValidationException naming it, rather than silently ignored, so a caller
never trusts a result that was not filtered as asked.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from .exceptions import ValidationException

Extractor = Callable[[dict[str, Any]], Any]


def _path(*keys: str | int) -> Extractor:
    def extract(item: dict[str, Any]) -> Any:
        value: Any = item
        for key in keys:
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and len(value) > key:
                value = value[key]
            else:
                return None
        return value
    return extract


FINDING_STRING_FIELDS: dict[str, Extractor] = {
    "findingArn": _path("findingArn"),
    "awsAccountId": _path("awsAccountId"),
    "findingType": _path("type"),
    "severity": _path("severity"),
    "findingStatus": _path("status"),
    "title": _path("title"),
    "resourceType": _path("resources", 0, "type"),
    "resourceId": _path("resources", 0, "id"),
    "ec2InstanceImageId": _path("resources", 0, "details", "awsEc2Instance", "imageId"),
    "ec2InstanceVpcId": _path("resources", 0, "details", "awsEc2Instance", "vpcId"),
    "ec2InstanceSubnetId": _path("resources", 0, "details", "awsEc2Instance", "subnetId"),
    "vulnerabilityId": _path("packageVulnerabilityDetails", "vulnerabilityId"),
    "vulnerabilitySource": _path("packageVulnerabilityDetails", "source"),
    "vendorSeverity": _path("packageVulnerabilityDetails", "vendorSeverity"),
    "fixAvailable": _path("fixAvailable"),
    "exploitAvailable": _path("exploitAvailable"),
}
FINDING_NUMBER_FIELDS: dict[str, Extractor] = {
    "inspectorScore": _path("inspectorScore"),
    "epssScore": _path("epss", "score"),
}
FINDING_DATE_FIELDS: dict[str, Extractor] = {
    "firstObservedAt": _path("firstObservedAt"),
    "lastObservedAt": _path("lastObservedAt"),
    "updatedAt": _path("updatedAt"),
}
FINDING_MAP_FIELDS: dict[str, Extractor] = {"resourceTags": _path("resources", 0, "tags")}

COVERAGE_STRING_FIELDS: dict[str, Extractor] = {
    "scanStatusCode": _path("scanStatus", "statusCode"),
    "scanStatusReason": _path("scanStatus", "reason"),
    "accountId": _path("accountId"),
    "resourceId": _path("resourceId"),
    "resourceType": _path("resourceType"),
    "scanType": _path("scanType"),
    "scanMode": _path("scanMode"),
}
COVERAGE_DATE_FIELDS: dict[str, Extractor] = {"lastScannedAt": _path("lastScannedAt")}
COVERAGE_MAP_FIELDS: dict[str, Extractor] = {"ec2InstanceTags": _path("resourceMetadata", "ec2", "tags")}

RESOURCE_STRING_FIELDS: dict[str, Extractor] = {
    "accountId": _path("accountId"),
    "resourceId": _path("resourceId"),
    "resourceType": _path("resourceType"),
}
RESOURCE_MAP_FIELDS: dict[str, Extractor] = {"ec2InstanceTags": _path("resourceMetadata", "ec2", "tags")}


class Criteria:
    """A compiled filterCriteria for one kind of item."""

    def __init__(self, criteria: dict[str, Any] | None, *, strings: dict[str, Extractor],
                 numbers: dict[str, Extractor] | None = None, dates: dict[str, Extractor] | None = None,
                 maps: dict[str, Extractor] | None = None, name: str = "filterCriteria") -> None:
        self.checks: list[Callable[[dict[str, Any]], bool]] = []
        kinds = ((strings, _string_check), (numbers or {}, _number_check),
                 (dates or {}, _date_check), (maps or {}, _map_check))
        supported = sorted(k for fields, _ in kinds for k in fields)
        for field, filters in (criteria or {}).items():
            if not filters:
                continue
            for fields, make_check in kinds:
                if field in fields:
                    self.checks.append(make_check(fields[field], filters))
                    break
            else:
                raise ValidationException(
                    f"{name}.{field} is not supported by the local cloud; supported: {', '.join(supported)}.",
                    field=f"{name}.{field}",
                )

    def matches(self, item: dict[str, Any]) -> bool:
        return all(check(item) for check in self.checks)


def _string_check(extract: Extractor, filters: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    positive = [f for f in filters if f.get("comparison") in ("EQUALS", "PREFIX")]
    negative = [f["value"] for f in filters if f.get("comparison") == "NOT_EQUALS"]
    for flt in filters:
        if flt.get("comparison") not in ("EQUALS", "PREFIX", "NOT_EQUALS"):
            raise ValidationException(
                f"comparison '{flt.get('comparison')}' is not valid: use EQUALS, PREFIX or NOT_EQUALS.",
                field="comparison",
            )

    def check(item: dict[str, Any]) -> bool:
        value = extract(item)
        value = "" if value is None else str(value)
        if value in negative:
            return False
        if not positive:
            return True
        return any(value == f["value"] if f["comparison"] == "EQUALS" else value.startswith(f["value"])
                   for f in positive)
    return check


def _number_check(extract: Extractor, filters: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    def check(item: dict[str, Any]) -> bool:
        value = extract(item)
        if value is None:
            return False
        return any((f.get("lowerInclusive") is None or value >= f["lowerInclusive"])
                   and (f.get("upperInclusive") is None or value <= f["upperInclusive"]) for f in filters)
    return check


def _date_check(extract: Extractor, filters: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    def check(item: dict[str, Any]) -> bool:
        value = _aware(extract(item))
        if value is None:
            return False
        return any((f.get("startInclusive") is None or value >= _aware(f["startInclusive"]))
                   and (f.get("endInclusive") is None or value <= _aware(f["endInclusive"])) for f in filters)
    return check


def _map_check(extract: Extractor, filters: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    def check(item: dict[str, Any]) -> bool:
        tags = extract(item) or {}
        return any(f.get("key") in tags and (f.get("value") is None or tags[f["key"]] == f["value"])
                   for f in filters)
    return check


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
