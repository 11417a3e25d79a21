"""A restart loses nothing (local/persistence.py): state written on stop by
the real CLI process is back after the next start, and what could not
survive (a running execution) says so instead of vanishing."""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass

import pytest

from local.persistence import STOPPED_CAUSE

pytestmark = pytest.mark.e2e

ROLE_ARN = "arn:aws:iam::123456789012:role/c1-persistence-role"
LONG_WAIT = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1_000_000, "End": True}}}
MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}


@dataclass(frozen=True)
class Saved:
    queue_url: str
    image_id: str
    secret_arn: str
    running_execution: str
    finished_execution: str
    key_id: str
    ciphertext: bytes


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'echo': event}\n")
    return buffer.getvalue()


def _wait_for(sfn, execution_arn: str, status: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while sfn.describe_execution(executionArn=execution_arn)["status"] != status:
        assert time.monotonic() < deadline, f"{execution_arn} never reached {status}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """Make state of every kind, stop (saving), start again; yield the
    restarted cloud and what was made."""
    from tests.local.conftest import LocalCloudProcess, free_port

    cloud = LocalCloudProcess(port=free_port(), state_dir=tmp_path_factory.mktemp("persistence") / "state")
    assert cloud.run("start").returncode == 0

    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(TableName="c1-records", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.put_item(TableName="c1-records", Item={"id": {"S": "lc-1"}, "status": {"S": "IN_PROGRESS"}})
    queue_url = cloud.client("sqs").create_queue(QueueName="c1-results")["QueueUrl"]
    cloud.client("sqs").send_message(QueueUrl=queue_url, MessageBody="result of lc-1")
    cloud.client("s3").create_bucket(Bucket="c1-persisted")
    cloud.client("s3").put_object(Bucket="c1-persisted", Key="reports/lc-1.json", Body=b'{"findings": 0}')
    image_id = cloud.client("ec2").register_image(Name="c1-golden-ami", Architecture="x86_64",
                                                  RootDeviceName="/dev/xvda")["ImageId"]
    secret_arn = cloud.client("secretsmanager").create_secret(Name="c1/api-key", SecretString="s3cr3t")["ARN"]
    cloud.client("ssm").put_parameter(Name="/c1/stack-tag", Value="main", Type="String")
    key_id = cloud.client("kms").create_key(Description="c1 key")["KeyMetadata"]["KeyId"]
    ciphertext = cloud.client("kms").encrypt(KeyId=key_id, Plaintext=b"top secret")["CiphertextBlob"]
    role_arn = cloud.client("iam").create_role(RoleName="c1-echo-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    cloud.client("iam").attach_role_policy(RoleName="c1-echo-role", PolicyArn=MANAGED_POLICY_ARN)
    cloud.client("lambda").create_function(FunctionName="c1-echo", Runtime="python3.11", Handler="index.handler",
                                           Role=role_arn, Code={"ZipFile": _function_zip()})
    sfn = cloud.client("stepfunctions")
    waiting = sfn.create_state_machine(name="c1-waits", definition=json.dumps(LONG_WAIT), roleArn=ROLE_ARN)
    passing = sfn.create_state_machine(name="c1-passes", definition=json.dumps(PASS), roleArn=ROLE_ARN)
    running = sfn.start_execution(stateMachineArn=waiting["stateMachineArn"], name="never-ends")["executionArn"]
    finished = sfn.start_execution(stateMachineArn=passing["stateMachineArn"], name="ends")["executionArn"]
    _wait_for(sfn, finished, "SUCCEEDED")
    _wait_for(sfn, running, "RUNNING")

    assert cloud.run("stop").returncode == 0
    assert cloud.run("start").returncode == 0
    yield cloud, Saved(queue_url, image_id, secret_arn, running, finished, key_id, ciphertext)
    cloud.run("stop")


def test_a_dynamodb_item_survives_a_restart(restarted):
    cloud, _ = restarted

    item = cloud.client("dynamodb").get_item(TableName="c1-records", Key={"id": {"S": "lc-1"}})["Item"]

    assert item["status"] == {"S": "IN_PROGRESS"}


def test_an_sqs_message_survives_a_restart(restarted):
    cloud, saved = restarted

    messages = cloud.client("sqs").receive_message(QueueUrl=saved.queue_url, WaitTimeSeconds=1)["Messages"]

    assert [message["Body"] for message in messages] == ["result of lc-1"]


def test_an_s3_object_survives_a_restart(restarted):
    cloud, _ = restarted

    body = cloud.client("s3").get_object(Bucket="c1-persisted", Key="reports/lc-1.json")["Body"].read()

    assert body == b'{"findings": 0}'


def test_an_ec2_image_survives_a_restart(restarted):
    cloud, saved = restarted

    [image] = cloud.client("ec2").describe_images(ImageIds=[saved.image_id])["Images"]

    assert image["Name"] == "c1-golden-ami"


def test_a_secret_survives_a_restart(restarted):
    cloud, saved = restarted

    value = cloud.client("secretsmanager").get_secret_value(SecretId=saved.secret_arn)["SecretString"]

    assert value == "s3cr3t"


def test_an_ssm_parameter_survives_a_restart(restarted):
    cloud, _ = restarted

    assert cloud.client("ssm").get_parameter(Name="/c1/stack-tag")["Parameter"]["Value"] == "main"


def test_a_kms_key_still_decrypts_what_it_encrypted_before_the_restart(restarted):
    cloud, saved = restarted

    plaintext = cloud.client("kms").decrypt(CiphertextBlob=saved.ciphertext, KeyId=saved.key_id)["Plaintext"]

    assert plaintext == b"top secret"


def test_a_lambda_function_survives_a_restart(restarted):
    cloud, _ = restarted

    configuration = cloud.client("lambda").get_function(FunctionName="c1-echo")["Configuration"]

    assert configuration["Handler"] == "index.handler"


def test_a_role_keeps_its_aws_managed_policy_after_a_restart(restarted):
    cloud, _ = restarted
    iam = cloud.client("iam")

    attached = iam.list_attached_role_policies(RoleName="c1-echo-role")["AttachedPolicies"]
    policy = iam.get_policy(PolicyArn=MANAGED_POLICY_ARN)["Policy"]

    assert [p["PolicyArn"] for p in attached] == [MANAGED_POLICY_ARN]
    assert policy["AttachmentCount"] == 1


def test_a_finished_execution_keeps_its_result_and_history(restarted):
    cloud, saved = restarted
    sfn = cloud.client("stepfunctions")

    description = sfn.describe_execution(executionArn=saved.finished_execution)
    history = sfn.get_execution_history(executionArn=saved.finished_execution)["events"]

    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"]) == {"ok": True}
    assert history[0]["type"] == "ExecutionStarted"
    assert history[-1]["type"] == "ExecutionSucceeded"


def test_an_execution_running_at_stop_reads_failed_after_restart(restarted):
    cloud, saved = restarted
    sfn = cloud.client("stepfunctions")

    description = sfn.describe_execution(executionArn=saved.running_execution)
    history = sfn.get_execution_history(executionArn=saved.running_execution)["events"]

    assert description["status"] == "FAILED"
    assert description["error"] == "States.Runtime"
    assert description["cause"] == STOPPED_CAUSE
    assert "stopDate" in description
    assert history[-1]["type"] == "ExecutionFailed"


def test_a_state_machine_still_runs_after_a_restart(restarted):
    cloud, _ = restarted
    sfn = cloud.client("stepfunctions")
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "c1-passes"]

    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="after-restart")

    _wait_for(sfn, execution["executionArn"], "SUCCEEDED")


def test_the_state_is_saved_periodically_while_running(tmp_path):
    from tests.local.conftest import LocalCloudProcess, free_port

    cloud = LocalCloudProcess(port=free_port(), state_dir=tmp_path / "state", autosave_seconds=0.5)
    assert cloud.run("start").returncode == 0
    try:
        cloud.client("sqs").create_queue(QueueName="c1-autosaved")
        deadline = time.monotonic() + 10
        while b"c1-autosaved" not in _read(cloud.state_dir / "state.pickle"):
            assert time.monotonic() < deadline, "the queue never reached the state file"
            time.sleep(0.2)
    finally:
        cloud.run("stop")


def _read(path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
