"""The local cloud's front door (local/server.py, local/wire.py): dispatch
order, and AWS-style errors for whatever fails or is not supported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from local import admin
from local.config import load_config
from local.server import LocalCloudApp
from local.services import SimulatedService

SIGNED_FOR = "AWS4-HMAC-SHA256 Credential=testing/20261123/us-east-1/{service}/aws4_request, SignedHeaders=host, " \
             "Signature=0"


# --- against the running local cloud ---------------------------------------------


@pytest.mark.parametrize(("service", "call", "label"), [
    ("kms", lambda c: c.get_key_last_usage(KeyId="k"), "kms.GetKeyLastUsage"),  # JSON protocol
    ("lambda", lambda c: c.get_function_recursion_config(FunctionName="f"),
     "lambda.GetFunctionRecursionConfig"),  # REST-JSON
    ("ec2", lambda c: c.describe_capacity_reservation_fleets(), "ec2.DescribeCapacityReservationFleets"),  # EC2
    ("sns", lambda c: c.get_sms_sandbox_account_status(), "sns.GetSMSSandboxAccountStatus"),  # query
])
def test_an_unsupported_operation_answers_not_implemented_naming_it(local_cloud, service, call, label):
    with pytest.raises(ClientError) as error:
        call(local_cloud.boto3_client(service))

    assert error.value.response["Error"]["Code"] == "NotImplemented"
    assert error.value.response["Error"]["Message"] == f"{label} is not supported by the local cloud"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_an_unknown_route_is_an_aws_error_not_an_html_page(local_cloud):
    import requests

    response = requests.get(f"{local_cloud.endpoint_url}/2015-03-31/no/such/route", timeout=10,
                            headers={"Authorization": SIGNED_FOR.format(service="lambda")})

    assert response.status_code == 501
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["__type"] == "NotImplemented"


def test_moto_serves_what_it_supports(local_cloud):
    s3 = local_cloud.boto3_client("s3")
    s3.create_bucket(Bucket="server-test-bucket")
    s3.put_object(Bucket="server-test-bucket", Key="k", Body=b"value")

    assert s3.get_object(Bucket="server-test-bucket", Key="k")["Body"].read() == b"value"


# --- the WSGI application with stand-ins ----------------------------------------


def _app(moto: Any, services: list[SimulatedService] = ()) -> Client:
    context = admin.AdminContext(config=load_config(), services=(), save=lambda: {})
    return Client(LocalCloudApp(moto, list(services), context))


def _service(name: str, dispatch: Any) -> SimulatedService:
    return SimulatedService(name=name, dispatch=dispatch, get_state=lambda: None, set_state=lambda _: None,
                            reset=lambda: None)


def _moto_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"moto_saw": body.decode()}).encode()]


def _json_call(client: Client, body: str = "{}", target: str = "TrentService.ListKeys") -> Any:
    return client.post("/", data=body, headers={
        "Authorization": SIGNED_FOR.format(service="kms"), "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1",
    })


def test_a_simulated_service_answers_before_moto():
    answered = _service("mine", lambda request: Response('{"from": "mine"}', content_type="application/json"))

    response = _json_call(_app(_moto_echo, [answered]))

    assert response.json == {"from": "mine"}


def test_moto_still_reads_the_body_a_simulated_service_declined():
    def peek_and_decline(request: Request) -> None:
        assert request.get_data() == b'{"Limit": 5}'
        return None

    response = _json_call(_app(_moto_echo, [_service("declines", peek_and_decline)]), body='{"Limit": 5}')

    assert response.json == {"moto_saw": '{"Limit": 5}'}


def test_a_failing_simulated_service_answers_an_aws_style_500():
    def broken(request: Request) -> None:
        raise KeyError("missing thing")

    response = _json_call(_app(_moto_echo, [_service("broken", broken)]))

    assert response.status_code == 500
    assert json.loads(response.data)["__type"] == "InternalServerException"
    assert "kms.ListKeys failed inside the local cloud" in json.loads(response.data)["message"]


def test_a_moto_crash_answers_an_aws_style_500_naming_the_operation():
    def crashing_moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AttributeError("'NoneType' object has no attribute 'id'")

    response = _json_call(_app(crashing_moto), target="TrentService.DescribeKey")

    assert response.status_code == 500
    assert "kms.DescribeKey failed inside the local cloud: AttributeError" in json.loads(response.data)["message"]


def test_an_xml_protocol_error_is_xml():
    def crashing_moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise NotImplementedError("no")

    response = _app(crashing_moto).post("/", data="Action=DescribeFleets&Version=2016-11-15", headers={
        "Authorization": SIGNED_FOR.format(service="ec2"), "Content-Type": "application/x-www-form-urlencoded",
    })

    assert response.status_code == 501
    assert b"<Response><Errors><Error><Code>NotImplemented</Code>" in response.data
    assert b"ec2.DescribeFleets is not supported by the local cloud" in response.data
