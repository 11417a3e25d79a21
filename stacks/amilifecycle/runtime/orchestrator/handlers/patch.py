"""The PATCH_AMI state machine's own Lambda steps (stacks/amilifecycle/events/patch.py wires them).

* :func:`create_resources` - the patch's Image Builder component (from the
  owner's document), recipe on the current AMI, infrastructure and
  distribution configurations and pipeline;
* :func:`start_pipeline` - start the patch pipeline; returns the build's ARN;
* :func:`ami_details` - the PATCH_AMI result of the finished build;
* :func:`delete_resources` - delete every resource of the patch, on success
  and after any error (idempotent; a resource never created is no error).

Waiting for the build is the build event's own wait step and listener
(``handlers/build.py``): the patch pipeline reports to the same Image
Builder topic.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..adapters.patch_builder import PatchInfrastructure
from ..bootstrap import container
from ..domain.fields import lifecycle_id as parse_lifecycle_id
from ..domain.patches import PatchPlan, patch_ami_result, patch_plan, resource_tags
from ..domain.builds import result_message
from .step_input import mapping, text

logger = Logger()


def _plan(event: Mapping[str, Any]) -> PatchPlan:
    patch = mapping(event, "patch")
    return patch_plan(stack_tag=text(event, "stack_tag"), lifecycle_id=parse_lifecycle_id(event.get("lifecycle_id")),
                      version_dot=text(patch, "semantic_version_dot"),
                      version_dash=text(patch, "semantic_version_dash"),
                      deployment_arn=container().config.imagebuilder_pipeline_arn)


@logger.inject_lambda_context
def create_resources(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{lifecycle_id, stack_tag, patch, ami, execution_name}`` -> the plan (names and ARNs) it created."""
    built = container()
    plan = _plan(event)
    patch = mapping(event, "patch")
    lifecycle_id = parse_lifecycle_id(event.get("lifecycle_id"))
    built.patch_builder.create(
        plan, infrastructure=PatchInfrastructure.from_json(built.config.patch_infrastructure_json),
        component_url=text(patch, "patch_component_url"),
        change_description=text(patch, "patch_change_description"),
        parent_image=text(mapping(event, "ami"), "id"),
        tags=resource_tags(stack_tag=text(event, "stack_tag"), lifecycle_id=lifecycle_id, version_dot=plan.version),
        request_name=text(event, "execution_name"))
    logger.info("patch resources created", extra={"lifecycle_id": lifecycle_id, "resource_name": plan.name})
    return plan.to_dict()


@logger.inject_lambda_context
def start_pipeline(event: Mapping[str, Any], context: Any) -> dict[str, str]:
    """``{lifecycle_id, stack_tag, patch, execution_name}`` -> ``{image_build_version_arn}``."""
    plan = _plan(event)
    arn = container().patch_builder.start(plan, request_name=text(event, "execution_name"))
    logger.info("patch build started", extra={"lifecycle_id": event.get("lifecycle_id"),
                                              "image_build_version_arn": arn})
    return {"image_build_version_arn": arn}


@logger.inject_lambda_context
def ami_details(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{lifecycle_id, stack_tag, patch, image_build_version_arn}`` -> the PATCH_AMI result message."""
    built = container()
    plan = _plan(event)
    patch = mapping(event, "patch")
    image = built.image_builder.get_image(text(event, "image_build_version_arn"))
    result = patch_ami_result(image, lifecycle_id=text(event, "lifecycle_id"),
                              semver_bump_type=patch.get("semver_bump_type"), commit_ref=patch.get("commit_ref"),
                              pipeline_name=plan.name, now=built.clock(),
                              change_description=patch.get("patch_change_description"),
                              component_url=patch.get("patch_component_url"))
    logger.info("patched AMI read", extra={"lifecycle_id": result.lifecycle_id,
                                           "amis": [ami.get("image") for ami in result.properties["ami_details"]]})
    return result_message(result)


@logger.inject_lambda_context
def delete_resources(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``{execution: <the execution's state>}`` -> ``{deleted: [ARNs]}``: everything of the patch that exists."""
    state = mapping(event, "execution")
    plan = _plan(state)
    image_arn = mapping(state, "build").get("image_build_version_arn")
    deleted = container().patch_builder.delete(plan, image_build_version_arn=image_arn if isinstance(image_arn, str)
                                               else None)
    logger.info("patch resources deleted", extra={"lifecycle_id": state.get("lifecycle_id"), "resource_name": plan.name,
                                                  "deleted": len(deleted)})
    return {"name": plan.name, "deleted": deleted}
