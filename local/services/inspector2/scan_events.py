"""The EventBridge events Inspector2 emits when it finishes an instance's
first scan.

When an instance's scan completes (``SCAN_SECONDS`` after launch, scaled,
the moment ``ListCoverage`` turns it ``ACTIVE``/``SUCCESSFUL``) and EC2
scanning is enabled for the account, two events go to the account's
default bus, as Inspector2 sends them:

* ``Inspector2 Coverage``: ``detail`` = ``scanStatus`` (``statusCodeValue``
  ``ACTIVE``, ``reason`` ``SUCCESSFUL``), ``scanType`` ``PACKAGE``,
  ``eventTimestamp``, ``versionId`` ``1.0``;
* ``Inspector2 Scan``: ``detail`` = ``scan-status``
  ``INITIAL_SCAN_COMPLETE``, ``instance-id``, ``finding-severity-counts``
  (``CRITICAL``, ``HIGH``, ``MEDIUM`` and ``TOTAL`` of the instance's
  active findings, those seeded for its AMI), ``version`` ``1.0``.

Both have ``source`` ``aws.inspector2`` and the instance id as their one
resource; EventBridge rules deliver them (:mod:`local.services.events`).
Each instance is announced once; an instance terminated first, or whose
scan completes while EC2 scanning is disabled, is never announced. A
``hang`` fault on ``inspector2``/``ListCoverage`` holds the scan (and its
events) until the fault is cleared. Timers are re-armed from the saved
state at restart; an overdue announcement is made at once.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any

from moto.ec2.models import ec2_backends

from local import clock, faults
from local.services.ec2 import lifecycle

from . import models

log = logging.getLogger(__name__)

SOURCE = "aws.inspector2"
SCAN_DETAIL_TYPE = "Inspector2 Scan"
COVERAGE_DETAIL_TYPE = "Inspector2 Coverage"
COUNTED_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM")

_lock = threading.Lock()
_timers: dict[tuple[str, str, str], threading.Timer] = {}


def _announced(backend: models.Inspector2Backend) -> set[str]:
    """Instance ids already announced (or never to be): kept in the
    backend, so that it is saved with the rest of the state."""
    return backend.__dict__.setdefault("announced_scans", set())


def severity_counts(account_id: str, region: str, instance_id: str) -> dict[str, int]:
    active = [finding for finding in models.findings(account_id, region)
              if finding["status"] == "ACTIVE" and finding["resources"][0]["id"] == instance_id]
    counts = {severity: sum(1 for f in active if f["severity"] == severity) for severity in COUNTED_SEVERITIES}
    counts["TOTAL"] = len(active)
    return counts


def scan_event_detail(account_id: str, region: str, instance_id: str) -> dict[str, Any]:
    return {"scan-status": "INITIAL_SCAN_COMPLETE", "instance-id": instance_id,
            "finding-severity-counts": severity_counts(account_id, region, instance_id), "version": "1.0"}


def coverage_event_detail(completed: datetime) -> dict[str, Any]:
    return {"scanStatus": {"statusCodeValue": "ACTIVE", "reason": "SUCCESSFUL"}, "scanType": "PACKAGE",
            "eventTimestamp": completed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "versionId": "1.0"}


def _schedule(account_id: str, region: str, instance_id: str, delay: float) -> None:
    key = (account_id, region, instance_id)
    timer = threading.Timer(max(0.0, delay), _complete, args=key)
    timer.daemon = True
    with _lock:
        previous = _timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        _timers[key] = timer
    timer.start()


def _due_in(instance: Any) -> float:
    done = models._launched(instance).timestamp() + clock.scaled(models.SCAN_SECONDS)
    return done - time.time()


def _complete(account_id: str, region: str, instance_id: str) -> None:
    with _lock:
        _timers.pop((account_id, region, instance_id), None)
    try:
        _announce(account_id, region, instance_id)
    except Exception:  # noqa: BLE001 - a timer thread reports, never raises
        log.exception("Inspector2 scan events for %s failed", instance_id)


def _announce(account_id: str, region: str, instance_id: str) -> None:
    with models.lock:
        backend = models.backend(account_id, region)
        announced = _announced(backend)
        if instance_id in announced:
            return
        instance = next((i for i in ec2_backends[account_id][region].all_instances() if i.id == instance_id), None)
        if instance is None or instance.state == "terminated":
            announced.add(instance_id)
            return
        hang = faults.active("inspector2", "ListCoverage")
        if hang is not None and hang.kind == "hang":
            _schedule(account_id, region, instance_id, clock.scaled(models.SCAN_SECONDS))
            return
        completed = models.scan_completed_at(instance)
        if completed is None:  # the time scale changed since launch
            _schedule(account_id, region, instance_id, max(_due_in(instance), 0.05))
            return
        announced.add(instance_id)
        if not models.ec2_scanning_enabled(account_id, region):
            return
        coverage = coverage_event_detail(completed)
        scan = scan_event_detail(account_id, region, instance_id)
    from local.services.events.delivery import put_service_event

    put_service_event(account_id, region, SOURCE, COVERAGE_DETAIL_TYPE, coverage, [instance_id])
    put_service_event(account_id, region, SOURCE, SCAN_DETAIL_TYPE, scan, [instance_id])
    log.info("Inspector2 initial scan of %s complete: %s", instance_id, scan["finding-severity-counts"])


def _launched(launch: lifecycle.Launch) -> None:
    models.backend(launch.account_id, launch.region)  # saved with the state, so a restart re-arms the timer
    _schedule(launch.account_id, launch.region, launch.instance.id, _due_in(launch.instance))


def resume_all(backends: list[models.Inspector2Backend]) -> None:
    """Re-arm the announcements of a restored state."""
    for backend in backends:
        announced = _announced(backend)
        for instance in ec2_backends[backend.account_id][backend.region].all_instances():
            if instance.id not in announced and instance.state != "terminated":
                _schedule(backend.account_id, backend.region, instance.id, _due_in(instance))


def stop_all() -> None:
    with _lock:
        timers = list(_timers.values())
        _timers.clear()
    for timer in timers:
        timer.cancel()


def install() -> None:
    lifecycle.install()
    lifecycle.on_launch(_launched)
