"""Every synthesized state machine definition is valid Amazon States Language (asl-validator)."""

from __future__ import annotations

import json
import os

import pytest

from scripts.asl_check import VALIDATOR, definitions, resolve, validate


@pytest.fixture(scope="module")
def cdk_out(templates, tmp_path_factory):
    folder = tmp_path_factory.mktemp("asl-cdk-out")
    for name, template in templates.items():
        (folder / f"{name}.template.json").write_text(json.dumps(template.to_json()))
    return folder


@pytest.fixture(scope="module")
def validator_installed():
    if not VALIDATOR.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing: .ci/run installs it (bash scripts/setup.sh --gates)")
        pytest.skip("asl-validator is not installed: bash scripts/setup.sh --gates")


def test_every_state_machine_definition_is_valid_asl(cdk_out, validator_installed):
    found = list(definitions(cdk_out))
    assert found, "no state machine in the synthesized templates"
    problems = {}
    for where, definition in found:
        valid, findings = validate(definition)
        if not valid:
            problems[where] = findings
    assert not problems


def test_the_validator_refuses_a_broken_definition(validator_installed):
    valid, findings = validate({"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}})
    assert not valid and "Missing" in findings


def test_intrinsics_become_placeholder_arns_in_strings_and_numbers_outside():
    text = resolve({"Fn::Join": ["", [
        '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:', {"Ref": "AWS::Partition"},
        ':states:::lambda:invoke","Parameters":{"FunctionName":"', {"Fn::GetAtt": ["Fn", "Arn"]},
        '"},"TimeoutSeconds":', {"Ref": "Timeout"}, ',"End":true}}}']]})
    state = json.loads(text)["States"]["A"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke"
    assert state["Parameters"]["FunctionName"].startswith("arn:aws:lambda:") and "Fn-Arn" in state["Parameters"][
        "FunctionName"]
    assert state["TimeoutSeconds"] == 1


def test_definition_substitutions_are_applied():
    text = resolve('{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Target}","End":true}}}',
                   {"Target": {"Fn::GetAtt": ["Fn", "Arn"]}})
    assert json.loads(text)["States"]["A"]["Resource"].startswith("arn:aws:lambda:")
