"""AmiLifecycle: the orchestrator's persistent core.

The stack holds what outlives any single lifecycle event: keys, tables,
topics, receiver queues, buckets, API key secrets, log groups and the
read-only roles consumers assume. Each concern is a construct of its own
module; this class wires them together and publishes the outputs.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.amilifecycle.access import ReadOnlyAccess
from stacks.amilifecycle.api_gateway import OrchestratorApi
from stacks.amilifecycle.api_keys import ApiKeySecrets
from stacks.amilifecycle.build_event import BuildEvent
from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.keys import LifecycleKeys
from stacks.amilifecycle.logs import LifecycleLogGroups
from stacks.amilifecycle.messaging import LifecycleMessaging
from stacks.amilifecycle.outputs import LifecycleOutputs, Output
from stacks.amilifecycle.receivers import Receivers
from stacks.amilifecycle.storage import LifecycleBuckets, LifecycleTables
from stacks.imagebuilder.stack import ImageBuilderStack
from stacks.network.stack import NetworkStack
from stacks.settings import Settings
from stacks.tagger.stack import TaggerStack
from stacks.vmdk_export.stack import VmdkExportStack


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
            common_environment=self._function_environment(),
        )
        self.build_event = BuildEvent(self, "BuildEvent", stack=self)
        self.receivers = Receivers(self, "Receivers", stack=self)
        self.api = OrchestratorApi(self, "Api", stack=self, build_state_machine=self.build_event.state_machine)
        self.outputs = LifecycleOutputs(self, "Outputs", outputs=self._outputs())

    def _function_environment(self) -> dict[str, str]:
        """What every function reads at cold start (orchestrator/config.py)."""
        settings, tables, messaging = self.settings, self.tables, self.messaging
        return {
            "STACK_TAG": settings.stack_tag,
            "STATE_TABLE_NAME": tables.state.table_name,
            "SEMVER_SEED_TABLE_NAME": tables.semver_seed.table_name,
            "LOOKUP_TABLE_NAME": tables.lookup.table_name,
            "NOTIFICATION_TOPIC_ARN": messaging.notifications.topic_arn,
            "CREATION_RECEIVER_QUEUE_URL": messaging.creation_receiver.queue.queue_url,
            "PATCH_RECEIVER_QUEUE_URL": messaging.patch_receiver.queue.queue_url,
            "ERROR_RECEIVER_QUEUE_URL": messaging.error_receiver.queue.queue_url,
            "API_KEY_SECRET_PREFIX": self.api_keys.prefix,
            "DEFAULT_SEMVER_SEED": settings.lifecycle.default_semver_seed,
            "STATE_MACHINE_MAX_WAIT_MINUTES": str(settings.lifecycle.state_machine_max_wait_mins),
            "TAGGER_ROLE_NAME": self.tagger.role.role_name,
            "IMAGEBUILDER_PIPELINE_ARN": self.image_builder.pipeline_arn,
            "EVENT_LOG_GROUP_NAME": self.log_groups.event_notifications.log_group_name,
        }

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
            Output("apiKeySecretPrefix", self.api_keys.prefix,
                   "Secrets Manager name prefix of the API keys (append the key's leaf name)"),
            Output("amiSelectionCAReadOnly", self.access.selection_reader.role_arn,
                   "Role that may query the AMI lookup table"),
            Output("amiOrchestratorCfnCAReadOnly", self.access.stack_reader.role_arn,
                   "Role that may describe this deployment's stacks"),
        ]
