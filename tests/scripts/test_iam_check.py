"""scripts/iam_check.py: the call collector, the action mapping and the role check, on small samples."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import iam_check  # noqa: E402
from iam_actions import ActionMapper  # noqa: E402
from iam_calls import CallIndex  # noqa: E402

AWS_MODULE = '''
import boto3

def client(service_name):
    return boto3.client(service_name)

class LazyClient:
    def __init__(self, service_name):
        self.service_name = service_name
    def __get__(self, instance, owner=None):
        return client(self.service_name)
'''


def package(tmp_path: Path, **modules: str) -> Path:
    """A runtime folder holding the package ``app`` with ``modules`` (dotted names under app)."""
    root = tmp_path / "runtime"
    files = {"aws": AWS_MODULE, **modules}
    for dotted, source in files.items():
        path = root / "app" / Path(*dotted.split("."))
        path = path.with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in [path.parent, *path.parent.parents]:
            if folder == root.parent:
                break
            if folder != root:
                (folder / "__init__.py").touch()
        path.write_text(textwrap.dedent(source))
    return root


def reached(root: Path, handler: str) -> set[tuple[str, str]]:
    module, _, function = handler.rpartition(".")
    return {(call.service, call.method) for call in CallIndex(root).reach(module, function).calls}


# ------------------------------------------------------------------ calls


def test_a_client_call_made_directly_is_collected(tmp_path):
    root = package(tmp_path, handler='''
        from . import aws
        def handle(event, context):
            return aws.client("sts").get_caller_identity()
    ''')
    assert reached(root, "app.handler.handle") == {("sts", "get_caller_identity")}


def test_only_the_adapter_methods_the_handler_reaches_are_collected(tmp_path):
    root = package(tmp_path, **{
        "adapters.store": '''
            from .. import aws
            class Store:
                def __init__(self, table):
                    self._table = table
                _dynamodb = aws.LazyClient("dynamodb")
                def find(self, key):
                    return self._dynamodb.get_item(TableName=self._table, Key=key)
                def remove(self, key):
                    self._dynamodb.delete_item(TableName=self._table, Key=key)
        ''',
        "bootstrap": '''
            from functools import cached_property
            class Container:
                @cached_property
                def store(self):
                    from .adapters.store import Store
                    return Store("t")
            def container():
                return Container()
        ''',
        "handler": '''
            from .bootstrap import container
            def handle(event, context):
                return container().store.find(event["key"])
        ''',
    })
    assert reached(root, "app.handler.handle") == {("dynamodb", "get_item")}


def test_a_dict_get_does_not_reach_an_adapter_method_named_get(tmp_path):
    root = package(tmp_path, handler='''
        from typing import Any, Mapping
        from . import aws
        class Waits:
            client = aws.LazyClient("dynamodb")
            def get(self, key):
                return self.client.get_item(Key=key)
        class Images:
            client = aws.LazyClient("imagebuilder")
            def image(self, arn):
                return self.client.get_image(imageBuildVersionArn=arn)
        def handle(event: Mapping[str, Any], context: Any):
            waits = Waits()
            return Images().image(event.get("arn"))
    ''')
    assert reached(root, "app.handler.handle") == {("imagebuilder", "get_image")}


def test_a_service_typed_against_a_protocol_reaches_the_adapter_by_method_name(tmp_path):
    root = package(tmp_path, handler='''
        from typing import Protocol
        from . import aws
        class Publisher(Protocol):
            def publish(self, text: str) -> None: ...
        class Topic:
            _sns = aws.LazyClient("sns")
            def publish(self, text):
                self._sns.publish(TopicArn="arn", Message=text)
            def subscribe(self, address):
                self._sns.subscribe(TopicArn="arn", Protocol="email", Endpoint=address)
        class Service:
            def __init__(self, publisher: Publisher) -> None:
                self.publisher = publisher
            def run(self):
                self.publisher.publish("hello")
        def handle(event, context):
            Service(Topic()).run()
    ''')
    assert reached(root, "app.handler.handle") == {("sns", "publish")}


def test_paginators_waiters_and_client_factories_are_collected(tmp_path):
    root = package(tmp_path, handler='''
        import boto3
        from . import aws
        class Instances:
            def __init__(self, factory=None):
                self._client_factory = factory or make_client
            ec2 = aws.LazyClient("ec2")
            def stop(self, ids):
                for page in self.ec2.get_paginator("describe_instances").paginate():
                    pass
                self.ec2.get_waiter("instance_terminated").wait(InstanceIds=ids)
            def tag(self, region):
                regional = self._client_factory("ec2", region=region)
                regional.create_tags(Resources=[], Tags=[])
        def make_client(service, *, region):
            return boto3.session.Session().client(service, region_name=region)
        def handle(event, context):
            instances = Instances()
            instances.stop([])
            instances.tag("eu-west-1")
    ''')
    assert reached(root, "app.handler.handle") == {
        ("ec2", "describe_instances"), ("ec2", "waiter:instance_terminated"), ("ec2", "create_tags")}


def test_a_client_handed_to_a_known_library_counts_what_the_library_calls(tmp_path):
    root = package(tmp_path, handler='''
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from . import aws
        def handle(event, context):
            return SecretsProvider(boto3_client=aws.client("secretsmanager")).get("name")
    ''')
    assert reached(root, "app.handler.handle") == {("secretsmanager", "get_secret_value")}


def test_a_client_handed_to_an_unknown_library_is_an_unresolved_use(tmp_path):
    root = package(tmp_path, handler='''
        import somelib
        from . import aws
        def handle(event, context):
            return somelib.Thing(aws.client("s3"))
    ''')
    reach = CallIndex(root).reach("app.handler", "handle")
    assert reach.calls == set()
    assert reach.unresolved == {"app.handler:handle: a s3 client handed to Thing()"}


def test_boto3_resources_and_clients_of_computed_services_are_unresolved_uses(tmp_path):
    root = package(tmp_path, handler='''
        import boto3
        def handle(event, context):
            boto3.resource("dynamodb").Table("t").get_item(Key={})
            boto3.client(event["service"]).list_things()
    ''')
    assert CallIndex(root).reach("app.handler", "handle").unresolved == {
        "app.handler:handle: a boto3 resource (dynamodb) is not followed; use a client",
        "app.handler:handle: list_things on a client of a computed service name"}


def test_a_function_passed_as_a_callback_is_reached(tmp_path):
    root = package(tmp_path, handler='''
        from somelib import process
        from . import aws
        def _one(record):
            aws.client("sqs").delete_message(QueueUrl="q", ReceiptHandle=record)
        def handle(event, context):
            return process(event, record_handler=_one)
    ''')
    assert reached(root, "app.handler.handle") == {("sqs", "delete_message")}


# ---------------------------------------------------------------- actions


@pytest.mark.parametrize("service, method, actions", [
    ("s3", "put_object", ("s3:PutObject",)),
    ("s3", "head_object", ("s3:GetObject",)),
    ("s3", "list_objects_v2", ("s3:ListBucket",)),
    ("cloudwatch", "put_metric_data", ("cloudwatch:PutMetricData",)),
    ("stepfunctions", "send_task_success", ("states:SendTaskSuccess",)),
    ("inspector2", "list_coverage", ("inspector2:ListCoverage",)),
    ("ec2", "waiter:instance_terminated", ("ec2:DescribeInstances",)),
    ("dynamodb", "transact_get_items", ("dynamodb:GetItem",)),
])
def test_client_methods_map_to_the_actions_that_authorize_them(service, method, actions):
    assert ActionMapper().actions(service, method) == actions


def test_a_method_the_client_does_not_have_is_an_error():
    with pytest.raises(ValueError, match="s3: the client has no method 'put_objects'"):
        ActionMapper().actions("s3", "put_objects")


def test_wildcards_expand_against_the_service_operations():
    granted = ActionMapper().expand("dynamodb:Get*")
    assert "dynamodb:GetItem" in granted and "dynamodb:GetRecords" in granted
    assert "dynamodb:PutItem" not in granted
    assert "states:SendTaskSuccess" in ActionMapper().expand("states:SendTask*")


# ------------------------------------------------------------ role check

STS_HANDLER = '''
    import boto3
    from . import aws
    def handle(event, context):
        aws.client("stepfunctions").send_task_success(taskToken="t", output="{}")
    def assume(event, context):
        boto3.client("sts").assume_role(RoleArn="arn", RoleSessionName="s")
'''


def template(handler: str, statements: list[dict], environment: dict | None = None, **function: object) -> dict:
    return {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Handler": handler, "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
            "Environment": {"Variables": environment or {}}, **function}},
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "FnRole": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                               ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}]}},
        "FnPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "FnRole"}],
            "PolicyDocument": {"Statement": [{"Effect": "Allow", **s} for s in statements]}}},
    }}


def run(tmp_path, handler: str, statements: list[dict], environment: dict | None = None, **function: object):
    root = package(tmp_path, handler=STS_HANDLER)
    result = iam_check.check({"Stack": template(handler, statements, environment, **function)}, runtime=root)
    (report,) = result.functions
    return report, iam_check.render(result, fail_unused=True)


def test_a_call_no_grant_allows_is_missing_and_fails(tmp_path):
    report, (text, failed) = run(tmp_path, "app.handler.handle", [])
    assert report.missing == ["states:SendTaskSuccess"]
    assert failed and "states:SendTaskSuccess (called in app.handler:handle)" in text


def test_a_wildcard_grant_allows_the_call(tmp_path):
    report, (_, failed) = run(tmp_path, "app.handler.handle", [
        {"Action": "states:SendTask*", "Resource": {"Ref": "Machine"}}])
    assert report.missing == [] and not failed


def test_a_grant_no_call_uses_is_unused_and_fails(tmp_path):
    report, (_, failed) = run(tmp_path, "app.handler.handle", [
        {"Action": ["states:SendTaskSuccess", "states:StartExecution"], "Resource": {"Ref": "Machine"}}])
    assert report.unused == ["states:StartExecution"] and failed


def test_the_rest_of_a_cdk_grant_bundle_is_excepted_when_one_of_its_actions_is_used(tmp_path):
    report, (_, failed) = run(tmp_path, "app.handler.handle", [{"Action": [
        "states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], "Resource": "arn"}])
    assert report.unused == [] and not failed
    assert report.excepted["states:SendTaskHeartbeat"] == "CDK grant bundle (StateMachine.grant_task_response)"


def test_a_cdk_grant_bundle_of_which_nothing_is_used_is_unused(tmp_path):
    report, _ = run(tmp_path, "app.handler.handle", [
        {"Action": "states:SendTaskSuccess", "Resource": "arn"},
        {"Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": "arn"}])
    assert report.unused == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]


def test_the_dead_letter_queue_send_is_the_lambda_services_use_of_the_role(tmp_path):
    report, _ = run(tmp_path, "app.handler.handle", [
        {"Action": "states:SendTaskSuccess", "Resource": "arn"},
        {"Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Dlq", "Arn"]}},
        {"Action": "sns:Publish", "Resource": "arn"}], DeadLetterConfig={"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}})
    assert report.unused == ["sns:Publish"]


def test_resource_star_fails_for_actions_with_resource_level_permissions_only(tmp_path):
    report, (text, failed) = run(tmp_path, "app.handler.handle", [
        {"Action": "states:SendTaskSuccess", "Resource": "*"},
        {"Action": "ec2:Describe*", "Resource": "*"}])
    assert report.wildcard_resources == ["states:SendTaskSuccess (FnPolicy)"] and failed
    assert "ec2:Describe*" in report.unused


def test_assume_role_is_excepted_while_no_distribution_account_is_configured(tmp_path):
    report, (_, failed) = run(tmp_path, "app.handler.assume", [], {"DISTRIBUTION_ACCOUNTS": ""})
    assert report.missing == [] and not failed and "sts:AssumeRole" in report.excepted
    report, (_, failed) = run(tmp_path, "app.handler.assume", [], {"DISTRIBUTION_ACCOUNTS": "111122223333"})
    assert report.missing == ["sts:AssumeRole"] and failed


def test_a_missing_templates_folder_is_one_line_and_exit_status_2(tmp_path, capsys):
    assert iam_check.main(["--templates", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"iam-check: {tmp_path}: no *.template.json (synthesize first: cdk synth --quiet)"


# ------------------------------------------------------------ the app


def test_every_function_of_the_app_is_granted_what_its_code_calls(templates):
    # Unused grants are reported, not failed on: the static walk does not see every call yet (presigned
    # URLs, parameters read through module functions, clients made by injected factories).
    result = iam_check.check({name: template.to_json() for name, template in templates.items()})
    functions = sum(1 for t in templates.values() for r in t.to_json()["Resources"].values()
                    if r["Type"] == "AWS::Lambda::Function")
    text, failed = iam_check.render(result, fail_unused=False)
    assert len(result.functions) == functions
    assert [(r.logical_id, r.missing) for r in result.functions if r.missing] == [], text
    assert [(r.logical_id, r.wildcard_resources) for r in result.functions if r.wildcard_resources] == [], text
    assert [(r.logical_id, r.unresolved) for r in result.functions if r.unresolved] == [], text
    assert result.unreached == [] and not failed
