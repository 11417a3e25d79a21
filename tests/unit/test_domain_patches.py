"""The patch domain: resource names and ARNs, component documents, the PATCH_AMI result, patch versions."""

from __future__ import annotations

import pytest

from orchestrator.domain.errors import ValidationError
from orchestrator.domain.patches import (check_component_document, patch_ami_result, patch_plan, resource_prefix,
                                         resource_tags)
from orchestrator.domain.versioning import image_builder_version, patch_version_candidates
from orchestrator.domain.vocabulary import EventName, SemverBump, Status

from .domain_builders import LIFECYCLE_ID, NOW

PIPELINE = "arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/amilifecyclepipeline-main"
URL = "s3://patch-bucket/lc/fix.yml"
DOCUMENT = """name: fix
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Update
        action: UpdateOS
"""


def plan():
    dot, dash = image_builder_version(NOW)
    return patch_plan(stack_tag="main", lifecycle_id=LIFECYCLE_ID, version_dot=dot, version_dash=dash,
                      deployment_arn=PIPELINE)


def test_every_patch_resource_is_named_from_the_stack_tag_lifecycle_and_version():
    made = plan()
    assert made.name == f"amilc-main-patch-{LIFECYCLE_ID}-2026-11-23100000"
    assert made.version == "2026.11.23100000"
    assert made.name.startswith(resource_prefix("main"))
    base = "arn:aws:imagebuilder:eu-west-1:123456789012"
    assert made.component_arn == f"{base}:component/{made.name}/2026.11.23100000/1"
    assert made.recipe_arn == f"{base}:image-recipe/{made.name}/2026.11.23100000"
    assert made.infrastructure_arn == f"{base}:infrastructure-configuration/{made.name}"
    assert made.distribution_arn == f"{base}:distribution-configuration/{made.name}"
    assert made.pipeline_arn == f"{base}:image-pipeline/{made.name}"
    assert len(made.name) <= 128


def test_the_plan_is_the_same_from_the_same_input():
    assert plan() == plan()


def test_the_plan_refuses_a_version_image_builder_would_refuse():
    with pytest.raises(ValidationError, match="semantic_version_dot"):
        patch_plan(stack_tag="main", lifecycle_id=LIFECYCLE_ID, version_dot="1.0", version_dash="2026-11-23100000",
                   deployment_arn=PIPELINE)


def test_resources_are_tagged_with_lifecycle_stack_tag_and_version():
    assert resource_tags(stack_tag="main", lifecycle_id=LIFECYCLE_ID, version_dot="2026.11.23100000") == {
        "Event": "AMI_LIFECYCLE_PATCH", "LifecycleId": LIFECYCLE_ID, "StackTag": "main",
        "SemanticVersion": "2026.11.23100000"}


def test_a_valid_component_document_is_accepted():
    assert check_component_document(DOCUMENT.encode(), url=URL)["name"] == "fix"


@pytest.mark.parametrize("text, problem", [
    ("", "is empty"),
    ("phases: [unclosed", "not valid YAML"),
    ("- a list", "must be a YAML mapping"),
    ("schemaVersion: 2.0\nphases: []", "schemaVersion must be 1.0"),
    ("schemaVersion: 1.0\nphases: []", "phases must be a non-empty list"),
    ("schemaVersion: 1.0\nphases:\n  - name: deploy\n    steps: [{name: a, action: b}]",
     r"phases\[0\]: name must be one of build, validate, test"),
    ("schemaVersion: 1.0\nphases:\n  - name: build\n    steps: []", "steps must be a non-empty list"),
    ("schemaVersion: 1.0\nphases:\n  - name: build\n    steps: [{name: a}]", "needs a name and an action"),
    ("x" * 16001, "larger than"),
])
def test_a_broken_component_document_is_refused_naming_what_is_wrong(text, problem):
    with pytest.raises(ValidationError, match=problem) as refused:
        check_component_document(text.encode(), url=URL)
    assert refused.value.field == "properties.patch_component_url"
    assert URL in refused.value.message or "is empty" in refused.value.message


def test_a_document_that_is_not_utf8_is_refused():
    with pytest.raises(ValidationError, match="not UTF-8"):
        check_component_document(b"\xff\xfe", url=URL)


def image(status="AVAILABLE"):
    return {"arn": "arn:aws:imagebuilder:eu-west-1:123456789012:image/p/2026.11.23100000/1", "name": "p",
            "state": {"status": status},
            "outputResources": {"amis": [{"region": "eu-west-1", "image": "ami-0bbbbbbbbbbbbbbb2", "name": "n"}]},
            "imageRecipe": {"arn": "arn:recipe", "components": [{"componentArn": "arn:component"}]}}


def test_an_available_patch_image_is_a_completed_patch_ami_result():
    result = patch_ami_result(image(), lifecycle_id=LIFECYCLE_ID, semver_bump_type="minor", commit_ref="77aa01c",
                              pipeline_name="amilc-main-patch-x", now=NOW)
    assert (result.name, result.status) == (EventName.PATCH_AMI, Status.COMPLETED)
    assert result.attributes == {"semver_bump_type": "MINOR", "commit_ref": "77aa01c"}
    assert result.properties["ami_details"][0]["image"] == "ami-0bbbbbbbbbbbbbbb2"
    assert result.properties["imagebuilder_pipeline_name"] == "amilc-main-patch-x"
    assert result.properties["task"] == "AMI patch with EC2 Image Builder"


def test_a_failed_patch_image_has_no_result():
    with pytest.raises(ValidationError, match="not AVAILABLE"):
        patch_ami_result(image("FAILED"), lifecycle_id=LIFECYCLE_ID, semver_bump_type="PATCH", commit_ref="",
                         pipeline_name="p", now=NOW)


def test_patch_versions_are_the_bump_then_the_next_patches_up():
    minor = patch_version_candidates("1.0.0", SemverBump.MINOR)
    assert [next(minor) for _ in range(3)] == ["1.1.0", "1.1.1", "1.1.2"]
    assert next(patch_version_candidates("1.1.0", SemverBump.PATCH)) == "1.1.1"
