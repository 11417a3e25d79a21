"""EC2 Image Builder: start a pipeline, read an image, read its notifications.

Image Builder publishes the image document (the ``GetImage`` shape) as the
plain-JSON body of an SNS message when a build ends; :func:`parse_image_notification`
reads such a message. The rest of the orchestrator sees only image
documents and :class:`~orchestrator.domain.builds.BuildOutcome` values.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Mapping

from ..domain.builds import BuildOutcome, build_outcome
from ..domain.errors import ValidationError, describe_value
from . import aws

PIPELINE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:\d{12}:image-pipeline/[^/\s]+$")
# StartImagePipelineExecution accepts a client token of 1-36 characters.
_TOKEN_NAMESPACE = uuid.UUID("1b3f4a8e-6f53-4c1e-9a0f-2d8b7e5c4a11")


def client_token(request_name: str) -> str:
    """A 36-character idempotency token derived from ``request_name``.

    A step that is retried with the same name (a Step Functions retry of
    the same execution) starts the pipeline once, not twice.
    """
    if not request_name:
        raise ValueError("request_name must be a non-empty string")
    return str(uuid.uuid5(_TOKEN_NAMESPACE, request_name))


def check_pipeline_arn(value: Any) -> str:
    """An image pipeline ARN, or a ValidationError naming what was expected."""
    if not isinstance(value, str) or not PIPELINE_ARN_PATTERN.match(value.strip()):
        raise ValidationError(
            "imagebuilder_pipeline_arn: expected an Image Builder pipeline ARN like "
            f"arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/name, got {describe_value(value)}",
            field="imagebuilder_pipeline_arn")
    return value.strip()


class ImageBuilder:
    """The Image Builder calls the build event makes."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    client = aws.LazyClient("imagebuilder")

    def start_pipeline(self, pipeline_arn: str, *, request_name: str) -> str:
        """Start one build of the pipeline; returns the image build version ARN."""
        response = self.client.start_image_pipeline_execution(
            imagePipelineArn=check_pipeline_arn(pipeline_arn), clientToken=client_token(request_name))
        return str(response["imageBuildVersionArn"])

    def get_image(self, image_build_version_arn: str) -> dict[str, Any]:
        """The image document of one build."""
        response = self.client.get_image(imageBuildVersionArn=image_build_version_arn)
        return dict(response["image"])

    def outcome(self, image_build_version_arn: str) -> BuildOutcome:
        """Where the build stands now (the safety poll)."""
        return build_outcome(self.get_image(image_build_version_arn))


def parse_image_notification(message: Any) -> tuple[BuildOutcome, dict[str, Any]]:
    """The outcome and the image document an Image Builder SNS message carries."""
    if isinstance(message, (str, bytes)):
        try:
            document = json.loads(message)
        except ValueError:
            raise ValidationError("Image Builder notification: expected a JSON image document, got text that is "
                                  "not JSON", field="Message") from None
    else:
        document = message
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"Image Builder notification: expected a JSON object, got {describe_value(document)}", field="Message")
    return build_outcome(document), dict(document)
