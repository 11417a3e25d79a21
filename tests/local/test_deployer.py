"""Deploying a synthesized CDK app into the local cloud (local/deployer.py)
and the CloudFormation behaviour it relies on (local/cloudformation/)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from local import deployer
from tests.local.conftest import local_deployer


def _stack(cloud: Any, name: str) -> dict[str, Any]:
    return cloud.boto3_client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def write_assembly(directory: Path, stacks: dict[str, dict[str, Any]],
                   dependencies: dict[str, list[str]] | None = None) -> Path:
    """A minimal cloud assembly (manifest + templates) for hand-made templates."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, template in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": f"{name}.template.json", "stackName": name},
            "dependencies": (dependencies or {}).get(name, []),
        }
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- the synthesized test app -----------------------------------------------


def test_every_stack_of_the_app_reaches_create_complete(local_cloud, c1_deployment):
    assert {_stack(local_cloud, name)["StackStatus"] for name in ("c1-producer", "c1-consumer")} == {
        "CREATE_COMPLETE"
    }


def test_generated_secret_value_follows_its_template(local_cloud, c1_deployment):
    arn = c1_deployment["c1-producer"]["SecretArn"]

    value = json.loads(local_cloud.boto3_client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])

    assert value["user"] == "svc"
    assert len(value["key"]) == 24 and value["key"].isalnum()


def test_a_ref_to_a_secret_resolves_to_its_arn(local_cloud, c1_deployment):
    stored = local_cloud.boto3_client("ssm").get_parameter(Name="/c1/secret-arn")["Parameter"]["Value"]

    assert stored == c1_deployment["c1-producer"]["SecretArn"]
    assert stored.startswith("arn:aws:secretsmanager:")


def test_cross_stack_import_resolves_to_the_exported_value(local_cloud, c1_deployment):
    [exported] = [value for key, value in c1_deployment["c1-producer"].items()
                  if key.startswith("ExportsOutputRefWorkQueue")]

    imported = local_cloud.boto3_client("ssm").get_parameter(Name="/c1/imported-queue-url")["Parameter"]["Value"]

    assert imported == exported
    assert "c1-producer-WorkQueue" in imported


def test_directory_asset_is_published_as_a_zip_where_the_manifest_says(local_cloud, c1_deployment):
    outputs = c1_deployment["c1-producer"]

    body = local_cloud.boto3_client("s3").get_object(Bucket=outputs["AssetBucket"], Key=outputs["AssetKey"])["Body"]

    with zipfile.ZipFile(io.BytesIO(body.read())) as archive:
        assert archive.read("greeting.txt") == b"hello from a file asset\n"


def test_bootstrap_version_parameter_is_set(local_cloud, c1_deployment):
    value = local_cloud.boto3_client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]

    assert int(value["Value"]) >= 6


def test_deploying_again_without_changes_changes_nothing(local_cloud, c1_deployment, c1_cloud_assembly):
    messages: list[str] = []

    results = deployer.deploy(deployer.load_assembly(c1_cloud_assembly),
                              local_deployer(local_cloud, echo=messages.append))

    assert [result.changed for result in results] == [False, False]
    assert "c1-producer: no changes" in messages


# --- hand-made templates: failures, exports, destroy --------------------------


def test_a_failing_resource_fails_the_deployment_with_its_reason(local_cloud, tmp_path):
    name = _unique("c1-broken")
    template = {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Mystery": {"Type": "AWS::Mystery::Thing", "Properties": {"Queue": {"Ref": "Queue"}}},
    }}
    assembly = deployer.load_assembly(write_assembly(tmp_path, {name: template}))

    with pytest.raises(deployer.DeployError) as failure:
        deployer.deploy(assembly, local_deployer(local_cloud))

    assert "Mystery (AWS::Mystery::Thing) CREATE_FAILED" in str(failure.value)
    assert "AWS::Mystery::Thing is not supported by the local cloud" in str(failure.value)
    assert _stack(local_cloud, name)["StackStatus"] == "ROLLBACK_COMPLETE"


def test_a_failed_creation_rolls_back_what_it_made(local_cloud, tmp_path):
    name = _unique("c1-rollback")
    queue_name = _unique("c1-rolled-back-queue")
    template = {"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue_name}},
        "Mystery": {"Type": "AWS::Mystery::Thing", "DependsOn": "Queue"},
    }}
    assembly = deployer.load_assembly(write_assembly(tmp_path, {name: template}))

    with pytest.raises(deployer.DeployError):
        deployer.deploy(assembly, local_deployer(local_cloud))

    queues = local_cloud.boto3_client("sqs").list_queues(QueueNamePrefix=queue_name).get("QueueUrls", [])
    assert queues == []


