"""Simulated instances run their user data: a script that answers a real
Step Functions task resumes it; the smoke-test user data runs the real
suite against the instance's root filesystem; faults keep the script from
running or make a smoke test fail; terminating the instance kills it."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import faults
from local.services.ec2 import instances
from orchestrator.domain.user_data import smoke_test_user_data
from tests.local.polling import eventually
from tests.local.test_fidelity_stepfunctions import callback_task, finished, start, state_machine, task_token

SUITE = Path(__file__).resolve().parents[2] / "stacks" / "amilifecycle" / "smoke_tests"
LOG_GROUP = "/amilifecycle/smoketests"


@pytest.fixture(scope="module")
def ec2(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("ec2")


@pytest.fixture(scope="module")
def sfn(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("stepfunctions")


@pytest.fixture(scope="module")
def sqs(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("sqs")


@pytest.fixture(scope="module")
def ami(ec2: Any) -> str:
    return ec2.register_image(Name=f"al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64-{uuid.uuid4().hex[:6]}",
                              RootDeviceName="/dev/xvda")["ImageId"]


@pytest.fixture(scope="module")
def suite_object(local_cloud: Any) -> tuple[str, str]:
    """The smoke-test suite folder, zipped as a CDK asset, in the local S3."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(SUITE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(SUITE).as_posix())
    bucket = f"smoke-suite-{uuid.uuid4().hex[:8]}"
    s3 = local_cloud.boto3_client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="assets/smoke-tests.zip", Body=buffer.getvalue())
    return bucket, "assets/smoke-tests.zip"


def waiting_execution(sfn: Any, sqs: Any) -> tuple[str, str]:
    """A real execution waiting on a callback task, and its task token."""
    queue = sqs.create_queue(QueueName=f"instance-tokens-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    definition = {"StartAt": "Wait", "States": {"Wait": {**callback_task(queue), "End": True}}}
    execution = start(sfn, state_machine(sfn, definition))
    return execution, task_token(sqs, queue)


def launch(ec2: Any, ami: str, user_data: str) -> str:
    return ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             UserData=user_data)["Instances"][0]["InstanceId"]


def user_data_log(local_cloud: Any, instance_id: str) -> str:
    path = local_cloud.state_dir / "instances" / instance_id / "user-data.log"
    return path.read_text() if path.exists() else ""


def smoke_user_data(suite_object: tuple[str, str], token: str, stream: str, region: str) -> str:
    return smoke_test_user_data(suite_bucket=suite_object[0], suite_key=suite_object[1], task_token=token,
                                log_group=LOG_GROUP, log_stream=stream, region=region)


def test_a_user_data_script_answering_the_task_resumes_the_execution(local_cloud, ec2, sfn, sqs, ami):
    execution, token = waiting_execution(sfn, sqs)
    script = f"""#!/bin/bash
set -euo pipefail
python3 - <<'PY'
import boto3
boto3.client("stepfunctions").send_task_success(taskToken={token!r}, output='{{"booted": true}}')
PY
"""
    launch(ec2, ami, script)

    description = finished(sfn, execution)
    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"]) == {"booted": True}


def test_the_script_sees_the_instance_environment(local_cloud, ec2, ami):
    instance_id = launch(ec2, ami, "#!/bin/bash\n"
                                   'echo "root=$SMOKE_TEST_ROOT home=$HOME endpoint=$AWS_ENDPOINT_URL '
                                   'region=$AWS_DEFAULT_REGION"\npython3 -c "import boto3, pytest; print(\'ok\')"\n')

    text = eventually(lambda: (lambda t: t if "exit status" in t else None)(user_data_log(local_cloud, instance_id)),
                      what="the end of the user data")
    scratch = local_cloud.state_dir / "instances" / instance_id
    assert f"root={scratch / 'root'} home={scratch} endpoint={local_cloud.endpoint_url} region={local_cloud.region}" \
        in text
    assert "\nok\n" in text
    assert (scratch / "root" / "etc" / "os-release").read_text().count('VERSION_ID="2023"') == 1


def test_the_smoke_test_user_data_passes_on_a_compliant_instance(local_cloud, ec2, sfn, sqs, ami, suite_object):
    execution, token = waiting_execution(sfn, sqs)
    launch(ec2, ami, smoke_user_data(suite_object, token, "lc-pass/smoketests.log", local_cloud.region))

    description = finished(sfn, execution, timeout=90)

    assert description["status"] == "SUCCEEDED", description
    output = json.loads(description["output"])
    assert output["smoke_tests_status"] == "PASSED"
    assert output["failed"] == 0 and output["total"] == output["passed"] > 10
    logs = local_cloud.boto3_client("logs")
    messages = [e["message"] for e in logs.get_log_events(logGroupName=LOG_GROUP, logStreamName="lc-pass/smoketests.log",
                                                          startFromHead=True)["events"]]
    assert any(" passed in " in message for message in messages)


