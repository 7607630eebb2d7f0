"""The gate's judgement: promote, hold or abort, from the metrics of the candidate and the live version.

Pure: no I/O, no clock. Given the limits, the time at the stage and what the provider measured,
`judge` returns the verdict and every piece of evidence behind it. The rules:

- Missing data never moves a rollout: no metrics (provider down, query error) or no candidate
  traffic is `hold`, and says which.
- `abort` when a limit is broken with enough candidate requests (the stage's minRequests): an
  absolute limit (error rate, p95) by its value; a limit relative to the live version only when
  its statistical test is significant too.
- `promote` when the bake time is over, there are enough requests and every limit is met.
- Otherwise `hold`, naming what it waits for: the bake time, more requests, or significance
  (a relative difference beyond its limit that the test cannot yet tell from chance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from scipy import stats

VerdictName = Literal["promote", "hold", "abort"]
HoldReason = Literal["no_metrics", "no_candidate_traffic", "bake", "samples", "significance"]
Status = Literal["pass", "warn", "fail", "wait", "skipped"]

# The p95 is the latency 95 % of requests stay under: a candidate p95 above a threshold means more
# than this share of its requests are slower than it.
P95_TAIL = 0.05


@dataclass(frozen=True)
class Limits:
    """What one stage's candidate must meet (from stagewise:analysis and the stage's own keys)."""

    bake: timedelta
    min_requests: int
    error_rate_warning: float  # percent
    error_rate_abort: float  # percent
    p95_warning_ms: float
    p95_abort_ms: float
    error_rate_increase_points: float
    p95_ratio: float
    significance: float


@dataclass(frozen=True)
class VersionMetrics:
    """One version's requests over the window. p95_ms is None when it served none."""

    version: str
    requests: float
    errors: float
    p95_ms: float | None

    @property
    def error_rate(self) -> float | None:
        """Percent of requests that failed (HTTP 5xx); None without requests."""
        return 100.0 * self.errors / self.requests if self.requests > 0 else None


@dataclass(frozen=True)
class Check:
    """One limit: the measured value against the limit, and the outcome."""

    name: str
    description: str
    value: float | None
    limit: float
    status: Status
    p_value: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    reason: str
    hold_reason: HoldReason | None = None
    checks: tuple[Check, ...] = field(default_factory=tuple)


def error_rate_increase_test(candidate: VersionMetrics, live: VersionMetrics, margin_points: float) -> float:
    """One-sided p-value that the candidate's error rate exceeds the live one's by more than
    `margin_points` percentage points: a two-proportion z-test against the margin, with the
    Agresti-Caffo adjustment (one error and one success added to each version) so that small
    samples and zero error counts still give a sensible variance."""
    pc = (candidate.errors + 1) / (candidate.requests + 2)
    pl = (live.errors + 1) / (live.requests + 2)
    se = math.sqrt(pc * (1 - pc) / (candidate.requests + 2) + pl * (1 - pl) / (live.requests + 2))
    z = (pc - pl - margin_points / 100.0) / se
    return float(stats.norm.sf(z))


def p95_exceeds_test(requests: float, slower: float) -> float:
    """One-sided p-value that more than 5 % of the candidate's requests are slower than the
    threshold, i.e. that its p95 is above it: an exact binomial test."""
    n = max(int(round(requests)), 1)
    k = min(max(int(round(slower)), 0), n)
    return float(stats.binomtest(k, n, P95_TAIL, alternative="greater").pvalue)


def _absolute(name: str, description: str, value: float | None, warning: float, abort: float, enough: bool) -> Check:
    if value is None:
        return Check(name, description, None, abort, "skipped", note="no value in the window")
    if value > abort:
        if enough:
            return Check(name, description, value, abort, "fail")
        return Check(name, description, value, abort, "wait", note="over the limit, but too few requests to abort")
    if value > warning:
        return Check(name, description, value, abort, "warn", note=f"above the warning level {warning:g}")
    return Check(name, description, value, abort, "pass")


