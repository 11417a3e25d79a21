"""QA_CERTIFICATION_REQUEST: export the AMI to VMDK and ask the QA team to certify it.

Flow (docs/events.md has the table):

1. the VMDK export states of :class:`VmdkExportSteps` (the AMI available and
   not being exported already; ``ExportImage`` into
   ``exports/<lifecycle>/<ami>/`` of the VmdkExport stack's bucket with its
   VM Import/Export role; an adaptive wait for completion; a failed export
   ends the event ERROR with AWS's status message);
2. *Notify the QA team* (``qa_certification.notify_qa``): presigns a GET of
   the disk valid ``exportLinkExpiry`` seconds and publishes the request on
   the QA topic (the AMI, the disk, the link and its expiry, the certify
   route with its body and the CLI command, and the name of the secret
   holding the QA key, never the key); returns the event result (location
   and link expiry, not the link);
3. the result goes to the creation receiver.

The QA team's verdict comes later through ``POST
/ami-creation/lifecycles/{id}/certify`` (QA_CERTIFICATION_RESPONSE).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.amilifecycle.events.base import EventProps, LifecycleEvent
from stacks.amilifecycle.events.vmdk_export import VmdkExportSteps
from stacks.vocabulary import EventName

EVENT_FAILED = "QaCertificationRequestFailed"


def export_wait_budget(timeout: cdk.Duration) -> cdk.Duration:
    """How long the export may take: four fifths of the event's timeout, so a hung export is cancelled and
    reported as the event's error while the execution still runs."""
    return cdk.Duration.seconds(max(60, int(timeout.to_seconds() * 4 // 5)))


def api_url_parameter_name(stack_tag: str) -> str:
    """The SSM parameter holding the API's base URL (read by name: the API depends on the event machines,
    so the step cannot reference the API itself)."""
    return f"/ami-lifecycle/{stack_tag}/api-url"


class QaCertificationEvent(LifecycleEvent):
    """``export`` (the VMDK export steps) besides what every event has."""

    events = (EventName.QA_CERTIFICATION_REQUEST,)
    summary = "export the AMI as a VMDK disk image and ask the QA team to certify it"
    log_name = "qa-certification"
    state_machine_id = "LifeCycleQACertificationStateMachineName"
    output_key = "lifeCycleQACertificationStateMachineName"
    failure_error = EVENT_FAILED

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration,
                 export_bucket: s3.IBucket, vmimport_role: iam.IRole, qa_topic: sns.ITopic, topic_key: kms.IKey,
                 link_expiry_secs: int, qa_key_secret_name: str) -> None:
        super().__init__(scope, construct_id, props=props, timeout=timeout)
        self.export = VmdkExportSteps(self, "VmdkExport", functions=props.functions, bucket=export_bucket,
                                      vmimport_role=vmimport_role, function_prefix="QaVmdkExport")
        for function in self.export.functions:
            self.functions[function.node.id] = function
        self.api_url_parameter_name = api_url_parameter_name(props.stack_tag)
        notify = self.function(
            "QaNotifyFn", handler="qa_certification.notify_qa", timeout=cdk.Duration.minutes(1),
            description="QA certification request: presigns the VMDK link, notifies the QA team, shapes the result",
            environment={"QA_TOPIC_ARN": qa_topic.topic_arn, "QA_KEY_SECRET_NAME": qa_key_secret_name,
                         "API_URL_PARAMETER_NAME": self.api_url_parameter_name})
        qa_topic.grant_publish(notify)
        topic_key.grant(notify, "kms:GenerateDataKey", "kms:Decrypt")
        notify.add_to_role_policy(iam.PolicyStatement(
            sid="ReadTheApiUrl", actions=["ssm:GetParameter"],
            resources=[cdk.Arn.format(cdk.ArnComponents(service="ssm", resource="parameter",
                                                        resource_name=self.api_url_parameter_name.lstrip("/")),
                                      cdk.Stack.of(self))]))
        self.export.grant_download_links(notify, expiry_secs=link_expiry_secs)
        self.finish(self._definition())

    def record_api_url(self, url: str) -> ssm.StringParameter:
        """Publish the API's base URL where the notification step reads it (the stack calls this once the
        API exists)."""
        return ssm.StringParameter(self, "ApiUrlParameter", parameter_name=self.api_url_parameter_name,
                                   string_value=url,
                                   description="Base URL of the orchestrator API, for QA certification requests")

    def _definition(self) -> sfn.IChainable:
        notify = self.invoke("Notify the QA team", self.functions["QaNotifyFn"], result_path="$.result", payload={
            "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
            "stack_tag": sfn.JsonPath.string_at("$.stack_tag"),
            "ami": sfn.JsonPath.object_at("$.ami"),
            "product_name": sfn.JsonPath.string_at("$.product_name"),
            "product_ver": sfn.JsonPath.string_at("$.product_ver"),
            "export": sfn.JsonPath.object_at("$.export"),
        })
        notify.next(self.send_result("$.result"))
        return self.export.chain(self, self.invoke, ami_id="$.ami.id", export_scope="$.lifecycle_id",
                                 description="AMI lifecycle QA certification request",
                                 max_wait=export_wait_budget(self.timeout), on_failure=self.report_error, then=notify)
