"""Rollout alert rules: what each alert measures and when it fires.

Pure: no Pulumi import. The HTTP 5xx share and the p95 latency are ratios and percentiles,
which Azure Monitor metric alerts cannot aggregate, so they are log alerts over the
Application Insights `requests` table; the health check is a metric alert on the web app.
"""

from __future__ import annotations

from dataclasses import dataclass

# Azure Monitor severities: 0 critical, 1 error, 2 warning.
CRITICAL = 0
WARNING = 2


@dataclass(frozen=True)
class LogRule:
    name: str
    description: str
    severity: int
    query: str
    measure: str  # the query column compared with the threshold
    threshold: float


ERROR_SHARE_QUERY = (
    "requests | summarize error_share = 100.0 * countif(toint(resultCode) >= 500) / count()"
)
P95_QUERY = "requests | summarize p95_ms = percentile(duration, 95)"


def rollout_log_rules(
    *, error_rate_warning: float, error_rate_critical: float, p95_warning_ms: int, p95_critical_ms: int
) -> list[LogRule]:
    return [
        LogRule("http-5xx-warning", f"HTTP 5xx share above {error_rate_warning} %", WARNING,
                ERROR_SHARE_QUERY, "error_share", error_rate_warning),
        LogRule("http-5xx-critical", f"HTTP 5xx share above {error_rate_critical} %", CRITICAL,
                ERROR_SHARE_QUERY, "error_share", error_rate_critical),
        LogRule("latency-p95-warning", f"p95 response time above {p95_warning_ms} ms", WARNING,
                P95_QUERY, "p95_ms", p95_warning_ms),
        LogRule("latency-p95-critical", f"p95 response time above {p95_critical_ms} ms", CRITICAL,
                P95_QUERY, "p95_ms", p95_critical_ms),
    ]


def action_group_short_name(stack: str) -> str:
    """Azure allows at most 12 characters."""
    return f"sw-{stack}"[:12]
