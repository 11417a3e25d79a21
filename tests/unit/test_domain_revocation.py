"""Revoking an approved AMI in the domain: what may be revoked, the record, descendants, the channel, selection."""

from __future__ import annotations

import pytest

from orchestrator.domain import production, revocation
from orchestrator.domain.errors import Conflict, ValidationError
from orchestrator.domain.lookup import revoked_lookup_entry, updated_lookup_entry
from orchestrator.domain.production import ChannelState, with_release, with_revocation
from orchestrator.domain.selection import SelectionCriteria
from orchestrator.domain.vocabulary import EventName as E

from .domain_builders import (BUILT_AMI, LIFECYCLE_ID, NOW, PATCHED_AMI, completed, fully_approved_record, later,
                              new_record, patched_record, result)


def approved_patch() -> dict:
    return completed(patched_record(), "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH",
                     "MARK_FOR_PRODUCTION_PATCH", start=110)


def test_a_revocation_needs_a_reason_and_names_what_is_expected():
    with pytest.raises(ValidationError, match="reason: missing \\(required\\); expected why the AMI"):
        revocation.parse_revoke_request({"stack_tag": "main"}, LIFECYCLE_ID)

    parsed = revocation.parse_revoke_request({"stack_tag": "main", "reason": " CVE-2026-1 "}, LIFECYCLE_ID)
    assert (parsed.reason, parsed.ami_id, parsed.lifecycle_id) == ("CVE-2026-1", None, LIFECYCLE_ID)


def test_only_an_approved_ami_can_be_revoked():
    with pytest.raises(Conflict, match="has no AMI approved for production"):
        revocation.revocation_target(completed(new_record(), "BUILD_AMI"), None)


def test_the_default_target_is_the_newest_approved_ami():
    assert revocation.revocation_target(approved_patch(), None)["ami"]["image"] == PATCHED_AMI
    assert revocation.revocation_target(fully_approved_record(), None)["ami"]["image"] == BUILT_AMI


def test_an_ami_that_is_not_approved_is_refused_naming_the_approved_ones():
    with pytest.raises(Conflict, match=f"{PATCHED_AMI} is not an approved AMI .*approved: {BUILT_AMI}"):
        revocation.revocation_target(patched_record(), PATCHED_AMI)


def test_a_revocation_is_recorded_once():
    record = fully_approved_record()
    target = revocation.revocation_target(record, BUILT_AMI)

    revoked = revocation.record_revocation(record, target, "CVE-2026-1", NOW)
    again = revocation.record_revocation(revoked, target, "another reason", later(5))

    assert revocation.revocations(again) == [{"ami_id": BUILT_AMI, "region": "eu-west-1", "ami_semver": "1.0.0",
                                              "event": "MARK_FOR_PRODUCTION_CREATE", "reason": "CVE-2026-1",
                                              "revoked_at": "2026-11-23T10:00:00Z"}]


def test_revoking_an_ancestor_is_reported_on_the_amis_patched_from_it():
    record = approved_patch()
    record = revocation.record_revocation(record, revocation.revocation_target(record, BUILT_AMI), "CVE", NOW)

    [report] = revocation.revocation_report(record)
    assert report["ami_id"] == BUILT_AMI and report["descendants"] == [PATCHED_AMI]
    view = revocation.with_revocation_report({}, record)
    assert view["revoked_ancestry"] == {PATCHED_AMI: [BUILT_AMI]}


def test_the_revoked_ami_tags_say_when_and_why():
    assert revocation.revocation_tags("CVE-2026-1", NOW) == {"AMI_LC_REVOKED": "2026-11-23T10:00:00Z",
                                                            "AMI_LC_REVOKED_REASON": "CVE-2026-1"}
    assert revocation.revocation_tags("CVE", NOW, ancestor=BUILT_AMI) == {
        "AMI_LC_ANCESTOR_REVOKED": f"{BUILT_AMI} revoked 2026-11-23T10:00:00Z: CVE"}


def release(semver: str, ami_id: str):
    return production.release_for(ami={"id": ami_id, "region": "eu-west-1", "semver": semver},
                                  lifecycle_id=LIFECYCLE_ID, event=E.MARK_FOR_PRODUCTION_CREATE, now=NOW)


def test_revoking_the_head_restores_the_previous_approved_release():
    state = ChannelState("main/b")
    for version, ami_id in (("1.0.0", "ami-0000000001"), ("2.0.0", "ami-0000000002")):
        state = with_release(state, release(version, ami_id))

    revoked = with_revocation(state, ami_id="ami-0000000002", region="eu-west-1", reason="CVE", now=NOW)

    assert revoked.head.ami_id == "ami-0000000001"
    assert len(revoked.releases) == 2 and revoked.revision == state.revision + 1
    assert with_revocation(revoked, ami_id="ami-0000000002", region="eu-west-1", reason="x", now=NOW) is revoked


def test_revoking_the_only_release_leaves_the_channel_without_a_head():
    state = with_release(ChannelState("main/b"), release("1.0.0", "ami-0000000001"))

    assert with_revocation(state, ami_id="ami-0000000001", region="", reason="CVE", now=NOW).head is None


ENTRY = {"lookup_id": f"eu-west-1#{BUILT_AMI}", "stack_tag": "main", "aws_region": "eu-west-1", "ami_id": BUILT_AMI,
         "lifecycle_score": 6, "lifecycle_event": "MARK_FOR_PRODUCTION_CREATE", "ami_semver": "1.0.0"}


def test_a_revoked_lookup_entry_is_never_selected():
    flagged = revoked_lookup_entry(ENTRY, reason="CVE", now=NOW)

    assert flagged["revoked"] == {"reason": "CVE", "revoked_at": "2026-11-23T10:00:00Z", "lifecycle_score": 6}
    assert flagged["lifecycle_score"] == 0
    criteria = SelectionCriteria.parse(stack_tag="main", region="eu-west-1", lifecycle_event="AMI_WITH_OS_HARDENING")
    assert criteria.matches(ENTRY) and not criteria.matches(flagged)
    assert revoked_lookup_entry(flagged, reason="again", now=later(1)) is None


def test_no_later_result_raises_a_revoked_entry_again():
    flagged = revoked_lookup_entry(ENTRY, reason="CVE", now=NOW)
    record = fully_approved_record()

    entry = updated_lookup_entry(flagged, record=record, ami={"region": "eu-west-1", "image": BUILT_AMI},
                                 result=result(E.SMOKE_TESTS_AMI_CREATE), now=later(3))

    assert entry["lifecycle_score"] == 0 and entry["revoked"]


def test_a_named_ami_must_look_like_an_ami_id():
    with pytest.raises(ValidationError, match="ami_id: expected an AMI id"):
        revocation.parse_revoke_request({"stack_tag": "main", "reason": "CVE", "ami_id": "ami-XYZ"}, LIFECYCLE_ID)
