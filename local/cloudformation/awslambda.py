"""``AWS::Lambda::Function`` with its declared ``LoggingConfig``.

moto's model builds the function from a fixed list of properties that
leaves ``LoggingConfig`` out, so a function declaring its own log group
would log to ``/aws/lambda/<name>`` and the group the template creates
for it would stay empty. Here the function logs where the template says
(see :mod:`local.lambda_runtime.logging_config`); an update that removes
the setting returns the function to the default group, as Lambda does.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.common_models import CloudFormationModel

from local.lambda_runtime.logging_config import set_logging_config


class Function(LambdaFunction, CloudFormationModel):
    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> LambdaFunction:
        function = super().create_from_cloudformation_json(resource_name, cloudformation_json, account_id,
                                                           region_name, **kwargs)
        set_logging_config(function, (cloudformation_json.get("Properties") or {}).get("LoggingConfig"))
        return function

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: LambdaFunction, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> LambdaFunction:
        function = super().update_from_cloudformation_json(original_resource, new_resource_name,
                                                           cloudformation_json, account_id, region_name)
        set_logging_config(function, (cloudformation_json.get("Properties") or {}).get("LoggingConfig"))
        return function
