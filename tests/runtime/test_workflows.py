"""Starting state machines with deterministic names and plain JSON inputs; callback answers."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from orchestrator.adapters.workflows import Workflows, execution_name
from orchestrator.domain.errors import Conflict
from orchestrator.domain.vocabulary import EventName

from .conftest import REGION

LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"


def test_an_execution_name_is_lifecycle_event_and_attempt():
    assert execution_name(LIFECYCLE_ID, EventName.BUILD_AMI, 1) == f"{LIFECYCLE_ID}-BUILD_AMI-1"


def test_the_longest_event_name_still_makes_a_valid_execution_name():
    name = execution_name(LIFECYCLE_ID, EventName.VULNERABILITY_SCANS_AMI_CREATE, 999)
    assert len(name) <= 80
    assert all(ch.isalnum() or ch in "-_" for ch in name)


def test_an_attempt_below_one_is_refused():
    with pytest.raises(ValueError):
        execution_name(LIFECYCLE_ID, EventName.BUILD_AMI, 0)


def test_an_execution_starts_with_its_name_and_a_plain_json_input(cloud):
    execution = Workflows().start(cloud.state_machine_arn, name=f"{LIFECYCLE_ID}-BUILD_AMI-1",
                                  execution_input={"lifecycle_id": LIFECYCLE_ID, "stack_tag": "main"})
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution.execution_arn)
    assert described["name"] == f"{LIFECYCLE_ID}-BUILD_AMI-1"
    assert json.loads(described["input"]) == {"lifecycle_id": LIFECYCLE_ID, "stack_tag": "main"}
    assert execution.start_date.tzinfo is not None


def test_a_name_already_used_is_a_conflict(cloud):
    workflows = Workflows()
    workflows.start(cloud.state_machine_arn, name="run-1", execution_input={"a": 1})
    with pytest.raises(Conflict):
        workflows.start(cloud.state_machine_arn, name="run-1", execution_input={"a": 2})


def test_a_callback_task_is_resumed_with_a_json_output(aws_credentials):
    client = boto3.client("stepfunctions", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_response("send_task_success", {}, {"taskToken": "token-1",
                                                     "output": json.dumps({"receiver_status": "COMPLETED"})})
        Workflows(stepfunctions=client).send_task_success("token-1", {"receiver_status": "COMPLETED"})
        stub.assert_no_pending_responses()


def test_a_callback_task_failure_is_cut_to_the_step_functions_limits(aws_credentials):
    client = boto3.client("stepfunctions", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_response("send_task_failure", {}, {"taskToken": "token-1", "error": "E" * 256,
                                                     "cause": "c" * 32768})
        Workflows(stepfunctions=client).send_task_failure("token-1", error="E" * 300, cause="c" * 40000)
        stub.assert_no_pending_responses()
