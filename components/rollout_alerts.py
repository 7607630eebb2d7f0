"""RolloutAlerts: the alerts a rollout is watched by, wired to one action group."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import monitor

from stagewise.core import alert_rules


@dataclass(kw_only=True)
class RolloutAlertsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    short_name: str
    """Action group short name, at most 12 characters."""
    insights_id: pulumi.Input[str]
    """Application Insights component whose requests the log alerts read."""
    site_ids: dict[str, pulumi.Input[str]]
    """Label (region-colour) -> web app or slot id whose health check is watched (one alert each:
    their types and regions differ)."""
    rules: list[alert_rules.LogRule]
    health_check_min_percent: int
    emails: list[str]
    """Where the action group mails alerts (stagewise:alerts.emails)."""
    webhooks: list[str]
    """https:// URLs the action group posts alerts to (stagewise:alerts.webhooks)."""
    tags: dict[str, str] = field(default_factory=dict)


class RolloutAlerts(pulumi.ComponentResource):
    def __init__(self, name: str, args: RolloutAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        if not 1 <= len(args.short_name) <= 12:
            raise ValueError(f"short_name {args.short_name!r} must be 1..12 characters")
        super().__init__("stagewise:rollout_alerts:RolloutAlerts", name, None, opts)

        group = monitor.ActionGroup(
            f"{name}-actions",
            resource_group_name=args.resource_group_name,
            location="global",
            group_short_name=args.short_name,
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{i}", email_address=address, use_common_alert_schema=True
                )
                for i, address in enumerate(args.emails)
            ],
            webhook_receivers=[
                monitor.WebhookReceiverArgs(name=f"webhook-{i}", service_uri=uri, use_common_alert_schema=True)
                for i, uri in enumerate(args.webhooks)
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for rule in args.rules:
            monitor.ScheduledQueryRule(
                f"{name}-{rule.name}",
                resource_group_name=args.resource_group_name,
                location=args.location,
                kind="LogAlert",
                description=rule.description,
                severity=rule.severity,
                enabled=True,
                scopes=[args.insights_id],
                evaluation_frequency="PT5M",
                window_size="PT5M",
                criteria=monitor.ScheduledQueryRuleCriteriaArgs(
                    all_of=[
                        monitor.ConditionArgs(
                            query=rule.query,
                            time_aggregation="Maximum",
                            metric_measure_column=rule.measure,
                            # One time series per version: the candidate is judged on its own requests.
                            dimensions=[monitor.DimensionArgs(name=rule.split_by, operator="Include", values=["*"])],
                            operator="GreaterThan",
                            threshold=rule.threshold,
                            failing_periods=monitor.ConditionFailingPeriodsArgs(
                                number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                            ),
                        )
                    ]
                ),
                actions=monitor.ActionsArgs(action_groups=[group.id]),
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        for label, site_id in args.site_ids.items():
            monitor.MetricAlert(
                f"{name}-health-{label}",
                resource_group_name=args.resource_group_name,
                location="global",
                description=f"{label}: health check status below {args.health_check_min_percent} %",
                severity=alert_rules.CRITICAL,
                enabled=True,
                scopes=[site_id],
                evaluation_frequency="PT1M",
                window_size="PT5M",
                criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                    odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    all_of=[
                        monitor.MetricCriteriaArgs(
                            criterion_type="StaticThresholdCriterion",
                            name="health-check",
                            metric_name="HealthCheckStatus",
                            operator="LessThan",
                            threshold=args.health_check_min_percent,
                            time_aggregation="Average",
                        )
                    ],
                ),
                actions=[monitor.MetricAlertActionArgs(action_group_id=group.id)],
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.action_group_id: pulumi.Output[str] = group.id
        self.register_outputs({"action_group_id": self.action_group_id})
