"""A stack update changes a deployed REST API in place: a changed OpenAPI
body is imported again (new routes, changed models and gateway responses),
the validators, models, methods and gateway responses the stack holds
beside the body take their new properties, and routes that did not change
keep answering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests

from local.deployer import DeployedStack, deploy, load_assembly
from tests.local.apps.api_update_app import STACK_NAME, synthesize
from tests.local.conftest import local_deployer

TIMEOUT = 30
VALID_EXTRA_V1 = {"first": 1}
VALID_EXTRA_V2 = {"second": 2}


@dataclass(frozen=True)
class ApiUpdate:
    url: str
    before: dict[str, requests.Response]
    update: DeployedStack
    repeat: DeployedStack


def _observe(url: str) -> dict[str, requests.Response]:
    """The answers the versions differ in, asked of the deployed API."""
    return {
        "item": requests.get(f"{url}/items/7", timeout=TIMEOUT),
        "health": requests.get(f"{url}/health", timeout=TIMEOUT),
        "named item": requests.post(f"{url}/items", json={"name": "widget"}, timeout=TIMEOUT),
        "unnamed item": requests.post(f"{url}/items", json={}, timeout=TIMEOUT),
        "extra v1 without token": requests.post(f"{url}/extra", json=VALID_EXTRA_V1, timeout=TIMEOUT),
        "extra v1": requests.post(f"{url}/extra", params={"token": "t"}, json=VALID_EXTRA_V1, timeout=TIMEOUT),
        "extra v2": requests.post(f"{url}/extra", params={"token": "t"}, json=VALID_EXTRA_V2, timeout=TIMEOUT),
        "unknown route": requests.get(f"{url}/no/such/route", timeout=TIMEOUT),
    }


@pytest.fixture(scope="module")
def api_update(local_cloud: Any, tmp_path_factory: pytest.TempPathFactory) -> ApiUpdate:
    """Version 1 deployed and asked, then version 2 deployed over it, then
    version 2 deployed again."""
    workdir = tmp_path_factory.mktemp("api-update")
    first = load_assembly(synthesize(workdir / "v1", 1))
    second = load_assembly(synthesize(workdir / "v2", 2))
    deployer = local_deployer(local_cloud)
    (created,) = deploy(first, deployer)
    url = created.outputs["ApiUrl"].rstrip("/")
    before = _observe(url)
    (updated,) = deploy(second, deployer)
    (repeated,) = deploy(second, deployer)
    return ApiUpdate(url=url, before=before, update=updated, repeat=repeated)


@pytest.fixture(scope="module")
def after(api_update: ApiUpdate) -> dict[str, requests.Response]:
    return _observe(api_update.url)


def test_changing_the_api_ends_update_complete(api_update):
    assert api_update.update.stack_name == STACK_NAME
    assert (api_update.update.status, api_update.update.changed) == ("UPDATE_COMPLETE", True)


def test_redeploying_the_same_app_reports_no_changes(api_update):
    assert api_update.repeat.changed is False
    assert api_update.repeat.status == "UPDATE_COMPLETE"


def test_route_added_to_the_body_answers_after_the_update(api_update, after):
    assert api_update.before["health"].json() == {"message": "no such route (version 1)"}
    assert after["health"].status_code == 200
    assert after["health"].json()["resource"] == "/health"


def test_unchanged_body_route_still_answers(api_update, after):
    assert api_update.before["item"].status_code == 200
    assert after["item"].status_code == 200
    assert after["item"].json()["pathParameters"] == {"itemId": "7"}


def test_method_attached_beside_the_body_survives_its_reimport(after):
    response = after["extra v2"]

    assert response.status_code == 201
    assert response.json()["resource"] == "/extra"


def test_changed_body_model_applies(api_update, after):
    assert api_update.before["named item"].status_code == 201
    assert after["named item"].status_code == 400
    assert after["named item"].json() == {"message": "Invalid request body"}


def test_changed_body_gateway_response_applies(api_update, after):
    assert api_update.before["unnamed item"].headers["X-Api-Version"] == "1"
    assert after["unnamed item"].headers["X-Api-Version"] == "2"


def test_changed_request_validator_resource_applies(api_update, after):
    assert api_update.before["extra v1 without token"].status_code == 201
    assert after["extra v1 without token"].status_code == 400
    assert after["extra v1 without token"].json() == {"message": "Missing required request parameters: [token]"}


def test_changed_model_resource_applies(api_update, after):
    assert (api_update.before["extra v1"].status_code, api_update.before["extra v2"].status_code) == (201, 400)
    assert (after["extra v1"].status_code, after["extra v2"].status_code) == (400, 201)


def test_changed_gateway_response_resource_applies(api_update, after):
    assert api_update.before["unknown route"].status_code == 404
    assert api_update.before["unknown route"].json() == {"message": "no such route (version 1)"}
    assert after["unknown route"].json() == {"message": "no such route (version 2)"}


def test_update_keeps_the_request_validator_id_the_method_holds(local_cloud, api_update):
    apigateway = local_cloud.boto3_client("apigateway")
    resources = local_cloud.boto3_client("cloudformation").describe_stack_resources(
        StackName=STACK_NAME)["StackResources"]
    [api_id] = [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::ApiGateway::RestApi"]
    [validator_id] = [r["PhysicalResourceId"] for r in resources
                      if r["ResourceType"] == "AWS::ApiGateway::RequestValidator"]

    validator = apigateway.get_request_validator(restApiId=api_id, requestValidatorId=validator_id)

    assert validator["validateRequestParameters"] is True
