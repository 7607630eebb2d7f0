"""Rollout alert rules and the per-version queries they run: what each alert measures and when it fires.

Pure: no Pulumi import. The HTTP 5xx share and the p95 latency are ratios and percentiles,
which Azure Monitor metric alerts cannot aggregate, so they are log alerts over the
Application Insights `requests` table; the health check is a metric alert on each site and slot.

Every query is computed per version and leaves out the health-probe path, so that a candidate
at a 5 % canary is judged on its own requests: blended with the live colour, a candidate that
fails every request moves the share to about 5 % only. The version is the `application_Version`
column: each colour's settings carry OTEL_RESOURCE_ATTRIBUTES=service.version=<tag>, which the
Azure Monitor OpenTelemetry exporters write as the `ai.application.ver` tag (Azure SDK exporter,
ResourceParser: service.version -> AI_APPLICATION_VER), stored as `application_Version`
(MicrosoftDocs/azure-monitor-docs, azure-monitor/app/data-model-complete.md, Context: "The
application version is used to analyze trend changes in the application behavior and its
correlation to the deployments").

Anything else that reads these metrics (a stage gate, a report) uses `per_version_query`, so the
alerts and every other reader agree on what "the candidate's error share" is.
"""

from __future__ import annotations

from dataclasses import dataclass

from stagewise.core.tiers import ALERT_MIN_REQUESTS, HEALTH_PATH

# Azure Monitor severities: 0 critical, 1 error, 2 warning.
CRITICAL = 0
WARNING = 2

VERSION_COLUMN = "application_Version"
"""The requests column holding the version (service.version) that served the request."""


# Measure column -> the aggregation that computes it over one version's requests.
MEASURES: dict[str, str] = {
    "error_share": "100.0 * countif(toint(resultCode) >= 500) / count()",
    "p95_ms": "percentile(duration, 95)",
}


def per_version_query(measure: str, health_path: str = HEALTH_PATH, bin_minutes: int | None = None) -> str:
    """KQL over Application Insights `requests`: `measure` and the request count per version,
    health probes left out. Columns: application_Version, <measure>, requests; with `bin_minutes`,
    per version and time bin too (a `timestamp` column: the start of each bin), for a chart."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}")
    if not health_path.startswith("/") or '"' in health_path:
        raise ValueError(f"health_path {health_path!r} must start with '/' and hold no quote")
    if bin_minutes is not None and bin_minutes < 1:
        raise ValueError(f"bin_minutes ({bin_minutes}) must be at least 1")
    by = VERSION_COLUMN if bin_minutes is None else f"{VERSION_COLUMN}, bin(timestamp, {bin_minutes}m)"
    return (
        "requests"
        f' | where tostring(parse_url(url).Path) != "{health_path}"'
        f" | summarize {measure} = {MEASURES[measure]}, requests = count() by {by}"
    )


def served_share_query(health_path: str = HEALTH_PATH, bin_minutes: int = 5) -> str:
    """KQL: each version's share (%) of the requests served in each time bin, from the same per-version
    counts the alerts read: the stage as the traffic shows it. Columns: timestamp, application_Version, share."""
    counts = per_version_query("error_share", health_path, bin_minutes)
    return (
        f"let served = {counts};"
        " served | join kind=inner (served | summarize total = sum(requests) by timestamp) on timestamp"
        f" | project timestamp, {VERSION_COLUMN}, share = round(100.0 * requests / total, 1)"
    )


ERROR_SHARE_QUERY = per_version_query("error_share")
P95_QUERY = per_version_query("p95_ms")


@dataclass(frozen=True)
class LogRule:
    name: str
    description: str
    severity: int
    query: str
    measure: str  # the query column compared with the threshold
    threshold: float
    split_by: str = VERSION_COLUMN  # the alert fires per value of this column (one alert per version)


def with_min_requests(query: str, min_requests: int) -> str:
    """The per-version query, keeping only versions with at least `min_requests` requests in the window:
    one 5xx among a handful of requests is no evidence, and would page at severity 0."""
    if min_requests < ALERT_MIN_REQUESTS:
        raise ValueError(f"min_requests ({min_requests}) must be at least {ALERT_MIN_REQUESTS}")
    return f"{query} | where requests >= {min_requests}"


def rollout_log_rules(
    *,
    error_rate_warning: float,
    error_rate_critical: float,
    p95_warning_ms: int,
    p95_critical_ms: int,
    min_requests: int,
    health_path: str = HEALTH_PATH,
) -> list[LogRule]:
    """`min_requests`: the fewest requests a version must have served in the rule's window before it is
    judged (stagewise:alerts.minRequests, by default the stage gate's analysis.minRequests)."""
    errors = with_min_requests(per_version_query("error_share", health_path), min_requests)
    p95 = with_min_requests(per_version_query("p95_ms", health_path), min_requests)
    return [
        LogRule(
            "http-5xx-warning",
            f"HTTP 5xx share of a version above {error_rate_warning} %",
            WARNING,
            errors,
            "error_share",
            error_rate_warning,
        ),
        LogRule(
            "http-5xx-critical",
            f"HTTP 5xx share of a version above {error_rate_critical} %",
            CRITICAL,
            errors,
            "error_share",
            error_rate_critical,
        ),
        LogRule(
            "latency-p95-warning",
            f"p95 response time of a version above {p95_warning_ms} ms",
            WARNING,
            p95,
            "p95_ms",
            p95_warning_ms,
        ),
        LogRule(
            "latency-p95-critical",
            f"p95 response time of a version above {p95_critical_ms} ms",
            CRITICAL,
            p95,
            "p95_ms",
            p95_critical_ms,
        ),
    ]


def action_group_short_name(stack: str) -> str:
    """Azure allows at most 12 characters."""
    return f"sw-{stack}"[:12]
