"""parliament finds nothing above LOW in any IAM policy of the synthesized templates."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATES_PYTHON = ROOT / ".venv-gates" / "bin" / "python"
SCRIPT = ROOT / "scripts" / "iam_policies.py"


@pytest.fixture(scope="module")
def gates_python():
    if not GATES_PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{GATES_PYTHON} is missing: .ci/run installs it (bash scripts/setup.sh --gates)")
        pytest.skip("parliament is not installed: bash scripts/setup.sh --gates")
    return str(GATES_PYTHON)


def run(python: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([python, str(SCRIPT), str(folder)], capture_output=True, text=True, timeout=300)


def write_template(folder: Path, name: str, template: dict) -> None:
    (folder / f"{name}.template.json").write_text(json.dumps(template))


def test_no_policy_of_the_app_has_a_finding_above_low(gates_python, templates, tmp_path):
    for name, template in templates.items():
        write_template(tmp_path, name, template.to_json())

    result = run(gates_python, tmp_path)

    assert result.returncode == 0, result.stderr
    assert " 0 findings above LOW" in result.stdout


def test_a_policy_naming_the_wrong_resource_type_is_a_finding(gates_python, tmp_path):
    write_template(tmp_path, "Bad", {"Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                           "Resource": {"Fn::GetAtt": ["Table", "Arn"]}}]}}}}})

    result = run(gates_python, tmp_path)

    assert result.returncode == 1
    assert "Bad/Policy: MEDIUM RESOURCE_MISMATCH" in result.stderr


def test_imports_resolve_to_the_exporting_stacks_value(gates_python, tmp_path):
    write_template(tmp_path, "Exporter", {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "Exporter:TopicArn"}}}})
    write_template(tmp_path, "Importer", {"Resources": {
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sns:Publish",
                           "Resource": {"Fn::ImportValue": "Exporter:TopicArn"}}]}}}}})

    result = run(gates_python, tmp_path)

    assert result.returncode == 0, result.stderr
