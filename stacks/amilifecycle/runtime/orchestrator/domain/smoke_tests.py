"""The smoke tests' result, from the report the instance under test sent back.

The suite's runner (``stacks/amilifecycle/smoke_tests/run_smoke_tests.py``)
answers the state machine's task token with a report: as the output of
SendTaskSuccess when every test passed, as the cause of SendTaskFailure
``SmokeTestsFailed`` when any failed. Both become one event result here:

* PASSED -> COMPLETED, the AMI's standing rises;
* FAILED -> FAILED (not ERROR: the AMI was tested and did not pass), with
  the failing tests named in the status, on the timeline and in the
  notification.

Report: ``{smoke_tests_status, total, passed, failed, failed_tests, tests,
log_group, log_stream}``; anything else is dropped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from .errors import ValidationError, describe_value
from .fields import lifecycle_id as parse_lifecycle_id
from .results import EventResult
from .timestamps import iso_utc
from .vocabulary import EventName, Status, lifecycle_type_of, parse_event_name

SMOKE_TASK = "SMOKE_TESTS"
PASSED = "PASSED"
FAILED = "FAILED"
# At most this many failing test names are kept in the record (and so in tags, pages and mails).
MAX_FAILED_TESTS = 50
MAX_TEST_NAME = 512
SMOKE_EVENTS = (EventName.SMOKE_TESTS_AMI_CREATE, EventName.SMOKE_TESTS_AMI_PATCH)


def _count(report: Mapping[str, Any], name: str) -> int:
    value = report.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"smoke test report: {name}: expected a whole number >= 0, got {describe_value(value)}",
                              field=name)
    return value


def parse_report(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The runner's report from the step outcome: ``{"report": {...}}`` (all passed) or
    ``{"failure": {"Error": "SmokeTestsFailed", "Cause": "<report JSON>"}}``."""
    if isinstance(outcome.get("report"), Mapping) and outcome["report"]:
        report = dict(outcome["report"])
    elif isinstance(outcome.get("failure"), Mapping):
        cause = outcome["failure"].get("Cause")
        try:
            report = json.loads(cause) if isinstance(cause, str) else None
        except ValueError:
            report = None
        if not isinstance(report, dict):
            raise ValidationError(f"smoke test failure: its cause is not a report, got {describe_value(cause)}",
                                  field="Cause")
    else:
        raise ValidationError("smoke test outcome: expected a report or a failure, got neither", field="outcome")
    status = report.get("smoke_tests_status")
    if status not in (PASSED, FAILED):
        raise ValidationError(f"smoke test report: smoke_tests_status: expected PASSED or FAILED, got "
                              f"{describe_value(status)}", field="smoke_tests_status", allowed=[PASSED, FAILED])
    failed_tests = report.get("failed_tests") or []
    if not isinstance(failed_tests, list) or not all(isinstance(name, str) for name in failed_tests):
        raise ValidationError("smoke test report: failed_tests: expected a list of test names",
                              field="failed_tests")
    counts = {name: _count(report, name) for name in ("total", "passed", "failed")}
    if status == PASSED and (counts["failed"] or failed_tests):
        raise ValidationError("smoke test report: PASSED with failing tests", field="smoke_tests_status")
    if status == FAILED and not (counts["failed"] or failed_tests):
        counts["failed"] = max(counts["failed"], 1)
    return {
        "smoke_tests_status": status,
        **counts,
        "failed_tests": [name[:MAX_TEST_NAME] for name in failed_tests[:MAX_FAILED_TESTS]],
        "log_group": str(report.get("log_group") or ""),
        "log_stream": str(report.get("log_stream") or ""),
    }


def smoke_test_result(*, lifecycle_id: Any, event: Any, outcome: Mapping[str, Any],
                      instance_ids: list[str] | None, now: datetime) -> EventResult:
    """The SMOKE_TESTS_AMI_CREATE / _PATCH result of one run of the suite."""
    name = parse_event_name(event, field="event", allowed=SMOKE_EVENTS)
    report = parse_report(outcome)
    passed = report["smoke_tests_status"] == PASSED
    properties: dict[str, Any] = {"task": SMOKE_TASK, **report}
    if instance_ids:
        properties["smoke_test_ec2_instance_id"] = instance_ids[0]
    if not passed:
        shown = ", ".join(report["failed_tests"]) or "see the log"
        properties["failure_reason"] = f"{report['failed']} of {report['total']} smoke tests failed: {shown}"
    return EventResult(lifecycle_id=parse_lifecycle_id(lifecycle_id), name=name,
                       status=Status.COMPLETED if passed else Status.FAILED, status_date=iso_utc(now),
                       properties=properties, attributes={"operation_type": str(lifecycle_type_of(name))})
