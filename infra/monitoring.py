"""Alarms and a dashboard for one region. Alarm actions go to an SNS topic ops subscribe to."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from .api import Api
from .config import InfraConfig, RegionConfig
from .data import Data
from .functions.audit_digest import ANCHORED_METRIC, METRIC_NAMESPACE
from .jobs import AuditDigestJob


class Monitoring(Construct):
    def __init__(self, scope: Construct, cid: str, *, config: InfraConfig, region: RegionConfig, data: Data,
                 api: Api, digest: AuditDigestJob) -> None:
        super().__init__(scope, cid)
        self.topic = sns.Topic(self, "Alarms", display_name=f"hco {region.stage} alarms", master_key=data.key,
                               enforce_ssl=True)
        action = cw_actions.SnsAction(self.topic)
        gateway = {"ApiName": config.app_name, "Stage": config.api_stage}
        five_min = Duration.minutes(5)

        def gw(metric: str, statistic: str) -> cw.Metric:
            return cw.Metric(namespace="AWS/ApiGateway", metric_name=metric, dimensions_map=gateway,
                             statistic=statistic, period=five_min)

        def fn(name: str, metric: str, statistic: str = "Sum") -> cw.Metric:
            return cw.Metric(namespace="AWS/Lambda", metric_name=metric, dimensions_map={"FunctionName": name},
                             statistic=statistic, period=five_min)

        server_errors = gw("5XXError", "Sum")
        latency = gw("Latency", "p99")
        throttles = fn(api.function_name, "Throttles")
        dlq_depth = cw.Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                              dimensions_map={"QueueName": digest.dead_letters.queue_name},
                              statistic="Maximum", period=five_min)
        stream_dlq_depth = cw.Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                                     dimensions_map={"QueueName": api.stream_dead_letters.queue_name},
                                     statistic="Maximum", period=five_min)
        stream_age = fn(api.stream_function_name, "IteratorAge", "Maximum")
        anchored = cw.Metric(namespace=METRIC_NAMESPACE, metric_name=ANCHORED_METRIC,
                             dimensions_map={"Stage": region.stage}, statistic="Sum", period=Duration.days(1))
        table_throttles = cw.Metric(namespace="AWS/DynamoDB", metric_name="ThrottledRequests",
                                    dimensions_map={"TableName": data.main_table.table_name},
                                    statistic="Sum", period=five_min)

        specs = [
            ("Api5xx", server_errors, 5, 1, "API answered 5xx more than 5 times in 5 minutes",
             cw.TreatMissingData.NOT_BREACHING),
            ("ApiLatencyP99", latency, 3000, 3, "API p99 latency above 3 s for 15 minutes",
             cw.TreatMissingData.NOT_BREACHING),
            ("LambdaThrottles", throttles, 1, 1, "the API function was throttled (concurrency exhausted)",
             cw.TreatMissingData.NOT_BREACHING),
            ("TableThrottles", table_throttles, 1, 1, "DynamoDB throttled requests on the main table",
             cw.TreatMissingData.NOT_BREACHING),
            ("DeadLetterDepth", dlq_depth, 1, 1, "background work failed into the dead-letter queue",
             cw.TreatMissingData.NOT_BREACHING),
            ("StreamDeadLetterDepth", stream_dlq_depth, 1, 1,
             "the table stream's consumer gave up on a range: re-drive it within 23 h (infra/README.md)",
             cw.TreatMissingData.NOT_BREACHING),
            # Retries of a poison change hold its shard for at most the record age bound: longer is a stall.
            ("StreamIteratorAge", stream_age, 15 * 60 * 1000, 2,
             "the table stream's consumer is more than 15 minutes behind (audit chain, visit followers)",
             cw.TreatMissingData.NOT_BREACHING),
        ]
        self.alarms = [self._alarm(name, metric, threshold, periods, description, missing, action)
                       for name, metric, threshold, periods, description, missing in specs]
        # Audit-chain lag: the chain heads were not anchored in the Object Lock bucket for a day.
        # Missing data breaches: a job that stopped running emits nothing.
        lag = cw.Alarm(self, "AuditChainLag", metric=anchored, threshold=1, evaluation_periods=1,
                       comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                       treat_missing_data=cw.TreatMissingData.BREACHING,
                       alarm_description="audit chain heads not anchored to Object Lock digests for 24 h")
        lag.add_alarm_action(action)
        self.alarms.append(lag)

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"hco-{region.stage}")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="API requests and errors", left=[gw("Count", "Sum"), gw("4XXError", "Sum"),
                                                                  server_errors]),
            cw.GraphWidget(title="API latency (ms)", left=[latency, gw("Latency", "p50"),
                                                           gw("IntegrationLatency", "p99")]),
            cw.GraphWidget(title="API function", left=[fn(api.function_name, "Invocations"),
                                                       fn(api.function_name, "Errors"), throttles],
                           right=[fn(api.function_name, "Duration", "p99")]),
            cw.GraphWidget(title="DynamoDB main table", left=[table_throttles]),
            cw.GraphWidget(title="Audit anchoring and dead letters", left=[anchored],
                           right=[dlq_depth, stream_dlq_depth]),
            cw.GraphWidget(title="Table stream consumer", left=[stream_age],
                           right=[fn(api.stream_function_name, "Errors")]),
            cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms),
        )

    def _alarm(self, name: str, metric: cw.Metric, threshold: float, periods: int, description: str,
               missing: cw.TreatMissingData, action: cw.IAlarmAction) -> cw.Alarm:
        alarm = cw.Alarm(self, name, metric=metric, threshold=threshold, evaluation_periods=periods,
                         comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                         treat_missing_data=missing, alarm_description=description)
        alarm.add_alarm_action(action)
        return alarm
