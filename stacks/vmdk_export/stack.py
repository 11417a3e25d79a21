"""VmdkExport: where VM Import/Export writes VMDK copies of QA candidates."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.buckets import secure_bucket
from stacks.settings import Settings

VM_IMPORT_EXTERNAL_ID = "vmimport"


class VmdkExportStack(cdk.Stack):
    """The export bucket and the VM Import/Export service role.

    ExportImage takes the role name as a parameter, so the role carries the
    stack tag instead of the fixed name ``vmimport`` and two deployments
    can share an account."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # VM Import/Export writes with SSE-S3 only: it cannot export into a
        # bucket whose default encryption is SSE-KMS.
        self.bucket = secure_bucket(self, "vmdk-export-bucket")

        self.vmimport_role = iam.Role(
            self,
            "VmImportRole",
            role_name=settings.physical_name("vmimport"),
            description="Lets VM Import/Export write exported AMIs into the export bucket",
            assumed_by=iam.ServicePrincipal(
                "vmie.amazonaws.com",
                conditions={"StringEquals": {"sts:ExternalId": VM_IMPORT_EXTERNAL_ID}},
            ),
        )
        self.bucket.grant_read_write(self.vmimport_role)
        self.vmimport_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:GetBucketAcl", "s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
            )
        )
        self.vmimport_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadImagesToExport",
                actions=["ec2:DescribeImages", "ec2:DescribeSnapshots", "ec2:DescribeImageAttribute"],
                # Describe calls support no resource-level permissions.
                resources=["*"],
            )
        )
        self.vmimport_role.add_to_policy(
            iam.PolicyStatement(
                sid="CopySnapshotsForExport",
                actions=["ec2:CopySnapshot", "ec2:ModifySnapshotAttribute"],
                resources=[f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}::snapshot/*"],
            )
        )

        cdk.CfnOutput(self, "vmdkExportBucketArn", value=self.bucket.bucket_arn)
        cdk.CfnOutput(self, "vmdkExportBucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "vmImportRoleName", value=self.vmimport_role.role_name)
