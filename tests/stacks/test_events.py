"""The event registry: every event state machine, wired to the functions in one place."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.stacks.helpers import as_list, logical_id

from orchestrator.domain.vocabulary import EventName
from stacks.amilifecycle.events.base import STATE_MACHINES_VARIABLE, EventRegistry


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


@pytest.fixture(scope="module")
def resources(templates) -> dict[str, dict[str, Any]]:
    return templates["AmiLifecycle"].to_json()["Resources"]


def statements_of(stack, resources, function) -> list[dict[str, Any]]:
    role = {"Ref": logical_id(stack, function.role)}
    return [statement for resource in resources.values() if resource["Type"] == "AWS::IAM::Policy"
            and role in resource["Properties"].get("Roles", [])
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]]


def machine_map(stack, resources, function) -> dict[str, Any]:
    """The EVENT_STATE_MACHINES_JSON variable, its CloudFormation references put back in place."""
    value = resources[logical_id(stack, function)]["Properties"]["Environment"]["Variables"][STATE_MACHINES_VARIABLE]
    return json.loads(_joined(value["Fn::Join"][1] if isinstance(value, dict) else [value]))


def _joined(parts: list[Any]) -> str:
    placeholders = []
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            placeholders.append(part)
            text += f"@@{len(placeholders) - 1}@@"
    decoded = json.loads(text)
    return json.dumps({name: placeholders[int(value.strip("@"))] for name, value in decoded.items()})


def test_every_event_runs_on_exactly_one_state_machine_of_the_registry(stack):
    served = [name for event in stack.events for name in event.events]
    assert sorted(served) == sorted(set(served))
    assert EventName.BUILD_AMI in served


def test_an_event_served_twice_is_refused(stack):
    build = stack.build_event
    with pytest.raises(ValueError, match="BUILD_AMI"):
        EventRegistry([build, build])


@pytest.mark.parametrize("starter", ["api", "creation_receiver", "patch_receiver"])
def test_each_starter_knows_every_event_state_machine(stack, resources, starter):
    function = stack.api.function if starter == "api" else getattr(stack.receivers, starter)
    expected = {str(name): {"Ref": logical_id(stack, event.state_machine)}
                for event in stack.events for name in event.events}
    assert machine_map(stack, resources, function) == expected


@pytest.mark.parametrize("starter", ["api", "creation_receiver", "patch_receiver"])
def test_each_starter_may_start_exactly_the_event_state_machines(stack, resources, starter):
    function = stack.api.function if starter == "api" else getattr(stack.receivers, starter)
    starting = [s for s in statements_of(stack, resources, function) if "states:StartExecution" in as_list(s["Action"])]
    started = sorted(json.dumps(resource) for s in starting for resource in as_list(s["Resource"]))
    assert started == sorted(json.dumps({"Ref": logical_id(stack, event.state_machine)}) for event in stack.events)


def test_no_other_function_may_start_an_event(stack, resources):
    starters = {logical_id(stack, stack.api.function.role), logical_id(stack, stack.receivers.creation_receiver.role),
                logical_id(stack, stack.receivers.patch_receiver.role)}
    machines = [json.dumps({"Ref": logical_id(stack, event.state_machine)}) for event in stack.events]
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        roles = {role["Ref"] for role in resource["Properties"].get("Roles", [])}
        starts = any("states:StartExecution" in as_list(s["Action"])
                     and any(json.dumps(r) in machines for r in as_list(s["Resource"]))
                     for s in resource["Properties"]["PolicyDocument"]["Statement"])
        assert not starts or roles <= starters


def test_the_export_pipeline_trigger_starts_only_the_export_pipeline(stack, resources):
    trigger = stack.vmdk_export_pipeline.trigger
    starting = [s for s in statements_of(stack, resources, trigger) if "states:StartExecution" in as_list(s["Action"])]
    assert [s["Resource"] for s in starting] == [
        {"Ref": logical_id(stack, stack.vmdk_export_pipeline.state_machine)}]


def test_every_state_machine_logs_traces_and_times_out(stack, resources):
    for event in stack.events:
        machine = resources[logical_id(stack, event.state_machine)]["Properties"]
        assert machine["TracingConfiguration"] == {"Enabled": True}
        assert machine["LoggingConfiguration"]["Level"] == "ERROR"
        definition = json.loads("".join(p if isinstance(p, str) else "0" for p in
                                        machine["DefinitionString"]["Fn::Join"][1]))
        assert definition["TimeoutSeconds"] == int(event.timeout.to_seconds())


def test_every_state_machine_arn_is_a_stack_output_under_its_historical_key(templates, stack):
    outputs = templates["AmiLifecycle"].to_json()["Outputs"]
    for event in stack.events:
        assert outputs[event.output_key]["Value"] == {"Ref": logical_id(stack, event.state_machine)}