def test_the_smoke_test_fail_fault_fails_the_task_naming_the_failing_test(local_cloud, ec2, sfn, sqs, ami,
                                                                          suite_object):
    faults.set_fault("ec2", "smoke-test-fail")
    execution, token = waiting_execution(sfn, sqs)
    launch(ec2, ami, smoke_user_data(suite_object, token, "lc-fail/smoketests.log", local_cloud.region))

    description = finished(sfn, execution, timeout=90)

    assert description["status"] == "FAILED"
    assert description["error"] == "SmokeTestsFailed"
    cause = json.loads(description["cause"])
    assert cause["smoke_tests_status"] == "FAILED"
    assert cause["failed_tests"] == ["test_hardening.py::test_sshd_setting[PermitRootLogin-no]"]


def test_a_missing_suite_object_fails_the_task_with_smoke_tests_error(local_cloud, ec2, sfn, sqs, ami, suite_object):
    execution, token = waiting_execution(sfn, sqs)
    launch(ec2, ami, smoke_user_data((suite_object[0], "assets/missing.zip"), token, "lc-missing/s.log",
                                     local_cloud.region))

    description = finished(sfn, execution, timeout=90)

    assert (description["status"], description["error"]) == ("FAILED", "SmokeTestsError")
    assert "download the suite" in description["cause"]


def test_the_no_callback_fault_leaves_the_user_data_unrun(local_cloud, ec2, ami):
    faults.set_fault("ec2", "instance-no-callback")

    instance_id = launch(ec2, ami, "#!/bin/bash\necho ran\n")

    assert instances.current().runs[instance_id].state == "not-run"
    assert not (local_cloud.state_dir / "instances" / instance_id).exists()


def test_terminating_the_instance_kills_its_running_script(local_cloud, ec2, ami, tmp_path):
    pid_file = tmp_path / "script.pid"
    instance_id = launch(ec2, ami, f"#!/bin/bash\necho $$ > {pid_file}\nsleep 600\n")
    pid = int(eventually(lambda: pid_file.exists() and pid_file.read_text().strip(), what="the script's start"))

    ec2.terminate_instances(InstanceIds=[instance_id])

    eventually(lambda: not _alive(pid), what="the end of the script")
    assert instances.current().runs[instance_id].state == "killed"
    assert "user data killed" in eventually(lambda: user_data_log(local_cloud, instance_id), what="the log")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


def test_a_run_instances_fault_fails_the_call(local_cloud, ec2, ami):
    faults.set_fault("ec2", "fail", operation="RunInstances", message="capacity exhausted")
    strict = boto3.client("ec2", **{**local_cloud.client_kwargs(), "config": Config(retries={"total_max_attempts": 1})})

    with pytest.raises(ClientError) as raised:
        strict.run_instances(ImageId=ami, MinCount=1, MaxCount=1)

    assert raised.value.response["Error"]["Code"] == "InternalFailure"
    assert "capacity exhausted" in raised.value.response["Error"]["Message"]


def test_a_service_wide_ec2_fault_leaves_moto_actions_alone(local_cloud, ec2, ami):
    faults.set_fault("ec2", "fail")

    assert ec2.describe_images(ImageIds=[ami])["Images"][0]["ImageId"] == ami


def test_instance_faults_are_set_over_the_admin_route_beside_other_ec2_faults(local_cloud):
    import requests

    url = f"{local_cloud.endpoint_url}/_local/faults"
    assert requests.post(url, json={"service": "ec2", "kind": "fail"}, timeout=10).status_code == 201
    answer = requests.post(url, json={"service": "ec2", "kind": "smoke-test-fail"}, timeout=10)

    assert answer.status_code == 201, answer.text
    kinds = sorted(f["kind"] for f in requests.get(url, timeout=10).json()["faults"])
    assert kinds == ["fail", "smoke-test-fail"]


def test_instance_fault_kinds_belong_to_ec2_only(local_cloud):
    import requests

    answer = requests.post(f"{local_cloud.endpoint_url}/_local/faults",
                           json={"service": "imagebuilder", "kind": "instance-no-callback"}, timeout=10)

    assert answer.status_code == 400
    assert "expected one of fail, delay, hang" in answer.json()["error"]
