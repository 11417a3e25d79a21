"""The orchestrator CLI's operations: route, key and required flags of each.

One row per ``--operation`` value. The route and the key setting are the
API's (stacks/amilifecycle/runtime/orchestrator/api/openapi.yaml, extension
``x-ami-lifecycle-api-key``); a test holds the two together. Which flags an
operation needs follows the original CLI, plus ``--stackTag`` everywhere:
it names the deployment the CLI talks to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Mapping

from orchestrator.domain.vocabulary import CliOperation, LifecycleType

from .errors import UsageError


class Kind(Enum):
    """What an operation does, which decides how its request is built and its answer shown."""

    CREATE = "create"
    UPDATE = "update"
    PATCH = "patch"
    PATCH_UPDATE = "patch_update"
    STATUS = "status"
    STATUSES = "statuses"
    TIMELINE = "timeline"
    CERTIFY = "certify"
    APPROVE = "approve"
    REVOKE = "revoke"


# Parameter name -> the flag a user types (messages name flags, not parameters).
FLAGS: Mapping[str, str] = MappingProxyType({
    "stack_tag": "--stackTag",
    "lifecycle_id": "--lifecycleId",
    "events": "--events",
    "owner": "--owner",
    "notifications": "--notifications",
    "properties": "--properties",
    "product_ver": "--productVer",
    "product_name": "--productName",
    "commit_ref": "--commitRef",
    "certification_status": "--certificationStatus",
    "reason": "--reason",
    "approval_status_creation": "--approvalStatusAmiCreation",
    "approval_status_patch": "--approvalStatusAmiPatch",
    "patch_component": "--patchComponent",
    "patch_change_description": "--patchChangeDescription",
    "semver_bump_type": "--semverBumpType",
    "reason": "--reason",
    "ami_id": "--amiId",
})


@dataclass(frozen=True)
class Operation:
    name: CliOperation
    kind: Kind
    method: str
    path: str
    key_setting: str
    lifecycle_type: LifecycleType
    required: tuple[str, ...]

    def route(self, lifecycle_id: str | None = None) -> str:
        """The request path, with the lifecycle id filled in where the route has one."""
        return self.path.format(lifecycle_id=lifecycle_id) if "{lifecycle_id}" in self.path else self.path

    @property
    def approval_param(self) -> str:
        """The parameter holding this phase's approval verdict (AMI_APPROVAL_CREATE / _PATCH)."""
        creation = self.lifecycle_type is LifecycleType.AMI_CREATION
        return "approval_status_creation" if creation else "approval_status_patch"

    @property
    def starts_workflow(self) -> bool:
        """True for operations that start an event, so ``--wait`` has something to follow."""
        return self.kind in (Kind.CREATE, Kind.UPDATE, Kind.PATCH, Kind.PATCH_UPDATE, Kind.CERTIFY, Kind.APPROVE)


_C, _P = LifecycleType.AMI_CREATION, LifecycleType.AMI_PATCH
_CREATE_PATH = "/ami-creation/lifecycles"
_PATCH_PATH = "/ami-patch/lifecycles"
_ONE_CREATION = "/ami-creation/lifecycles/{lifecycle_id}"
_ONE_PATCH = "/ami-patch/lifecycles/{lifecycle_id}"
_CHANNELS = ("owner", "notifications", "events")

OPERATIONS: Mapping[CliOperation, Operation] = MappingProxyType({op.name: op for op in (
    Operation(CliOperation.AMI_CREATE, Kind.CREATE, "POST", _CREATE_PATH, "ami_creation_post_secret_name", _C,
              ("stack_tag", *_CHANNELS, "product_ver", "product_name")),
    Operation(CliOperation.AMI_CREATE_UPDATE, Kind.UPDATE, "PUT", _CREATE_PATH, "ami_creation_put_secret_name", _C,
              ("stack_tag", "lifecycle_id", *_CHANNELS)),
    Operation(CliOperation.AMI_PATCH, Kind.PATCH, "POST", _PATCH_PATH, "ami_patch_post_secret_name", _P,
              ("stack_tag", "lifecycle_id", *_CHANNELS, "patch_component", "patch_change_description",
               "semver_bump_type")),
    Operation(CliOperation.AMI_PATCH_UPDATE, Kind.PATCH_UPDATE, "PUT", _PATCH_PATH, "ami_patch_put_secret_name", _P,
              ("stack_tag", "lifecycle_id", *_CHANNELS)),
    Operation(CliOperation.AMI_GET_STATUS_BY_LIFECYCLE_ID, Kind.STATUS, "GET", _ONE_CREATION + "/status",
              "ami_creation_status_secret_name", _C, ("stack_tag", "lifecycle_id")),
    Operation(CliOperation.AMI_GET_STATUSES, Kind.STATUSES, "GET", _CREATE_PATH + "/status",
              "ami_creation_status_secret_name", _C, ("stack_tag",)),
    Operation(CliOperation.AMI_TIMELINE_CREATE, Kind.TIMELINE, "GET", _ONE_CREATION + "/timeline",
              "ami_creation_timeline_secret_name", _C, ("stack_tag", "lifecycle_id")),
    Operation(CliOperation.AMI_TIMELINE_PATCH, Kind.TIMELINE, "GET", _ONE_PATCH + "/timeline",
              "ami_patch_timeline_secret_name", _P, ("stack_tag", "lifecycle_id")),
    Operation(CliOperation.AMI_QA_CERTIFICATION, Kind.CERTIFY, "POST", _ONE_CREATION + "/certify",
              "ami_creation_qa_certification_secret_name", _C, ("stack_tag", "lifecycle_id", "certification_status")),
    Operation(CliOperation.AMI_APPROVAL_CREATE, Kind.APPROVE, "POST", _ONE_CREATION + "/approve",
              "ami_creation_mark_for_production_secret_name", _C,
              ("stack_tag", "lifecycle_id", "approval_status_creation")),
    Operation(CliOperation.AMI_APPROVAL_PATCH, Kind.APPROVE, "POST", _ONE_PATCH + "/approve",
              "ami_patch_mark_for_production_secret_name", _P,
              ("stack_tag", "lifecycle_id", "approval_status_patch")),
    Operation(CliOperation.AMI_REVOKE, Kind.REVOKE, "POST", "/lifecycles/{lifecycle_id}/revoke",
              "ami_revoke_secret_name", _C, ("stack_tag", "lifecycle_id", "reason")),
)})

# Reading a lifecycle's status uses the status key whichever phase it is in.
STATUS = OPERATIONS[CliOperation.AMI_GET_STATUS_BY_LIFECYCLE_ID]


def operation(name: str | CliOperation) -> Operation:
    try:
        return OPERATIONS[CliOperation(name)]
    except ValueError:
        raise UsageError(f"--operation: expected one of {', '.join(OPERATIONS)}, got {name!r}") from None


def check_required(op: Operation, values: Mapping[str, object]) -> None:
    """Every flag ``op`` needs has a value; the first missing one is named."""
    for name in op.required:
        value = values.get(name)
        if value is None or value == "" or value == ():
            raise UsageError(f"{FLAGS[name]} is required for --operation {op.name}")
