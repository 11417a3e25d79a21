"""Every enumeration of openapi.yaml is the domain's own vocabulary.

The document restates the values its schemas accept (API Gateway validates
requests against them, clients read them); this test holds each of those
lists equal, value for value and in order, to the enumeration of
``orchestrator/domain`` it names, aliases included, and fails on an enum the
table below does not claim.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from orchestrator.domain.errors import DomainError, ErrorCode
from orchestrator.domain.sequences import requestable_events
from orchestrator.domain.vocabulary import (APPROVAL_STATUS_ALIASES, EVENT_NAME_ALIASES, ApprovalStatus,
                                            CertificationStatus, EventName, LifecycleType, NotificationMethod,
                                            SemverBump, Status)
from stacks.amilifecycle.api import load_openapi, operations


def _with_aliases(canonical: list[str], aliases: dict[str, Any]) -> list[str]:
    """The canonical values, then the accepted aliases of those values."""
    return canonical + [alias for alias, member in aliases.items() if member in canonical]


_CREATION_EVENTS = [str(name) for name in requestable_events(LifecycleType.AMI_CREATION)]
_PATCH_EVENTS = [str(name) for name in requestable_events(LifecycleType.AMI_PATCH)]
# A record's events have a status; NOT_STARTED is only derived for events without a record.
_RECORDED_STATUSES = [str(status) for status in Status if status is not Status.NOT_STARTED]

# JSON pointer of each enum in the document -> the domain's values.
DOMAIN_ENUMS: dict[str, list[str]] = {
    "/components/schemas/Notification/properties/method": list(NotificationMethod),
    "/components/schemas/CreationEventName": _with_aliases(_CREATION_EVENTS, dict(EVENT_NAME_ALIASES)),
    "/components/schemas/PatchEventName": _with_aliases(_PATCH_EVENTS, dict(EVENT_NAME_ALIASES)),
    "/components/schemas/EventName": list(EventName),
    "/components/schemas/EventStatus": _RECORDED_STATUSES,
    "/components/schemas/PatchProperties/properties/semver_bump_type": list(SemverBump),
    "/components/schemas/EventResult/properties/semver_bump_type": list(SemverBump),
    "/components/schemas/CertifyRequest/properties/certification_status": list(CertificationStatus),
    "/components/schemas/EventResult/properties/certification_status": list(CertificationStatus),
    "/components/schemas/ApproveRequest/properties/approval_status":
        _with_aliases(list(ApprovalStatus), dict(APPROVAL_STATUS_ALIASES)),
    "/components/schemas/EventResult/properties/operation_type": list(LifecycleType),
    "/components/schemas/Error/properties/code": list(ErrorCode),
}


def _enums(node: Any, pointer: str = "") -> Iterator[tuple[str, list[Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            yield pointer, node["enum"]
        for key, value in node.items():
            yield from _enums(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _enums(value, f"{pointer}/{index}")


DOCUMENT_ENUMS = dict(_enums(load_openapi()))


def test_every_enum_of_the_document_is_claimed_by_a_domain_enumeration():
    unclaimed = sorted(set(DOCUMENT_ENUMS) - set(DOMAIN_ENUMS))
    assert not unclaimed, f"enums without a domain enumeration (add them to DOMAIN_ENUMS): {unclaimed}"


@pytest.mark.parametrize("pointer", sorted(DOMAIN_ENUMS), ids=lambda pointer: pointer.rsplit("/schemas/", 1)[-1])
def test_the_enum_lists_the_domain_values(pointer):
    assert pointer in DOCUMENT_ENUMS, f"{pointer}: no longer an enum of the document"
    assert DOCUMENT_ENUMS[pointer] == [str(value) for value in DOMAIN_ENUMS[pointer]]


def test_the_misspelt_event_alias_and_the_failed_approval_alias_are_accepted():
    assert "VULNERABILIY_SCANS_AMI_CREATE" in DOCUMENT_ENUMS["/components/schemas/CreationEventName"]
    assert "FAILED" in DOCUMENT_ENUMS["/components/schemas/ApproveRequest/properties/approval_status"]


def _subclasses(cls: type) -> Iterator[type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def test_every_error_the_api_can_answer_has_a_documented_code():
    import orchestrator.handlers.api  # noqa: F401 - defines the authentication errors
    import orchestrator.service.events  # noqa: F401 - defines the start failure

    codes = {cls.__name__: cls.code for cls in _subclasses(DomainError)}
    assert {name: code for name, code in codes.items() if code not in set(ErrorCode)} == {}


def test_every_operation_names_an_operator_of_the_vocabulary():
    from orchestrator.domain.vocabulary import Operator

    assert {op.operation_id: op.operator for op in operations() if op.operator not in set(Operator)} == {}
