"""The QA_CERTIFICATION_REQUEST state machine, its VMDK export steps and their permissions, as synthesized."""

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
    return stack.events.by_event("QA_CERTIFICATION_REQUEST")


@pytest.fixture(scope="module")
def machine(stack, resources, event) -> dict[str, Any]:
    return definition_of(stack, resources, event)


def statements(stack, resources, function) -> list[dict[str, Any]]:
    ref = {"Ref": logical_id(stack, function.role)}
    return [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy" and ref in r["Properties"]["Roles"]
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def actions(found: list[dict[str, Any]]) -> set[str]:
    return {action for s in found for action in as_list(s["Action"])}


def test_the_export_waits_for_the_ami_then_exports_then_checks_with_adaptive_waits(machine):
    states = machine["States"]
    assert machine["StartAt"] == "Check the AMI to export"
    ready = states["Can the AMI be exported now?"]
    assert ready["Choices"] == [{"Variable": "$.image_check.ready", "BooleanEquals": True,
                                 "Next": "Export the AMI to VMDK"}]
    assert ready["Default"] == "Wait until the AMI can be exported"
    assert states["Wait until the AMI can be exported"]["SecondsPath"] == "$.image_check.wait_seconds"
    assert states["Export the AMI to VMDK"]["Next"] == "Wait for the export"
    assert states["Wait for the export"] == {"Type": "Wait", "SecondsPath": "$.export.wait_seconds",
                                             "Next": "Check the export"}
    # Four fifths of the event's timeout: a hung export is cancelled and reported before the execution times out.
    assert states["Check the export"]["Parameters"]["max_wait_seconds"] == 180 * 60 * 4 // 5
    assert states["Check the export"]["Parameters"]["checks.$"] == "$.export.checks"


def test_a_completed_export_notifies_a_deleted_one_reports_the_error_at_once(machine):
    states = machine["States"]
    outcome = states["Did the export end?"]
    assert [(c["Variable"], c["Next"]) for c in outcome["Choices"]] == [
        ("$.export.done", "Notify the QA team"), ("$.export.failed", "Export failed")]
    assert outcome["Default"] == "Wait for the export"
    assert states["Export failed"]["Parameters"] == {"Error": "VmdkExportFailed", "Cause.$": "$.export.failure"}
    assert states["Export failed"]["Next"] == "Report the event error"
    assert states["Notify the QA team"]["Next"] == "Send the result to the creation receiver"


def test_every_lambda_step_retries_lambdas_errors_and_reports_the_rest(machine):
    for name in ("Check the AMI to export", "Export the AMI to VMDK", "Check the export", "Notify the QA team"):
        state = machine["States"][name]
        assert state["Retry"][0]["ErrorEquals"][0] == "Lambda.ServiceException"
        assert [c["Next"] for c in state["Catch"]] == ["Report the event error"]


def test_the_export_passes_only_the_vmimport_role_and_exports_only_images(stack, resources, event, app_stacks):
    found = statements(stack, resources, event.export.start_export)
    (export,) = [s for s in found if s.get("Sid") == "ExportImages"]
    assert as_list(export["Action"]) == ["ec2:ExportImage"]
    (pass_role,) = [s for s in found if "iam:PassRole" in as_list(s["Action"])]
    assert "VmImportRole" in json.dumps(pass_role["Resource"]) and "*" not in json.dumps(pass_role["Resource"])
    (tags,) = [s for s in found if s.get("Sid") == "TagExportTasksAtCreation"]
    assert tags["Condition"] == {"StringEquals": {"ec2:CreateAction": "ExportImage"}}
    env = resources[logical_id(stack, event.export.start_export)]["Properties"]["Environment"]["Variables"]
    assert set(env) >= {"EXPORT_BUCKET_NAME", "VMIMPORT_ROLE_NAME"}


def test_only_the_export_steps_may_export_or_cancel(stack, resources):
    exporting = [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
                 and {"ec2:ExportImage", "ec2:CancelExportTask"} & actions(r["Properties"]["PolicyDocument"]["Statement"])]
    assert len(exporting) == 2  # the start and check steps


def test_the_notification_step_reads_exports_publishes_to_the_qa_topic_and_reads_the_api_url(stack, resources,
                                                                                             event, settings):
    notify = event.functions["QaNotifyFn"]
    found = statements(stack, resources, notify)
    assert {"sns:Publish", "ssm:GetParameter", "s3:GetObject*"} <= actions(found)
    (parameter,) = [s for s in found if s.get("Sid") == "ReadTheApiUrl"]
    assert f"parameter/ami-lifecycle/{settings.stack_tag}/api-url" in json.dumps(parameter["Resource"])
    env = resources[logical_id(stack, notify)]["Properties"]["Environment"]["Variables"]
    assert env["EXPORT_LINK_EXPIRY_SECS"] == str(settings.lifecycle.export_link_expiry_secs)
    assert env["QA_KEY_SECRET_NAME"].endswith("/api-keys/ami_creation_qa_certification_key")
    assert "QA_TOPIC_ARN" in env
    assert not any("secretsmanager:GetSecretValue" in as_list(s["Action"]) for s in found)


def test_the_api_url_is_published_in_ssm_for_the_notification(resources, settings):
    (parameter,) = [r for r in resources.values() if r["Type"] == "AWS::SSM::Parameter"]
    assert parameter["Properties"]["Name"] == f"/ami-lifecycle/{settings.stack_tag}/api-url"
    assert "execute-api" in json.dumps(parameter["Properties"]["Value"])


def test_the_api_hands_verdicts_to_the_creation_receiver(stack, resources):
    api = stack.api.function
    env = resources[logical_id(stack, api)]["Properties"]["Environment"]["Variables"]
    queue = logical_id(stack, stack.messaging.creation_receiver.queue)
    assert env["CREATION_RECEIVER_QUEUE_URL"] == {"Ref": queue}
    sends = [s["Resource"] for s in statements(stack, resources, api) if "sqs:SendMessage" in as_list(s["Action"])]
    dead_letters = logical_id(stack, stack.functions.dead_letter_queue)
    # The receiver queue, and the functions' own dead-letter queue for failed asynchronous invocations.
    assert sorted(r["Fn::GetAtt"][0] for r in sends) == sorted([queue, dead_letters])
