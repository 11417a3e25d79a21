"""GetExecutionHistory pages and orders as Step Functions does:
``reverseOrder``, ``maxResults`` and ``nextToken`` (botocore's paginator
over them), ``includeExecutionData``, and the errors for bad values."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.local.polling import eventually

ROLE_ARN = "arn:aws:iam::123456789012:role/history-state-machine"
PASS_STATES = 6


@pytest.fixture(scope="module")
def sfn(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("stepfunctions")


@pytest.fixture(scope="module")
def execution_arn(sfn: Any) -> str:
    """A finished execution of a chain of Pass states (a history of
    2 + 2 x PASS_STATES events)."""
    names = [f"Step {index}" for index in range(PASS_STATES)]
    states = {name: {"Type": "Pass", "Result": {"step": index}, "ResultPath": f"$.step{index}",
                     **({"Next": names[index + 1]} if index + 1 < len(names) else {"End": True})}
              for index, name in enumerate(names)}
    machine = sfn.create_state_machine(name=f"history-{uuid.uuid4().hex[:12]}", roleArn=ROLE_ARN,
                                       definition=json.dumps({"StartAt": names[0], "States": states}))
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"run-{uuid.uuid4().hex[:12]}",
                              input=json.dumps({"secret": "input value"}))["executionArn"]
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED", what="the execution")
    return arn


def ids(events: list[dict[str, Any]]) -> list[int]:
    return [event["id"] for event in events]


def test_the_whole_history_is_oldest_first_by_default(sfn, execution_arn):
    answer = sfn.get_execution_history(executionArn=execution_arn)

    assert ids(answer["events"]) == list(range(1, 2 * PASS_STATES + 3))
    assert "nextToken" not in answer


def test_reverse_order_lists_the_newest_event_first(sfn, execution_arn):
    events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]

    assert ids(events) == list(range(2 * PASS_STATES + 2, 0, -1))
    assert events[0]["type"] == "ExecutionSucceeded"


def test_max_results_pages_and_next_token_continues(sfn, execution_arn):
    first = sfn.get_execution_history(executionArn=execution_arn, maxResults=5)
    second = sfn.get_execution_history(executionArn=execution_arn, maxResults=5, nextToken=first["nextToken"])

    assert ids(first["events"]) == [1, 2, 3, 4, 5]
    assert ids(second["events"]) == [6, 7, 8, 9, 10]


def test_the_paginator_walks_every_page_in_either_order(sfn, execution_arn):
    paginator = sfn.get_paginator("get_execution_history")

    forward = list(paginator.paginate(executionArn=execution_arn, PaginationConfig={"PageSize": 4}))
    backward = list(paginator.paginate(executionArn=execution_arn, reverseOrder=True,
                                       PaginationConfig={"PageSize": 4}))

    everything = list(range(1, 2 * PASS_STATES + 3))
    assert [len(page["events"]) for page in forward] == [4, 4, 4, 2]
    assert [event_id for page in forward for event_id in ids(page["events"])] == everything
    assert [event_id for page in backward for event_id in ids(page["events"])] == everything[::-1]
    assert "nextToken" not in forward[-1]


def test_the_paginator_honours_max_items(sfn, execution_arn):
    result = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, reverseOrder=True, PaginationConfig={"MaxItems": 3, "PageSize": 2}
    ).build_full_result()

    assert ids(result["events"]) == [2 * PASS_STATES + 2, 2 * PASS_STATES + 1, 2 * PASS_STATES]


def test_without_execution_data_the_events_carry_no_input_or_output(sfn, execution_arn):
    events = sfn.get_execution_history(executionArn=execution_arn, includeExecutionData=False)["events"]
    with_data = sfn.get_execution_history(executionArn=execution_arn)["events"]

    assert "input value" in json.dumps(with_data, default=str)
    assert "input value" not in json.dumps(events, default=str)
    assert ids(events) == ids(with_data)


def test_a_token_that_was_not_handed_out_is_refused(sfn, execution_arn):
    with pytest.raises(ClientError) as error:
        sfn.get_execution_history(executionArn=execution_arn, nextToken="not-a-token")

    assert error.value.response["Error"]["Code"] == "InvalidToken"


def test_a_token_is_refused_with_the_other_order(sfn, execution_arn):
    token = sfn.get_execution_history(executionArn=execution_arn, maxResults=2)["nextToken"]

    with pytest.raises(ClientError) as error:
        sfn.get_execution_history(executionArn=execution_arn, maxResults=2, reverseOrder=True, nextToken=token)

    assert error.value.response["Error"]["Code"] == "InvalidToken"
    assert "reverseOrder" in error.value.response["Error"]["Message"]


def test_a_page_size_above_1000_is_a_validation_error(sfn, execution_arn):
    with pytest.raises(ClientError) as error:
        sfn.get_execution_history(executionArn=execution_arn, maxResults=1001)

    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "maxResults" in error.value.response["Error"]["Message"]
