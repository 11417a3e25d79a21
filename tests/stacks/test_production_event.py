"""The approval state machine (MARK_FOR_PRODUCTION_CREATE / _PATCH), its channel table and IAM, as synthesized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.stacks.helpers import as_list, definition_of, logical_id


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def resources(templates) -> dict[str, dict[str, Any]]:
    return templates["AmiLifecycle"].to_json()["Resources"]


@pytest.fixture(scope="module")
def event(stack):
    return stack.events.by_event("MARK_FOR_PRODUCTION_CREATE")


@pytest.fixture(scope="module")
def states(stack, resources, event) -> dict[str, Any]:
    return definition_of(stack, resources, event)["States"]


def statements(stack, resources, function) -> list[dict[str, Any]]:
    ref = {"Ref": logical_id(stack, function.role)}
    return [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy" and ref in r["Properties"]["Roles"]
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> set[str]:
    return set(as_list(statement["Action"]))


def test_one_state_machine_serves_both_approvals(stack, event):
    assert stack.events.by_event("MARK_FOR_PRODUCTION_PATCH") is event


def test_the_backup_is_polled_with_a_slow_wait_loop_that_ends_on_completion_or_failure(states):
    assert states["Back the AMI up to S3"]["Next"] == "Let EC2 store the AMI"
    assert states["Let EC2 store the AMI"]["Seconds"] >= 30
    assert states["Check the AMI backup"]["Next"] == "Did the backup end?"
    choice = states["Did the backup end?"]
    routes = {rule["Variable"]: rule["Next"] for rule in choice["Choices"]}
    assert routes == {"$.backup.done": "Publish the AMI to the production channel",
                      "$.backup.failed": "AMI backup failed"}
    assert choice["Default"] == "Let EC2 store the AMI"


def test_a_failed_backup_reports_ec2s_reason_as_the_event_error(states):
    failed = states["AMI backup failed"]
    assert failed["Parameters"] == {"Error": "AmiBackupFailed", "Cause.$": "$.backup.reason"}
    assert failed["ResultPath"] == "$.error" and failed["Next"] == "Report the event error"


def test_the_result_goes_to_the_receiver_of_its_phase(states):
    assert states["Publish the AMI to the production channel"]["Next"] == "Which receiver records the result?"
    choice = states["Which receiver records the result?"]
    assert choice["Choices"][0]["StringEquals"] == "ami-patch"
    assert choice["Choices"][0]["Next"] == "Send the result to the patch receiver"
    assert choice["Default"] == "Send the result to the creation receiver"


def test_every_lambda_step_reports_its_errors(states):
    for name in ("Back the AMI up to S3", "Check the AMI backup", "Publish the AMI to the production channel"):
        assert [c["Next"] for c in states[name]["Catch"]] == ["Report the event error"]


def test_the_channel_function_may_write_only_the_stack_tags_channel_parameters(stack, resources, event, settings):
    ssm = [s for s in statements(stack, resources, event.functions["ProductionPublishFn"])
           if any(a.startswith("ssm:") for a in actions(s))]
    assert len(ssm) == 1
    assert actions(ssm[0]) == {"ssm:PutParameter", "ssm:DeleteParameter"}
    resource = json.dumps(ssm[0]["Resource"])
    assert f":parameter/ami-lifecycle/{settings.stack_tag}/*" in resource


def test_only_the_backup_function_may_store_images(stack, resources, event):
    backup = statements(stack, resources, event.functions["BackupStartFn"])
    assert any(actions(s) == {"ec2:CreateStoreImageTask"} for s in backup)
    bucket = logical_id(stack, stack.buckets.backups)
    writes = [s for s in backup if "s3:PutObject" in actions(s)]
    assert len(writes) == 1 and bucket in json.dumps(writes[0]["Resource"])
    others = [s for name, fn in event.functions.items() if name != "BackupStartFn"
              for s in statements(stack, resources, fn)]
    assert not any("ec2:CreateStoreImageTask" in actions(s) for s in others)


def test_the_channel_table_is_keyed_by_channel_and_encrypted(stack, resources, event):
    table = resources[logical_id(stack, event.channels)]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "channel", "KeyType": "HASH"}]
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_api_may_revoke_only_through_the_channel_its_parameters_and_image_tags(stack, resources, event,
                                                                                 settings):
    api = statements(stack, resources, stack.api.function)
    ssm = [s for s in api if any(a.startswith("ssm:") for a in actions(s))]
    assert len(ssm) == 1 and f":parameter/ami-lifecycle/{settings.stack_tag}/*" in json.dumps(ssm[0]["Resource"])
    images = [s for s in api if "ec2:EnableImageDeprecation" in actions(s)]
    assert len(images) == 1 and actions(images[0]) == {"ec2:CreateTags", "ec2:EnableImageDeprecation"}
    assert ":image/*" in json.dumps(images[0]["Resource"])
    channel_arn = {"Fn::GetAtt": [logical_id(stack, event.channels), "Arn"]}
    table = {a for s in api if channel_arn in as_list(s["Resource"]) for a in actions(s)}
    assert table == {"dynamodb:GetItem", "dynamodb:PutItem"}
