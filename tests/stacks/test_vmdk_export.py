"""VmdkExport: the export bucket and the VM Import/Export service role."""

from aws_cdk.assertions import Match

from tests.stacks.helpers import output_keys, resources


def test_vmimport_role_trusts_vm_import_export_with_the_external_id(templates, settings):
    templates["VmdkExport"].has_resource_properties("AWS::IAM::Role", {
        "RoleName": f"vmimport-{settings.stack_tag}",
        "AssumeRolePolicyDocument": {"Statement": [{
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "vmie.amazonaws.com"},
            "Condition": {"StringEquals": {"sts:ExternalId": "vmimport"}},
        }]},
    })


def test_vmimport_role_may_write_the_export_bucket(templates):
    templates["VmdkExport"].has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": Match.array_with(["s3:PutObject"]),
        })])}
    })


def test_export_bucket_uses_sse_s3_because_vm_export_cannot_write_sse_kms(templates):
    buckets = resources(templates["VmdkExport"], "AWS::S3::Bucket")
    export = next(b for lid, b in buckets.items() if lid.startswith("vmdkexportbucket"))
    rule = export["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_outputs(templates):
    assert {"vmdkExportBucketArn", "vmdkExportBucketName", "vmImportRoleName"} <= output_keys(templates["VmdkExport"])
