"""AmiLifecycleTagger: the role the orchestrator assumes to tag AMIs, here and in distribution accounts."""

from stacks.tagger.stack import TAGGER_SESSION_NAME
from tests.stacks.helpers import output_keys, policy_statements


def trust_statement(template) -> dict:
    [role] = template.find_resources("AWS::IAM::Role").values()
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return statement


def test_tagger_role_is_named_per_stack_tag(templates, settings):
    templates["AmiLifecycleTagger"].has_resource_properties("AWS::IAM::Role", {
        "RoleName": f"{settings.lifecycle.tagger_role_name}-{settings.stack_tag}"})


def test_tagger_role_trusts_the_orchestrator_account_named_by_the_parameter_else_this_one(templates):
    template = templates["AmiLifecycleTagger"].to_json()
    statement = trust_statement(templates["AmiLifecycleTagger"])

    assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":iam::",
        {"Fn::If": ["OrchestratorInThisAccount", {"Ref": "AWS::AccountId"}, {"Ref": "OrchestratorAccountId"}]},
        ":root"]]}}
    assert template["Conditions"]["OrchestratorInThisAccount"] == {
        "Fn::Equals": [{"Ref": "OrchestratorAccountId"}, ""]}
    parameter = template["Parameters"]["OrchestratorAccountId"]
    assert parameter["Default"] == "" and parameter["AllowedPattern"] == r"^(\d{12})?$"


def test_only_the_orchestrators_session_name_may_assume_the_role(templates):
    assert trust_statement(templates["AmiLifecycleTagger"])["Condition"] == {
        "StringEquals": {"sts:RoleSessionName": TAGGER_SESSION_NAME}}


def test_tagger_may_only_read_images_and_write_image_tags(templates):
    actions = set()
    for statement in policy_statements(templates["AmiLifecycleTagger"]):
        if statement.get("Action") == "sts:AssumeRole":
            continue
        actions.update(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        if {"ec2:CreateTags", "ec2:DeleteTags"} & set(statement["Action"]):
            assert "image/*" in str(statement["Resource"])
    assert actions == {"ec2:DescribeImages", "ec2:DescribeTags", "ec2:DescribeImageAttribute",
                       "ec2:CreateTags", "ec2:DeleteTags"}


def test_outputs(templates):
    assert {"crossAccountTaggerRoleArn", "crossAccountTaggerRoleName"} <= output_keys(templates["AmiLifecycleTagger"])
