"""The revoke route's use case on in-memory fakes: record, channel, lookup, tags, deprecation, descendants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from orchestrator.domain.errors import Conflict, NotFound, ValidationError
from orchestrator.service.lifecycles import public_status
from orchestrator.service.revocations import RevocationService

from .domain_builders import (BUILT_AMI, LIFECYCLE_ID, NOW, PATCHED_AMI, completed, fully_approved_record,
                              new_record, patched_record)
from .fakes import MemoryNotifier, MemoryRepository


@dataclass
class Effects:
    """The channel, lookup, tagger and deprecation adapters, remembering what they were asked."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_deprecation: bool = False

    def revoke(self, stack_tag, product, *, ami_id, region, reason, now):
        self.calls.append(("channel", (stack_tag, product, ami_id, reason)))

    def flag_revoked(self, *, region, ami_id, reason, now):
        self.calls.append(("lookup", ami_id))

    def is_own(self, ami):
        return True

    def tag(self, ami, tags):
        self.calls.append(("tag", (ami["image"], tuple(sorted(tags)))))

    def deprecate(self, ami_id, *, now):
        if self.fail_deprecation:
            raise RuntimeError("EC2 unreachable")
        self.calls.append(("deprecate", ami_id))

    def of(self, kind: str) -> list:
        return [value for name, value in self.calls if name == kind]


class World:
    def __init__(self, record: dict) -> None:
        self.repository = MemoryRepository()
        self.notifier = MemoryNotifier()
        self.effects = Effects()
        self.service = RevocationService(repository=self.repository, notifier=self.notifier, channel=self.effects,
                                         lookup=self.effects, tagger=self.effects, deprecations=self.effects,
                                         clock=lambda: NOW)
        self.repository.create(record)

    def revoke(self, **body) -> dict:
        return self.service.revoke({"stack_tag": "main", "reason": "CVE-2026-1", **body}, LIFECYCLE_ID)


def approved_patch() -> dict:
    return completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH",
                     "MARK_FOR_PRODUCTION_PATCH", start=110)


def test_a_revocation_is_recorded_and_every_consumer_stops_using_the_ami():
    world = World(fully_approved_record())

    world.revoke()

    [entry] = world.repository.get(LIFECYCLE_ID)["revocations"]
    assert (entry["ami_id"], entry["reason"]) == (BUILT_AMI, "CVE-2026-1")
    assert world.effects.of("channel") == [("main", "billing-service", BUILT_AMI, "CVE-2026-1")]
    assert world.effects.of("lookup") == [BUILT_AMI]
    assert world.effects.of("tag") == [(BUILT_AMI, ("AMI_LC_REVOKED", "AMI_LC_REVOKED_REASON"))]
    assert world.effects.of("deprecate") == [BUILT_AMI]
    assert world.notifier.subjects() == ["AMI_REVOKE_POST event for main"]


def test_an_ami_that_is_not_approved_cannot_be_revoked_and_nothing_changes():
    world = World(completed(new_record(), "BUILD_AMI"))

    with pytest.raises(Conflict, match="no AMI approved for production"):
        world.revoke()

    assert "revocations" not in world.repository.get(LIFECYCLE_ID) and world.effects.calls == []


def test_a_reason_is_required():
    world = World(fully_approved_record())

    with pytest.raises(ValidationError, match="reason: missing"):
        world.service.revoke({"stack_tag": "main"}, LIFECYCLE_ID)


def test_the_lifecycle_must_belong_to_the_stack_tag_named():
    world = World(fully_approved_record())

    with pytest.raises(NotFound):
        world.revoke(stack_tag="other")


def test_a_repeated_revocation_records_nothing_new_and_completes_a_half_done_one():
    world = World(fully_approved_record())
    world.effects.fail_deprecation = True
    with pytest.raises(RuntimeError):
        world.revoke()
    world.effects.fail_deprecation = False

    world.revoke(reason="a second reason")

    [entry] = world.repository.get(LIFECYCLE_ID)["revocations"]
    assert entry["reason"] == "CVE-2026-1"
    assert world.effects.of("deprecate") == [BUILT_AMI]
    assert len(world.notifier.published) == 1


def test_revoking_an_ancestor_tags_and_reports_the_amis_patched_from_it():
    world = World(approved_patch())

    world.revoke(ami_id=BUILT_AMI)

    assert (PATCHED_AMI, ("AMI_LC_ANCESTOR_REVOKED",)) in world.effects.of("tag")
    status = public_status(world.repository.get(LIFECYCLE_ID))
    assert status["revocations"][0]["descendants"] == [PATCHED_AMI]
    assert status["revoked_ancestry"] == {PATCHED_AMI: [BUILT_AMI]}


def test_by_default_the_newest_approved_ami_is_revoked():
    world = World(approved_patch())

    world.revoke()

    assert [e["ami_id"] for e in world.repository.get(LIFECYCLE_ID)["revocations"]] == [PATCHED_AMI]
