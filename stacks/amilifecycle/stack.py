"""AmiLifecycle: the orchestrator's persistent core.

The stack holds what outlives any single lifecycle event: keys, tables,
topics, receiver queues, buckets, API key secrets, log groups and the
read-only roles consumers assume. Each concern is a construct of its own
module; this class wires them together and publishes the outputs.
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from constructs import Construct

from stacks.amilifecycle.access import ReadOnlyAccess
from stacks.amilifecycle.api_gateway import OrchestratorApi
from stacks.amilifecycle.api_keys import ApiKeySecrets, api_key_secret_name
from stacks.amilifecycle.events import (BuildEvent, EventProps, EventRegistry, PatchEvent, ProductionEvent,
                                        SmokeTestsEvent,
                                        TestInstances, VulnerabilityScansEvent)
from stacks.amilifecycle.events.qa_certification import QaCertificationEvent
from stacks.amilifecycle.events.test_instances import smoke_test_log_group_name
from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.keys import LifecycleKeys
from stacks.amilifecycle.logs import LifecycleLogGroups
from stacks.amilifecycle.messaging import LifecycleMessaging
from stacks.amilifecycle.operations import Operations
from stacks.amilifecycle.outputs import LifecycleOutputs, Output
from stacks.amilifecycle.receivers import Receivers
from stacks.amilifecycle.storage import LifecycleBuckets, LifecycleTables
from stacks.amilifecycle.vmdk_export_pipeline import VmdkExportPipeline
from stacks.imagebuilder.stack import ImageBuilderStack
from stacks.network.stack import NetworkStack
from stacks.settings import Settings
from stacks.tagger.stack import TaggerStack, tagger_role_name
from stacks.vmdk_export.stack import VmdkExportStack
from stacks.vocabulary import EventName


class AmiLifecycleStack(cdk.Stack):
    """Attributes for the orchestrator built on top of this core: ``keys``,
    ``tables``, ``buckets``, ``messaging``, ``api_keys``, ``log_groups``,
    ``access``; and the sibling stacks it was given."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, network: NetworkStack,
                 image_builder: ImageBuilderStack, vmdk_export: VmdkExportStack, tagger: TaggerStack,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.network = network
        self.image_builder = image_builder
        self.vmdk_export = vmdk_export
        self.tagger = tagger

        self.keys = LifecycleKeys(self, "Keys", settings=settings)
        key = self.keys.orchestrator
        self.tables = LifecycleTables(self, "Tables", key=key)
        self.buckets = LifecycleBuckets(self, "Buckets", findings_key=self.keys.findings)
        self.messaging = LifecycleMessaging(self, "Messaging", settings=settings, key=key)
        self.api_keys = ApiKeySecrets(self, "ApiKeys", settings=settings, key=key)
        self.log_groups = LifecycleLogGroups(self, "LogGroups", settings=settings, key=key)
        deployment_stacks = (network, image_builder, vmdk_export, tagger, self)
        self.access = ReadOnlyAccess(
            self,
            "ReadOnlyAccess",
            lookup_table=self.tables.lookup,
            key=key,
            stack_names=[stack.stack_name for stack in deployment_stacks],
        )
        self.functions = FunctionFactory(
            self,
            "Functions",
            vpc=network.vpc,
            key=key,
            log_retention=self.log_groups.retention,
            common_environment={"STACK_TAG": settings.stack_tag},
        )
        self.events = EventRegistry(self._events())
        self.build_event = self.events.by_event(EventName.BUILD_AMI)
        self.receivers = Receivers(
            self, "Receivers", functions=self.functions, tables=self.tables, messaging=self.messaging,
            event_log=self.log_groups.event_notifications, tagger_role_name=tagger_role_name(settings),
            distribution_accounts=list(settings.image_builder.ami_publishing_target_ids),
            default_semver_seed=settings.lifecycle.default_semver_seed)
        self.api = OrchestratorApi(
            self, "Api", settings=settings, functions=self.functions, tables=self.tables, key=key,
            api_keys=self.api_keys, log_groups=self.log_groups, notifications=self.messaging.notifications,
            pipeline_arn=image_builder.pipeline_arn, patch_component_bucket=self.buckets.patch_components)
        # Every function that starts events may start every event's state machine; the receivers also
        # answer their task tokens (results arrive with the token of the execution that sent them).
        for starter in (self.api.function, self.receivers.creation_receiver, self.receivers.patch_receiver):
            self.events.grant_start(starter)
        for receiver in (self.receivers.creation_receiver, self.receivers.patch_receiver):
            self.events.grant_task_response(receiver)
        self.events.by_event(EventName.MARK_FOR_PRODUCTION_CREATE).grant_revocation(
            self.api.function, lookup_table=self.tables.lookup, tagger_role_name=tagger_role_name(settings),
            distribution_accounts=list(settings.image_builder.ami_publishing_target_ids))
        self.operations = Operations(
            self, "Operations", settings=settings, functions=self.functions, tables=self.tables,
            messaging=self.messaging, log_groups=self.log_groups, tagger_role_name=tagger_role_name(settings),
            distribution_accounts=list(settings.image_builder.ami_publishing_target_ids))
        # The QA request's notification names the certify URL; the API records verdicts and hands them to
        # the creation receiver, which updates the AMI's lookup entry and tags.
        self.events.by_event(EventName.QA_CERTIFICATION_REQUEST).record_api_url(self.api.url)
        self.messaging.creation_receiver.queue.grant_send_messages(self.api.function)
        self.api.function.add_environment("CREATION_RECEIVER_QUEUE_URL",
                                          self.messaging.creation_receiver.queue.queue_url)
        # The standalone export pipeline (execute-pipeline.sh) exports with the QA request's own export steps.
        self.vmdk_export_pipeline = VmdkExportPipeline(
            self, "VmdkExportPipeline", stack_tag=settings.stack_tag, functions=self.functions,
            log_groups=self.log_groups, export=self.events.by_event(EventName.QA_CERTIFICATION_REQUEST).export,
            image_builder_topic=image_builder.topic, key=key, email_address=settings.image_builder.email_address,
            link_expiry_secs=settings.lifecycle.export_link_expiry_secs,
            timeout=cdk.Duration.minutes(settings.lifecycle.state_machines.qa_certification_mins))
        self.outputs = LifecycleOutputs(self, "Outputs", outputs=self._outputs())

    def _events(self) -> list:
        """One construct per event state machine (stacks/amilifecycle/events/)."""
        settings, machines = self.settings, self.settings.lifecycle.state_machines
        props = EventProps(
            stack_tag=settings.stack_tag,
            functions=self.functions,
            log_groups=self.log_groups,
            creation_receiver=self.messaging.creation_receiver.queue,
            patch_receiver=self.messaging.patch_receiver.queue,
            error_receiver=self.messaging.error_receiver.queue,
            receiver_timeout=cdk.Duration.minutes(settings.lifecycle.creation_receiver_timeout_mins),
        )
        self.test_instances = TestInstances(
            self, "TestInstances", vpc=self.network.vpc, functions=self.functions,
            log_group=self.log_groups.log_group("SmokeTestsLogGroup", smoke_test_log_group_name(settings.stack_tag)),
            instance_type=settings.image_builder.instance_types[0],
            volume_size_gib=settings.image_builder.ebs_volume_size)
        build = BuildEvent(self, "BuildEvent", props=props, timeout=cdk.Duration.minutes(machines.build_mins),
                           pipeline_arn=self.image_builder.pipeline_arn, image_builder_topic=self.image_builder.topic,
                           key=self.keys.orchestrator)
        image_builder, ib = self.image_builder, settings.image_builder
        return [
            build,
            PatchEvent(self, "PatchEvent",
                       props=dataclasses.replace(props, receiver_timeout=cdk.Duration.minutes(
                           settings.lifecycle.patch_receiver_timeout_mins)),
                       timeout=cdk.Duration.minutes(machines.patch_mins), build=build,
                       deployment_pipeline_arn=image_builder.pipeline_arn,
                       component_bucket=self.buckets.patch_components,
                       instance_profile_name=image_builder.instance_profile.ref,
                       instance_profile_arn=image_builder.instance_profile.attr_arn,
                       instance_role=image_builder.instance_role, subnet_id=self.network.private_subnet.subnet_id,
                       security_group_id=image_builder.security_group.security_group_id,
                       topic_arn=image_builder.topic.topic_arn, instance_types=ib.instance_types,
                       volume_size_gib=ib.ebs_volume_size, resource_tags=ib.extra_tags),
            SmokeTestsEvent(self, "SmokeTestsEvent", props=props,
                            timeout=cdk.Duration.minutes(machines.smoke_tests_mins), instances=self.test_instances,
                            callback_timeout=cdk.Duration.minutes(machines.smoke_tests_sqs_mins)),
            VulnerabilityScansEvent(self, "VulnerabilityScansEvent", props=props,
                                    timeout=cdk.Duration.minutes(machines.vulnerability_scans_mins),
                                    instances=self.test_instances, key=self.keys.orchestrator,
                                    findings_bucket=self.buckets.inspector_findings, findings_key=self.keys.findings,
                                    severity_gate=settings.lifecycle.severity_gate),
            QaCertificationEvent(self, "QaCertificationEvent", props=props,
                                 timeout=cdk.Duration.minutes(machines.qa_certification_mins),
                                 export_bucket=self.vmdk_export.bucket, vmimport_role=self.vmdk_export.vmimport_role,
                                 qa_topic=self.messaging.qa_notifications, topic_key=self.keys.orchestrator,
                                 link_expiry_secs=settings.lifecycle.export_link_expiry_secs,
                                 qa_key_secret_name=api_key_secret_name(
                                     settings.stack_tag,
                                     settings.lifecycle.api.all_key_names["ami_creation_qa_certification_secret_name"])),
            ProductionEvent(self, "ProductionEvent", props=props,
                            timeout=cdk.Duration.minutes(machines.mark_for_production_mins),
                            backup_bucket=self.buckets.backups, key=self.keys.orchestrator),
        ]

    def _outputs(self) -> list[Output]:
        tables, buckets, messaging = self.tables, self.buckets, self.messaging
        return [
            Output("stackTag", self.settings.stack_tag, "Stack tag (deployment name) of these stacks"),
            Output("amiLifecycleStateTableName", tables.state.table_name, "Lifecycle state table"),
            Output("amiSemverSeedTableName", tables.semver_seed.table_name, "Next semantic version per stack tag"),
            Output("amiSelectionTableName", tables.lookup.table_name, "AMI lookup table the selection client queries"),
            Output("amiLifecyclePatchComponentBucket", buckets.patch_components.bucket_name,
                   "Bucket the CLI uploads patch components to"),
            Output("inspectorFindingsBucket", buckets.inspector_findings.bucket_name,
                   "Bucket of Inspector findings reports"),
            Output("amiBackupBucket", buckets.backups.bucket_name, "Bucket of AMI backups made at approval"),
            Output("amiOrchestratorNotificationTopicArn", messaging.notifications.topic_arn,
                   "Topic of lifecycle notifications"),
            Output("amiCreationReceiverQueueUrl", messaging.creation_receiver.queue.queue_url,
                   "Queue of AMI creation event results"),
            Output("amiPatchReceiverQueueUrl", messaging.patch_receiver.queue.queue_url,
                   "Queue of AMI patch event results"),
            Output("amiErrorReceiverQueueUrl", messaging.error_receiver.queue.queue_url,
                   "Queue of lifecycle event errors"),
            Output("amiOrchestratorReconcilerTopicArn", self.operations.topic.topic_arn,
                   "Topic of the reconciler's and garbage collector's reports and of the alarms"),
            Output("apiKeySecretPrefix", self.api_keys.prefix,
                   "Secrets Manager name prefix of the API keys (append the key's leaf name)"),
            Output("amiSelectionCAReadOnly", self.access.selection_reader.role_arn,
                   "Role that may query the AMI lookup table"),
            Output("amiOrchestratorCfnCAReadOnly", self.access.stack_reader.role_arn,
                   "Role that may describe this deployment's stacks"),
        ]
