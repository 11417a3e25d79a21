"""Request bodies built from CLI flags, checked by the domain's own validators.

The API validates every request; checking here too means a typo is caught
before any AWS call, with a message naming the *flag*. The checks are the
domain's (``orchestrator.domain``), so the CLI can never accept what the
API refuses or the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

from orchestrator.domain import fields, rules
from orchestrator.domain.errors import ValidationError
from orchestrator.domain.requests import COMMIT_REF_PATTERN
from orchestrator.domain.revocation import parse_revoke_request
from orchestrator.domain.vocabulary import (LifecycleType, parse_approval_status, parse_certification_status,
                                            parse_semver_bump)

from .errors import UsageError
from .operations import FLAGS, Kind, Operation

SEPARATOR = "::"
T = TypeVar("T")


@dataclass(frozen=True)
class OperationInput:
    """The values of the operation flags, as typed (None or empty when not given)."""

    stack_tag: str | None = None
    lifecycle_id: str | None = None
    events: tuple[str, ...] = ()
    owner: str | None = None
    notifications: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    product_ver: str | None = None
    product_name: str | None = None
    commit_ref: str | None = None
    certification_status: str | None = None
    reason: str | None = None
    approval_status_creation: str | None = None
    approval_status_patch: str | None = None
    patch_component: str | None = None
    patch_change_description: str | None = None
    semver_bump_type: str | None = None
    reason: str | None = None
    ami_id: str | None = None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FLAGS}


def checked(flag: str, given: Any, parse: Callable[[], T]) -> T:
    """Run a domain validator; its error becomes a usage error naming ``flag`` and the value given."""
    try:
        return parse()
    except ValidationError as error:
        detail = error.message
        if error.field and detail.startswith(f"{error.field}:"):
            detail = detail[len(error.field) + 1:].strip()
        shown = f" {given!r}" if isinstance(given, str) else ""
        raise UsageError(f"{flag}{shown}: {detail}") from None


def stack_tag(value: str) -> str:
    return checked(FLAGS["stack_tag"], value, lambda: fields.stack_tag({"stack_tag": value}))


def lifecycle_id(value: str) -> str:
    return checked(FLAGS["lifecycle_id"], value, lambda: fields.lifecycle_id(value))


def split_pair(flag: str, raw: str, shape: str) -> tuple[str, str]:
    """``LEFT::RIGHT`` -> (LEFT, RIGHT); both sides must be non-empty."""
    left, separator, right = raw.partition(SEPARATOR)
    if not separator or not left.strip() or not right.strip():
        raise UsageError(f"{flag} {raw!r}: expected {shape}")
    return left.strip(), right.strip()


def notifications(values: Iterable[str]) -> list[dict[str, str]]:
    """``--notifications METHOD::TARGET`` (repeatable) -> ``[{method, target}]`` (EMAIL or HTTP)."""
    flag = FLAGS["notifications"]
    raw = []
    for value in values:
        method, target = split_pair(flag, value, "METHOD::TARGET, like EMAIL::owner@example.com")
        entry = {"method": method, "target": target}
        checked(flag, value, lambda: fields.notifications([entry]))
        raw.append(entry)
    channels = checked(flag, None, lambda: fields.notifications(raw))
    return [channel.to_dict() for channel in channels]


def properties(values: Iterable[str]) -> dict[str, str]:
    """``--properties KEY::VALUE`` (repeatable) -> ``{KEY: VALUE}``; a key given twice is refused."""
    flag = FLAGS["properties"]
    result: dict[str, str] = {}
    for value in values:
        key, text = split_pair(flag, value, "KEY::VALUE, like ticket::OPS-1234")
        if key in result:
            raise UsageError(f"{flag}: key {key!r} is given more than once")
        result[key] = text
    return dict(checked(flag, None, lambda: fields.properties(result)))


def events(values: Iterable[str], lifecycle_type: LifecycleType, *, starts_phase: bool) -> list[dict[str, Any]]:
    """``--events`` values -> the request's ``events`` list (the domain maps CLI values to event names)."""
    chosen = list(values)
    toggles = checked(FLAGS["events"], None,
                      lambda: rules.toggles_from_cli(chosen, lifecycle_type, starts_phase=starts_phase))
    return [toggle.to_dict() for toggle in toggles]


