"""Pure pieces of the CloudFormation extensions (local/cloudformation/)."""

from __future__ import annotations

import json
import string

import pytest

from local.cloudformation.s3 import enforceable_policy
from local.cloudformation.secretsmanager import SecretGenerationError, generate_secret_string


def test_a_generated_secret_has_the_requested_length():
    assert len(generate_secret_string({"PasswordLength": 40})) == 40


def test_a_generated_secret_defaults_to_32_characters_of_every_type():
    value = generate_secret_string({})

    assert len(value) == 32
    for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation):
        assert any(character in group for character in value)


def test_excluded_characters_and_types_never_appear():
    value = generate_secret_string({"PasswordLength": 200, "ExcludePunctuation": True, "ExcludeCharacters": "aeiou0"})

    assert value.isalnum()
    assert not set(value) & set("aeiou0")


def test_a_template_receives_the_generated_value_under_its_key():
    value = json.loads(generate_secret_string({"SecretStringTemplate": '{"username": "admin"}',
                                               "GenerateStringKey": "password", "PasswordLength": 16}))

    assert value["username"] == "admin"
    assert len(value["password"]) == 16


def test_two_generated_secrets_differ():
    assert generate_secret_string({}) != generate_secret_string({})


@pytest.mark.parametrize(("spec", "message"), [
    ({"PasswordLength": 0}, "PasswordLength must be from 1 to 4096"),
    ({"ExcludeLowercase": True, "ExcludeUppercase": True, "ExcludeNumbers": True, "ExcludePunctuation": True},
     "excludes every character"),
    ({"PasswordLength": 2}, "too short to include each"),
    ({"GenerateStringKey": "password"}, "go together"),
])
def test_an_impossible_generation_request_says_why(spec, message):
    with pytest.raises(SecretGenerationError, match=message):
        generate_secret_string(spec)


def test_conditional_policy_statements_are_not_enforced_locally():
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}

    kept, dropped = enforceable_policy(policy)

    assert [statement["Sid"] for statement in kept["Statement"]] == ["AllowRead"]
    assert dropped == ["DenyInsecure"]


def test_a_generated_name_fits_the_services_limit_and_keeps_its_random_suffix():
    from local.cloudformation.types import generate_resource_name

    name = generate_resource_name("AWS::StepFunctions::StateMachine", "AmiLifecycle-main",
                                  "BuildEventLifeCycleAmiBuildStateMachineName4F70B1B8")

    assert len(name) <= 80
    assert name.startswith("AmiLifecycle-main-BuildEventLifeCycle")
    assert len(name.rsplit("-", 1)[1]) == 12


def test_resources_are_deleted_before_what_they_depend_on():
    from local.cloudformation.stacks import deletion_order

    resources = {
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Role": {"Type": "AWS::IAM::Role"},
        "Thing": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Fn::GetAtt": "Function.Arn"}}},
        "Parameter": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": {"Fn::Sub": "${Thing.Greeting}"}}},
        "Later": {"Type": "AWS::SNS::Topic", "DependsOn": "Role"},
    }

    order = deletion_order(resources)

    assert order.index("Parameter") < order.index("Thing") < order.index("Function") < order.index("Role")
    assert order.index("Later") < order.index("Role")
