"""AmiLifecycleImageBuilder: the EC2 Image Builder pipeline that bakes AMIs."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_imagebuilder as imagebuilder
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.network.stack import NetworkStack
from stacks.settings import PROJECT_TAG, Settings

COMPONENT_FILE = Path(__file__).parent / "components" / "generic-component.yml"
# AWS-managed components added to every recipe (latest versions).
MANAGED_COMPONENTS = ("amazon-cloudwatch-agent-linux/x.x.x", "aws-cli-version-2-linux/x.x.x")


class ImageBuilderStack(cdk.Stack):
    """Recipe, infrastructure and distribution configurations and the
    pipeline the build event starts. Build completions are published to
    ``topic``, which the orchestrator listens to."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings,
                 network: NetworkStack, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ib = settings.image_builder
        name = settings.physical_name

        self.key = kms.Key(
            self,
            "image-builder-kms-key",
            alias=f"alias/image-builder-kms-key-{settings.stack_tag}",
            description="Encrypts the Image Builder notifications and components",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        for service in ("imagebuilder.amazonaws.com", "sns.amazonaws.com"):
            self.key.grant_encrypt_decrypt(iam.ServicePrincipal(service))

        self.instance_role = iam.Role(
            self,
            "ImageBuilderInstanceRole",
            description="Role of the EC2 instances Image Builder builds and tests on",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"),
                iam.ManagedPolicy.from_aws_managed_policy_name("EC2InstanceProfileForImageBuilder"),
            ],
        )
        self.instance_role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteBuildLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}"
                    ":log-group:/aws/imagebuilder/*"
                ],
            )
        )
        self.key.grant_decrypt(self.instance_role)
        self.instance_profile = iam.CfnInstanceProfile(
            self, "ImageBuilderInstanceProfile", roles=[self.instance_role.role_name]
        )

        self.topic = sns.Topic(
            self,
            "ami-lifecycle-imagebuilder-topic",
            display_name=f"AMI lifecycle image builds ({settings.stack_tag})",
            master_key=self.key,
            enforce_ssl=True,
        )
        if ib.email_address:
            self.topic.add_subscription(subscriptions.EmailSubscription(ib.email_address))
        self.topic.grant_publish(self.instance_role)

        self.security_group = ec2.SecurityGroup(
            self,
            "ami-lifecycle-imagebuilder-sg",
            vpc=network.vpc,
            description="Image Builder build and test instances: outbound only",
            allow_all_outbound=True,
        )

        infrastructure = imagebuilder.CfnInfrastructureConfiguration(
            self,
            "ami-lifecycle-infra-config",
            name=name("ami-lifecycle-infra-config"),
            instance_profile_name=self.instance_profile.ref,
            instance_types=list(ib.instance_types),
            subnet_id=network.private_subnet.subnet_id,
            security_group_ids=[self.security_group.security_group_id],
            terminate_instance_on_failure=True,
            sns_topic_arn=self.topic.topic_arn,
            instance_metadata_options=imagebuilder.CfnInfrastructureConfiguration.InstanceMetadataOptionsProperty(
                http_tokens="required", http_put_response_hop_limit=2
            ),
            resource_tags={"project": PROJECT_TAG, **ib.extra_tags},
        )

        component_asset = s3_assets.Asset(self, "GenericComponentAsset", path=str(COMPONENT_FILE))
        component = imagebuilder.CfnComponent(
            self,
            "GenericComponent",
            name=name("ami-lifecycle-generic-component"),
            platform="Linux",
            version=ib.component_version,
            uri=component_asset.s3_object_url,
            kms_key_id=self.key.key_arn,
            description="Baseline OS hardening of every AMI the lifecycle builds",
            tags={"imagePipeline": "AMILifecycleImageBuilder", "project": PROJECT_TAG},
        )

        managed = [f"arn:{cdk.Aws.PARTITION}:imagebuilder:{cdk.Aws.REGION}:aws:component/{c}" for c in MANAGED_COMPONENTS]
        recipe = imagebuilder.CfnImageRecipe(
            self,
            "ami-lifecycle-image-recipe",
            name=name("ami-lifecycle-image-recipe"),
            version=ib.recipe_version,
            parent_image=f"arn:{cdk.Aws.PARTITION}:imagebuilder:{cdk.Aws.REGION}:aws:image/{ib.base_image_arn}",
            components=[
                imagebuilder.CfnImageRecipe.ComponentConfigurationProperty(component_arn=arn)
                for arn in [component.attr_arn, *managed]
            ],
            working_directory="/imagebuilder",
            block_device_mappings=[
                imagebuilder.CfnImageRecipe.InstanceBlockDeviceMappingProperty(
                    device_name="/dev/xvda",
                    ebs=imagebuilder.CfnImageRecipe.EbsInstanceBlockDeviceSpecificationProperty(
                        volume_size=ib.ebs_volume_size,
                        volume_type="gp3",
                        delete_on_termination=True,
                        # Deliberately unencrypted: the QA certification event
                        # exports the AMI with VM Import/Export, which cannot
                        # export AMIs backed by encrypted EBS snapshots.
                        encrypted=False,
                    ),
                )
            ],
        )

        self.distribution_regions = list(ib.ami_publishing_regions) or [cdk.Aws.REGION]
        distribution = imagebuilder.CfnDistributionConfiguration(
            self,
            "ami-lifecycle-distribution-config",
            name=name("ami-lifecycle-distribution-config"),
            description="Where each built AMI is published and who may launch it",
            distributions=[self._distribution(settings, region) for region in self.distribution_regions],
        )

        self.pipeline = imagebuilder.CfnImagePipeline(
            self,
            "ami-lifecycle-pipeline",
            name=name("ami-lifecycle-pipeline"),
            description="Builds the AMIs of the lifecycle; started on demand by the build event",
            image_recipe_arn=recipe.attr_arn,
            infrastructure_configuration_arn=infrastructure.attr_arn,
            distribution_configuration_arn=distribution.attr_arn,
            status="ENABLED",
            enhanced_image_metadata_enabled=True,
            image_tests_configuration=imagebuilder.CfnImagePipeline.ImageTestsConfigurationProperty(
                image_tests_enabled=True, timeout_minutes=90
            ),
        )
        self.pipeline_arn = self.pipeline.attr_arn
        self.recipe = recipe
        self.infrastructure_configuration = infrastructure
        self.distribution_configuration = distribution

        cdk.CfnOutput(self, "pipelineArn", value=self.pipeline_arn)
        cdk.CfnOutput(self, "ec2InstanceProfileArn", value=self.instance_profile.attr_arn)
        cdk.CfnOutput(self, "ec2InstanceProfileName", value=self.instance_profile.ref)
        cdk.CfnOutput(self, "imagebuilderTopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(self, "imagebuilderSecurityGroupId", value=self.security_group.security_group_id)
        cdk.CfnOutput(self, "imagebuilderKmsKeyArn", value=self.key.key_arn)

    @staticmethod
    def _distribution(settings: Settings, region: str) -> imagebuilder.CfnDistributionConfiguration.DistributionProperty:
        """One region's distribution. Publishing to other accounts uses
        CloudFormation's native ``TargetAccountIds``; sharing adds launch
        permissions. By default the AMI is published to this account only."""
        ib = settings.image_builder
        ami_configuration = {
            "Name": f"AmiLifecycle-{settings.stack_tag}-{{{{ imagebuilder:buildDate }}}}",
            "Description": f"AMI lifecycle build for stack tag {settings.stack_tag}",
            "AmiTags": {"project": PROJECT_TAG, "Pipeline": "AmiLifecyclePipeline", "StackTag": settings.stack_tag},
        }
        ami_configuration["TargetAccountIds"] = list(ib.ami_publishing_target_ids) or [cdk.Aws.ACCOUNT_ID]
        if ib.ami_sharing_ids:
            ami_configuration["LaunchPermissionConfiguration"] = {"UserIds": list(ib.ami_sharing_ids)}
        return imagebuilder.CfnDistributionConfiguration.DistributionProperty(
            region=region,
            ami_distribution_configuration=ami_configuration,
        )