def commit_ref(value: str) -> str:
    flag = FLAGS["commit_ref"]
    return checked(flag, value, lambda: fields.required_text(
        {"commit_ref": value}, "commit_ref", max_length=64, pattern=COMMIT_REF_PATTERN,
        expected="a commit reference of 1-64 characters without spaces, like a git SHA"))


def text(name: str, value: str, max_length: int = 128) -> str:
    return checked(FLAGS[name], value, lambda: fields.required_text({name: value}, name, max_length=max_length))


def _common(given: OperationInput, op: Operation, *, starts_phase: bool) -> dict[str, Any]:
    return {
        "stack_tag": stack_tag(given.stack_tag or ""),
        "owner": text("owner", given.owner or ""),
        "notifications": notifications(given.notifications),
        "events": events(given.events, op.lifecycle_type, starts_phase=starts_phase),
    }


def _with_properties(body: dict[str, Any], given: OperationInput) -> dict[str, Any]:
    extra = properties(given.properties)
    if extra:
        body["properties"] = extra
    return body


def build_body(op: Operation, given: OperationInput) -> dict[str, Any] | None:
    """The JSON body of ``op`` (None for GET routes); required flags are checked before.

    A patch's ``properties.patch_component_url`` is added once the component
    document is where the orchestrator can read it (see :mod:`.patch_component`).
    """
    if op.kind is Kind.CREATE:
        body = _common(given, op, starts_phase=True)
        body.update(product_ver=text("product_ver", given.product_ver or ""),
                    product_name=text("product_name", given.product_name or ""),
                    commit_ref=commit_ref(given.commit_ref or ""))
        return _with_properties(body, given)
    if op.kind is Kind.UPDATE:
        body = {"lifecycle_id": lifecycle_id(given.lifecycle_id or ""), **_common(given, op, starts_phase=False)}
        return _with_properties(body, given)
    if op.kind is Kind.PATCH:
        body = {"lifecycle_id": lifecycle_id(given.lifecycle_id or ""), **_common(given, op, starts_phase=True),
                "commit_ref": commit_ref(given.commit_ref or "")}
        patch = properties(given.properties)
        bump = checked(FLAGS["semver_bump_type"], given.semver_bump_type,
                       lambda: parse_semver_bump(given.semver_bump_type))
        patch.update(patch_change_description=text("patch_change_description",
                                                   given.patch_change_description or "", 1024),
                     semver_bump_type=str(bump))
        body["properties"] = patch
        return body
    if op.kind is Kind.PATCH_UPDATE:
        body = {"lifecycle_id": lifecycle_id(given.lifecycle_id or ""), **_common(given, op, starts_phase=False)}
        if given.commit_ref:
            body["commit_ref"] = commit_ref(given.commit_ref)
        return _with_properties(body, given)
    if op.kind is Kind.CERTIFY:
        status = checked(FLAGS["certification_status"], given.certification_status,
                         lambda: parse_certification_status(given.certification_status))
        body = {"lifecycle_id": lifecycle_id(given.lifecycle_id or ""), "stack_tag": stack_tag(given.stack_tag or ""),
                "certification_status": str(status)}
        body = _with_properties(body, given)
        if given.reason:
            body.setdefault("properties", {})["reason"] = text("reason", given.reason, 2048)
        return body
    if op.kind is Kind.REVOKE:
        body = {"lifecycle_id": lifecycle_id(given.lifecycle_id or ""), "stack_tag": stack_tag(given.stack_tag or ""),
                "reason": given.reason or ""}
        request = checked(FLAGS["reason"], given.reason, lambda: parse_revoke_request(body, body["lifecycle_id"]))
        body["reason"] = request.reason
        if given.ami_id:
            body["ami_id"] = given.ami_id
            checked(FLAGS["ami_id"], given.ami_id, lambda: parse_revoke_request(body, body["lifecycle_id"]))
        return body
    if op.kind is Kind.APPROVE:
        name = op.approval_param
        raw = getattr(given, name)
        status = checked(FLAGS[name], raw, lambda: parse_approval_status(raw))
        body = {"lifecycle_id": lifecycle_id(given.lifecycle_id or ""), "stack_tag": stack_tag(given.stack_tag or ""),
                "approval_status": str(status)}
        return _with_properties(body, given)
    return None
