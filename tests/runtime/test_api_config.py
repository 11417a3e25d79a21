"""The function environment: read once, every problem reported at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from orchestrator.config import REQUIRED_VARIABLES, ConfigurationError, RuntimeConfig

from .conftest import PIPELINE_ARN, ApiAnswer, api_event, call


def environment(**overrides):
    env = {name: f"value-of-{name.lower()}" for name in REQUIRED_VARIABLES}
    env.update(DEFAULT_SEMVER_SEED="1.0.0", STATE_MACHINE_MAX_WAIT_MINUTES="240",
               IMAGEBUILDER_PIPELINE_ARN=PIPELINE_ARN, STACK_TAG="main")
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def test_a_complete_environment_becomes_a_typed_config():
    config = RuntimeConfig.from_env(environment(
        API_KEY_NAMES_JSON=json.dumps({"ami_creation_post_secret_name": "ami_creation_post_api_key"}),
        API_KEY_SECRET_PREFIX="/ami-lifecycle/main/api-keys/"))
    assert config.stack_tag == "main"
    assert config.state_machine_max_wait == timedelta(minutes=240)
    assert config.state_machine_arn("BUILD_AMI") is None
    assert config.api_key_secret_name("ami_creation_post_secret_name") == \
        "/ami-lifecycle/main/api-keys/ami_creation_post_api_key"


def test_every_malformed_variable_is_named_in_one_error():
    with pytest.raises(ConfigurationError) as raised:
        RuntimeConfig.from_env(environment(STACK_TAG="", STATE_MACHINE_MAX_WAIT_MINUTES="soon"))
    assert "STACK_TAG: missing" in str(raised.value)
    assert "STATE_MACHINE_MAX_WAIT_MINUTES" in str(raised.value)


def test_a_variable_the_function_was_not_given_is_named_where_it_is_needed():
    config = RuntimeConfig.from_env(environment(STATE_TABLE_NAME=None))
    with pytest.raises(ConfigurationError) as raised:
        config.state_table_name
    assert "STATE_TABLE_NAME: missing" in str(raised.value) and "lifecycle state table" in str(raised.value)


def test_the_event_state_machines_map_names_events_and_arns():
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:smoke"
    config = RuntimeConfig.from_env(environment(EVENT_STATE_MACHINES_JSON=json.dumps(
        {"SMOKE_TESTS_AMI_CREATE": arn})))
    assert config.state_machine_arn("SMOKE_TESTS_AMI_CREATE") == arn
    assert config.state_machine_arn("BUILD_AMI") is None
    with pytest.raises(ConfigurationError) as raised:
        RuntimeConfig.from_env(environment(EVENT_STATE_MACHINES_JSON=json.dumps({"BAKE": arn})))
    assert "EVENT_STATE_MACHINES_JSON" in str(raised.value) and "BUILD_AMI" in str(raised.value)


@pytest.mark.parametrize("name,value,expected", [
    ("STATE_MACHINE_MAX_WAIT_MINUTES", "soon", "whole number of minutes"),
    ("STATE_MACHINE_MAX_WAIT_MINUTES", "0", "whole number of minutes"),
    ("DEFAULT_SEMVER_SEED", "one", "semantic version"),
    ("API_KEY_NAMES_JSON", "{oops", "invalid JSON"),
    ("API_KEY_NAMES_JSON", "[\"a\"]", "JSON object"),
], ids=["max-wait-text", "max-wait-zero", "bad-seed", "key-names-not-json", "key-names-not-object"])
def test_a_malformed_variable_is_named_with_what_is_expected(name, value, expected):
    with pytest.raises(ConfigurationError) as raised:
        RuntimeConfig.from_env(environment(**{name: value}))
    assert name in str(raised.value) and expected in str(raised.value)


def test_asking_for_an_unconfigured_key_setting_names_the_known_ones():
    config = RuntimeConfig.from_env(environment(API_KEY_NAMES_JSON=json.dumps({"a_secret_name": "a_leaf"})))
    with pytest.raises(ConfigurationError) as raised:
        config.api_key_secret_name("b_secret_name")
    assert "a_secret_name" in str(raised.value)


def test_a_request_that_needs_a_missing_variable_fails_as_an_internal_error(api, cloud, monkeypatch, caplog):
    monkeypatch.delenv("STATE_TABLE_NAME")
    api.reset_application()
    answer = call(api, api_event("GET", "/ami-creation/lifecycles/status", query={"stack_tag": "main"},
                                 headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 500 and answer.json["code"] == "INTERNAL_ERROR"
    assert "STATE_TABLE_NAME" not in answer.text


def test_the_api_function_reads_its_environment_once(api, cloud, monkeypatch):
    first = api.application()
    monkeypatch.setenv("STACK_TAG", "changed")
    assert api.application() is first
    answer = call(api, api_event("GET", "/ami-creation/lifecycles/status", query={"stack_tag": "main"},
                                 headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    assert isinstance(answer, ApiAnswer) and answer.status == 200
