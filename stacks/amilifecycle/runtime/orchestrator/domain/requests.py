"""Validation of API requests into immutable request values.

The HTTP layer hands over the parsed JSON body (or the query parameters)
and gets back a frozen dataclass, or a :class:`ValidationError` naming the
first field that is wrong and what it accepts. Every field is checked here,
independent of the order of the ``events`` list; state rules (does the
lifecycle exist, may the event start) are checked later against the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from . import fields
from .errors import ValidationError
from .fields import NotificationChannel
from .rules import EventToggle, validate_event_selection
from .vocabulary import (ApprovalStatus, CertificationStatus, LifecycleType, SemverBump,
                         parse_approval_status, parse_certification_status, parse_semver_bump)

COMMIT_REF_PATTERN = re.compile(r"^\S{1,64}$")
PATCH_COMPONENT_URL_PATTERN = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+$")
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 25
MAX_NEXT_TOKEN_LENGTH = 4096

_CREATE_FIELDS = ("stack_tag", "owner", "notifications", "events", "product_ver", "product_name", "commit_ref",
                  "properties")
_UPDATE_FIELDS = ("lifecycle_id", "stack_tag", "owner", "notifications", "events", "properties")
_PATCH_FIELDS = ("lifecycle_id", "stack_tag", "owner", "notifications", "events", "commit_ref", "properties")
_VERDICT_FIELDS = ("lifecycle_id", "stack_tag", "properties")


@dataclass(frozen=True)
class CreateLifecycleRequest:
    """POST /ami-creation/lifecycles: build a new AMI and run the enabled events on it."""

    stack_tag: str
    owner: str
    notifications: tuple[NotificationChannel, ...]
    events: tuple[EventToggle, ...]
    product_ver: str
    product_name: str
    commit_ref: str
    properties: Mapping[str, str]


@dataclass(frozen=True)
class UpdateLifecycleRequest:
    """PUT /ami-creation/lifecycles: change owner/notifications and continue with more events."""

    lifecycle_id: str
    stack_tag: str
    owner: str
    notifications: tuple[NotificationChannel, ...]
    events: tuple[EventToggle, ...]
    properties: Mapping[str, str]


@dataclass(frozen=True)
class PatchLifecycleRequest:
    """POST /ami-patch/lifecycles: patch the lifecycle's approved AMI with a component."""

    lifecycle_id: str
    stack_tag: str
    owner: str
    notifications: tuple[NotificationChannel, ...]
    events: tuple[EventToggle, ...]
    commit_ref: str
    patch_component_url: str
    patch_change_description: str
    semver_bump_type: SemverBump
    properties: Mapping[str, str]


@dataclass(frozen=True)
class UpdatePatchRequest:
    """PUT /ami-patch/lifecycles: continue the current patch with more events."""

    lifecycle_id: str
    stack_tag: str
    owner: str
    notifications: tuple[NotificationChannel, ...]
    events: tuple[EventToggle, ...]
    commit_ref: str | None
    properties: Mapping[str, str]


@dataclass(frozen=True)
class CertificationRequest:
    """POST /ami-creation/lifecycles/{id}/certify: the QA team's verdict."""

    lifecycle_id: str
    stack_tag: str
    certification_status: CertificationStatus
    properties: Mapping[str, str]


@dataclass(frozen=True)
class ApprovalRequest:
    """POST /ami-creation|ami-patch/lifecycles/{id}/approve: approve (or refuse) for production."""

    lifecycle_id: str
    stack_tag: str
    approval_status: ApprovalStatus
    properties: Mapping[str, str]


@dataclass(frozen=True)
class ListStatusQuery:
    """GET .../lifecycles/status: one page of lifecycles, newest first; only ``stack_tag``'s when given."""

    stack_tag: str | None
    limit: int
    next_token: str | None


def _owner(body: Mapping[str, Any]) -> str:
    return fields.required_text(body, "owner", max_length=128)


def _commit_ref(body: Mapping[str, Any]) -> str:
    return fields.required_text(body, "commit_ref", max_length=64, pattern=COMMIT_REF_PATTERN,
                                expected="a commit reference of 1-64 characters without spaces, like a git SHA")


def parse_create_request(body: Any) -> CreateLifecycleRequest:
    """Validate a lifecycle creation request; BUILD_AMI must be enabled."""
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _CREATE_FIELDS)
    stack_tag = fields.stack_tag(body)
    owner = _owner(body)
    notifications = fields.notifications(body.get("notifications"))
    # The build is always enabled in a create request (checked here), so the
    # fields it needs are always required, wherever BUILD_AMI sits in the list.
    events = validate_event_selection(body.get("events"), LifecycleType.AMI_CREATION, starts_phase=True)
    return CreateLifecycleRequest(
        stack_tag=stack_tag, owner=owner, notifications=notifications, events=events,
        product_ver=fields.required_text(body, "product_ver", max_length=128),
        product_name=fields.required_text(body, "product_name", max_length=128),
        commit_ref=_commit_ref(body),
        properties=fields.properties(body.get("properties")),
    )


def parse_update_request(body: Any) -> UpdateLifecycleRequest:
    """Validate a lifecycle update request; BUILD_AMI must be disabled."""
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _UPDATE_FIELDS)
    return UpdateLifecycleRequest(
        lifecycle_id=fields.lifecycle_id(body.get("lifecycle_id")),
        stack_tag=fields.stack_tag(body),
        owner=_owner(body),
        notifications=fields.notifications(body.get("notifications")),
        events=validate_event_selection(body.get("events"), LifecycleType.AMI_CREATION, starts_phase=False),
        properties=fields.properties(body.get("properties")),
    )


