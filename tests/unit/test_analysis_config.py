"""stagewise:analysis and the per-stage gate keys: tier defaults, and one test per rule."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from stagewise.core.config import ConfigError, parse
from stagewise.core.gate_config import OTEL_LATENCY_BOUNDS_MS, format_duration, parse_duration


def base(environment: str = "production") -> dict:
    raw = {
        "environment": environment,
        "nameSeed": "t3stseed",
        "owner": "platform-team",
        "costCentre": "cc-1",
        "release": {"image": "demo", "blue": "1.4.2", "green": "1.5.0", "live": "blue", "stage": "canary"},
        "stages": [{"name": "canary", "weight": 5}, {"name": "full", "weight": 100}],
    }
    return raw


def with_analysis(environment: str = "production", **analysis) -> dict:
    raw = copy.deepcopy(base(environment))
    raw["analysis"] = analysis
    return raw


def problems(raw: dict) -> str:
    with pytest.raises(ConfigError) as err:
        parse(raw)
    return str(err.value)


@pytest.mark.parametrize(
    ("environment", "provider", "bake", "min_requests", "p95_abort_ms"),
    [
        ("dev", "appinsights", "30m", 50, 2000),
        ("staging", "appinsights", "24h", 100, 2000),
        ("production", "appinsights", "48h", 250, 2000),
        # Prometheus counts at its histogram's bounds: 2.5 s is the bound at or above the plans' 2 s.
        ("local", "prometheus", "5m", 50, 2500),
    ],
)
def test_tier_defaults(environment, provider, bake, min_requests, p95_abort_ms):
    gate = parse(base(environment)).analysis
    assert (gate.provider, format_duration(gate.bake), gate.min_requests) == (provider, bake, min_requests)
    # The rollout plans' numbers, on every tier.
    assert (gate.error_rate_warning, gate.error_rate_abort) == (1.0, 5.0)
    assert (gate.latency_p95_warning_ms, gate.latency_p95_abort_ms) == (500, p95_abort_ms)
    # Tolerances relative to live, and the false-abort rate the gate-quality benchmark holds them to.
    assert (gate.error_rate_ratio, gate.slow_requests_ratio) == (1.25, 1.5)
    assert gate.false_abort_rate == 0.02 and gate.step == timedelta(minutes=1)
    assert gate.latency_bounds_ms == OTEL_LATENCY_BOUNDS_MS


def test_local_reads_prometheus_on_loopback_by_default():
    assert parse(base("local")).analysis.url == "http://127.0.0.1:9090"


def test_a_stage_sets_its_own_bake_and_min_requests():
    raw = base()
    raw["stages"][0] |= {"bake": "1h30m", "minRequests": 1000}
    stage = parse(raw).stages[0]
    assert (stage.bake, stage.min_requests) == (timedelta(hours=1, minutes=30), 1000)
    assert parse(base()).stages[0].bake is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("24h", 86400), ("1h30m", 5400), ("2d", 172800), ("45s", 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"stages": [{"name": "canary", "weight": 5, "bake": "soon"}, {"name": "full", "weight": 100}]},
            ["stagewise:stages[0].bake", "'soon' is not a duration", "30m, 24h"],
        ),
        (
            {"stages": [{"name": "canary", "weight": 5, "minRequests": 0}, {"name": "full", "weight": 100}]},
            ["stagewise:stages[0].minRequests", "greater than or equal to 1", "0"],
        ),
        (
            {"analysis": {"provider": "datadog"}},
            ["stagewise:analysis.provider", "'prometheus' or 'appinsights'", "'datadog'"],
        ),
        ({"analysis": {"provider": "prometheus"}}, ["stagewise:analysis", "provider prometheus needs url"]),
        ({"analysis": {"url": "http://127.0.0.1:9090"}}, ["stagewise:analysis", "url is for provider prometheus"]),
        (
            {"analysis": {"provider": "prometheus", "url": "127.0.0.1:9090"}},
            ["stagewise:analysis.url", "'127.0.0.1:9090' is not an http:// or https:// URL"],
        ),
        (
            {"analysis": {"provider": "prometheus", "url": "http://p:9090", "resourceId": "/subscriptions/x"}},
            ["stagewise:analysis", "resourceId is for provider appinsights"],
        ),
        (
            {"environment": "local", "analysis": {"provider": "appinsights", "url": None}},
            ["stagewise:analysis.provider: appinsights", "the local stack has none, use prometheus"],
        ),
        (
            {"analysis": {"errorRateWarning": 6}},
            ["stagewise:analysis", "errorRateWarning (6.0) must be below errorRateAbort (5.0)"],
        ),
        (
            {"analysis": {"latencyP95AbortMs": 400}},
            ["stagewise:analysis", "latencyP95WarningMs (500.0) must be below latencyP95AbortMs (400.0)"],
        ),
        (
            {"analysis": {"errorRateAbort": 100}},
            ["stagewise:analysis.errorRateAbort", "less than 100", "100"],
        ),
        (
            {"analysis": {"slowRequestsRatio": 0.9}},
            ["stagewise:analysis.slowRequestsRatio", "greater than or equal to 1", "0.9"],
        ),
        (
            {"analysis": {"errorRateRatio": 0.5}},
            ["stagewise:analysis.errorRateRatio", "greater than or equal to 1", "0.5"],
        ),
        (
            {"analysis": {"falseAbortRate": 0.0001}},
            ["stagewise:analysis.falseAbortRate", "greater than or equal to 0.001", "0.0001"],
        ),
        (
            {"analysis": {"promoteMargin": 1.4}},
            ["stagewise:analysis", "promoteMargin (1.4) must be above slowRequestsRatio (1.5)"],
        ),
        ({"analysis": {"falseAbortRate": 0.2}}, ["stagewise:analysis.falseAbortRate", "less than or equal to 0.1"]),
        (
            {"analysis": {"errorRateIncreasePoints": 3}},
            [
                "stagewise:analysis",
                "errorRateIncreasePoints (3) is no longer read",
                "set errorRateRatio",
                "3 points at a 1 % baseline is errorRateRatio: 4",
            ],
        ),
        (
            {"analysis": {"latencyP95Ratio": 1.15}},
            ["stagewise:analysis", "latencyP95Ratio (1.15) is no longer read", "set slowRequestsRatio"],
        ),
        (
            {"analysis": {"significance": 0.05}},
            ["stagewise:analysis", "significance (0.05) is no longer read", "set falseAbortRate"],
        ),
        (
            {"environment": "local", "analysis": {"latencyP95AbortMs": 2000}},
            [
                "stagewise:analysis",
                "latencyP95AbortMs (2000) is not a bucket bound of the latency histogram",
                "the nearest bounds are 1000 and 2500 ms",
            ],
        ),
        (
            {"environment": "local", "analysis": {"latencyP95WarningMs": 400}},
            ["stagewise:analysis", "latencyP95WarningMs (400) is not a bucket bound", "250 and 500 ms"],
        ),
        (
            {"analysis": {"latencyBoundsMs": [100, 50]}},
            ["stagewise:analysis.latencyBoundsMs", "[100.0, 50.0] must be positive and strictly increasing"],
        ),
        ({"analysis": {"step": "5s"}}, ["stagewise:analysis", "step (5s) must be between 10s and 10m"]),
        ({"analysis": {"minRequests": 0}}, ["stagewise:analysis.minRequests", "greater than or equal to 1", "0"]),
        ({"analysis": {"timeout": "0s"}}, ["stagewise:analysis", "timeout (0s) must be between 1s and 5m"]),
        (
            {"analysis": {"queries": {"slowerThan": "requests | summarize slower = countif(duration > $limit)"}}},
            ["stagewise:analysis.queries.slowerThan", "uses $limit", "allowed placeholders: $thresholdMs"],
        ),
        (
            {"analysis": {"queries": {"slowerThan": "requests | summarize slower = countif(duration > 500)"}}},
            ["stagewise:analysis.queries.slowerThan", "must use $thresholdMs"],
        ),
        (
            {
                "analysis": {
                    "queries": {"p95": "requests | extend x = '$' | summarize p95_ms = percentile(duration, 95)"}
                }
            },
            ["stagewise:analysis.queries.p95", "'$' that starts no placeholder"],
        ),
        (
            {"analysis": {"queries": {"requests": "requests_total{version=$version}"}}},
            ["stagewise:analysis", "queries.requests is not a appinsights query", "errorShare, p95, slowerThan"],
        ),
        ({"analysis": {"queries": {"sumary": "x"}}}, ["stagewise:analysis.queries.sumary: unknown key"]),
        (
            {"analysis": {"autoPromote": True}},
            ["stagewise:analysis.autoPromote", "production", "pull request", "must be false"],
        ),
    ],
    ids=[
        "stage-bake",
        "stage-min-requests",
        "provider",
        "prometheus-without-url",
        "url-for-appinsights",
        "url-scheme",
        "resource-id-for-prometheus",
        "appinsights-off-azure",
        "error-warning-above-abort",
        "p95-warning-above-abort",
        "error-abort-100",
        "slow-ratio-below-1",
        "error-ratio-below-1",
        "false-abort-rate-below-floor",
        "promote-margin-within-tolerance",
        "false-abort-rate-above-0.1",
        "retired-points",
        "retired-p95-ratio",
        "retired-significance",
        "p95-abort-between-bounds",
        "p95-warning-between-bounds",
        "bounds-not-increasing",
        "step",
        "min-requests-0",
        "timeout",
        "unknown-placeholder",
        "missing-version",
        "stray-dollar",
        "query-of-the-other-provider",
        "unknown-query",
        "auto-promote-production",
    ],
)
def test_bad_gate_config_is_refused_with_key_value_and_what_is_allowed(change, expected):
    raw = copy.deepcopy(base())
    for key, value in change.items():
        if key == "analysis":
            raw["analysis"] = value
        else:
            raw[key] = value
    message = problems(raw)
    for fragment in expected:
        assert fragment in message, message


def test_a_prometheus_query_template_is_checked_too():
    raw = with_analysis("local", queries={"errors": "x_count{v=$version, code=~$version}"})
    assert "stagewise:analysis.queries.errors" in problems(raw)
    assert "$version other than as the value of one = matcher" in problems(raw)


@pytest.mark.parametrize(
    ("key", "template", "why"),
    [
        (
            "requests",
            "sum(increase(http_server_request_duration_seconds_count{service_version=$version}[$window]))",
            "uses $window: the gate reads every raw sample of the selector and counts each step itself",
        ),
        (
            "errors",
            'sum(rate(x_count{v=$version,code=~"5.."}[1m]))',
            "cannot give exact counts: it applies sum() to the counter: the gate reads each series' raw samples",
        ),
        (
            "durationBuckets",
            "sum by (le) (x_bucket{v=$version})",
            "cannot give exact counts: it applies sum() to the counter",
        ),
        ("requests", "up{job=$version}", "cannot give exact counts: it selects up, which is not a counter"),
        ("durationBuckets", "x_count{v=$version}", "selects x_count, which is not a counter of this kind"),
        ("requests", "x_count{v=$version}[5m]", "has '[5m]' after the selector"),
        ("requests", "x_count{v=$version} offset 1m", "has 'offset 1m' after the selector"),
        ("requests", 'x_count{v="1.0"}', "must use $version"),
        ("durationBuckets", 'x_bucket{v=$version, le="0.5"}', "matches le: the gate asks for the bucket bounds"),
    ],
    ids=["increase", "rate", "sum-by-le", "gauge", "count-as-buckets", "range", "offset", "no-version", "le"],
)
def test_a_prometheus_template_that_cannot_give_exact_counts_is_refused_with_why(key, template, why):
    message = problems(with_analysis("local", queries={key: template}))
    assert f"stagewise:analysis.queries.{key}" in message and why in message, message


def test_plain_counter_selectors_are_accepted():
    parse(
        with_analysis(
            "local",
            queries={
                "requests": 'app_requests_total{job="checkout", version=$version}',
                "errors": 'app_requests_total{job="checkout", version=$version, code=~"5.."}',
                "durationBuckets": "app_latency_seconds_bucket{version=$version}",
            },
        )
    )


def test_shipped_stacks_parse_with_a_gate():
    from stagewise.formats import stackfile

    root = stackfile.project_root()
    for path in root.glob("Pulumi.*.yaml"):
        config, _ = stackfile.stack_config((root / "Pulumi.yaml").read_text(), path.read_text(), path.name)
        raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("stagewise:")}
        raw["secrets"] = {}
        assert parse(raw).analysis.provider in ("prometheus", "appinsights"), path.name
