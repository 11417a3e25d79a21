"""Which tags an AMI should carry, and how its actual tags differ."""

from orchestrator.domain import reconciliation as rec
from orchestrator.domain.tags import expected_tags
from orchestrator.domain.vocabulary import LifecycleType

from .domain_builders import BUILT_AMI, LIFECYCLE_ID, PATCHED_AMI, REGION, completed, new_record, patched_record


def test_a_lifecycle_without_a_built_ami_expects_nothing():
    assert rec.expectation(new_record()) is None


def test_a_built_lifecycle_expects_the_creation_tags_on_its_ami():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")

    expected = rec.expectation(record)

    assert expected.lifecycle_type is LifecycleType.AMI_CREATION
    assert [c.ami_id for c in expected.copies] == [BUILT_AMI]
    assert expected.tags == expected_tags(record, LifecycleType.AMI_CREATION)
    assert "AMI_LC_EVENT_SMOKE_TESTS_AMI_CREATE_STATUS" in expected.tags


def test_a_patched_lifecycle_expects_the_patch_tags_on_the_patched_ami():
    expected = rec.expectation(patched_record())

    assert expected.lifecycle_type is LifecycleType.AMI_PATCH
    assert [c.ami_id for c in expected.copies] == [PATCHED_AMI]
    assert expected.tags["AMI_LC_EVENT_PATCH_AMI_STATUS"] == "COMPLETED"
    assert not any(key.startswith("AMI_LC_EVENT_BUILD_AMI") for key in expected.tags)


def test_every_copy_of_the_ami_is_expected():
    record = completed(new_record(), "BUILD_AMI")
    entry = record["outputs_ami_creation"]["events"][0]["properties"]["ami_details"]
    entry.append({**entry[0], "image": "ami-0copy", "region": "us-east-1", "accountId": "210987654321"})

    copies = rec.expectation(record).copies

    assert [(c.ami_id, c.region, c.account_id) for c in copies] == [
        (BUILT_AMI, REGION, "123456789012"), ("ami-0copy", "us-east-1", "210987654321")]


def test_drift_lists_missing_and_wrong_tags_and_ignores_others():
    expected = {"AMI_LC_A": "1", "AMI_LC_B": "2", "AMI_LC_C": "3"}
    actual = {"AMI_LC_A": "1", "AMI_LC_B": "two", "Name": "mine", "AMI_LC_OTHER": "x"}

    drift = rec.tag_drift(expected, actual)

    assert drift == (rec.TagDrift("AMI_LC_B", "2", "two"), rec.TagDrift("AMI_LC_C", "3", None))
    assert [d.missing for d in drift] == [False, True]


def test_no_drift_when_every_expected_tag_matches():
    assert rec.tag_drift({"AMI_LC_A": "1"}, {"AMI_LC_A": "1", "extra": "y"}) == ()


def test_report_counts_what_changed_and_what_could_not_be_checked():
    report = rec.ReconciliationReport(stack_tag="main", started="2026-11-23T10:00:00+00:00", lifecycles=3,
                                      lifecycles_without_ami=1)
    copy = rec.AmiCopy(BUILT_AMI, REGION, "123456789012")
    report.add(rec.CopyOutcome(LIFECYCLE_ID, copy, drift=(rec.TagDrift("AMI_LC_A", "1", None),
                                                          rec.TagDrift("AMI_LC_B", "2", "3")), repaired=True))
    report.add(rec.CopyOutcome(LIFECYCLE_ID, rec.AmiCopy("ami-0b", REGION, "123456789012")))
    report.add(rec.CopyOutcome(LIFECYCLE_ID, rec.AmiCopy("ami-0c", REGION, "111122223333"),
                               problem="account 111122223333 is not a distribution account"))

    document = report.to_dict()

    assert document["counts"] == {"lifecycles": 3, "lifecycles_without_ami": 1, "ami_copies_checked": 2,
                                  "ami_copies_drifted": 1, "ami_copies_repaired": 1, "tags_missing": 1,
                                  "tags_wrong": 1, "ami_copies_not_checked": 1, "lifecycles_failed": 0}
    assert document["changed"][0]["tags"][0] == {"tag_key": "AMI_LC_A", "expected_tag_value": "1",
                                                 "actual_tag_value": None, "problem": "missing"}
    assert document["not_checked"][0]["problem"].startswith("account 111122223333")
    assert "1 AMI copies repaired" in report.subject()


def test_a_clean_run_says_so():
    report = rec.ReconciliationReport(stack_tag="main", started="t", lifecycles=2)
    assert report.clean and report.subject() == "AMI tag reconciliation (main): every tag matches"
