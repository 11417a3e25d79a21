"""``AWS::CloudWatch::Alarm`` on moto's CloudWatch backend (moto's
CloudFormation skips alarms). The alarm exists and describes as defined;
moto does not evaluate alarms against metrics, so it stays in its initial
state unless a client calls ``set_alarm_state``."""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat
from moto.core.common_models import CloudFormationModel

from local.cloudformation.base import ResourceModel


def _metric_data_queries(metrics: list[dict[str, Any]] | None) -> list[MetricDataQuery] | None:
    if not metrics:
        return None
    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat:
            definition = stat.get("Metric", {})
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=definition.get("MetricName"),
                    namespace=definition.get("Namespace"),
                    dimensions=[Dimension(d.get("Name"), d.get("Value")) for d in definition.get("Dimensions", [])],
                ),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=metric.get("Id"),
                label=metric.get("Label"),
                period=metric.get("Period"),
                return_data=metric.get("ReturnData"),
                expression=metric.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


class Alarm(ResourceModel, CloudFormationModel):
    cfn_type = "AWS::CloudWatch::Alarm"
    name_property = "AlarmName"
    attributes = {"Arn": "arn"}

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Alarm:
        p = cloudformation_json["Properties"]
        alarm = get_backend("cloudwatch")[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p["Period"]) if p.get("Period") is not None else None,
            threshold=float(p["Threshold"]) if p.get("Threshold") is not None else None,
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            metric_data_queries=_metric_data_queries(p.get("Metrics")),
            datapoints_to_alarm=int(p["DatapointsToAlarm"]) if p.get("DatapointsToAlarm") is not None else None,
            extended_statistic=p.get("ExtendedStatistic"),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            unit=p.get("Unit"),
            actions_enabled=str(p.get("ActionsEnabled", True)).lower() == "true",
            treat_missing_data=p.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=p.get("ThresholdMetricId"),
            tags=p.get("Tags"),
        )
        return cls(resource_name, alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Alarm, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Alarm:
        name = cloudformation_json["Properties"].get("AlarmName", original_resource.name)
        if name != original_resource.name:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        get_backend("cloudwatch")[account_id][region_name].delete_alarms([self.name])
