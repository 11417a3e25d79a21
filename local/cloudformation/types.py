"""Which model creates which resource type.

moto maps a type to the direct subclasses of ``CloudFormationModel`` (the
last one defined for a type wins), sends every ``Custom::`` type to its own
custom-resource model, and returns None, with a log warning, for a type it
does not know: the resource is skipped and every Ref to it resolves to
nothing. Here an unknown type is an error that names the type, and custom
types go to :mod:`local.cloudformation.custom_resources` (CDK's built-in
ones first, to their native models in :mod:`local.cloudformation.cdk`).
"""

from __future__ import annotations

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

# Types that legitimately create nothing (as on AWS, where they only
# coordinate stack creation).
NULL_TYPES = frozenset(parsing.NULL_MODELS)


class UnsupportedResourceType(Exception):
    """A template names a resource type the local cloud cannot create."""

    def __init__(self, resource_type: str) -> None:
        super().__init__(
            f"{resource_type} is not supported by the local cloud (neither moto nor local/cloudformation "
            "provides it); see docs/local-cloud.md for the supported types"
        )
        self.resource_type = resource_type


def _model_map() -> dict[str, type[CloudFormationModel]]:
    return parsing.get_model_map()


def resource_class_from_type(resource_type: str) -> type[CloudFormationModel] | None:
    """Replacement for moto's lookup (same signature, louder on gaps)."""
    from local.cloudformation import custom_resources

    if resource_type in NULL_TYPES:
        return None
    models = _model_map()
    if resource_type in models:
        return models[resource_type]
    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        return custom_resources.LambdaBackedCustomResource
    raise UnsupportedResourceType(resource_type)


def supported_types() -> list[str]:
    """Every resource type a template may use (for docs and error messages)."""
    return sorted(t for t in _model_map() if t.startswith(("AWS::", "Custom::")) and t != "AWS::SERVICE::RESOURCE")


# Name length limits of the services, which CloudFormation respects when it
# generates a physical name ("<stack>-<logical id>-<random>").
NAME_LIMITS = {
    "AWS::StepFunctions::StateMachine": 80,
    "AWS::SQS::Queue": 80,
    "AWS::Lambda::Function": 64,
    "AWS::IAM::Role": 64,
    "AWS::IAM::InstanceProfile": 128,
    "AWS::IAM::ManagedPolicy": 128,
    "AWS::Events::Rule": 64,
    "AWS::SNS::Topic": 256,
    "AWS::DynamoDB::Table": 255,
    "AWS::SecretsManager::Secret": 256,
    "AWS::CloudWatch::Alarm": 255,
}
_original_generate_resource_name = parsing.generate_resource_name


def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
    """moto's generated name, shortened like CloudFormation's to the
    service's limit (keeping the random suffix that makes it unique)."""
    name = _original_generate_resource_name(resource_type, stack_name, logical_id)
    limit = NAME_LIMITS.get(resource_type)
    if limit is None or len(name) <= limit:
        return name
    prefix, _, suffix = name.rpartition("-")
    return f"{prefix[: limit - len(suffix) - 1].rstrip('-')}-{suffix}"


def install() -> None:
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    parsing.resource_class_from_type = resource_class_from_type
    parsing.generate_resource_name = generate_resource_name
