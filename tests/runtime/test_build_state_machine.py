"""The synthesized BUILD_AMI state machine, executed by moto's Step Functions interpreter.

The definition is taken from the AmiLifecycle template as ``cdk synth``
produces it; only its references (function ARNs, queue URLs, partition)
are resolved to the mocked account's resources. Lambda tasks run the real
handlers in-process; Image Builder is the in-memory stand-in, whose
notifications the test delivers to the listener as SNS would; the receiver
queues are real (moto) queues that the test hands to the receiver handlers
as Lambda's SQS event source would.
"""

from __future__ import annotations

import copy
import importlib
import json
import time
import traceback
import uuid
from typing import Any, Callable, Iterator, Mapping

import boto3
import pytest

from orchestrator.adapters.build_waits import BuildWaits
from orchestrator.adapters.image_builder import ImageBuilder
from orchestrator.adapters.state_repository import StateRepository
from orchestrator.adapters.workflows import Workflows
from orchestrator import bootstrap
from orchestrator.handlers import build, receivers
from tests.runtime.conftest import ACCOUNT, PIPELINE_ARN, REGION, STACK_TAG, FakeContext
from tests.runtime.conftest_build import (BuildCloud, FakeImageBuilder, NotificationInbox, build_cloud,  # noqa: F401
                                          built_ami, inbox, lifecycle_building, register_ami, sns_event, sqs_event,
                                          sqs_record)

BUILD_ONLY = [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": False},
              {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
              {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}]
WAIT_STATE = "Wait for the image build notification"
DEADLINE_SECONDS = 60


# --------------------------------------------------------------- the definition

def _resolve(value: Any, references: Mapping[str, str]) -> str:
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return references[value["Ref"]]
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return references[f"{logical_id}.{attribute}"]
    raise AssertionError(f"unexpected intrinsic in the definition: {value}")


def build_machine(template: Mapping[str, Any]) -> dict[str, Any]:
    (machine,) = [r for logical_id, r in template["Resources"].items()
                  if r["Type"] == "AWS::StepFunctions::StateMachine" and "LifeCycleAmiBuild" in logical_id]
    return machine


def build_definition(template: Mapping[str, Any], references: Mapping[str, str]) -> dict[str, Any]:
    machine = build_machine(template)
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(_resolve(part, references) for part in parts))


def referenced_ids(template: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Ref" in value:
                found.add(value["Ref"])
            if "Fn::GetAtt" in value:
                found.add(value["Fn::GetAtt"][0])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(build_machine(template)["Properties"]["DefinitionString"])
    return found


# ------------------------------------------------------------ in-process Lambda

def handler_of(setting: str) -> Callable[[Any, Any], Any]:
    module, _, function = setting.rpartition(".")
    return getattr(importlib.import_module(module), function)


@pytest.fixture
def in_process_lambda(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[Any, Any], Any]]:
    """moto's Lambda runs the named Python handler in-process, with Lambda's error contract."""
    from moto.awslambda.models import LambdaFunction

    handlers: dict[str, Callable[[Any, Any], Any]] = {}

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        try:
            result = handlers[self.function_name](event, FakeContext())
        except Exception as error:  # noqa: BLE001 - reported as Lambda reports an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": str(error), "errorType": type(error).__name__,
                               "stackTrace": traceback.format_tb(error.__traceback__)}).encode()
        return json.dumps(result).encode()

    monkeypatch.setattr(LambdaFunction, "invoke", invoke)
    return handlers


@pytest.fixture
def executing_step_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config["stepfunctions"], "execute_state_machine", True)


# ------------------------------------------------------------------ deployment

