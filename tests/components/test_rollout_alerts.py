from stagewise.components.rollout_alerts import RolloutAlerts, RolloutAlertsArgs
from stagewise.core import alert_rules
from tests.components.conftest import only

RULES = alert_rules.rollout_log_rules(
    error_rate_warning=1.0, error_rate_critical=5.0, p95_warning_ms=500, p95_critical_ms=2000, min_requests=50
)


def alerts_args(**overrides) -> RolloutAlertsArgs:
    values = dict(
        resource_group_name="rg",
        location="westeurope",
        short_name="sw-prod",
        insights_id="ai-id",
        site_ids={"westeurope-blue": "app-id", "westeurope-green": "slot-id"},
        rules=RULES,
        health_check_min_percent=100,
        emails=["oncall@example.com"],
        webhooks=["https://hooks.example.com/x"],
    )
    return RolloutAlertsArgs(**{**values, **overrides})


def test_action_group_has_email_and_webhook_receivers(record):
    ev = record(lambda: RolloutAlerts("alerts", alerts_args()) and None)
    group = only(ev, "azure-native:monitor:ActionGroup")
    assert [r["emailAddress"] for r in group.inputs["emailReceivers"]] == ["oncall@example.com"]
    assert [r["serviceUri"] for r in group.inputs["webhookReceivers"]] == ["https://hooks.example.com/x"]
    assert group.inputs["groupShortName"] == "sw-prod"


def test_error_share_and_latency_alerts_at_each_threshold(record):
    ev = record(lambda: RolloutAlerts("alerts", alerts_args()) and None)
    found = {}
    for rule in ev.of_type("azure-native:monitor:ScheduledQueryRule"):
        (condition,) = rule.inputs["criteria"]["allOf"]
        found[(condition["metricMeasureColumn"], rule.inputs["severity"])] = condition["threshold"]
        # Fired per version: one time series per application_Version, health probes left out.
        assert condition["dimensions"] == [{"name": "application_Version", "operator": "Include", "values": ["*"]}]
        assert "by application_Version" in condition["query"]
        assert 'parse_url(url).Path) != "/health"' in condition["query"]
        assert rule.inputs["scopes"] == ["ai-id"]
        assert rule.inputs["actions"]["actionGroups"] == ["alerts-actions-id"]
    assert found == {
        ("error_share", 2): 1.0,
        ("error_share", 0): 5.0,
        ("p95_ms", 2): 500,
        ("p95_ms", 0): 2000,
    }


def test_health_check_alert_per_colour(record):
    ev = record(lambda: RolloutAlerts("alerts", alerts_args()) and None)
    alerts = ev.of_type("azure-native:monitor:MetricAlert")
    assert sorted(a.inputs["scopes"][0] for a in alerts) == ["app-id", "slot-id"]
    for alert in alerts:
        (criterion,) = alert.inputs["criteria"]["allOf"]
        assert (criterion["metricName"], criterion["operator"], criterion["threshold"]) == (
            "HealthCheckStatus",
            "LessThan",
            100,
        )


def test_thresholds_follow_config():
    rules = alert_rules.rollout_log_rules(
        error_rate_warning=2.0, error_rate_critical=10.0, p95_warning_ms=800, p95_critical_ms=3000, min_requests=50
    )
    assert [r.threshold for r in rules] == [2.0, 10.0, 800, 3000]
