"""Sequences of the two phases."""

from orchestrator.domain import sequences as s
from orchestrator.domain.vocabulary import EventName as E, LifecycleType


def test_creation_sequence():
    assert s.CREATION_SEQUENCE == (E.BUILD_AMI, E.SMOKE_TESTS_AMI_CREATE, E.VULNERABILITY_SCANS_AMI_CREATE,
                                   E.QA_CERTIFICATION_REQUEST, E.QA_CERTIFICATION_RESPONSE,
                                   E.MARK_FOR_PRODUCTION_CREATE)


def test_patch_sequence():
    assert s.PATCH_SEQUENCE == (E.PATCH_AMI, E.SMOKE_TESTS_AMI_PATCH, E.VULNERABILITY_SCANS_AMI_PATCH,
                                E.MARK_FOR_PRODUCTION_PATCH)


def test_creation_requests_list_four_events():
    assert s.requestable_events(LifecycleType.AMI_CREATION) == s.CREATION_SEQUENCE[:4]


def test_patch_requests_list_three_events():
    assert s.requestable_events(LifecycleType.AMI_PATCH) == s.PATCH_SEQUENCE[:3]


def test_creation_auto_triggers_smoke_then_vulnerability_then_qa_request():
    assert s.auto_triggered_events(LifecycleType.AMI_CREATION) == (
        E.SMOKE_TESTS_AMI_CREATE, E.VULNERABILITY_SCANS_AMI_CREATE, E.QA_CERTIFICATION_REQUEST)


def test_patch_auto_triggers_smoke_then_vulnerability():
    assert s.auto_triggered_events(LifecycleType.AMI_PATCH) == (E.SMOKE_TESTS_AMI_PATCH,
                                                               E.VULNERABILITY_SCANS_AMI_PATCH)


def test_predecessors_of_patch_approval_are_the_patch_events():
    assert s.predecessors(E.MARK_FOR_PRODUCTION_PATCH) == (E.PATCH_AMI, E.SMOKE_TESTS_AMI_PATCH,
                                                          E.VULNERABILITY_SCANS_AMI_PATCH)


def test_first_event_has_no_predecessors():
    assert s.predecessors(E.BUILD_AMI) == () and s.predecessors(E.PATCH_AMI) == ()
