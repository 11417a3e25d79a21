"""api-cli.py --mode UI: the same operations through prompts."""

from __future__ import annotations

import json

import responses

from amilc.api_cli import cli
from amilc.ui import MENU
from tests.client import builders
from tests.client.conftest import API_URL

LC = builders.LIFECYCLE_ID


def menu_number(label_start: str) -> str:
    return str(next(i for i, (label, _) in enumerate(MENU, start=1) if label.startswith(label_start)))


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_create_asks_for_the_request_shows_it_without_key_and_sends_it(deployment, api, runner):
    api.add(responses.POST, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created()))
    typed = answers(
        menu_number("Create an AMI"),
        "y",  # smoke tests
        "n",  # vulnerability scans: the chain stops here
        "platform-team", "EMAIL::platform-team@example.com", "ticket::OPS-1",
        "payments-service", "2.4.1", "9fceb02",
        "y",  # send it
        "0",
    )

    result = runner.invoke(cli, ["--mode", "UI", "--stackTag", "main"], input=typed)

    assert result.exit_code == 0, result.output
    body = json.loads(api.calls[0].request.body)
    assert [e["name"] for e in body["events"] if e["enabled"]] == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]
    assert body["properties"] == {"ticket": "OPS-1"}
    assert f"POST {API_URL}/ami-creation/lifecycles (API key in the x-api-key header, not shown)" in result.output
    assert f"\n{LC}\n" in result.output
    assert all(key not in result.output for key in deployment.all_key_values())


def test_a_request_not_confirmed_is_not_sent(deployment, api, runner):
    typed = answers(menu_number("Status of a lifecycle"), LC, "n", "0")

    result = runner.invoke(cli, ["--mode", "UI", "--stackTag", "main"], input=typed)

    assert result.exit_code == 0, result.output
    assert len(api.calls) == 0
    assert "not sent" in result.output


def test_an_api_refusal_is_shown_and_the_menu_comes_back(deployment, api, runner):
    api.add(responses.GET, f"{API_URL}/ami-creation/lifecycles/{LC}/status", status=404,
            json={"error": f"lifecycle {LC}: not found", "code": "NOT_FOUND"})
    typed = answers(menu_number("Status of a lifecycle"), LC, "y", "0")

    result = runner.invoke(cli, ["--mode", "UI", "--stackTag", "main"], input=typed)

    assert result.exit_code == 0
    assert f"error: HTTP 404 NOT_FOUND: lifecycle {LC}: not found" in result.stderr
    assert result.stdout.count("0. Quit") == 2


def test_defaults_come_from_the_config_file(deployment, api, runner, tmp_path):
    config = tmp_path / "cli-config.json"
    config.write_text(json.dumps({"owner": "qa-team",
                                  "notifications": [{"method": "EMAIL", "target": "qa@example.com"}],
                                  "properties": {"cost_center": "42"}}))
    api.add(responses.PUT, f"{API_URL}/ami-creation/lifecycles", json=builders.accepted(builders.created()))
    typed = answers(menu_number("Continue an AMI creation"), LC, "y", "y", "n", "", "", "", "y", "0")

    result = runner.invoke(cli, ["--mode", "UI", "--stackTag", "main", "--config", str(config)], input=typed)

    assert result.exit_code == 0, result.output
    body = json.loads(api.calls[0].request.body)
    assert body["owner"] == "qa-team"
    assert body["notifications"] == [{"method": "EMAIL", "target": "qa@example.com"}]
    assert body["properties"] == {"cost_center": "42"}


def test_ui_mode_refuses_an_operation_flag(aws_env, runner):
    result = runner.invoke(cli, ["--mode", "UI", "--operation", "AMI_CREATE"])

    assert result.exit_code == 2
    assert result.stderr == "error: --operation is for --mode BATCH; UI mode asks what to do\n"
