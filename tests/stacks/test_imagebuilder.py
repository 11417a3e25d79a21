"""AmiLifecycleImageBuilder: the pipeline that bakes the AMIs."""

import pytest
from aws_cdk.assertions import Match

from tests.stacks.helpers import output_keys, resources

STACK = "AmiLifecycleImageBuilder"


@pytest.fixture(scope="module")
def template(templates):
    return templates[STACK]


def only(template, type_name):
    found = resources(template, type_name)
    assert len(found) == 1, found
    return next(iter(found.values()))["Properties"]


def test_kms_key_rotates_and_has_a_tagged_alias(template, settings):
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": f"alias/image-builder-kms-key-{settings.stack_tag}"}
    )


def test_instance_role_trusts_ec2_with_the_image_builder_managed_policies(template):
    role = next(
        r["Properties"] for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    )
    managed = str(role["ManagedPolicyArns"])
    assert "AmazonSSMManagedInstanceCore" in managed
    assert "EC2InstanceProfileForImageBuilder" in managed


def test_instance_role_writes_logs_only_under_the_image_builder_log_groups(template):
    template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Sid": "WriteBuildLogs",
            "Resource": {"Fn::Join": ["", Match.array_with([Match.string_like_regexp(":log-group:/aws/imagebuilder/\\*$")])]},
        })])}
    })


def test_topic_is_encrypted_with_the_stack_key(template):
    topic = only(template, "AWS::SNS::Topic")
    key_id = next(iter(resources(template, "AWS::KMS::Key")))
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_no_email_subscription_without_an_address(template, settings):
    if settings.image_builder.email_address:
        template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email"})
    else:
        template.resource_count_is("AWS::SNS::Subscription", 0)


def test_infrastructure_configuration_runs_in_the_private_subnet_and_notifies_the_topic(template, settings):
    config = only(template, "AWS::ImageBuilder::InfrastructureConfiguration")
    assert config["Name"] == f"ami-lifecycle-infra-config-{settings.stack_tag}"
    assert config["InstanceTypes"] == list(settings.image_builder.instance_types)
    assert config["TerminateInstanceOnFailure"] is True
    assert config["SnsTopicArn"] == {"Ref": next(iter(resources(template, "AWS::SNS::Topic")))}
    assert config["SubnetId"]["Fn::ImportValue"]
    assert config["InstanceMetadataOptions"]["HttpTokens"] == "required"


def test_generic_component_comes_from_the_yaml_asset(template, settings):
    component = only(template, "AWS::ImageBuilder::Component")
    assert component["Platform"] == "Linux"
    assert component["Version"] == settings.image_builder.component_version
    assert "Uri" in component and "Data" not in component


def test_recipe_uses_the_parent_image_and_an_unencrypted_root_volume(template, settings):
    recipe = only(template, "AWS::ImageBuilder::ImageRecipe")
    assert settings.image_builder.base_image_arn in str(recipe["ParentImage"])
    assert len(recipe["Components"]) == 3
    ebs = recipe["BlockDeviceMappings"][0]["Ebs"]
    assert recipe["BlockDeviceMappings"][0]["DeviceName"] == "/dev/xvda"
    assert ebs["Encrypted"] is False
    assert ebs["VolumeSize"] == settings.image_builder.ebs_volume_size
    assert recipe["WorkingDirectory"] == "/imagebuilder"


def test_distribution_publishes_with_native_target_account_ids(template):
    distribution = only(template, "AWS::ImageBuilder::DistributionConfiguration")["Distributions"]
    assert len(distribution) >= 1
    ami = distribution[0]["AmiDistributionConfiguration"]
    assert ami["TargetAccountIds"]
    assert "{{ imagebuilder:buildDate }}" in ami["Name"]
    assert ami["AmiTags"]["Pipeline"] == "AmiLifecyclePipeline"


def test_pipeline_is_enabled_with_image_tests_and_no_schedule(template, settings):
    pipeline = only(template, "AWS::ImageBuilder::ImagePipeline")
    assert pipeline["Name"] == f"ami-lifecycle-pipeline-{settings.stack_tag}"
    assert pipeline["Status"] == "ENABLED"
    assert "Schedule" not in pipeline
    assert pipeline["ImageTestsConfiguration"] == {"ImageTestsEnabled": True, "TimeoutMinutes": 90}
    assert pipeline["EnhancedImageMetadataEnabled"] is True


def test_outputs(template):
    assert {
        "pipelineArn", "ec2InstanceProfileArn", "ec2InstanceProfileName", "imagebuilderTopicArn",
        "imagebuilderSecurityGroupId", "imagebuilderKmsKeyArn",
    } <= output_keys(template)
