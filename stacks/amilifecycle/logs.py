"""Log groups of the AmiLifecycle stack.

Names carry the stack tag so that two deployments can share an account;
retention comes from ``amiLifecycle.logRetentionDays`` and every group is
encrypted with the orchestrator key (its key policy admits CloudWatch Logs).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.settings import Settings

# CloudWatch Logs retention periods (days) -> CDK's enumeration of them.
RETENTION_BY_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention_days(days: int) -> logs.RetentionDays:
    """The CDK retention value for ``days``; only CloudWatch's own periods exist."""
    try:
        return RETENTION_BY_DAYS[days]
    except KeyError:
        allowed = ", ".join(str(d) for d in RETENTION_BY_DAYS)
        raise ValueError(f"log retention: expected one of {allowed} days, got {days}") from None


def event_notifications_log_group_name(stack_tag: str) -> str:
    """Sink of the notification topic: one log stream per lifecycle."""
    return f"/ami-lifecycles/{stack_tag}/event-notifications"


def api_access_log_group_name(stack_tag: str) -> str:
    """API Gateway access log; the ``/aws/vendedlogs/`` prefix keeps its
    resource policy small when the gateway delivers to it."""
    return f"/aws/vendedlogs/{stack_tag}/amiOrchestratorApiGatewayAccessLogs"


class LifecycleLogGroups(Construct):
    """``event_notifications`` and ``api_access`` log groups."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.retention = retention_days(settings.lifecycle.log_retention_days)
        self.key = key
        self.event_notifications = self.log_group(
            "EventNotificationsLogGroup", event_notifications_log_group_name(settings.stack_tag)
        )
        self.api_access = self.log_group(
            "ApiGatewayAccessLogGroup", api_access_log_group_name(settings.stack_tag)
        )

    def log_group(self, construct_id: str, name: str) -> logs.LogGroup:
        """A log group with this stack's retention, key and removal policy."""
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=name,
            retention=self.retention,
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