def _relative_error_rate(candidate: VersionMetrics, live: VersionMetrics | None, limits: Limits, enough: bool) -> Check:
    name, description = "error_rate_vs_live", "error rate increase over live, percentage points"
    margin = limits.error_rate_increase_points
    if live is None or live.error_rate is None or candidate.error_rate is None:
        return Check(
            name, description, None, margin, "skipped", note="the live version served no requests in the window"
        )
    increase = candidate.error_rate - live.error_rate
    p_value = error_rate_increase_test(candidate, live, margin)
    if increase <= margin:
        return Check(name, description, increase, margin, "pass", p_value)
    if p_value < limits.significance and enough:
        return Check(name, description, increase, margin, "fail", p_value)
    why = "not significant yet" if p_value >= limits.significance else "significant, but too few requests to abort"
    return Check(name, description, increase, margin, "wait", p_value, note=why)


def _relative_p95(
    candidate: VersionMetrics, live: VersionMetrics | None, slower: float | None, limits: Limits, enough: bool
) -> Check:
    name, description = "p95_vs_live", "candidate p95 / live p95"
    limit = limits.p95_ratio
    if live is None or not live.p95_ms or candidate.p95_ms is None:
        return Check(name, description, None, limit, "skipped", note="the live version has no p95 in the window")
    ratio = candidate.p95_ms / live.p95_ms
    if slower is None:
        return Check(
            name,
            description,
            ratio,
            limit,
            "pass" if ratio <= limit else "wait",
            note="" if ratio <= limit else "no count of slow requests to test",
        )
    p_value = p95_exceeds_test(candidate.requests, slower)
    note = f"{slower:.0f} of {candidate.requests:.0f} candidate requests slower than {limit:g} x live p95"
    if ratio <= limit:
        return Check(name, description, ratio, limit, "pass", p_value, note)
    if p_value < limits.significance and enough:
        return Check(name, description, ratio, limit, "fail", p_value, note)
    why = "not significant yet" if p_value >= limits.significance else "significant, but too few requests to abort"
    return Check(name, description, ratio, limit, "wait", p_value, f"{note}; {why}")


def judge(
    limits: Limits,
    at_stage: timedelta,
    candidate: VersionMetrics | None,
    live: VersionMetrics | None,
    *,
    slower: float | None = None,
    problem: str | None = None,
) -> Verdict:
    """The verdict after `at_stage` at the stage. `slower`: candidate requests slower than
    p95_ratio x the live p95. `problem`: why the metrics could not be read (then hold)."""
    if problem is not None or candidate is None:
        return Verdict("hold", f"no metrics: {problem or 'the candidate could not be measured'}", "no_metrics")
    if candidate.requests <= 0:
        return Verdict(
            "hold",
            f"no candidate traffic: version {candidate.version} served no requests in the window",
            "no_candidate_traffic",
        )
    enough = candidate.requests >= limits.min_requests
    checks = (
        _absolute(
            "error_rate",
            "candidate error rate (HTTP 5xx), percent",
            candidate.error_rate,
            limits.error_rate_warning,
            limits.error_rate_abort,
            enough,
        ),
        _absolute(
            "p95",
            "candidate p95 response time, ms",
            candidate.p95_ms,
            limits.p95_warning_ms,
            limits.p95_abort_ms,
            enough,
        ),
        _relative_error_rate(candidate, live, limits, enough),
        _relative_p95(candidate, live, slower, limits, enough),
    )
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        return Verdict("abort", "limit broken: " + "; ".join(_shown(c) for c in failed), None, checks)
    if at_stage < limits.bake:
        left = limits.bake - at_stage
        return Verdict(
            "hold",
            f"bake time not over: {_hours(at_stage)} of {_hours(limits.bake)} at the stage ({_hours(left)} left)",
            "bake",
            checks,
        )
    if not enough:
        return Verdict(
            "hold",
            f"too few requests: {candidate.requests:.0f} of the {limits.min_requests} the stage needs",
            "samples",
            checks,
        )
    waiting = [c for c in checks if c.status == "wait"]
    if waiting:
        return Verdict(
            "hold",
            "waiting for statistical significance: " + "; ".join(_shown(c) for c in waiting),
            "significance",
            checks,
        )
    return Verdict("promote", "bake time over, enough requests, every limit met", None, checks)


def _shown(check: Check) -> str:
    p = f", p = {check.p_value:.3g}" if check.p_value is not None else ""
    return f"{check.name} {check.value:.4g} > {check.limit:g}{p}"


def _hours(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds % 60:02d}s"
