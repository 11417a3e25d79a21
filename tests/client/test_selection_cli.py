"""cli_ami_selection.py against a lookup table on moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from amilc import lookup_query
from amilc.selection_cli import cli
from tests.client.builders import lookup_entry
from tests.client.conftest import REGION, create_lookup_table, create_stack, default_outputs


def fill(table: Any, entries: list[dict[str, Any]]) -> None:
    with table.batch_writer() as batch:
        for entry in entries:
            batch.put_item(Item=entry)


def select(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(cli, list(args))


def selected_ami(result: Any) -> str:
    return result.stdout.splitlines()[1].split(" == ")[1]


def test_the_newest_version_wins_over_older_ones_whatever_the_insertion_order(deployment, runner):
    entries = [lookup_entry(semver=f"{major}.0.0") for major in (3, 1, 10, 9, 2)]
    fill(deployment.table, entries)

    result = select(runner)

    assert result.exit_code == 0, result.output
    assert selected_ami(result) == entries[2]["ami_id"]  # 10.0.0, which sorts before 9.0.0 as text


def test_the_answer_is_the_ami_id_framed_by_hash_lines(deployment, runner):
    entry = lookup_entry(semver="1.0.0")
    fill(deployment.table, [entry])

    result = select(runner)

    line = f"Retrieved AMI ID == {entry['ami_id']}"
    assert result.stdout.splitlines() == ["#" * len(line), line, "#" * len(line)]


def test_json_output_prints_the_whole_lookup_entry_with_plain_numbers(deployment, runner):
    entry = lookup_entry(semver="2.0.0", score=3)
    fill(deployment.table, [entry])

    result = select(runner, "--output", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == entry


def test_a_filter_that_skips_the_first_pages_still_finds_the_newest_match(deployment, runner):
    newest = [lookup_entry(semver=f"{major}.0.0", product_name="other-product") for major in range(100, 400)]
    wanted = lookup_entry(semver="42.0.0", product_name="payments-service")
    older = lookup_entry(semver="41.0.0", product_name="payments-service")
    fill(deployment.table, newest + [wanted, older])

    result = select(runner, "--product_name", "payments-service")

    assert result.exit_code == 0, result.output
    assert selected_ami(result) == wanted["ami_id"]
    assert "read 302 entries in 4 requests" in result.stderr  # pages of 8, 32, 128 and the 134 left


def test_the_minimum_lifecycle_event_skips_amis_that_did_not_pass_it(deployment, runner):
    built_only = lookup_entry(semver="5.0.0", score=1)
    smoke_tested = lookup_entry(semver="4.0.0", score=2, event="SMOKE_TESTS_AMI_CREATE")
    fill(deployment.table, [built_only, smoke_tested])

    result = select(runner, "--lifecycle_event", "SMOKE_TESTED")

    assert selected_ami(result) == smoke_tested["ami_id"]


def test_vulnerability_scanned_needs_the_scan_score_not_the_smoke_test_score(deployment, runner):
    smoke_tested = lookup_entry(semver="5.0.0", score=2)
    scanned = lookup_entry(semver="4.0.0", score=3)
    fill(deployment.table, [smoke_tested, scanned])

    result = select(runner, "--lifecycle_event", "VULNERABILITY_SCANNED")

    assert selected_ami(result) == scanned["ami_id"]


def test_an_exact_version_is_selected_by_its_sort_key(deployment, runner):
    entries = [lookup_entry(semver=f"{major}.{minor}.0") for major in range(1, 6) for minor in range(3)]
    fill(deployment.table, entries)
    wanted = next(e for e in entries if e["ami_semver"] == "3.1.0")

    result = select(runner, "--ami_semver", "3.1.0")

    assert selected_ami(result) == wanted["ami_id"]
    assert "read 1 entries in 1 requests" in result.stderr


def test_the_lifecycle_type_filter_keeps_only_patched_amis(deployment, runner):
    built = lookup_entry(semver="2.0.0")
    patched = lookup_entry(semver="1.1.0", lifecycle_type="ami-patch", event="PATCH_AMI")
    fill(deployment.table, [built, patched])

    result = select(runner, "--lifecycle_type", "ami-patch")

    assert selected_ami(result) == patched["ami_id"]


def test_amis_of_other_regions_and_stack_tags_are_never_selected(deployment, runner):
    elsewhere = lookup_entry(semver="9.0.0", region="eu-west-1")
    other_tag = lookup_entry(semver="8.0.0", stack_tag="feature-x")
    here = lookup_entry(semver="1.0.0")
    fill(deployment.table, [elsewhere, other_tag, here])

    result = select(runner)

    assert selected_ami(result) == here["ami_id"]


def test_no_match_exits_1_with_one_line_naming_the_criteria(deployment, runner):
    fill(deployment.table, [lookup_entry(semver="1.0.0", product_ver="2.4.1")])

    result = select(runner, "--stack_tag", "main", "--product_ver", "9.9.9")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: no AMI matches stack_tag=main, region=us-east-1")
    assert "product_ver=9.9.9" in result.stderr


def test_a_malformed_version_is_a_usage_error_naming_the_flag(deployment, runner):
    result = select(runner, "--stack_tag", "main", "--ami_semver", "v1")

    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --ami_semver: expected a semantic version like 1.0.0, got 'v1'"


def test_an_unknown_lifecycle_event_is_a_usage_error_listing_the_allowed_ones(deployment, runner):
    result = select(runner, "--lifecycle_event", "APPROVED")

    assert result.exit_code == 2
    assert "PRODUCTION_APPROVED" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_stack_tag_without_a_deployment_is_reported_with_the_stack_name(deployment, runner):
    result = select(runner, "--stack_tag", "feature-y")

    assert result.exit_code == 3
    assert "stack AmiLifecycle-feature-y not found in us-east-1" in result.stderr


def test_the_region_flag_selects_the_deployment_and_the_amis_of_that_region(moto, runner):
    create_stack("main", default_outputs())  # in us-east-1 only

    result = select(runner, "--region", "eu-west-1")

    assert result.exit_code == 3
    assert "not found in eu-west-1" in result.stderr


def test_the_read_only_selection_role_can_be_assumed_for_the_query(moto, runner):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="selection-reader", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    create_stack("main", {**default_outputs(), "amiSelectionCAReadOnly": role})
    table = create_lookup_table()
    entry = lookup_entry(semver="1.0.0")
    fill(table, [entry])

    result = select(runner, "--assume_reader_role")

    assert result.exit_code == 0, result.output
    assert selected_ami(result) == entry["ami_id"]


@pytest.mark.parametrize("rows", [1, 50, 1000])
def test_selection_reads_few_items_when_the_newest_entry_matches(deployment, rows):
    from orchestrator.domain.selection import SelectionCriteria, first_match

    fill(deployment.table, [lookup_entry(semver=f"{n + 1}.0.0") for n in range(rows)])
    criteria = SelectionCriteria.parse(stack_tag="main", region=REGION)
    stats = lookup_query.ReadStats()

    found = first_match(lookup_query.query_pages(deployment.table, criteria, stats), criteria)

    assert found is not None and found["ami_semver"] == f"{rows}.0.0"
    assert stats.pages == 1
    assert stats.items_read <= lookup_query.FIRST_PAGE_SIZE


def test_without_stack_tag_the_deployments_tag_is_used_and_named_on_stderr(deployment, runner, monkeypatch):
    fill(deployment.table, [lookup_entry(semver="1.0.0")])
    monkeypatch.setenv("LOCAL_CLOUD_STACK_TAG", "main")

    result = select(runner)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == ("stack tag: main (from LOCAL_CLOUD_STACK_TAG, set by local-cloud.env; "
                                             "pass --stack_tag to choose another)")
