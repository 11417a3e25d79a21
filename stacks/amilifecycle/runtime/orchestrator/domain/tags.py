"""AMI tags: the lifecycle's facts written onto the AMI itself.

Anyone who can see an AMI can tell, without the orchestrator, which
lifecycle made it, which version it is and which events it passed. Every
key starts with ``AMI_LC_``; event tags are ``AMI_LC_EVENT_<EVENT>_<FACT>``.
Values are cut to 255 characters and facts a result does not carry are
left out (no empty tags). Creation events tag the built AMI, patch events
the current patched AMI (:func:`orchestrator.domain.lookup.amis_for_result`).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .history import Record, events_of, phase_ami_entry
from .results import EventResult
from .vocabulary import EventName, LifecycleType, Status

TAG_PREFIX = "AMI_LC"
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 255
_TAG_KEY_PATTERN = re.compile(r"^[A-Za-z0-9 +\-=._:/@]+$")
SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED")


def tag_key(*parts: str) -> str:
    """``AMI_LC_<PART>_<PART>``; refuses keys EC2 would refuse."""
    key = "_".join((TAG_PREFIX,) + parts)
    if len(key) > MAX_TAG_KEY_LENGTH or not _TAG_KEY_PATTERN.match(key) or key.lower().startswith("aws:"):
        raise ValueError(f"{key!r} is not a valid EC2 tag key")
    return key


def tag_value(value: Any) -> str:
    """A tag value: text, at most 255 characters."""
    return str(value)[:MAX_TAG_VALUE_LENGTH]


def _s3_url(bucket: Any, key: Any) -> str | None:
    return f"s3://{bucket}/{key}" if bucket and key else None


def _components(properties: Mapping[str, Any]) -> str | None:
    names = []
    for component in properties.get("imagebuilder_recipe_components") or []:
        arn = component.get("componentArn") if isinstance(component, Mapping) else component
        if isinstance(arn, str) and arn:
            names.append(arn.split("component/", 1)[-1])
    return ", ".join(names) or None


def _severities(properties: Mapping[str, Any]) -> str | None:
    counts = properties.get("vulnerability_severities")
    if not isinstance(counts, Mapping):
        return None
    return ", ".join(f"{level}: {counts.get(level, 0)}" for level in SEVERITY_ORDER)


def _gate(gate: Any) -> str | None:
    if not isinstance(gate, Mapping):
        return None
    verdict = "PASSED" if gate.get("passed") else "FAILED (" + ", ".join(gate.get("tripped_by") or []) + ")"
    return f"{gate.get('rule')}: {verdict}"


def _test_counts(properties: Mapping[str, Any]) -> str | None:
    if "total" not in properties:
        return None
    return f"{properties.get('passed', 0)} of {properties.get('total', 0)} passed"


def _image_builder_facts(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        tag_key("COMPONENTS"): _components(properties),
        tag_key("IMAGEBUILDER_IMAGE_ARN"): properties.get("imagebuilder_image_arn"),
        tag_key("IMAGEBUILDER_RECIPE_ARN"): properties.get("imagebuilder_imagerecipe_arn"),
        tag_key("IMAGEBUILDER_RECIPE_NAME"): properties.get("imagebuilder_imagerecipe_name"),
        tag_key("IMAGEBUILDER_SRC_PIPELINE"): properties.get("imagebuilder_source_pipeline_name")
        or properties.get("imagebuilder_pipeline_arn"),
    }


def _first_semver(properties: Mapping[str, Any]) -> Any:
    amis = properties.get("ami_details") or []
    return amis[0].get("ami_semver") if amis and isinstance(amis[0], Mapping) else None


def ami_tags(record: Record, result: EventResult) -> dict[str, str]:
    """The tags a result puts on its AMI."""
    event = result.name
    props = result.properties
    facts: dict[str, Any] = {
        tag_key("EVENT", event, "STATUS"): result.status,
        tag_key("EVENT", event, "STATUS_DATE"): result.status_date,
    }
    if event is EventName.BUILD_AMI:
        facts.update({
            tag_key("LIFECYCLE_ID"): record.get("lifecycle_id"),
            tag_key("CURRENT_AMI_SEMVER"): _first_semver(props),
            tag_key("PRODUCT_VER"): record.get("product_ver"),
            tag_key("PRODUCT_NAME"): record.get("product_name"),
            tag_key("COMMIT_REF"): result.attributes.get("commit_ref") or record.get("commit_ref"),
        })
        facts.update(_image_builder_facts(props))
    elif event is EventName.PATCH_AMI:
        facts.update({
            tag_key("LIFECYCLE_ID"): record.get("lifecycle_id"),
            tag_key("CURRENT_AMI_SEMVER"): _first_semver(props),
            tag_key("AMI_ANCESTRY"): props.get("ami_ancestry"),
            tag_key("COMMIT_REF"): result.attributes.get("commit_ref")
            or (record.get("inputs_ami_patch") or {}).get("commit_ref"),
        })
        facts.update(_image_builder_facts(props))
    elif event in (EventName.VULNERABILITY_SCANS_AMI_CREATE, EventName.VULNERABILITY_SCANS_AMI_PATCH):
        report = props.get("vulnerability_scan_report") or {}
        facts.update({
            tag_key("EVENT", event, "TOTAL_VULNERABILITIES"): props.get("total_vulnerabilities"),
            tag_key("EVENT", event, "SEVERITIES"): _severities(props),
            tag_key("EVENT", event, "SCAN_REPORT"): _s3_url(report.get("S3Bucket"), report.get("S3Key")),
            tag_key("EVENT", event, "SBOM"): _s3_url((props.get("sbom") or {}).get("S3Bucket"),
                                                     (props.get("sbom") or {}).get("S3Key")),
            tag_key("EVENT", event, "SEVERITY_GATE"): _gate(props.get("severity_gate")),
        })
    elif event in (EventName.SMOKE_TESTS_AMI_CREATE, EventName.SMOKE_TESTS_AMI_PATCH):
        facts.update({
            tag_key("EVENT", event, "TESTS"): _test_counts(props),
            tag_key("EVENT", event, "FAILED_TESTS"): ", ".join(props.get("failed_tests") or []) or None,
        })
    elif event is EventName.QA_CERTIFICATION_REQUEST:
        facts.update({
            tag_key("EVENT", event, "EXPORT_IMAGE_ID"): props.get("export_image_id"),
            tag_key("EVENT", event, "EXPORT_IMAGE_PATH"): props.get("export_image_path"),
            tag_key("EVENT", event, "EXPORT_IMAGE_TASK_ID"): props.get("export_image_task_id"),
        })
    elif event is EventName.QA_CERTIFICATION_RESPONSE:
        facts[tag_key("EVENT", event, "QA_CERTIFICATION_STATUS")] = (
            result.attributes.get("certification_status") or props.get("certification_status"))
    elif event in (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH):
        facts.update({
            tag_key("EVENT", event, "APPROVAL_STATUS"): result.attributes.get("approval_status")
            or props.get("approval_status"),
            tag_key("EVENT", event, "AMI_BACKUP"): _s3_url(props.get("s3_bucket"), props.get("s3_object_key")),
        })
    return {key: tag_value(value) for key, value in facts.items() if value not in (None, "")}


def expected_tags(record: Record, lifecycle_type: LifecycleType) -> dict[str, str]:
    """Every tag the phase's AMI should carry according to the record (for reconciliation).

    Results are applied oldest first, so a later result's tag wins.
    """
    if phase_ami_entry(record, lifecycle_type) is None:
        return {}
    tags: dict[str, str] = {}
    for entry in events_of(record, lifecycle_type):
        attributes = {k: v for k, v in entry.items() if k not in ("name", "status", "status_date", "properties")}
        result = EventResult(lifecycle_id=str(record.get("lifecycle_id")), name=EventName(entry["name"]),
                             status=Status(entry["status"]), status_date=entry["status_date"],
                             properties=entry.get("properties") or {}, attributes=attributes)
        tags.update(ami_tags(record, result))
    return tags
