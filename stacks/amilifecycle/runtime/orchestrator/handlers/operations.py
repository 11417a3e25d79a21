"""The scheduled jobs' entry points (EventBridge schedule rules).

* :func:`reconcile_tags` - rewrite the ``AMI_LC_*`` tags of every AMI copy
  that drifted from its lifecycle record; publish the report;
* :func:`collect_garbage` - terminate the deployment's test instances that
  ran longer than the maximum runtime; publish what was terminated.

The scheduled event carries nothing they need. A run that fails raises, so
the function's error metric (and its alarm) shows it.
"""

from __future__ import annotations

from typing import Any, Mapping

from aws_lambda_powertools import Logger

from ..bootstrap import container

logger = Logger()


@logger.inject_lambda_context
def reconcile_tags(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    report = container().tag_reconciler.run().to_dict()
    logger.info("AMI tags reconciled", extra={"counts": report["counts"]})
    return report


@logger.inject_lambda_context
def collect_garbage(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    report = container().garbage_collector.run().to_dict()
    logger.info("test instances collected", extra={"counts": report["counts"],
                                                   "terminated": [i["instance_id"] for i in report["terminated"]]})
    return report
