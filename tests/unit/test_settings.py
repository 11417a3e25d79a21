"""projectSettings validation: wrong or missing values fail with one line
naming the key and what is expected."""

import copy
import json
import subprocess
import sys

import pytest

from stacks.settings import CDK_JSON, PROJECT_ROOT, SettingsError, load_settings, parse_settings, slugify_stack_tag


@pytest.fixture()
def raw():
    return copy.deepcopy(json.loads(CDK_JSON.read_text())["projectSettings"])


@pytest.fixture(autouse=True)
def no_stack_tag_env(monkeypatch):
    monkeypatch.delenv("STACK_TAG", raising=False)


def error_of(raw, **kwargs) -> str:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, **kwargs)
    return str(caught.value)


def test_the_committed_cdk_json_is_valid():
    settings = load_settings()
    assert settings.stack_tag == "main"
    assert len(settings.lifecycle.api.all_key_names) == 13


def test_no_receiver_secret_is_misspelt():
    names = load_settings().lifecycle.api.all_key_names.values()
    assert not [n for n in names if "recevier" in n]
    assert "ami_creation_receiver_api_key" in names


def test_missing_key_is_named_with_its_path(raw):
    del raw["vpc"]["cidr"]
    assert error_of(raw) == "projectSettings.vpc.cidr: missing (required)"


def test_wrong_type_names_the_expected_type(raw):
    raw["imageBuilder"]["ebsVolumeSize"] = "8"
    assert error_of(raw) == (
        "projectSettings.imageBuilder.ebsVolumeSize: expected a whole number from 8 to 16384, got string '8'"
    )


def test_boolean_is_not_accepted_as_a_number(raw):
    raw["amiLifecycle"]["amiCreationReceiverTimeout"] = True
    assert "got boolean True" in error_of(raw)


def test_invalid_cidr(raw):
    raw["vpc"]["cidr"] = "192.168.0.0/33"
    assert error_of(raw).startswith("projectSettings.vpc.cidr: expected an IPv4 CIDR")


def test_subnet_mask_must_be_longer_than_the_vpc_mask(raw):
    raw["vpc"]["cidr"] = "10.0.0.0/24"
    raw["vpc"]["subnets"]["mask"] = 22
    assert "mask longer than the VPC's /24" in error_of(raw)


def test_account_ids_must_have_twelve_digits(raw):
    raw["imageBuilder"]["amiSharingIds"] = ["1234"]
    assert error_of(raw) == (
        "projectSettings.imageBuilder.amiSharingIds: expected a list of 12-digit account ids, got '1234'"
    )


def test_email_may_be_empty_but_not_malformed(raw):
    raw["imageBuilder"]["imageBuilderEmailAddress"] = ""
    parse_settings(raw)
    raw["imageBuilder"]["imageBuilderEmailAddress"] = "email@domian"
    assert "expected an email address or an empty string" in error_of(raw)


def test_log_retention_must_be_a_cloudwatch_value(raw):
    raw["amiLifecycle"]["logRetentionDays"] = 10
    assert "expected one of 1, 3, 5, 7, 14" in error_of(raw)


def test_duplicate_secret_names_are_rejected(raw):
    keys = raw["amiLifecycle"]["api"]["security"]["api_keys"]
    keys["external"]["ami_patch_mark_for_production_secret_name"] = "ami_creation_post_api_key"
    assert "expected 13 distinct secret names" in error_of(raw)


def test_unknown_schedule_expression(raw):
    raw["amiLifecycle"]["dbToTagReconcilerCronExpr"] = "every 3 hours"
    assert "expected an EventBridge schedule" in error_of(raw)


def test_stack_tag_from_the_environment_wins(raw, monkeypatch):
    monkeypatch.setenv("STACK_TAG", "Feature/ABC_1")
    assert parse_settings(raw, context_stack_tag="ctx").stack_tag == "feature-abc-1"


def test_stack_tag_from_context_beats_the_file(raw):
    assert parse_settings(raw, context_stack_tag="release-2").stack_tag == "release-2"


def test_stack_tag_that_slugifies_to_nothing_is_rejected(raw):
    raw["stackTag"] = "///"
    assert "projectSettings.stackTag" in error_of(raw)


def test_stack_tag_longer_than_32_characters_is_rejected(raw):
    assert "1-32 characters" in error_of(raw, context_stack_tag="x" * 33)


@pytest.mark.parametrize("raw_tag,slug", [("main", "main"), ("feature/JIRA-12", "feature-jira-12"), ("a.b", "a-b")])
def test_slugify_follows_the_branch_name_rule(raw_tag, slug):
    assert slugify_stack_tag(raw_tag) == slug


def test_physical_names_carry_the_stack_tag(raw):
    settings = parse_settings(raw, context_stack_tag="blue")
    assert settings.stack_name("AmiLifecycle") == "AmiLifecycle-blue"
    assert settings.physical_name("vmimport") == "vmimport-blue"


def test_synth_fails_with_one_line_naming_the_key(tmp_path, raw):
    """app.py turns a settings error into a single line on stderr and exit 1."""
    raw["imageBuilder"]["instanceTypes"] = []
    document = json.loads(CDK_JSON.read_text())
    document["projectSettings"] = raw
    bad = tmp_path / "cdk.json"
    bad.write_text(json.dumps(document))
    code = (
        "import sys, stacks.settings as s, pathlib; s.CDK_JSON = pathlib.Path(sys.argv[1]);"
        "import runpy; runpy.run_path('app.py', run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code, str(bad)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "settings error: projectSettings.imageBuilder.instanceTypes: expected at least one entry, got an empty list"
    ]
