"""AMI selection: criteria, defaults, matching and newest-first paging."""

import pytest

from orchestrator.domain.errors import NotFound, ValidationError
from orchestrator.domain.selection import KeyCondition, SelectionCriteria, first_match, select_ami
from orchestrator.domain.versioning import semver_sort_key
from orchestrator.domain.vocabulary import SelectionEvent


def entry(semver, score=1, **overrides):
    item = {"stack_tag": "main", "aws_region": "eu-west-1", "ami_id": f"ami-{semver}", "ami_semver": semver,
            "semver_sort_key": semver_sort_key(semver), "product_ver": "1.4.2", "product_name": "billing",
            "commit_ref": "3f9c2ab", "lifecycle_type": "ami-creation", "lifecycle_score": score}
    item.update(overrides)
    return item


def criteria(**flags):
    return SelectionCriteria.parse(stack_tag="main", region="eu-west-1", **flags)


def test_defaults_select_the_latest_hardened_ami_with_any_product():
    chosen = criteria()

    assert (chosen.ami_semver, chosen.product_ver, chosen.lifecycle_type, chosen.lifecycle_event, chosen.min_score) == (
        "latest", "any", "any", SelectionEvent.AMI_WITH_OS_HARDENING, 1)


def test_keywords_are_case_insensitive():
    assert criteria(ami_semver="LATEST", product_name="ANY").equality_filters() == {"stack_tag": "main",
                                                                                    "aws_region": "eu-west-1"}


def test_concrete_values_become_equality_filters():
    assert criteria(product_ver="1.4.2", lifecycle_type="ami-patch").equality_filters() == {
        "stack_tag": "main", "aws_region": "eu-west-1", "product_ver": "1.4.2", "lifecycle_type": "ami-patch"}


def test_lifecycle_type_must_be_any_or_a_lifecycle_type():
    with pytest.raises(ValidationError) as caught:
        criteria(lifecycle_type="creation")

    assert caught.value.allowed == ["any", "ami-creation", "ami-patch"]


def test_lifecycle_event_must_be_a_selection_name():
    with pytest.raises(ValidationError) as caught:
        criteria(lifecycle_event="BUILD_AMI")

    assert caught.value.field == "lifecycle_event"


def test_exact_semver_must_be_a_version():
    with pytest.raises(ValidationError, match="ami_semver"):
        criteria(ami_semver="newest")


def test_region_must_be_a_region():
    with pytest.raises(ValidationError, match="region"):
        SelectionCriteria.parse(stack_tag="main", region="mars")


def test_latest_queries_the_whole_partition_newest_first():
    assert criteria().key_condition() == KeyCondition(stack_tag="main", semver_sort_key=None, newest_first=True)


def test_exact_semver_queries_its_sort_key():
    assert criteria(ami_semver="2.0.0").key_condition().semver_sort_key == "000002.000000.000000~"


def test_entry_below_the_minimum_standing_does_not_match():
    assert not criteria(lifecycle_event="QA_CERTIFIED").matches(entry("3.0.0", score=4))


def test_entry_at_the_minimum_standing_matches():
    assert criteria(lifecycle_event="VULNERABILITY_SCANNED").matches(entry("3.0.0", score=3))


def test_entry_of_another_region_does_not_match():
    assert not criteria().matches(entry("3.0.0", aws_region="us-east-1"))


def test_exact_semver_matches_only_that_version():
    chosen = criteria(ami_semver="2.0.0")

    assert [chosen.matches(entry(v)) for v in ("2.0.0", "2.0.1")] == [True, False]


def test_entry_without_a_score_does_not_match():
    item = entry("1.0.0")
    del item["lifecycle_score"]

    assert not criteria().matches(item)


def test_first_match_is_the_first_matching_entry_in_newest_first_order():
    pages = [[entry("5.0.0", score=1), entry("4.0.0", score=6)], [entry("3.0.0", score=6)]]

    assert first_match(pages, criteria(lifecycle_event="PRODUCTION_APPROVED"))["ami_semver"] == "4.0.0"


def test_first_match_reads_further_pages_until_a_match():
    pages = [[entry("5.0.0", score=1)], [], [entry("3.0.0", score=6)]]

    assert first_match(pages, criteria(lifecycle_event="PRODUCTION_APPROVED"))["ami_semver"] == "3.0.0"


def test_first_match_stops_reading_pages_once_found():
    fetched = []

    def pages():
        for number, page in enumerate([[entry("5.0.0")], [entry("4.0.0")]]):
            fetched.append(number)
            yield page

    first_match(pages(), criteria())

    assert fetched == [0]


def test_no_match_is_none():
    assert first_match([[entry("1.0.0", score=1)]], criteria(lifecycle_event="SMOKE_TESTED")) is None


def test_select_ami_without_match_names_the_criteria():
    with pytest.raises(NotFound) as caught:
        select_ami([[]], criteria(product_name="payments"))

    assert "product_name=payments" in caught.value.message and "lifecycle_score >= 1" in caught.value.message


def test_describe_lists_every_criterion():
    assert criteria().describe() == (
        "stack_tag=main, region=eu-west-1, ami_semver=latest, product_ver=any, product_name=any, commit_ref=any, "
        "lifecycle_type=any, lifecycle_event=AMI_WITH_OS_HARDENING (lifecycle_score >= 1)")
