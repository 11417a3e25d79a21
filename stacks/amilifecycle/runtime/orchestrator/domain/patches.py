"""What a PATCH_AMI event is made of: its Image Builder resources, its component document, its result.

A patch bakes a new AMI from the lifecycle's current one with one more
component (the owner's patch document). It needs its own Image Builder
component, recipe (parent image: the current AMI), infrastructure and
distribution configurations and pipeline. Each is named
``amilc-<stack tag>-patch-<lifecycle id>-<version dash>`` and versioned
``<version dot>`` (``versioning.image_builder_version`` at the patch request),
so the state machine's steps, a retried step and the clean-up all find the
same resources from the execution input alone: :func:`patch_plan` derives
every name and ARN without asking Image Builder.

Plain data in, plain data out: the adapter (``adapters/patch_builder.py``)
makes the calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

import yaml

from .builds import image_properties
from .errors import ValidationError, describe_value
from .fields import lifecycle_id as parse_lifecycle_id
from .results import EventResult
from .timestamps import iso_utc
from .vocabulary import EventName, SemverBump, Status, parse_semver_bump

PATCH_TASK = "AMI patch with EC2 Image Builder"
NAME_PREFIX = "amilc-"
# Image Builder's own limits on component documents.
MAX_DOCUMENT_BYTES = 16000
SCHEMA_VERSIONS = ("1.0",)
PHASE_NAMES = ("build", "validate", "test")
_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):imagebuilder:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):")
_DOT_VERSION = re.compile(r"^\d{1,9}\.\d{1,9}\.\d{1,9}$")
_DASH_VERSION = re.compile(r"^\d{4}-\d{2}-\d{8}$")


def resource_prefix(stack_tag: str) -> str:
    """The name (and ARN) prefix of every Image Builder resource a patch of ``stack_tag`` creates."""
    return f"{NAME_PREFIX}{stack_tag}-patch-".lower()


@dataclass(frozen=True)
class PatchPlan:
    """The names and ARNs of one patch's Image Builder resources."""

    name: str
    version: str
    component_arn: str
    recipe_arn: str
    infrastructure_arn: str
    distribution_arn: str
    pipeline_arn: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "component_arn": self.component_arn,
                "recipe_arn": self.recipe_arn, "infrastructure_arn": self.infrastructure_arn,
                "distribution_arn": self.distribution_arn, "pipeline_arn": self.pipeline_arn}


def patch_plan(*, stack_tag: str, lifecycle_id: str, version_dot: str, version_dash: str,
               deployment_arn: str) -> PatchPlan:
    """Every resource of one patch, in the account and region of ``deployment_arn`` (any Image Builder ARN
    of the deployment, e.g. its build pipeline)."""
    where = _ARN.match(deployment_arn or "")
    if not where:
        raise ValidationError(f"deployment ARN: expected an Image Builder ARN, got {describe_value(deployment_arn)}",
                              field="imagebuilder_pipeline_arn")
    if not isinstance(version_dot, str) or not _DOT_VERSION.match(version_dot):
        raise ValidationError(f"semantic_version_dot: expected MAJOR.MINOR.PATCH digits, got "
                              f"{describe_value(version_dot)}", field="semantic_version_dot")
    if not isinstance(version_dash, str) or not _DASH_VERSION.match(version_dash):
        raise ValidationError(f"semantic_version_dash: expected YYYY-MM-DDHHMMSS, got {describe_value(version_dash)}",
                              field="semantic_version_dash")
    name = f"{resource_prefix(stack_tag)}{parse_lifecycle_id(lifecycle_id)}-{version_dash}"
    base = f"arn:{where['partition']}:imagebuilder:{where['region']}:{where['account']}"
    return PatchPlan(
        name=name, version=version_dot,
        component_arn=f"{base}:component/{name}/{version_dot}/1",
        recipe_arn=f"{base}:image-recipe/{name}/{version_dot}",
        infrastructure_arn=f"{base}:infrastructure-configuration/{name}",
        distribution_arn=f"{base}:distribution-configuration/{name}",
        pipeline_arn=f"{base}:image-pipeline/{name}",
    )


