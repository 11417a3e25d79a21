"""The scheduled jobs: AMI tag reconciliation and test-instance garbage collection.

Both run from an EventBridge schedule, look at the whole deployment (every
lifecycle of the stack tag, every test instance of the stack tag), repair
what drifted and publish one report per run to the operations topic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from ..domain.garbage_collection import CollectionReport, overdue
from ..domain.reconciliation import CopyOutcome, ReconciliationReport, expectation, tag_drift
from .ports import AmiTagStore, LifecycleLister, ReportPublisher, TestInstanceFleet

log = logging.getLogger(__name__)

# Lifecycles read per page of the stack-tag index.
PAGE_SIZE = 50


@dataclass
class TagReconciler:
    """Rewrites the ``AMI_LC_*`` tags every copy of every lifecycle's AMI should carry."""

    stack_tag: str
    lifecycles: LifecycleLister
    tags: AmiTagStore
    reports: ReportPublisher
    clock: Callable[[], datetime]

    def run(self) -> ReconciliationReport:
        report = ReconciliationReport(stack_tag=self.stack_tag, started=self.clock().isoformat())
        token: str | None = None
        while True:
            page = self.lifecycles.list_by_stack_tag(self.stack_tag, limit=PAGE_SIZE, next_token=token)
            for record in page.items:
                report.lifecycles += 1
                try:
                    self._reconcile(record, report)
                except Exception as error:  # noqa: BLE001 - one lifecycle must not stop the run
                    log.exception("reconciling lifecycle %s failed", record.get("lifecycle_id"))
                    report.failures.append({"lifecycle_id": str(record.get("lifecycle_id")),
                                            "error": f"{type(error).__name__}: {error}"})
            token = page.next_token
            if not token:
                break
        self.reports.publish(report.subject(), report.to_dict())
        return report

    def _reconcile(self, record: dict, report: ReconciliationReport) -> None:
        expected = expectation(record)
        if expected is None or not expected.tags:
            report.lifecycles_without_ami += 1
            return
        for copy in expected.copies:
            entry = {"image": copy.ami_id, "region": copy.region, "accountId": copy.account_id}
            found = self.tags.read(entry)
            if found.tags is None:
                report.add(CopyOutcome(expected.lifecycle_id, copy, problem=found.reason))
                continue
            drift = tag_drift(expected.tags, found.tags)
            repaired = False
            if drift:
                repaired = self.tags.tag(entry, {d.key: d.expected for d in drift}).tagged
            report.add(CopyOutcome(expected.lifecycle_id, copy, drift=drift, repaired=repaired))


@dataclass
class GarbageCollector:
    """Terminates the deployment's test instances that ran longer than allowed."""

    stack_tag: str
    instances: TestInstanceFleet
    reports: ReportPublisher
    max_runtime: timedelta
    clock: Callable[[], datetime]

    def run(self) -> CollectionReport:
        now = self.clock()
        seen = self.instances.of_stack_tag(self.stack_tag)
        doomed = overdue(seen, now, self.max_runtime)
        if doomed:
            self.instances.terminate_now([instance.instance_id for instance in doomed])
        report = CollectionReport(stack_tag=self.stack_tag, started=now, max_runtime=self.max_runtime,
                                  seen=len(seen), terminated=tuple(doomed))
        # A run that terminated nothing is only logged: every 20 minutes would drown the report.
        if doomed:
            self.reports.publish(report.subject(), report.to_dict())
        return report
