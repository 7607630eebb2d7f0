"""The per-version queries every reader of the rollout metrics shares."""

import pytest

from stagewise.core import alert_rules


def test_the_error_share_query_is_per_version_without_health_probes():
    assert alert_rules.per_version_query("error_share") == (
        'requests | where tostring(parse_url(url).Path) != "/health"'
        " | summarize error_share = 100.0 * countif(toint(resultCode) >= 500) / count(), requests = count()"
        " by application_Version"
    )


def test_the_p95_query_leaves_out_the_configured_probe_path():
    query = alert_rules.per_version_query("p95_ms", "/healthz")
    assert '!= "/healthz"' in query and "p95_ms = percentile(duration, 95)" in query
    assert query.endswith("by application_Version")


@pytest.mark.parametrize(
    ("measure", "path", "message"),
    [
        ("apdex", "/health", "unknown measure 'apdex'; known: error_share, p95_ms"),
        ("error_share", "health", "must start with '/'"),
        ("error_share", '/h"; drop', "hold no quote"),
    ],
)
def test_bad_arguments_are_refused(measure, path, message):
    with pytest.raises(ValueError, match=message):
        alert_rules.per_version_query(measure, path)


def test_every_rollout_rule_uses_the_shared_query_and_splits_by_version():
    rules = alert_rules.rollout_log_rules(
        error_rate_warning=1,
        error_rate_critical=5,
        p95_warning_ms=500,
        p95_critical_ms=2000,
        min_requests=250,
        health_path="/healthz",
    )
    for rule in rules:
        assert rule.query == alert_rules.per_version_query(rule.measure, "/healthz") + " | where requests >= 250"
        assert rule.split_by == alert_rules.VERSION_COLUMN


def test_an_alert_never_judges_a_version_on_a_handful_of_requests():
    with pytest.raises(ValueError, match="min_requests \\(3\\) must be at least 10"):
        alert_rules.with_min_requests(alert_rules.ERROR_SHARE_QUERY, 3)
