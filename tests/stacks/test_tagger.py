"""AmiLifecycleTagger: the role the orchestrator assumes to tag AMIs."""

from tests.stacks.helpers import output_keys, policy_statements


def test_tagger_role_is_named_per_stack_tag_and_trusted_by_this_account(templates, settings):
    templates["AmiLifecycleTagger"].has_resource_properties("AWS::IAM::Role", {
        "RoleName": f"{settings.lifecycle.tagger_role_name}-{settings.stack_tag}",
        "AssumeRolePolicyDocument": {"Statement": [{
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::",
                                                      {"Ref": "AWS::AccountId"}, ":root"]]}},
        }]},
    })


def test_tagger_may_only_read_images_and_write_image_tags(templates):
    actions = set()
    for statement in policy_statements(templates["AmiLifecycleTagger"]):
        actions.update(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        if {"ec2:CreateTags", "ec2:DeleteTags"} & set(statement["Action"]):
            assert "image/*" in str(statement["Resource"])
    assert actions == {"ec2:DescribeImages", "ec2:DescribeTags", "ec2:DescribeImageAttribute",
                       "ec2:CreateTags", "ec2:DeleteTags"}


def test_outputs(templates):
    assert {"crossAccountTaggerRoleArn", "crossAccountTaggerRoleName"} <= output_keys(templates["AmiLifecycleTagger"])
