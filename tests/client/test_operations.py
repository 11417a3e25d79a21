"""The CLI's operation table agrees with the API contract and the project's key names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amilc.key_names import DEFAULT_KEY_LEAVES, load_key_leaves
from amilc.naming import slugify_stack_tag
from amilc.operations import OPERATIONS
from orchestrator.domain.vocabulary import CliOperation

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def openapi() -> dict:
    from stacks.amilifecycle.api import load_openapi

    return load_openapi()


def test_every_cli_operation_has_a_route():
    assert set(OPERATIONS) == set(CliOperation)


@pytest.mark.parametrize("name", list(CliOperation))
def test_each_operation_uses_the_route_and_the_key_setting_of_the_api_contract(openapi, name):
    op = OPERATIONS[name]
    path = op.path.replace("{lifecycle_id}", "{lifecycle-id}")

    contract = openapi["paths"][path][op.method.lower()]

    assert contract["x-ami-lifecycle-api-key"] == op.key_setting


def test_the_default_key_leaves_are_the_committed_ones():
    committed = json.loads((PROJECT / "cdk.json").read_text())
    groups = committed["projectSettings"]["amiLifecycle"]["api"]["security"]["api_keys"].values()
    leaves = {setting: leaf for group in groups for setting, leaf in group.items()}

    assert {setting: leaves[setting] for setting in DEFAULT_KEY_LEAVES} == dict(DEFAULT_KEY_LEAVES)


def test_a_project_cdk_json_renames_a_key_leaf(tmp_path):
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"projectSettings": {"amiLifecycle": {"api": {"security": {"api_keys": {
        "internal": {"ami_creation_post_secret_name": "renamed_post_key"}}}}}}}))

    leaves = load_key_leaves(cdk_json)

    assert leaves["ami_creation_post_secret_name"] == "renamed_post_key"
    assert leaves["ami_creation_status_secret_name"] == "ami_creation_status_api_key"


def test_outside_the_project_the_default_key_leaves_apply(tmp_path):
    assert load_key_leaves(tmp_path / "cdk.json") == dict(DEFAULT_KEY_LEAVES)


@pytest.mark.parametrize("branch", ["main", "feature/Login_2", "Release-1.2", "-odd-", "user/ÄMI"])
def test_branch_names_become_the_same_stack_tag_as_in_the_cdk_app(branch):
    from stacks.settings import slugify_stack_tag as cdk_rule

    assert slugify_stack_tag(branch) == cdk_rule(branch)
