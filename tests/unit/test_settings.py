"""projectSettings validation: wrong or missing values fail with one line
naming the key and what is expected."""

import copy
import json
import os
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
    assert len(settings.lifecycle.api.all_key_names) == 14


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
    assert "expected 14 distinct secret names" in error_of(raw)


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


# ----------------------------------------------------------------- -c overrides

def test_a_context_override_replaces_one_setting_read_as_its_type(raw):
    from stacks.settings import apply_overrides

    changed = apply_overrides(raw, {"amiLifecycle.stateMachines.smokeTestEventStateMachineSqsTimeoutMins": "1",
                                    "imageBuilder.instanceTypes": '["t3.large"]',
                                    "imageBuilder.imageBuilderEmailAddress": "builds@example.com"})

    settings = parse_settings(changed)
    assert settings.lifecycle.state_machines.smoke_tests_sqs_mins == 1
    assert settings.image_builder.instance_types == ("t3.large",)
    assert settings.image_builder.email_address == "builds@example.com"
    assert settings.lifecycle.state_machines.smoke_tests_mins == 180
    assert raw["amiLifecycle"]["stateMachines"]["smokeTestEventStateMachineSqsTimeoutMins"] == 120


def test_only_projectsettings_context_values_are_overrides():
    from stacks.settings import context_overrides

    assert context_overrides({"projectSettings.logRetentionDays": "30", "stackTag": "blue",
                              "@aws-cdk/core:checkSecretUsage": True}) == {"logRetentionDays": "30"}


@pytest.mark.parametrize("key, value, message", [
    ("amiLifecycle.stateMachines.smokeTestTimeout", "1",
     "projectSettings.amiLifecycle.stateMachines.smokeTestTimeout: projectSettings.amiLifecycle.stateMachines has "
     "no setting 'smokeTestTimeout'; its settings: amiBuildEventStateMachineTimeoutMins, "),
    ("amiLifecycle.machines.x", "1",
     "projectSettings.amiLifecycle.machines.x: projectSettings.amiLifecycle has no group 'machines'; its groups: "
     "amiTagger, api, stateMachines"),
    ("amiLifecycle.stateMachines", "1",
     "projectSettings.amiLifecycle.stateMachines: projectSettings.amiLifecycle has no setting 'stateMachines'"),
    ("logRetentionDays", "two weeks", "projectSettings.logRetentionDays: projectSettings has no setting"),
    ("amiLifecycle.logRetentionDays", "two weeks",
     "projectSettings.amiLifecycle.logRetentionDays: expected a whole number, got 'two weeks'"),
    ("imageBuilder.instanceTypes", "t3.large",
     "projectSettings.imageBuilder.instanceTypes: expected JSON (a list like the one in cdk.json), got 't3.large'"),
    ("stackTag", "blue", "projectSettings.stackTag: the stack tag is not overridden this way"),
])
def test_a_wrong_override_is_refused_naming_it(raw, key, value, message):
    from stacks.settings import apply_overrides

    with pytest.raises(SettingsError) as caught:
        apply_overrides(raw, {key: value})
    assert str(caught.value).startswith(message)


def test_an_override_out_of_range_fails_like_the_file(raw):
    from stacks.settings import apply_overrides

    changed = apply_overrides(raw, {"amiLifecycle.stateMachines.smokeTestEventStateMachineSqsTimeoutMins": "0"})
    assert error_of(changed) == ("projectSettings.amiLifecycle.stateMachines.smokeTestEventStateMachineSqsTimeoutMins: "
                                 "expected a whole number from 1 to 720, got number 0")


def test_synth_reads_overrides_from_the_cdk_context():
    """app.py hands the CLI's -c values (CDK_CONTEXT_JSON) to the settings; a wrong one stops synth in one line."""
    context = json.dumps({"projectSettings.amiLifecycle.stateMachines.noSuchTimeout": "1"})
    result = subprocess.run([sys.executable, "app.py"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "CDK_CONTEXT_JSON": context,
                                              "CDK_OUTDIR": "/nonexistent-never-written"})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("settings error: projectSettings.amiLifecycle.stateMachines.noSuchTimeout: "
                           "projectSettings.amiLifecycle.stateMachines has no setting 'noSuchTimeout'")