def _export_import_pair(tmp_path: Path) -> tuple[Any, str, str, str]:
    exporter, importer, export_name = _unique("c1-exporter"), _unique("c1-importer"), _unique("c1-export")
    stacks = {
        exporter: {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                   "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": export_name}}}},
        importer: {"Resources": {"Parameter": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Name": f"/{importer}/topic", "Value": {"Fn::ImportValue": export_name}}}}},
    }
    assembly = deployer.load_assembly(write_assembly(tmp_path, stacks, {importer: [exporter]}))
    return assembly, exporter, importer, export_name


def test_a_stack_whose_export_is_imported_cannot_be_deleted(local_cloud, tmp_path):
    assembly, exporter, importer, export_name = _export_import_pair(tmp_path)
    deployer.deploy(assembly, local_deployer(local_cloud))

    with pytest.raises(Exception, match=f"Export {export_name} cannot be deleted as it is in use by {importer}"):
        local_cloud.boto3_client("cloudformation").delete_stack(StackName=exporter)

    deployer.destroy(assembly, local_deployer(local_cloud))


def test_destroy_deletes_dependents_first(local_cloud, tmp_path):
    assembly, exporter, importer, _ = _export_import_pair(tmp_path)
    deployer.deploy(assembly, local_deployer(local_cloud))

    deleted = deployer.destroy(assembly, local_deployer(local_cloud))

    assert deleted == [importer, exporter]
    live = {s["StackName"] for s in local_cloud.boto3_client("cloudformation").describe_stacks()["Stacks"]}
    assert not {importer, exporter} & live


def test_sns_subscription_and_queue_policy_are_created(local_cloud, tmp_path):
    name = _unique("c1-fanout")
    template = {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                                    "Action": "sqs:SendMessage",
                                                    "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}},
        "Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
            "RawMessageDelivery": True, "FilterPolicy": {"kind": ["wanted"]}}},
    }, "Outputs": {"Topic": {"Value": {"Ref": "Topic"}}, "Queue": {"Value": {"Ref": "Queue"}}}}
    [result] = deployer.deploy(deployer.load_assembly(write_assembly(tmp_path, {name: template})),
                               local_deployer(local_cloud))
    sns, sqs = local_cloud.boto3_client("sns"), local_cloud.boto3_client("sqs")

    for kind in ("unwanted", "wanted"):
        sns.publish(TopicArn=result.outputs["Topic"], Message=kind,
                    MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}})
    received = sqs.receive_message(QueueUrl=result.outputs["Queue"], MaxNumberOfMessages=10, WaitTimeSeconds=1)

    assert [message["Body"] for message in received["Messages"]] == ["wanted"]
    policy = sqs.get_queue_attributes(QueueUrl=result.outputs["Queue"], AttributeNames=["Policy"])["Attributes"]
    assert json.loads(policy["Policy"])["Statement"][0]["Action"] == "sqs:SendMessage"


# --- the cloud assembly reader --------------------------------------------------


def test_stacks_are_ordered_after_the_stacks_they_depend_on(tmp_path):
    assembly = deployer.load_assembly(write_assembly(
        tmp_path, {"b": {"Resources": {}}, "a": {"Resources": {}}, "c": {"Resources": {}}},
        {"b": ["a"], "c": ["b"]},
    ))

    assert [stack.stack_name for stack in assembly.in_dependency_order()] == ["a", "b", "c"]


def test_selecting_a_stack_brings_its_dependencies(tmp_path):
    assembly = deployer.load_assembly(write_assembly(
        tmp_path, {"a": {"Resources": {}}, "b": {"Resources": {}}, "other": {"Resources": {}}}, {"b": ["a"]},
    ))

    assert [stack.stack_name for stack in assembly.select(["b"])] == ["a", "b"]


