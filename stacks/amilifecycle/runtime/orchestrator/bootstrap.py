"""The one composition root: every adapter and use case, built from the configuration.

Each handler asks :func:`container` for what it needs; the container is
built on first use in a Lambda execution environment (so a broken
environment fails the first invocation, with the message of
:class:`~orchestrator.config.ConfigurationError`) and then reused by every
invocation. A piece is only built when first asked for, so each function
needs only the variables of the pieces it uses. Tests build their own with
:func:`bootstrap` and replace any piece by keyword (``bootstrap(config,
workflows=fake)``), or call :func:`reset` after changing the environment.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from .config import RuntimeConfig


class Container:
    """Lazily built collaborators of one deployment; ``overrides`` win over the defaults."""

    def __init__(self, config: RuntimeConfig, **overrides: Any) -> None:
        self.config = config
        unknown = sorted(name for name in overrides if not isinstance(getattr(type(self), name, None),
                                                                      cached_property))
        if unknown:
            raise TypeError(f"bootstrap: unknown pieces {', '.join(unknown)}")
        for name, piece in overrides.items():
            setattr(self, name, piece)  # a cached_property reads its value from the instance dict first

    # ------------------------------------------------------------ adapters

    @cached_property
    def clock(self):
        """``() -> datetime``: now, in UTC (tests replace it)."""
        from datetime import datetime, timezone
        return lambda: datetime.now(timezone.utc)

    @cached_property
    def repository(self):
        from .adapters.state_repository import StateRepository
        return StateRepository(self.config.state_table_name)

    @cached_property
    def notifier(self):
        from .adapters.notifier import Notifier
        return Notifier(self.config.notification_topic_arn)

    @cached_property
    def workflows(self):
        from .adapters.workflows import Workflows
        return Workflows()

    @cached_property
    def lookup(self):
        from .adapters.lookup_repository import LookupRepository
        return LookupRepository(self.config.lookup_table_name)

    @cached_property
    def seeds(self):
        from .adapters.semver_seeds import SemverSeeds
        return SemverSeeds(self.config.semver_seed_table_name, self.config.default_semver_seed)

    @cached_property
    def tagger(self):
        from .adapters.ami_tags import DEFAULT_SESSION_NAME, AmiTagger, parse_accounts
        return AmiTagger(tagger_role_name=self.config.tagger_role_name,
                         distribution_accounts=parse_accounts(self.config.optional("DISTRIBUTION_ACCOUNTS")),
                         session_name=self.config.optional("TAGGER_SESSION_NAME") or DEFAULT_SESSION_NAME)

    @cached_property
    def api_keys(self):
        from .adapters.api_keys import ApiKeys
        return ApiKeys(self.config.api_key_secret_name)

    @cached_property
    def image_builder(self):
        from .adapters.image_builder import ImageBuilder
        return ImageBuilder()

    @cached_property
    def patch_builder(self):
        from .adapters.patch_builder import PatchBuilder
        return PatchBuilder()

    @cached_property
    def components(self):
        from .adapters.components import ComponentDocuments
        return ComponentDocuments()

    @cached_property
    def build_waits(self):
        from .adapters.build_waits import BuildWaits
        return BuildWaits(self.config.build_waits_table_name)

    @cached_property
    def instances(self):
        from .adapters.instances import TestInstances, instance_settings
        return TestInstances(lambda: instance_settings(self.config.values))

    @cached_property
    def inspector(self):
        from .adapters.inspector import Inspector
        return Inspector(findings_bucket=self.config.optional("FINDINGS_BUCKET_NAME"),
                         findings_key_arn=self.config.optional("FINDINGS_KEY_ARN"))

    @cached_property
    def scan_waits(self):
        from .adapters.task_waits import TaskWaits
        # keyed as stacks/amilifecycle/events/vulnerability_scans.py keys the table
        return TaskWaits(self.config.require("SCAN_WAITS_TABLE_NAME"), "instance_id")

    @cached_property
    def ami_backups(self):
        from .adapters.ami_backups import AmiBackups
        return AmiBackups(self.config.optional("BACKUP_BUCKET_NAME"))

    @cached_property
    def production_channel(self):
        from .adapters.production_channel import ProductionChannel
        return ProductionChannel(self.config.require("PRODUCTION_CHANNEL_TABLE_NAME"))

    @cached_property
    def deprecations(self):
        from .adapters.ami_deprecation import AmiDeprecations
        return AmiDeprecations()

    @cached_property
    def vmdk_exports(self):
        from .adapters.vmdk_exports import VmdkExports
        return VmdkExports(bucket=self.config.optional("EXPORT_BUCKET_NAME"),
                           role_name=self.config.optional("VMIMPORT_ROLE_NAME"))

    @cached_property
    def qa_notifier(self):
        from .adapters.notifier import Notifier
        from .rendering import render_qa_request
        return Notifier(self.config.require("QA_TOPIC_ARN"), render=render_qa_request)

    @cached_property
    def export_notifier(self):
        from .adapters.notifier import Notifier
        from .rendering import render_export_message
        return Notifier(self.config.require("VMDK_EXPORT_TOPIC_ARN"), render=render_export_message)

    @cached_property
    def api_url(self):
        """The API's base URL (``None`` when this function is not told where to read it)."""
        from .adapters.parameters import read_parameter
        name = self.config.optional("API_URL_PARAMETER_NAME")
        return read_parameter(name) if name else None

    @cached_property
    def result_queue(self):
        from .adapters.result_queue import ResultQueue
        return ResultQueue(self.config.require("CREATION_RECEIVER_QUEUE_URL"))

    @cached_property
    def log_sink(self):
        from .adapters.log_sink import LogSink
        return LogSink(self.config.event_log_group_name)

    @cached_property
    def reports(self):
        from .adapters.reports import ReportTopic
        return ReportTopic(self.config.require("OPERATIONS_TOPIC_ARN"))

    # ----------------------------------------------------------- use cases

    @cached_property
    def events(self):
        from .service.events import EventStarter
        return EventStarter(repository=self.repository, workflows=self.workflows, notifier=self.notifier,
                            state_machines=self.config, clock=self.clock)

    @cached_property
    def next_events(self):
        from .service.next_event import NextEventService
        return NextEventService(repository=self.repository, notifier=self.notifier, events=self.events,
                                clock=self.clock)

    @cached_property
    def lifecycles(self):
        from .service.lifecycles import LifecycleService
        return LifecycleService(config=self.config, repository=self.repository, notifier=self.notifier,
                                events=self.events, versions=self.lookup, clock=self.clock)

    @cached_property
    def approvals(self):
        from .service.approvals import ApprovalService
        return ApprovalService(repository=self.repository, notifier=self.notifier, events=self.events,
                               clock=self.clock)

    @cached_property
    def revocations(self):
        from .service.revocations import RevocationService
        return RevocationService(repository=self.repository, notifier=self.notifier, channel=self.production_channel,
                                 lookup=self.lookup, tagger=self.tagger, deprecations=self.deprecations,
                                 clock=self.clock)

    @cached_property
    def patches(self):
        from .service.patches import PatchService
        return PatchService(config=self.config, repository=self.repository, notifier=self.notifier,
                            events=self.events, components=self.components, clock=self.clock)

    @cached_property
    def results(self):
        from .service.results import ResultService
        return ResultService(repository=self.repository, notifier=self.notifier, seeds=self.seeds,
                             lookup=self.lookup, tagger=self.tagger, workflows=self.workflows,
                             next_events=self.next_events, clock=self.clock)

    @cached_property
    def certifications(self):
        from .service.certifications import CertificationService
        return CertificationService(repository=self.repository, notifier=self.notifier, results=self.result_queue,
                                    clock=self.clock)

    @cached_property
    def errors(self):
        from .service.results import ErrorService
        return ErrorService(repository=self.repository, notifier=self.notifier, clock=self.clock)


    @cached_property
    def tag_reconciler(self):
        from .service.operations import TagReconciler
        return TagReconciler(stack_tag=self.config.stack_tag, lifecycles=self.repository, tags=self.tagger,
                             reports=self.reports, clock=self.clock)

    @cached_property
    def garbage_collector(self):
        from datetime import timedelta

        from .config import ConfigurationError
        from .service.operations import GarbageCollector
        hours = self.config.require("TEST_INSTANCE_MAX_RUNTIME_HOURS")
        if not hours.isdigit() or int(hours) < 1:
            raise ConfigurationError(f"function environment is not usable: TEST_INSTANCE_MAX_RUNTIME_HOURS: "
                                     f"expected a whole number of hours >= 1, got {hours!r}")
        return GarbageCollector(stack_tag=self.config.stack_tag, instances=self.instances, reports=self.reports,
                                max_runtime=timedelta(hours=int(hours)), clock=self.clock)


def bootstrap(config: RuntimeConfig | None = None, **overrides: Any) -> Container:
    """A container for ``config`` (default: read from the environment), with ``overrides``."""
    return Container(config if config is not None else RuntimeConfig.from_env(), **overrides)


_container: Container | None = None
_lock = threading.Lock()


def container() -> Container:
    """The execution environment's container (configuration is read on first use)."""
    global _container
    with _lock:
        if _container is None:
            _container = bootstrap()
        return _container


def reset() -> None:
    """Forget the container; the next invocation reads the environment again (tests)."""
    global _container
    with _lock:
        _container = None


def install(replacement: Container) -> None:
    """Use ``replacement`` as the execution environment's container (tests)."""
    global _container
    with _lock:
        _container = replacement