def split_s3_url(url: Any, *, field: str = "properties.patch_component_url") -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``."""
    if not isinstance(url, str) or not url.startswith("s3://") or "/" not in url[5:]:
        raise ValidationError(f"{field}: expected s3://<bucket>/<key>, got {describe_value(url)}", field=field)
    bucket, key = url[5:].split("/", 1)
    if not bucket or not key:
        raise ValidationError(f"{field}: expected s3://<bucket>/<key>, got {describe_value(url)}", field=field)
    return bucket, key


def resource_tags(*, stack_tag: str, lifecycle_id: str, version_dot: str) -> dict[str, str]:
    """Tags of every resource a patch creates."""
    return {"Event": "AMI_LIFECYCLE_PATCH", "LifecycleId": lifecycle_id, "StackTag": stack_tag,
            "SemanticVersion": version_dot}


def check_component_document(text: Any, *, url: str) -> dict[str, Any]:
    """The parsed component document at ``url``, or a ValidationError naming what is wrong.

    Image Builder accepts a YAML document of at most 16000 bytes with
    ``schemaVersion`` 1.0 and a non-empty ``phases`` list; each phase is
    named build, validate or test and lists steps, each with a ``name``
    and an ``action``.
    """
    field = "properties.patch_component_url"
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"{field}: {url} is not UTF-8 text; a component document is YAML",
                                  field=field) from None
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"{field}: {url} is empty; expected an Image Builder component document (YAML)",
                              field=field)
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise ValidationError(f"{field}: {url} is larger than Image Builder's {MAX_DOCUMENT_BYTES} bytes",
                              field=field)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ValidationError(f"{field}: {url} is not valid YAML{at}", field=field) from None
    if not isinstance(document, Mapping):
        raise ValidationError(f"{field}: {url} must be a YAML mapping with schemaVersion and phases, got "
                              f"{describe_value(document)}", field=field)
    schema = str(document.get("schemaVersion", "")).strip()
    if schema not in SCHEMA_VERSIONS:
        raise ValidationError(f"{field}: {url}: schemaVersion must be {' or '.join(SCHEMA_VERSIONS)}, got "
                              f"{describe_value(document.get('schemaVersion'))}", field=field)
    phases = document.get("phases")
    if not isinstance(phases, list) or not phases:
        raise ValidationError(f"{field}: {url}: phases must be a non-empty list", field=field)
    for index, phase in enumerate(phases):
        where = f"{url}: phases[{index}]"
        if not isinstance(phase, Mapping) or phase.get("name") not in PHASE_NAMES:
            name = phase.get("name") if isinstance(phase, Mapping) else phase
            raise ValidationError(f"{field}: {where}: name must be one of {', '.join(PHASE_NAMES)}, got "
                                  f"{describe_value(name)}", field=field, allowed=list(PHASE_NAMES))
        steps = phase.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ValidationError(f"{field}: {where} ({phase['name']}): steps must be a non-empty list", field=field)
        for number, step in enumerate(steps):
            if not isinstance(step, Mapping) or not step.get("name") or not step.get("action"):
                raise ValidationError(f"{field}: {where}.steps[{number}]: every step needs a name and an action",
                                      field=field)
    return dict(document)


def patch_ami_result(image: Any, *, lifecycle_id: str, semver_bump_type: Any, commit_ref: str,
                     pipeline_name: str, now: datetime, change_description: str | None = None,
                     component_url: str | None = None) -> EventResult:
    """The COMPLETED PATCH_AMI result of an AVAILABLE patch image (the patch receiver assigns the version)."""
    bump = parse_semver_bump(semver_bump_type, field="semver_bump_type")
    properties = image_properties(image, task=PATCH_TASK)
    properties["imagebuilder_pipeline_name"] = pipeline_name
    for key, value in (("patch_change_description", change_description), ("patch_component_url", component_url)):
        if isinstance(value, str) and value.strip():
            properties[key] = value.strip()
    attributes = {"semver_bump_type": str(bump)}
    if isinstance(commit_ref, str) and commit_ref.strip():
        attributes["commit_ref"] = commit_ref.strip()
    return EventResult(lifecycle_id=parse_lifecycle_id(lifecycle_id), name=EventName.PATCH_AMI,
                       status=Status.COMPLETED, status_date=iso_utc(now), properties=properties,
                       attributes=attributes)


def bump_of(result: EventResult, record: Mapping[str, Any]) -> SemverBump:
    """The bump a patch result asks for: its own ``semver_bump_type``, else the patch request's."""
    value = result.attributes.get("semver_bump_type") or \
        ((record.get("inputs_ami_patch") or {}).get("properties") or {}).get("semver_bump_type")
    return parse_semver_bump(value, field="semver_bump_type")
