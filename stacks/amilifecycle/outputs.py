"""Stack outputs of the AmiLifecycle stack.

Output keys are a public interface: the CLIs, the AMI selection client and
the local cloud read them by key from DescribeStacks. Keys that existed in
the original keep their names; none carries a secret (API keys are named by
their Secrets Manager prefix, never by value).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct


@dataclass(frozen=True)
class Output:
    """One output: its key (also its logical id), value and meaning."""

    key: str
    value: str
    description: str


class LifecycleOutputs(Construct):
    """Emits each :class:`Output` with its key as the CloudFormation logical id,
    whatever construct path it is declared under."""

    def __init__(self, scope: Construct, construct_id: str, *, outputs: list[Output]) -> None:
        super().__init__(scope, construct_id)
        keys = [output.key for output in outputs]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"stack outputs: each key must be unique, got {', '.join(duplicates)} twice")
        self.outputs: dict[str, cdk.CfnOutput] = {}
        for output in outputs:
            cfn_output = cdk.CfnOutput(self, output.key, value=output.value, description=output.description)
            cfn_output.override_logical_id(output.key)
            self.outputs[output.key] = cfn_output