def _nested(properties: Mapping[str, str], key: str) -> dict[str, Any]:
    """``properties[key]`` under its dotted name, so errors say ``properties.<key>``."""
    return {f"properties.{key}": properties.get(key)}


def parse_patch_request(body: Any) -> PatchLifecycleRequest:
    """Validate a patch request; PATCH_AMI must be enabled and ``properties`` describe the patch.

    ``properties`` must hold ``patch_component_url`` (``s3://bucket/key`` of
    an Image Builder component document), ``patch_change_description`` and
    ``semver_bump_type`` (MINOR or PATCH); the stored properties keep the
    canonical bump type.
    """
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _PATCH_FIELDS)
    lifecycle_id = fields.lifecycle_id(body.get("lifecycle_id"))
    stack_tag = fields.stack_tag(body)
    owner = _owner(body)
    notifications = fields.notifications(body.get("notifications"))
    events = validate_event_selection(body.get("events"), LifecycleType.AMI_PATCH, starts_phase=True)
    commit_ref = _commit_ref(body)
    properties = fields.properties(body.get("properties"), required=True)
    url = fields.required_text(_nested(properties, "patch_component_url"), "properties.patch_component_url",
                               max_length=1024, pattern=PATCH_COMPONENT_URL_PATTERN,
                               expected="the S3 URL of a component document, like s3://bucket/patches/fix.yml")
    description = fields.required_text(_nested(properties, "patch_change_description"),
                                       "properties.patch_change_description", max_length=1024)
    bump = parse_semver_bump(properties.get("semver_bump_type"), field="properties.semver_bump_type")
    stored = {**properties, "patch_component_url": url, "patch_change_description": description,
              "semver_bump_type": str(bump)}
    return PatchLifecycleRequest(
        lifecycle_id=lifecycle_id, stack_tag=stack_tag, owner=owner, notifications=notifications, events=events,
        commit_ref=commit_ref, patch_component_url=url, patch_change_description=description,
        semver_bump_type=bump, properties=fields.properties(stored),
    )


def parse_patch_update_request(body: Any) -> UpdatePatchRequest:
    """Validate a patch update request; PATCH_AMI must be disabled, ``commit_ref`` is optional."""
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _PATCH_FIELDS)
    commit_ref = body.get("commit_ref")
    return UpdatePatchRequest(
        lifecycle_id=fields.lifecycle_id(body.get("lifecycle_id")),
        stack_tag=fields.stack_tag(body),
        owner=_owner(body),
        notifications=fields.notifications(body.get("notifications")),
        events=validate_event_selection(body.get("events"), LifecycleType.AMI_PATCH, starts_phase=False),
        commit_ref=None if commit_ref in (None, "") else _commit_ref(body),
        properties=fields.properties(body.get("properties")),
    )


def _path_lifecycle_id(body: Mapping[str, Any], path_lifecycle_id: Any) -> str:
    """The lifecycle named by the URL path; a body ``lifecycle_id``, if sent, must agree."""
    from_path = fields.lifecycle_id(path_lifecycle_id, field="lifecycle-id")
    if body.get("lifecycle_id") is not None:
        from_body = fields.lifecycle_id(body.get("lifecycle_id"))
        if from_body != from_path:
            raise ValidationError(
                f"lifecycle_id: the body names {from_body} but the path names {from_path}; send the same id "
                "(or leave lifecycle_id out of the body)", field="lifecycle_id")
    return from_path


def parse_certification_request(body: Any, path_lifecycle_id: Any) -> CertificationRequest:
    """Validate the QA team's verdict (CERTIFIED or FAILED)."""
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _VERDICT_FIELDS + ("certification_status",))
    return CertificationRequest(
        lifecycle_id=_path_lifecycle_id(body, path_lifecycle_id),
        stack_tag=fields.stack_tag(body),
        certification_status=parse_certification_status(body.get("certification_status")),
        properties=fields.properties(body.get("properties")),
    )


def parse_approval_request(body: Any, path_lifecycle_id: Any) -> ApprovalRequest:
    """Validate a production approval verdict (APPROVED or NOT_APPROVED; FAILED means NOT_APPROVED)."""
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _VERDICT_FIELDS + ("approval_status",))
    return ApprovalRequest(
        lifecycle_id=_path_lifecycle_id(body, path_lifecycle_id),
        stack_tag=fields.stack_tag(body),
        approval_status=parse_approval_status(body.get("approval_status")),
        properties=fields.properties(body.get("properties")),
    )


def parse_list_status_query(query: Mapping[str, Any] | None) -> ListStatusQuery:
    """Validate the list-status query string: ``stack_tag`` (optional filter), ``limit`` 1-100 (25), ``next_token``.

    Without ``stack_tag`` every lifecycle is listed, as the first API version did.
    """
    query = query or {}
    next_token = fields.text(query, "next_token", required=False, max_length=MAX_NEXT_TOKEN_LENGTH,
                             expected="the next_token of the previous page")
    return ListStatusQuery(
        stack_tag=fields.stack_tag(query) if query.get("stack_tag") is not None else None,
        limit=fields.bounded_integer(query.get("limit"), "limit", minimum=1, maximum=MAX_LIST_LIMIT,
                                     default=DEFAULT_LIST_LIMIT),
        next_token=next_token,
    )
