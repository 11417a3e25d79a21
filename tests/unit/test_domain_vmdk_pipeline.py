"""The standalone VMDK export pipeline in the domain: which builds are exported, and their emails."""

from __future__ import annotations

from orchestrator.domain.vmdk_exports import exported_image
from orchestrator.domain.vmdk_pipeline import (EXPORT_TAG, MAX_EXECUTION_NAME, export_failed_message,
                                               export_ready_message, export_request, export_scope)
from tests.unit.domain_builders import NOW

REGION = "eu-west-1"
ARN = "arn:aws:imagebuilder:eu-west-1:123456789012:image/ami-lifecycle-recipe-main/1.0.0/3"
AMI = "ami-0aaaaaaaaaaaaaaa1"
LINK = "https://b.s3.amazonaws.com/k.vmdk?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"


def image(status: str = "AVAILABLE", tags: dict | None = None, region: str = REGION) -> dict:
    return {"arn": ARN, "state": {"status": status}, "tags": {EXPORT_TAG: "TRUE"} if tags is None else tags,
            "outputResources": {"amis": [{"region": region, "image": AMI, "name": "built",
                                          "accountId": "123456789012"}]}}


def test_a_tagged_available_build_is_exported_under_its_own_name():
    request = export_request(image(), REGION)

    assert request["ami"] == {"id": AMI, "name": "built", "region": REGION, "owner": "123456789012"}
    assert request["export_scope"] == "ami-lifecycle-recipe-main-1_0_0-3"
    assert request["execution_name"] == request["export_scope"]
    assert request["image_build_version_arn"] == ARN


def test_untagged_failed_or_foreign_region_builds_are_not_exported():
    assert export_request(image(tags={}), REGION) is None  # a lifecycle's own build
    assert export_request(image(status="FAILED"), REGION) is None
    assert export_request(image(region="us-east-1"), REGION) is None


def test_a_long_build_name_still_makes_a_valid_execution_name():
    scope = export_scope(ARN.replace("ami-lifecycle-recipe-main", "r" * 120))
    assert len(scope) <= MAX_EXECUTION_NAME and "/" not in scope and "." not in scope
    assert scope != export_scope(ARN.replace("ami-lifecycle-recipe-main", "r" * 121))


def test_the_ready_email_carries_the_link_and_the_failure_email_the_cause():
    from orchestrator.rendering import render_export_message
    export = exported_image(ami_id=AMI, task_id="export-ami-1", bucket="b", prefix="exports/x/ami/",
                            expiry_secs=86400, now=NOW)
    ready = render_export_message(export_ready_message(stack_tag="main", ami={"name": "built", "region": REGION},
                                                       image_build_version_arn=ARN, export=export,
                                                       download_url=LINK, now=NOW))
    failed = render_export_message(export_failed_message(
        stack_tag="main", ami_id=AMI, image_build_version_arn=ARN,
        error={"Error": "VmdkExportFailed", "Cause": "the export export-ami-1 ended deleted: no space"}, now=NOW))

    assert LINK in ready and "s3://b/exports/x/ami/export-ami-1.vmdk" in ready and "valid 1 day," in ready
    assert "VmdkExportFailed: the export export-ami-1 ended deleted: no space" in failed
    assert "X-Amz-Signature" not in failed
