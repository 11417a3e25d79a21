"""The smoke-test and vulnerability-scan state machines, their shared test instances and rule, as synthesized."""

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


def definition(stack, resources, event) -> dict[str, Any]:
    return definition_of(stack, resources, event)


def statements(stack, resources, role) -> list[dict[str, Any]]:
    ref = {"Ref": logical_id(stack, role)}
    return [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy" and ref in r["Properties"]["Roles"]
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


@pytest.fixture(scope="module")
def smoke(stack, resources):
    return definition(stack, resources, stack.events.by_event("SMOKE_TESTS_AMI_CREATE"))


@pytest.fixture(scope="module")
def scans(stack, resources):
    return definition(stack, resources, stack.events.by_event("VULNERABILITY_SCANS_AMI_PATCH"))


def test_one_smoke_state_machine_serves_both_phases_and_one_scan_machine_too(stack):
    assert stack.events.by_event("SMOKE_TESTS_AMI_CREATE") is stack.events.by_event("SMOKE_TESTS_AMI_PATCH")
    assert (stack.events.by_event("VULNERABILITY_SCANS_AMI_CREATE")
            is stack.events.by_event("VULNERABILITY_SCANS_AMI_PATCH"))


def test_the_smoke_instance_answers_the_launch_steps_token_within_the_configured_timeout(smoke, settings):
    launch = smoke["States"]["Launch the instance that runs the smoke tests"]
    assert launch["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert launch["TimeoutSeconds"] == settings.lifecycle.state_machines.smoke_tests_sqs_mins * 60
    assert launch["Parameters"]["Payload"]["task_token.$"] == "$$.Task.Token"
    catches = [(c["ErrorEquals"], c["Next"]) for c in launch["Catch"]]
    assert catches == [(["SmokeTestsFailed"], "Terminate the smoke test instance"),
                       (["States.ALL"], "Terminate the smoke test instance after an error")]


@pytest.mark.parametrize("machine", ["smoke", "scans"])
def test_every_path_after_the_launch_terminates_the_instance(machine, smoke, scans):
    states = (smoke if machine == "smoke" else scans)["States"]
    launch = next(name for name in states if name.startswith("Launch"))
    terminating = {name for name in states if name.startswith("Terminate")}
    # Walk from the launch, stopping at termination steps: no end may be reached that way.
    seen, todo = set(), [launch]
    while todo:
        name = todo.pop()
        if name in seen or name in terminating:
            continue
        seen.add(name)
        state = states[name]
        assert state["Type"] not in ("Succeed", "Fail"), f"{name} ends without terminating the instance"
        todo += [n for n in [state.get("Next"), state.get("Default")] if n]
        todo += [c["Next"] for c in state.get("Catch", []) + state.get("Choices", [])]
        if state["Type"] == "Task":
            assert state.get("Catch"), f"{name} has no catch"
    assert states["Report the event error"]["Next"] == "Event failure"


def test_a_shared_machine_reports_to_the_receiver_of_its_phase(smoke):
    choice = smoke["States"]["Which receiver records the result?"]
    assert choice["Choices"][0]["Variable"] == "$.operation_type"
    assert choice["Choices"][0]["StringEquals"] == "ami-patch"


def test_the_scan_waits_for_inspectors_event_with_one_coverage_check_per_slice(scans):
    wait = scans["States"]["Wait for the Inspector scan event"]
    assert wait["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert wait["TimeoutSeconds"] == 30 * 60
    assert wait["Catch"][0] == {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.wait_outcome",
                                "Next": "Check the scan coverage"}
    assert scans["States"]["Was the instance scanned?"]["Default"] == "Wait for the Inspector scan event"


def test_inspectors_scan_event_reaches_the_listener(stack, resources):
    event = stack.events.by_event("VULNERABILITY_SCANS_AMI_CREATE")
    rule = resources[stack.get_logical_id(event.rule.node.default_child)]["Properties"]
    assert rule["EventPattern"] == {"source": ["aws.inspector2"], "detail-type": ["Inspector2 Scan"],
                                    "detail": {"scan-status": ["INITIAL_SCAN_COMPLETE"]}}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(stack, event.functions["ScanNotificationFn"]), "Arn"]}


def test_the_deployments_severity_gate_reaches_the_result_step(stack, resources, settings):
    event = stack.events.by_event("VULNERABILITY_SCANS_AMI_CREATE")
    variables = resources[logical_id(stack, event.functions["ScanResultFn"])]["Properties"]["Environment"]
    assert variables["Variables"]["VULNERABILITY_GATE"] == settings.lifecycle.severity_gate


def test_test_instances_may_be_terminated_only_when_tagged(stack, resources):
    found = statements(stack, resources, stack.test_instances.terminate.role)
    [terminate] = [s for s in found if "ec2:TerminateInstances" in as_list(s["Action"])]
    assert terminate["Condition"] == {"StringEquals": {"aws:ResourceTag/AMI_LC_EVENT_INSTANCE": "TRUE"}}


def test_test_instances_are_launched_only_with_the_event_instance_tag(stack, resources):
    found = statements(stack, resources, stack.test_instances.launch.role)
    [tagged] = [s for s in found if s.get("Sid") == "LaunchTaggedTestInstances"]
    assert tagged["Condition"] == {"StringEquals": {"aws:RequestTag/AMI_LC_EVENT_INSTANCE": "TRUE"}}
    assert any("iam:PassRole" in as_list(s["Action"]) for s in found)


def test_the_instance_role_answers_only_the_smoke_tests_tokens(stack, resources):
    found = statements(stack, resources, stack.test_instances.role)
    [answer] = [s for s in found if "states:SendTaskSuccess" in as_list(s["Action"])]
    smoke = stack.events.by_event("SMOKE_TESTS_AMI_CREATE")
    assert answer["Resource"] == {"Ref": logical_id(stack, smoke.state_machine)}
    role = resources[logical_id(stack, stack.test_instances.role)]["Properties"]
    assert "AmazonSSMManagedInstanceCore" in json.dumps(role["ManagedPolicyArns"])