def test_docker_image_assets_are_refused_with_a_reason(tmp_path):
    write_assembly(tmp_path, {"a": {"Resources": {}}})
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["artifacts"]["a.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": "a.assets.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "a.assets.json").write_text(json.dumps({"files": {}, "dockerImages": {"img1": {}}}))

    with pytest.raises(deployer.DeployError, match="Docker image assets"):
        deployer.load_assembly(tmp_path)


def test_a_missing_cloud_assembly_says_to_synthesize(tmp_path):
    with pytest.raises(deployer.DeployError, match="synthesize first"):
        deployer.load_assembly(tmp_path / "nowhere")


def test_directory_zips_are_reproducible(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("b = 1\n")
    (tmp_path / "a.txt").write_text("a\n")

    first = deployer.zip_directory(tmp_path)
    (tmp_path / "a.txt").touch()

    assert deployer.zip_directory(tmp_path) == first
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["a.txt", "pkg/b.py"]


# --- custom resources (the function's reply decides) ------------------------------

CUSTOM_RESOURCE_HANDLER = '''
import json, urllib.request
def handler(event, context):
    props = event["ResourceProperties"]
    failed = props.get("Fail") == "yes"
    reply = {"Status": "FAILED" if failed else "SUCCESS", "Reason": "asked to fail" if failed else "ok",
             "PhysicalResourceId": "thing-" + props["Name"], "StackId": event["StackId"],
             "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
             "Data": {"Greeting": "hello " + props["Name"]}}
    request = urllib.request.Request(event["ResponseURL"], data=json.dumps(reply).encode(), method="PUT")
    urllib.request.urlopen(request).read()
'''


def _custom_resource_template(parameter: str, fail: str) -> dict[str, Any]:
    return {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
        "Provider": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.11", "Handler": "index.handler", "Timeout": 30,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": CUSTOM_RESOURCE_HANDLER}}},
        "Thing": {"Type": "Custom::Thing", "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "Name": "world", "Fail": fail}},
        "Greeting": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Name": parameter, "Value": {"Fn::GetAtt": ["Thing", "Greeting"]}}},
    }, "Outputs": {"ThingId": {"Value": {"Ref": "Thing"}}}}


def test_a_custom_resource_takes_its_id_and_attributes_from_the_function_reply(local_cloud, tmp_path):
    name = _unique("c1-custom")
    parameter = f"/{name}/greeting"
    assembly = deployer.load_assembly(write_assembly(tmp_path, {name: _custom_resource_template(parameter, "no")}))

    [result] = deployer.deploy(assembly, local_deployer(local_cloud))

    assert result.outputs["ThingId"] == "thing-world"
    assert local_cloud.boto3_client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"] == "hello world"
    deployer.destroy(assembly, local_deployer(local_cloud))


def test_a_custom_resource_reply_of_failed_fails_the_stack_with_its_reason(local_cloud, tmp_path):
    name = _unique("c1-custom-fails")
    template = _custom_resource_template(f"/{name}/greeting", "yes")
    assembly = deployer.load_assembly(write_assembly(tmp_path, {name: template}))

    with pytest.raises(deployer.DeployError, match="Thing \\(Custom::Thing\\) CREATE_FAILED: .*asked to fail"):
        deployer.deploy(assembly, local_deployer(local_cloud))


# --- resource types completed locally -------------------------------------------------


def test_bucket_versioning_from_the_template_is_applied(local_cloud, tmp_path):
    name = _unique("c1-versioned")
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
        "VersioningConfiguration": {"Status": "Enabled"}}}}, "Outputs": {"Bucket": {"Value": {"Ref": "Bucket"}}}}

    [result] = deployer.deploy(deployer.load_assembly(write_assembly(tmp_path, {name: template})),
                               local_deployer(local_cloud))

    versioning = local_cloud.boto3_client("s3").get_bucket_versioning(Bucket=result.outputs["Bucket"])
    assert versioning["Status"] == "Enabled"


def test_a_changed_template_updates_the_stack(local_cloud, tmp_path):
    name = _unique("c1-updated")

    def template(value: str) -> dict[str, Any]:
        return {"Resources": {"Parameter": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Name": f"/{name}/value", "Value": value}}}}

    deployer.deploy(deployer.load_assembly(write_assembly(tmp_path / "v1", {name: template("one")})),
                    local_deployer(local_cloud))
    [result] = deployer.deploy(deployer.load_assembly(write_assembly(tmp_path / "v2", {name: template("two")})),
                               local_deployer(local_cloud))

    assert (result.status, result.changed) == ("UPDATE_COMPLETE", True)
    value = local_cloud.boto3_client("ssm").get_parameter(Name=f"/{name}/value")["Parameter"]["Value"]
    assert value == "two"


def test_an_api_gateway_invoke_url_output_reads_as_the_local_url(local_cloud, tmp_path):
    name = _unique("c1-api-url")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"ApiUrl": {
        "Value": {"Fn::Join": ["", ["https://abc123.execute-api.", {"Ref": "AWS::Region"}, ".",
                                    {"Ref": "AWS::URLSuffix"}, "/prod/"]]}}}}

    [result] = deployer.deploy(deployer.load_assembly(write_assembly(tmp_path, {name: template})),
                               local_deployer(local_cloud))

    assert result.outputs["ApiUrl"] == f"{local_cloud.endpoint_url}/restapis/abc123/prod/_user_request_/"
