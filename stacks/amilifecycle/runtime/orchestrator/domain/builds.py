"""What an EC2 Image Builder image means to the lifecycle.

Image Builder describes a build as an *image* document (``GetImage`` and
its SNS notifications share the shape: ``arn``, ``state.status``,
``state.reason``, ``imageRecipe``, ``outputResources.amis``, ...). This
module turns that document into the lifecycle's terms: whether the build
ended and how (:func:`build_outcome`), and the BUILD_AMI result the
creation receiver records (:func:`build_ami_result`). Plain data in, plain
data out: the adapter fetches the document, the domain reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from .errors import ValidationError, describe_value
from .fields import lifecycle_id as parse_lifecycle_id
from .results import EventResult
from .timestamps import iso_utc
from .vocabulary import EventName, Status

BUILD_TASK = "AMI build with EC2 Image Builder"
MAX_REASON_LENGTH = 1000


class ImageStatus(StrEnum):
    """Image Builder's image states (``state.status``)."""

    PENDING = "PENDING"
    CREATING = "CREATING"
    BUILDING = "BUILDING"
    TESTING = "TESTING"
    DISTRIBUTING = "DISTRIBUTING"
    INTEGRATING = "INTEGRATING"
    AVAILABLE = "AVAILABLE"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    DEPRECATED = "DEPRECATED"
    DELETED = "DELETED"
    DISABLED = "DISABLED"


# The build ended and produced its AMIs.
SUCCEEDED_STATUSES = frozenset({ImageStatus.AVAILABLE})
# The build ended without an AMI to work on.
FAILED_STATUSES = frozenset({ImageStatus.FAILED, ImageStatus.CANCELLED, ImageStatus.DELETED})


@dataclass(frozen=True)
class BuildOutcome:
    """Where an image build stands: its status and, for a failed build, why."""

    image_build_version_arn: str
    status: str
    reason: str

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCEEDED_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def ended(self) -> bool:
        return self.succeeded or self.failed

    def to_dict(self) -> dict[str, str]:
        return {"image_build_version_arn": self.image_build_version_arn, "status": self.status,
                "reason": self.reason}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _image_arn(image: Mapping[str, Any]) -> str:
    arn = image.get("arn")
    if not isinstance(arn, str) or ":image/" not in arn:
        raise ValidationError(
            f"arn: expected an Image Builder image ARN like arn:aws:imagebuilder:eu-west-1:123456789012:"
            f"image/name/1.0.0/1, got {describe_value(arn)}", field="arn")
    return arn


def build_outcome(image: Any) -> BuildOutcome:
    """The outcome an image document reports. The reason is never empty, so a
    failed build always says something the owner can read."""
    document = _mapping(image)
    if not document:
        raise ValidationError(f"image: expected an Image Builder image document, got {describe_value(image)}",
                              field="image")
    arn = _image_arn(document)
    state = _mapping(document.get("state"))
    status = str(state.get("status") or "").strip().upper()
    if not status:
        raise ValidationError(f"state.status: missing in the image document of {arn}", field="state.status")
    reason = str(state.get("reason") or "").strip()
    if not reason and status in FAILED_STATUSES:
        reason = f"Image Builder reported image {arn} as {status} without giving a reason"
    elif not reason and status not in SUCCEEDED_STATUSES:
        reason = f"Image {arn} is still {status}"
    return BuildOutcome(image_build_version_arn=arn, status=status, reason=reason[:MAX_REASON_LENGTH])


def built_amis(image: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``outputResources.amis`` as ``ami_details`` entries (region, image, name, ...)."""
    amis = []
    for ami in _mapping(image.get("outputResources")).get("amis") or []:
        if not isinstance(ami, Mapping) or not ami.get("image") or not ami.get("region"):
            continue
        entry = {key: ami[key] for key in ("region", "image", "name", "description", "accountId") if ami.get(key)}
        state = _mapping(ami.get("state"))
        if state.get("status"):
            entry["state"] = {"status": str(state["status"])}
        amis.append(entry)
    return amis


def _components(recipe: Mapping[str, Any]) -> list[dict[str, str]]:
    components = []
    for component in recipe.get("components") or []:
        arn = component.get("componentArn") if isinstance(component, Mapping) else None
        if isinstance(arn, str) and arn:
            components.append({"componentArn": arn})
    return components


def build_ami_result(image: Any, *, lifecycle_id: str, product_ver: str, product_name: str, commit_ref: str,
                     now: datetime) -> EventResult:
    """The COMPLETED BUILD_AMI result of an AVAILABLE image.

    The semantic version is not part of it: the creation receiver assigns
    it when it records the result, so two builds can never share one.
    """
    properties = image_properties(image, task=BUILD_TASK)
    attributes = {"product_ver": product_ver, "product_name": product_name, "commit_ref": commit_ref}
    for name, value in attributes.items():
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"{name}: expected a non-empty string, got {describe_value(value)}", field=name)
    return EventResult(
        lifecycle_id=parse_lifecycle_id(lifecycle_id),
        name=EventName.BUILD_AMI,
        status=Status.COMPLETED,
        status_date=iso_utc(now),
        properties=properties,
        attributes=attributes,
    )


def image_properties(image: Any, *, task: str) -> dict[str, Any]:
    """The result properties of an AVAILABLE image (a build's or a patch's): its AMIs, recipe and pipeline."""
    outcome = build_outcome(image)
    if not outcome.succeeded:
        raise ValidationError(
            f"image {outcome.image_build_version_arn} is {outcome.status}, not AVAILABLE: it has no AMI to record",
            field="state.status")
    document = _mapping(image)
    amis = built_amis(document)
    if not amis:
        raise ValidationError(
            f"image {outcome.image_build_version_arn} is AVAILABLE but lists no AMI in outputResources.amis",
            field="outputResources.amis")
    recipe = _mapping(document.get("imageRecipe"))
    properties: dict[str, Any] = {
        "task": task,
        "ami_details": amis,
        "imagebuilder_image_arn": outcome.image_build_version_arn,
        "imagebuilder_image_name": document.get("name"),
        "imagebuilder_image_version": document.get("version"),
        "imagebuilder_image_creation_date": document.get("dateCreated"),
        "imagebuilder_imagerecipe_arn": recipe.get("arn"),
        "imagebuilder_imagerecipe_name": recipe.get("name"),
        "imagebuilder_imagerecipe_creation_date": recipe.get("dateCreated"),
        "imagebuilder_recipe_components": _components(recipe),
        "imagebuilder_source_pipeline_name": document.get("sourcePipelineName"),
        "imagebuilder_pipeline_arn": document.get("sourcePipelineArn"),
    }
    return {key: value for key, value in properties.items() if value not in (None, "", [])}


def result_message(result: EventResult) -> dict[str, Any]:
    """The body a state machine sends to a receiver queue (``task_details.value``):
    the result as recorded, plus the lifecycle it belongs to."""
    return {"lifecycle_id": result.lifecycle_id, **result.to_item()}
