"""The product's scheduled jobs on the local cloud: the deployed rules fire the deployed functions, which
repair drifted AMI tags and terminate overdue test instances, and their reports reach the operations log."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.local.polling import eventually
from tests.unit.domain_builders import completed, new_record

REPORT_STREAM = "orchestrator"


class Product:
    def __init__(self, cloud: Any, deployment: dict[str, dict[str, str]]) -> None:
        self.cloud = cloud
        self.outputs = next(outputs for outputs in deployment.values() if "amiOrchestratorApiGatewayUrl" in outputs)
        self.stack_tag = self.outputs["stackTag"]
        self.events = cloud.boto3_client("events")
        self.ec2 = cloud.boto3_client("ec2")
        self.logs = cloud.boto3_client("logs")

    def rule_targeting(self, function_fragment: str) -> str:
        for rule in self.events.list_rules()["Rules"]:
            if not rule.get("ScheduleExpression"):
                continue
            targets = self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            if any(function_fragment in target["Arn"] for target in targets):
                return rule["Name"]
        raise AssertionError(f"no scheduled rule targets a function named *{function_fragment}*")

    def run_rule(self, name: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.cloud.endpoint_url}/_local/events/rules/{name}/run",
                                         method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def reports(self, kind: str) -> list[dict[str, Any]]:
        group = f"/ami-lifecycles/{self.stack_tag}/operations-reports"
        try:
            events = self.logs.get_log_events(logGroupName=group, logStreamName=REPORT_STREAM)["events"]
        except self.logs.exceptions.ResourceNotFoundException:
            return []
        found = []
        for event in events:
            subject, _, body = event["message"].partition("\n")
            try:
                document = json.loads(body)
            except ValueError:
                continue
            if document.get("report") == kind:
                found.append(document)
        return found


@pytest.fixture(scope="module")
def product(local_cloud: Any, product_deployment: dict[str, dict[str, str]]) -> Product:
    return Product(local_cloud, product_deployment)


def ami_tags(product: Product, ami_id: str) -> dict[str, str]:
    image = product.ec2.describe_images(ImageIds=[ami_id])["Images"][0]
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags", []) if tag["Key"].startswith("AMI_LC_")}


def test_the_reconciler_rule_restores_changed_and_deleted_ami_tags(product: Product) -> None:
    from orchestrator.adapters.state_repository import to_attribute_map
    from orchestrator.domain.tags import expected_tags
    from orchestrator.domain.vocabulary import LifecycleType

    ami_id = product.ec2.register_image(Name=f"AmiLifecycle-{uuid.uuid4().hex[:8]}", RootDeviceName="/dev/xvda",
                                        Architecture="x86_64", VirtualizationType="hvm")["ImageId"]
    record = completed(new_record(stack_tag=product.stack_tag), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")
    record["lifecycle_id"] = str(uuid.uuid4())
    record["outputs_ami_creation"]["events"][0]["properties"]["ami_details"] = [
        {"image": ami_id, "region": product.cloud.region, "accountId": product.cloud.account_id,
         "name": "AmiLifecycle", "ami_semver": "1.0.0"}]
    # Stored as the state repository stores records.
    product.cloud.boto3_client("dynamodb").put_item(
        TableName=product.outputs["amiLifecycleStateTableName"], Item=to_attribute_map({**record, "version": 1}))
    expected = expected_tags(record, LifecycleType.AMI_CREATION)
    product.ec2.create_tags(Resources=[ami_id], Tags=[{"Key": k, "Value": v} for k, v in expected.items()])
    product.ec2.create_tags(Resources=[ami_id], Tags=[{"Key": "AMI_LC_CURRENT_AMI_SEMVER", "Value": "0.0.1"}])
    product.ec2.delete_tags(Resources=[ami_id], Tags=[{"Key": "AMI_LC_LIFECYCLE_ID"}])

    fired = product.run_rule(product.rule_targeting("TagReconciler"))

    assert fired["schedule"].startswith("cron(") and fired["targets"] == 1
    eventually(lambda: ami_tags(product, ami_id) == expected, timeout=90, what="the tags' repair")

    def report_naming_the_ami() -> dict[str, Any] | None:
        for report in product.reports("ami-tag-reconciliation"):
            for changed in report["changed"]:
                if changed["ami_id"] == ami_id:
                    return changed
        return None

    changed = eventually(report_naming_the_ami, timeout=60, what="the reconciliation report")
    assert {t["tag_key"]: t["problem"] for t in changed["tags"]} == {
        "AMI_LC_CURRENT_AMI_SEMVER": "wrong value", "AMI_LC_LIFECYCLE_ID": "missing"}


def test_the_garbage_collector_rule_terminates_overdue_test_instances_only(product: Product) -> None:
    from moto.ec2.models import ec2_backends

    ami = product.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def launch(*, age: timedelta, stack_tag: str) -> str:
        tags = [{"Key": "AMI_LC_EVENT_INSTANCE", "Value": "TRUE"}, {"Key": "AMI_LC_STACK_TAG", "Value": stack_tag}]
        instance_id = product.ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                                TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])[
            "Instances"][0]["InstanceId"]
        # Launched long ago: the simulated instance is backdated where the local cloud keeps it.
        backend = ec2_backends[product.cloud.account_id][product.cloud.region]
        backend.get_instance(instance_id).launch_time = datetime.now(timezone.utc) - age
        return instance_id

    overdue = launch(age=timedelta(days=1, hours=1), stack_tag=product.stack_tag)
    young = launch(age=timedelta(minutes=20), stack_tag=product.stack_tag)
    other_deployment = launch(age=timedelta(days=2), stack_tag=f"{product.stack_tag}-other")

    def state(instance_id: str) -> str:
        return product.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
            "State"]["Name"]

    product.run_rule(product.rule_targeting("GarbageCollector"))

    eventually(lambda: state(overdue) in ("shutting-down", "terminated"), timeout=90, what="the termination")
    report = eventually(lambda: [r for r in product.reports("test-instance-garbage-collection")
                                 if overdue in [i["instance_id"] for i in r["terminated"]]],
                        timeout=60, what="the garbage collection report")[0]
    assert [i["instance_id"] for i in report["terminated"]] == [overdue]
    assert (state(young), state(other_deployment)) == ("running", "running")
