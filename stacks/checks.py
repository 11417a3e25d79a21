"""Static-analysis exceptions, recorded on the resource they concern.

A checkov check that does not apply to one resource is skipped in that
resource's metadata, with the reason beside it, rather than for the whole
project in checkov.yaml: the check keeps guarding every other resource.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def skip_check(construct: IConstruct, check_id: str, reason: str) -> None:
    """Record on ``construct``'s CloudFormation resource why ``check_id`` does not apply."""
    resource = construct.node.default_child if not isinstance(construct, cdk.CfnResource) else construct
    assert isinstance(resource, cdk.CfnResource), f"{construct.node.path} has no CloudFormation resource"
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", metadata)
