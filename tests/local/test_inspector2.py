"""The simulated Inspector2 through boto3: account status, coverage of
instances, findings seeded per AMI, findings reports and SBOM exports
written to S3, and the service's error shapes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from local import clock, faults
from local.services.inspector2 import models, urls
from tests.local.polling import eventually


# Polling with this module's own pace.
wait_for = partial(eventually, timeout=10.0, interval=0.02)

OPENSSL = {
    "title": "CVE-2023-0286 - openssl", "severity": "HIGH", "inspectorScore": 7.4,
    "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-2023-0286", "source": "NVD",
        "vulnerablePackages": [{"name": "openssl", "version": "1.0.2k", "fixedInVersion": "1.0.2k-24",
                                "packageManager": "OS"}],
    },
}
CURL = {"title": "CVE-2023-38545 - curl", "severity": "CRITICAL",
        "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2023-38545", "source": "NVD",
                                        "vulnerablePackages": [{"name": "curl", "version": "7.79.1"}]}}
LOW = {"title": "Weak SSH cipher allowed", "severity": "LOW", "type": "NETWORK_REACHABILITY"}


@pytest.fixture
def fast_clock() -> Iterator[None]:
    """A scan takes ~0.12 s of real time, a report ~0.03 s."""
    previous = clock.time_scale()
    clock.set_time_scale(0.001)
    yield
    clock.set_time_scale(previous)


@pytest.fixture(scope="module")
def inspector(local_cloud: Any) -> Any:
    client = local_cloud.boto3_client("inspector2")
    client.enable(resourceTypes=["EC2"])
    return client


@pytest.fixture
def ec2(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("ec2")


def new_ami(ec2: Any, region: str) -> str:
    source = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}])
    return ec2.copy_image(SourceImageId=source["Images"][0]["ImageId"], SourceRegion=region,
                          Name=f"scanned-{uuid.uuid4().hex[:8]}")["ImageId"]


def launch(ec2: Any, ami: str) -> str:
    return ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def by_resource(instance_id: str) -> dict[str, Any]:
    return {"resourceId": [{"comparison": "EQUALS", "value": instance_id}]}


def coverage_of(inspector: Any, instance_id: str) -> dict[str, Any] | None:
    covered = inspector.list_coverage(filterCriteria=by_resource(instance_id))["coveredResources"]
    return covered[0] if covered else None


def scanned(inspector: Any, instance_id: str) -> dict[str, Any]:
    return wait_for(lambda: (lambda c: c if c and c["scanStatus"]["reason"] == "SUCCESSFUL" else None)(
        coverage_of(inspector, instance_id)))


@pytest.fixture
def scanned_instance(fast_clock, local_cloud, inspector, ec2) -> dict[str, str]:
    """An instance launched from an AMI seeded with three findings, scanned."""
    ami = new_ami(ec2, local_cloud.region)
    models.seed_findings(local_cloud.account_id, local_cloud.region, ami, [OPENSSL, CURL, LOW])
    instance = launch(ec2, ami)
    scanned(inspector, instance)
    return {"ami": ami, "instance": instance}


@pytest.fixture
def destination(local_cloud: Any) -> dict[str, str]:
    bucket = f"findings-{uuid.uuid4().hex[:10]}"
    local_cloud.boto3_client("s3").create_bucket(Bucket=bucket)
    key = local_cloud.boto3_client("kms").create_key()["KeyMetadata"]["Arn"]
    return {"bucketName": bucket, "keyPrefix": "inspector/reports", "kmsKeyArn": key}


def finished(probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return wait_for(lambda: (lambda r: r if r["status"] != "IN_PROGRESS" else None)(probe()))


# ---- account status and permissions ------------------------------------
def test_account_status_defaults_to_the_callers_account_and_follows_enable(local_cloud):
    client = boto3.client("inspector2", **{**local_cloud.client_kwargs(), "region_name": "eu-west-3"})

    before = client.batch_get_account_status()["accounts"][0]
    client.enable(resourceTypes=["EC2"])
    after = client.batch_get_account_status()["accounts"][0]

    assert before["accountId"] == local_cloud.account_id
    assert before["resourceState"]["ec2"]["status"] == "DISABLED"
    assert after["state"]["status"] == "ENABLED" and after["resourceState"]["ec2"]["status"] == "ENABLED"


def test_disable_without_resource_types_disables_every_scan_type(local_cloud):
    client = boto3.client("inspector2", **{**local_cloud.client_kwargs(), "region_name": "eu-north-1"})
    client.enable(resourceTypes=["EC2", "ECR"])

    [account] = client.disable()["accounts"]

    assert account["status"] == "DISABLED"
    assert account["resourceStatus"]["ec2"] == "DISABLED" and account["resourceStatus"]["ecr"] == "DISABLED"


def test_the_caller_may_enable_ec2_scanning(inspector):
    permissions = inspector.list_account_permissions(service="EC2")["permissions"]

    assert {"service": "EC2", "operation": "ENABLE_SCANNING"} in permissions
    assert all(p["service"] == "EC2" for p in permissions)


# ---- coverage ---------------------------------------------------------
def test_a_new_instance_is_pending_then_successfully_scanned(local_cloud, inspector, ec2):
    instance = launch(ec2, new_ami(ec2, local_cloud.region))  # session time scale: the scan takes ~1.2 s

    first = coverage_of(inspector, instance)
    done = scanned(inspector, instance)

    assert first["scanStatus"] == {"statusCode": "ACTIVE", "reason": "PENDING_INITIAL_SCAN"}
    assert done["scanStatus"] == {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"}
    assert done["resourceType"] == "AWS_EC2_INSTANCE" and "lastScannedAt" in done


def test_coverage_names_the_ami_the_instance_was_launched_from(fast_clock, local_cloud, inspector, ec2):
    ami = new_ami(ec2, local_cloud.region)
    instance = launch(ec2, ami)

    assert scanned(inspector, instance)["resourceMetadata"]["ec2"]["amiId"] == ami


def test_a_hang_fault_keeps_every_scan_pending(fast_clock, local_cloud, inspector, ec2):
    faults.set_fault("inspector2", "hang", "ListCoverage")
    instance = launch(ec2, new_ami(ec2, local_cloud.region))

    time.sleep(0.4)  # three scan durations

    assert coverage_of(inspector, instance)["scanStatus"]["reason"] == "PENDING_INITIAL_SCAN"
    assert inspector.list_findings(filterCriteria=by_resource(instance))["findings"] == []


def test_nothing_is_covered_while_ec2_scanning_is_disabled(fast_clock, local_cloud):
    region = "ca-central-1"
    ec2 = boto3.client("ec2", **{**local_cloud.client_kwargs(), "region_name": region})
    client = boto3.client("inspector2", **{**local_cloud.client_kwargs(), "region_name": region})
    launch(ec2, new_ami(ec2, region))
    time.sleep(0.2)

    assert client.list_coverage()["coveredResources"] == []


def test_a_terminated_instance_leaves_coverage_and_its_findings_close(local_cloud, inspector, ec2,
                                                                        scanned_instance):
    ec2.terminate_instances(InstanceIds=[scanned_instance["instance"]])

    assert coverage_of(inspector, scanned_instance["instance"]) is None
    findings = inspector.list_findings(filterCriteria=by_resource(scanned_instance["instance"]))["findings"]
    assert {f["status"] for f in findings} == {"CLOSED"}


# ---- findings ---------------------------------------------------------
def test_findings_filtered_by_resource_are_the_seeds_of_its_ami(fast_clock, local_cloud, inspector, ec2,
                                                                scanned_instance):
    other_ami = new_ami(ec2, local_cloud.region)
    models.seed_findings(local_cloud.account_id, local_cloud.region, other_ami, [LOW])
    scanned(inspector, launch(ec2, other_ami))

    findings = inspector.list_findings(filterCriteria=by_resource(scanned_instance["instance"]))["findings"]

    assert sorted(f["title"] for f in findings) == sorted(s["title"] for s in (OPENSSL, CURL, LOW))
    resource = findings[0]["resources"][0]
    assert resource["id"] == scanned_instance["instance"] and resource["type"] == "AWS_EC2_INSTANCE"
    assert resource["details"]["awsEc2Instance"]["imageId"] == scanned_instance["ami"]
    assert all(f["findingArn"].startswith(f"arn:aws:inspector2:{local_cloud.region}:") for f in findings)


def test_findings_filter_by_ami_severity_and_status(inspector, scanned_instance):
    criteria = {
        "ec2InstanceImageId": [{"comparison": "EQUALS", "value": scanned_instance["ami"]}],
        "severity": [{"comparison": "EQUALS", "value": "HIGH"}, {"comparison": "EQUALS", "value": "CRITICAL"}],
        "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
    }

    findings = inspector.list_findings(filterCriteria=criteria)["findings"]

    assert sorted(f["severity"] for f in findings) == ["CRITICAL", "HIGH"]


def test_findings_page_with_next_token(inspector, scanned_instance):
    criteria = by_resource(scanned_instance["instance"])

    first = inspector.list_findings(filterCriteria=criteria, maxResults=2)
    second = inspector.list_findings(filterCriteria=criteria, maxResults=2, nextToken=first["nextToken"])

    assert len(first["findings"]) == 2 and len(second["findings"]) == 1
    assert "nextToken" not in second
    arns = {f["findingArn"] for f in first["findings"] + second["findings"]}
    assert len(arns) == 3


def test_findings_sort_by_severity_descending(inspector, scanned_instance):
    findings = inspector.list_findings(filterCriteria=by_resource(scanned_instance["instance"]),
                                       sortCriteria={"field": "SEVERITY", "sortOrder": "DESC"})["findings"]

    assert [f["severity"] for f in findings] == ["CRITICAL", "HIGH", "LOW"]


def test_a_filter_the_simulation_cannot_evaluate_is_a_validation_error(inspector):
    with pytest.raises(ClientError) as raised:
        inspector.list_findings(filterCriteria={"lambdaFunctionName": [{"comparison": "EQUALS", "value": "f"}]})

    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "lambdaFunctionName" in error["Message"] and "resourceId" in error["Message"]


# ---- seeding ----------------------------------------------------------
def admin_request(method: str, body: Any = None, query: str = "") -> Any:
    environ = EnvironBuilder(path="/_local/inspector2/findings", method=method, query_string=query,
                             data=json.dumps(body) if body is not None else None,
                             content_type="application/json").get_environ()
    return urls.admin_dispatch(Request(environ))


def test_the_admin_route_seeds_findings_for_an_ami(local_cloud):
    ami = f"ami-{uuid.uuid4().hex[:17]}"

    response = admin_request("POST", {"amiId": ami, "findings": [OPENSSL, LOW]})
    listed = admin_request("GET", query=f"amiId={ami}")

    assert response.status_code == 200 and response.get_json() == {"amiId": ami, "findings": 2}
    seeds = listed.get_json()["seeds"][ami]
    assert [s["title"] for s in seeds] == [OPENSSL["title"], LOW["title"]]
    assert seeds[0]["status"] == "ACTIVE" and seeds[0]["type"] == "PACKAGE_VULNERABILITY"


def test_the_admin_route_refuses_a_seed_with_an_unknown_severity():
    response = admin_request("POST", {"amiId": "ami-0123456789abcdef0",
                                      "findings": [{"title": "x", "severity": "SEVERE"}]})

    assert response.status_code == 400
    assert "findings[0].severity" in response.get_json()["error"]
    assert "CRITICAL" in response.get_json()["error"]


def test_the_admin_route_refuses_fields_the_scan_fills_in():
    response = admin_request("POST", {"amiId": "ami-0123456789abcdef0",
                                      "findings": [{"title": "x", "severity": "LOW", "findingArn": "arn:x"}]})

    assert response.status_code == 400 and "findingArn" in response.get_json()["error"]


def test_the_admin_route_leaves_other_paths_alone():
    environ = EnvironBuilder(path="/_local/health", method="GET").get_environ()

    assert urls.admin_dispatch(Request(environ)) is None


# ---- findings reports ---------------------------------------------------
def test_a_json_findings_report_is_written_to_the_bucket(local_cloud, inspector, scanned_instance, destination):
    report_id = inspector.create_findings_report(
        reportFormat="JSON", s3Destination=destination,
        filterCriteria={"ec2InstanceImageId": [{"comparison": "EQUALS", "value": scanned_instance["ami"]}]},
    )["reportId"]

    status = finished(lambda: inspector.get_findings_report_status(reportId=report_id))

    assert status["status"] == "SUCCEEDED"
    assert status["destination"]["bucketName"] == destination["bucketName"]
    body = local_cloud.boto3_client("s3").get_object(Bucket=destination["bucketName"],
                                                     Key=f"inspector/reports/{report_id}.json")["Body"].read()
    report = json.loads(body)
    assert sorted(f["title"] for f in report["findings"]) == sorted(s["title"] for s in (OPENSSL, CURL, LOW))
    assert report["findings"][0]["firstObservedAt"].endswith("Z")


def test_a_csv_findings_report_has_a_row_per_finding(local_cloud, inspector, scanned_instance, destination):
    report_id = inspector.create_findings_report(reportFormat="CSV", s3Destination=destination,
                                                 filterCriteria=by_resource(scanned_instance["instance"]))["reportId"]

    finished(lambda: inspector.get_findings_report_status(reportId=report_id))

    body = local_cloud.boto3_client("s3").get_object(Bucket=destination["bucketName"],
                                                     Key=f"inspector/reports/{report_id}.csv")["Body"].read()
    lines = body.decode().strip().splitlines()
    assert lines[0].startswith("AWS Account Id,Severity") and len(lines) == 4


def test_a_report_matching_no_findings_fails_with_no_findings_found(fast_clock, inspector, destination):
    report_id = inspector.create_findings_report(reportFormat="JSON", s3Destination=destination,
                                                 filterCriteria=by_resource("i-00000000000000000"))["reportId"]

    status = finished(lambda: inspector.get_findings_report_status(reportId=report_id))

    assert status["status"] == "FAILED" and status["errorCode"] == "NO_FINDINGS_FOUND"


def test_a_report_to_a_missing_bucket_fails_with_bucket_not_found(inspector, scanned_instance, destination):
    missing = {**destination, "bucketName": f"missing-{uuid.uuid4().hex[:8]}"}
    report_id = inspector.create_findings_report(reportFormat="JSON", s3Destination=missing)["reportId"]

    status = finished(lambda: inspector.get_findings_report_status(reportId=report_id))

    assert status["status"] == "FAILED" and status["errorCode"] == "BUCKET_NOT_FOUND"


def test_a_fail_fault_fails_the_report_with_an_internal_error(fast_clock, inspector, destination):
    faults.set_fault("inspector2", "fail", "CreateFindingsReport", message="reporting is down")
    report_id = inspector.create_findings_report(reportFormat="JSON", s3Destination=destination)["reportId"]

    status = finished(lambda: inspector.get_findings_report_status(reportId=report_id))

    assert status["errorCode"] == "INTERNAL_ERROR" and "reporting is down" in status["errorMessage"]


def test_the_status_of_an_unknown_report_is_not_found(inspector):
    with pytest.raises(ClientError) as raised:
        inspector.get_findings_report_status(reportId=str(uuid.uuid4()))

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# ---- SBOM exports -------------------------------------------------------
def test_a_cyclonedx_sbom_lists_the_resources_packages(local_cloud, inspector, scanned_instance, destination):
    report_id = inspector.create_sbom_export(reportFormat="CYCLONEDX_1_4", s3Destination=destination,
                                             resourceFilterCriteria=by_resource(scanned_instance["instance"]))[
        "reportId"]

    export = finished(lambda: inspector.get_sbom_export(reportId=report_id))

    assert export["status"] == "SUCCEEDED" and export["format"] == "CYCLONEDX_1_4"
    key = f"inspector/reports/{report_id}/{scanned_instance['instance']}.json"
    sbom = json.loads(local_cloud.boto3_client("s3").get_object(Bucket=destination["bucketName"],
                                                                Key=key)["Body"].read())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.4"
    assert {(c["name"], c["version"]) for c in sbom["components"]} == {("openssl", "1.0.2k"), ("curl", "7.79.1")}
    assert {v["id"] for v in sbom["vulnerabilities"]} >= {"CVE-2023-0286", "CVE-2023-38545"}


def test_an_spdx_sbom_is_spdx_2_3(local_cloud, inspector, scanned_instance, destination):
    report_id = inspector.create_sbom_export(reportFormat="SPDX_2_3", s3Destination=destination,
                                             resourceFilterCriteria=by_resource(scanned_instance["instance"]))[
        "reportId"]

    finished(lambda: inspector.get_sbom_export(reportId=report_id))

    key = f"inspector/reports/{report_id}/{scanned_instance['instance']}.json"
    sbom = json.loads(local_cloud.boto3_client("s3").get_object(Bucket=destination["bucketName"],
                                                                Key=key)["Body"].read())
    assert sbom["spdxVersion"] == "SPDX-2.3" and {p["name"] for p in sbom["packages"]} == {"openssl", "curl"}


def test_an_unknown_sbom_export_is_not_found(inspector):
    with pytest.raises(ClientError) as raised:
        inspector.get_sbom_export(reportId=str(uuid.uuid4()))

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_seeds_and_a_report_in_progress_survive_a_restore(local_cloud, inspector, scanned_instance, destination):
    import pickle

    previous = clock.time_scale()
    clock.set_time_scale(0.002)
    # The job takes 1.5 s longer, so it is surely still running while the
    # state is saved and restored, even on a loaded machine.
    faults.set_fault("inspector2", "delay", "CreateFindingsReport", seconds=750)
    try:
        report_id = inspector.create_findings_report(reportFormat="JSON", s3Destination=destination,
                                                     filterCriteria=by_resource(scanned_instance["instance"]))[
            "reportId"]
        assert inspector.get_findings_report_status(reportId=report_id)["status"] == "IN_PROGRESS"
        models.set_state(pickle.loads(pickle.dumps(models.get_state())))  # what a restart does

        final = finished(lambda: inspector.get_findings_report_status(reportId=report_id))
        assert final["status"] == "SUCCEEDED", final
        assert len(inspector.list_findings(filterCriteria=by_resource(scanned_instance["instance"]))["findings"]) == 3
    finally:
        faults.clear("inspector2")
        clock.set_time_scale(previous)