class BuildMachine:
    """The deployed build state machine and what drives it in a test."""

    def __init__(self, build_cloud: BuildCloud, images: FakeImageBuilder, state_machine_arn: str) -> None:
        self.build_cloud = build_cloud
        self.images = images
        self.arn = state_machine_arn
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.waits = BuildWaits(build_cloud.build_waits_table)

    def start(self, lifecycle: Mapping[str, Any], execution_name: str) -> str:
        return self.sfn.start_execution(stateMachineArn=self.arn, name=execution_name, input=json.dumps({
            "lifecycle_id": lifecycle["lifecycle_id"], "stack_tag": STACK_TAG,
            "imagebuilder_pipeline_arn": PIPELINE_ARN, "product_ver": lifecycle["product_ver"],
            "product_name": lifecycle["product_name"], "commit_ref": lifecycle["commit_ref"]}))["executionArn"]

    def until(self, condition: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"gave up waiting for {what}")

    def registered_token(self, image_arn: str, *, other_than: str | None = None) -> str:
        def token() -> str | None:
            wait = self.waits.get(image_arn)
            return wait.task_token if wait and wait.task_token != other_than else None
        return self.until(token, f"a task token waiting for {image_arn}")

    def image_arn(self) -> str:
        return self.until(lambda: next(iter(self.images.images), None), "the image build to start")

    def notify(self, image: Mapping[str, Any]) -> None:
        build.image_build_notification(sns_event(json.dumps(image), topic_arn="arn:aws:sns:us-east-1:123456789012:ib"),
                                       FakeContext())

    def deliver(self, queue_url: str, receiver: Callable[[Any, Any], Any]) -> dict[str, Any]:
        """Hand the next message of ``queue_url`` to ``receiver`` as one SQS batch; returns the body."""
        messages = self.until(lambda: self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)
                              .get("Messages"), f"a message on {queue_url}")
        answer = receiver(sqs_event(sqs_record(messages[0]["Body"], message_id=messages[0]["MessageId"])),
                          FakeContext())
        assert answer == {"batchItemFailures": []}
        self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
        return json.loads(messages[0]["Body"])

    def finished(self, execution_arn: str) -> dict[str, Any]:
        return self.until(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
            self.sfn.describe_execution(executionArn=execution_arn)), f"{execution_arn} to finish")

    def states_entered(self, execution_arn: str) -> list[str]:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def deploy(template: Mapping[str, Any], build_cloud: BuildCloud, handlers: dict[str, Any],
           *, wait_timeout_seconds: int | None = None) -> str:
    """Create the referenced functions and queues in the mocked account; returns the state machine ARN."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"role-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    awslambda = boto3.client("lambda", region_name=REGION)
    references = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::URLSuffix": "amazonaws.com"}
    for logical_id in referenced_ids(template):
        resource = template["Resources"].get(logical_id)
        if resource is None:
            continue
        if resource["Type"] == "AWS::Lambda::Function":
            arn = awslambda.create_function(FunctionName=logical_id, Runtime="python3.12", Role=role,
                                            Handler=resource["Properties"]["Handler"],
                                            Code={"ZipFile": b"in-process"})["FunctionArn"]
            handlers[logical_id] = handler_of(resource["Properties"]["Handler"])
            references[f"{logical_id}.Arn"] = arn
        elif resource["Type"] == "AWS::SQS::Queue":
            url = (build_cloud.creation_queue_url if "Creation" in logical_id
                   else build_cloud.error_queue_url if "Error" in logical_id else None)
            assert url is not None, f"the build state machine uses an unexpected queue {logical_id}"
            references[logical_id] = url
    definition = build_definition(template, references)
    if wait_timeout_seconds is not None:
        definition["States"][WAIT_STATE]["TimeoutSeconds"] = wait_timeout_seconds
    return boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name=f"build-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


@pytest.fixture
def lifecycle_template(templates: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(templates["AmiLifecycle"].to_json())


@pytest.fixture
def wired(build_cloud: BuildCloud, executing_step_functions: None, in_process_lambda: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeImageBuilder]:
    """Handlers bound to the mocked account; Image Builder replaced by the stand-in."""
    images = FakeImageBuilder()
    bootstrap.install(bootstrap.bootstrap(build_cloud.config(), image_builder=ImageBuilder(images)))
    yield images
    bootstrap.reset()


@pytest.fixture
def machine(lifecycle_template: dict[str, Any], build_cloud: BuildCloud, wired: FakeImageBuilder,
            in_process_lambda: dict[str, Any]) -> BuildMachine:
    return BuildMachine(build_cloud, wired, deploy(lifecycle_template, build_cloud, in_process_lambda))


def new_lifecycle(build_cloud: BuildCloud) -> tuple[dict[str, Any], str]:
    """A lifecycle whose build is in progress, and the name its execution will get."""
    return lifecycle_building(build_cloud.cloud, events=BUILD_ONLY), f"exec-{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------- tests

def test_a_build_runs_from_pipeline_start_to_a_recorded_versioned_ami(machine: BuildMachine,
                                                                      build_cloud: BuildCloud) -> None:
    lifecycle, name = new_lifecycle(build_cloud)
    execution = machine.start(lifecycle, name)
    image_arn = machine.image_arn()
    machine.registered_token(image_arn)
    ami_id = register_ami()
    machine.notify(machine.images.finish(image_arn, "AVAILABLE", amis=[built_ami(ami_id)]))
    message = machine.deliver(build_cloud.creation_queue_url, receivers.creation_receiver)
    assert message["task_details"]["value"]["name"] == "BUILD_AMI" and "task_token" in message
    assert machine.finished(execution)["status"] == "SUCCEEDED"
    record = StateRepository(build_cloud.cloud.state_table).get(lifecycle["lifecycle_id"])
    (built,) = record["outputs_ami_creation"]["events"]
    assert built["properties"]["ami_details"][0] == {**built_ami(ami_id), "ami_semver": "1.0.0"}
    assert machine.states_entered(execution) == [
        "Start EC2 Image Builder pipeline execution", WAIT_STATE, "Get AMI details",
        "Send the result to the creation receiver", "Event success"]


def test_an_image_build_failure_ends_the_build_as_error_with_the_cause_and_a_notification(
        machine: BuildMachine, build_cloud: BuildCloud, inbox: NotificationInbox) -> None:
    lifecycle, name = new_lifecycle(build_cloud)
    execution = machine.start(lifecycle, name)
    image_arn = machine.image_arn()
    machine.registered_token(image_arn)
    machine.notify(machine.images.finish(image_arn, "FAILED", reason="Component build failed: yum exited with 1"))
    described = machine.finished(execution)
    assert (described["status"], described["error"]) == ("FAILED", "AmiBuildFailed")
    report = machine.deliver(build_cloud.error_queue_url, receivers.error_receiver)
    assert report["error"] == {"Error": "ImageBuildFailed", "Cause": "Component build failed: yum exited with 1"}
    assert report["execution_arn"] == execution
    current = StateRepository(build_cloud.cloud.state_table).get(lifecycle["lifecycle_id"])["event_in_progress"]
    assert (current["name"], current["status"]) == ("BUILD_AMI", "ERROR")
    assert current["error_message"] == "ImageBuildFailed: Component build failed: yum exited with 1"
    assert "ERROR in AMI_ERROR_RECEIVER event for main" in inbox.subjects()
    assert machine.states_entered(execution)[-4:] == [
        "Did the image build end?", "Image build failed", "Report the event error", "Event failure"]


def test_a_failing_step_is_reported_to_the_error_receiver(machine: BuildMachine, build_cloud: BuildCloud) -> None:
    lifecycle, name = new_lifecycle(build_cloud)
    execution = machine.start(lifecycle, name)
    image_arn = machine.image_arn()
    machine.registered_token(image_arn)
    machine.notify(machine.images.finish(image_arn, "AVAILABLE", amis=[]))  # AVAILABLE, yet no AMI
    assert machine.finished(execution)["status"] == "FAILED"
    report = machine.deliver(build_cloud.error_queue_url, receivers.error_receiver)
    assert report["error"]["Error"] == "ValidationError"
    current = StateRepository(build_cloud.cloud.state_table).get(lifecycle["lifecycle_id"])["event_in_progress"]
    assert current["status"] == "ERROR" and "lists no AMI" in current["error_message"]


def test_a_lost_notification_is_caught_by_the_safety_poll(lifecycle_template: dict[str, Any],
                                                          build_cloud: BuildCloud, wired: FakeImageBuilder,
                                                          in_process_lambda: dict[str, Any]) -> None:
    machine = BuildMachine(build_cloud, wired, deploy(lifecycle_template, build_cloud, in_process_lambda,
                                                      wait_timeout_seconds=1))
    lifecycle, name = new_lifecycle(build_cloud)
    execution = machine.start(lifecycle, name)
    image_arn = machine.image_arn()
    first = machine.registered_token(image_arn)
    # Still building at the first timeout: the poll sends the execution back to waiting, with a new token.
    machine.registered_token(image_arn, other_than=first)
    machine.images.finish(image_arn, "AVAILABLE", amis=[built_ami(register_ami())])  # no notification is sent
    machine.deliver(build_cloud.creation_queue_url, receivers.creation_receiver)
    assert machine.finished(execution)["status"] == "SUCCEEDED"
    entered = machine.states_entered(execution)
    assert entered.count("Check the image build") >= 2 and "Get AMI details" in entered
