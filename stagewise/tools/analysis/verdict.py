"""The gate's judgement: promote, hold or abort, from the evidence of the candidate and the live version.

Pure: no I/O, no clock. The evidence is a fixed grid from the stage's start: at every step (e.g.
each minute) each version's counts since the stage began (requests, HTTP 5xx errors, requests at
or below each latency bucket bound). `Judge` takes the steps one at a time and keeps one
anytime-valid e-process per check (stagewise.core.sequential), so the verdict at time t depends
only on the evidence up to t, not on how often anyone looked. `analyze`, `watch` and `replay` all
judge through it.

The checks, all one-sided (a check can only find the candidate worse):
- `error_rate`: the candidate's error rate is above `errorRateAbort` (tested, not point-estimated).
- `p95`: more than 5 % of the candidate's requests are slower than `latencyP95AbortMs`, i.e. its p95
  is above it, counted exactly at a bucket bound (the lowest bound at or above the limit).
- `error_rate_vs_live`: the candidate's error rate is above `errorRateRatio` times live's.
- `p95_vs_live`: the candidate's share of requests slower than the slow bound is above
  `slowRequestsRatio` times live's. The slow bound is chosen from live's counts alone, before the
  evidence it judges: the lowest bucket bound that at most 20 % of live's requests exceed, read at the
  first step where live has served 100 requests; the check's evidence starts after that step.

The rules:
- Missing data never moves a rollout: no metrics or no candidate traffic is `hold`, and says which.
- `abort` as soon as a check's e-process reaches (number of checks) / `falseAbortRate`: then a
  candidate within every limit is aborted with probability at most `falseAbortRate`, for any number
  of looks, across all checks. No minimum sample: strong evidence aborts at once.
- `promote` when the bake time is over, the stage's `minRequests` are in, and no check holds
  evidence against the candidate (an e-value above the square root of the abort level holds).
- Otherwise `hold`, naming what it waits for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

from stagewise.core import sequential
from stagewise.core.gate_config import P95_TAIL, bound_at_or_above

VerdictName = Literal["promote", "hold", "abort"]
HoldReason = Literal["no_metrics", "no_candidate_traffic", "bake", "samples", "significance"]
Status = Literal["pass", "warn", "fail", "wait", "skipped"]

CHECKS = ("error_rate", "p95", "error_rate_vs_live", "p95_vs_live")
SHARES = {"error_rate": 1 / 3, "p95": 1 / 6, "error_rate_vs_live": 1 / 3, "p95_vs_live": 1 / 6}
"""Each check's share of falseAbortRate (a weighted union bound over the checks). Errors are rare:
a handful of events must decide, where every nat of threshold counts; a latency check sees about a
fifth of all requests, where a higher threshold costs little time."""
SLOW_SHARE_MAX = 0.20
"""The slow bound is the lowest bound that at most this share of live's requests exceed."""
SLOW_BOUND_REQUESTS = 100
"""Live requests needed before the slow bound is chosen."""
REGRESSION = 2.0
"""The regression each verdict says it could, or could not yet, tell from healthy (x live's rate)."""


@dataclass(frozen=True)
class Limits:
    """What one stage's candidate must meet (from stagewise:analysis and the stage's own keys)."""

    bake: timedelta
    min_requests: int
    error_rate_warning: float  # percent
    error_rate_abort: float  # percent
    p95_warning_ms: float
    p95_abort_ms: float
    error_rate_ratio: float
    slow_requests_ratio: float
    false_abort_rate: float

    def threshold(self, check: str) -> float:
        """The e-value at which `check` aborts."""
        return sequential.threshold(self.false_abort_rate, SHARES[check])


@dataclass(frozen=True)
class Counts:
    """One version's counts since the stage began. `buckets[i]`: requests at or below bounds[i]."""

    requests: float
    errors: float
    buckets: tuple[float, ...] = ()


@dataclass(frozen=True)
class Sample:
    """The evidence at one step: `t` seconds after the stage began, both versions' cumulative counts."""

    t: float
    live: Counts
    candidate: Counts


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
    """One limit: the measured value against the limit, the evidence, and the outcome.

    `p_value` is always valid (1 / the e-process's peak); `e_value` the e-process now; `detectable`
    the regression the evidence so far could detect, in the unit of `limit`."""

    name: str
    description: str
    value: float | None
    limit: float
    status: Status
    p_value: float | None = None
    note: str = ""
    e_value: float | None = None
    detectable: float | None = None
    threshold: float | None = None
    """The e-value at which this check aborts."""

    def to_dict(self) -> dict[str, Any]:
        """As `analyze --json` and `replay --json` write it (docs/analysis.schema.json)."""
        return {
            "name": self.name,
            "description": self.description,
            "value": self.value,
            "limit": self.limit,
            "status": self.status,
            "pValue": self.p_value,
            "note": self.note,
            "eValue": self.e_value,
            "threshold": self.threshold,
            "detectable": self.detectable,
        }


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    reason: str
    hold_reason: HoldReason | None = None
    checks: tuple[Check, ...] = field(default_factory=tuple)
    decided_at: float | None = None
    """Seconds after the stage began of the step that decided an abort."""


def p95_bound(bounds: Sequence[float], buckets: Sequence[float], requests: float) -> float | None:
    """The p95 as the buckets state it without interpolation: the lowest bound (seconds) at or below
    which at least 95 % of the requests are; inf above the highest bound, None without requests."""
    if requests <= 0:
        return None
    for bound, count in zip(bounds, buckets):
        if count >= (1 - P95_TAIL) * requests:
            return bound
    return math.inf


def _slow(counts: Counts, index: int) -> float:
    return max(counts.requests - counts.buckets[index], 0.0) if index < len(counts.buckets) else 0.0


def _minutes(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class Judge:
    """The gate over one stage: feed it the evidence step by step (`add`), ask for the verdict.

    `bounds`: the latency histogram's finite bucket bounds, seconds, ascending."""

    def __init__(self, limits: Limits, bounds: Sequence[float], step: float, candidate: str = "the candidate"):
        self.limits, self.bounds, self.step, self.candidate = limits, tuple(bounds), step, candidate
        self.thresholds = {name: limits.threshold(name) for name in CHECKS}
        self.processes = {name: sequential.EProcess() for name in CHECKS}
        self.crossed: dict[str, float] = {}
        zero = Counts(0.0, 0.0, tuple(0.0 for _ in self.bounds))
        self.last = Sample(0.0, zero, zero)
        self.abort_bound = bound_at_or_above(self.bounds, limits.p95_abort_ms / 1000.0)
        self.warning_bound = bound_at_or_above(self.bounds, limits.p95_warning_ms / 1000.0)
        self.slow_index: int | None = None
        self.slow_from: Sample | None = None  # the counts when the slow bound was chosen
        self.steps = 0

    def add(self, sample: Sample) -> None:
        """The next step's cumulative counts (t a multiple of the step, after the last one)."""
        behind = max(int(round((sample.t - self.last.t) / self.step)), 1)
        for _ in range(behind - 1):  # steps without a sample: their counts arrive with this one
            for process in self.processes.values():
                process.update(0.0, 0.0, 1.0)
        previous, self.last = self.last, sample
        self.steps += behind
        live, cand = _delta(sample.live, previous.live), _delta(sample.candidate, previous.candidate)
        share = cand.requests / live.requests if live.requests > 0 else math.inf
        limits = self.limits
        p_abort = limits.error_rate_abort / 100.0
        self._update("error_rate", sample.t, cand.errors, cand.requests, p_abort / (1 - p_abort))
        if self.abort_bound is not None:
            index = self.abort_bound
            slow = min(max(cand.requests - cand.buckets[index], 0.0), cand.requests)
            self._update("p95", sample.t, slow, cand.requests, P95_TAIL / (1 - P95_TAIL))
        else:
            self._update("p95", sample.t, 0.0, 0.0, 1.0)
        self._update(
            "error_rate_vs_live", sample.t, cand.errors, cand.errors + live.errors, limits.error_rate_ratio * share
        )
        if self.slow_index is None:
            self._update("p95_vs_live", sample.t, 0.0, 0.0, 1.0)
            if self.bounds and sample.live.requests >= SLOW_BOUND_REQUESTS:
                self.slow_index = _slow_bound(self.bounds, sample.live)
                self.slow_from = sample
        else:
            index = self.slow_index
            slow_c = min(max(cand.requests - cand.buckets[index], 0.0), cand.requests)
            slow_l = min(max(live.requests - live.buckets[index], 0.0), live.requests)
            self._update("p95_vs_live", sample.t, slow_c, slow_c + slow_l, limits.slow_requests_ratio * share)

    def _update(self, name: str, t: float, x: float, m: float, odds0: float) -> None:
        value = self.processes[name].update(x, m, odds0)
        if value >= self.thresholds[name] and name not in self.crossed:
            self.crossed[name] = t

    def decide(self, at_stage: timedelta) -> tuple[VerdictName, HoldReason | None]:
        """The decision alone, `at_stage` after the stage began (what `verdict` explains)."""
        limits = self.limits
        if self.last.candidate.requests <= 0:
            return "hold", "no_candidate_traffic"
        if self.crossed:
            return "abort", None
        if at_stage < limits.bake:
            return "hold", "bake"
        if self.last.candidate.requests < limits.min_requests:
            return "hold", "samples"
        if any(p.value >= math.sqrt(self.thresholds[name]) for name, p in self.processes.items()):
            return "hold", "significance"
        return "promote", None

    def verdict(self, at_stage: timedelta, *, describe: bool = True) -> Verdict:
        """The verdict `at_stage` after the stage began, from the steps added so far, with its
        evidence. `describe`: also compute what each check could detect."""
        limits, cand = self.limits, self.last.candidate
        decided, held = self.decide(at_stage)
        checks = self.checks(describe)
        if held == "no_candidate_traffic":
            reason = f"no candidate traffic: {self.candidate} served no requests in the {self.steps} steps judged"
            return Verdict("hold", reason, held, checks)
        if decided == "abort":
            failed = [c for c in checks if c.status == "fail"]
            first = min(self.crossed.values())
            reason = "limit broken: " + "; ".join(_shown(c) for c in failed)
            return Verdict("abort", f"{reason} (evidence conclusive at {_minutes(first)})", None, checks, first)
        sensitivity = self.sensitivity() if describe else ""
        if held == "bake":
            left = limits.bake - at_stage
            reason = (
                f"bake time not over: {_hours(at_stage)} of {_hours(limits.bake)} at the stage ({_hours(left)} left)"
            )
            return Verdict("hold", reason + sensitivity, held, checks)
        if held == "samples":
            reason = f"too few requests: {cand.requests:.0f} of the {limits.min_requests} the stage needs"
            return Verdict("hold", reason + sensitivity, held, checks)
        if held == "significance":
            waiting = [c for c in checks if c.status == "wait"]
            reason = "evidence against the candidate is building: " + "; ".join(
                f"{c.name} e-value {c.e_value:.3g} (aborts at {self.thresholds[c.name]:g})" for c in waiting
            )
            return Verdict("hold", reason, held, checks)
        return Verdict("promote", "bake time over, enough requests, no limit broken" + sensitivity, None, checks)

    def checks(self, describe: bool = True) -> tuple[Check, ...]:
        made = (
            self._error_rate(describe),
            self._p95(describe),
            self._error_ratio(describe),
            self._slow_ratio(describe),
        )
        return tuple(replace(c, threshold=self.thresholds[c.name]) for c in made)

    def _status(self, name: str, warn: bool) -> Status:
        process = self.processes[name]
        if name in self.crossed:
            return "fail"
        if process.value >= math.sqrt(self.thresholds[name]):
            return "wait"
        return "warn" if warn else "pass"

    def _error_rate(self, describe: bool) -> Check:
        limits, cand = self.limits, self.last.candidate
        process = self.processes["error_rate"]
        rate = 100.0 * cand.errors / cand.requests if cand.requests > 0 else None
        warn = rate is not None and rate > limits.error_rate_warning
        detectable = None
        if describe:
            p = limits.error_rate_abort / 100.0
            k = sequential.detectable_odds(cand.requests, p / (1 - p), self.thresholds["error_rate"])
            detectable = None if k is None else 100.0 * _share(k, p)
        note = f"above the warning level {limits.error_rate_warning:g}" if warn else ""
        return Check(
            "error_rate",
            "candidate error rate (HTTP 5xx), percent",
            rate,
            limits.error_rate_abort,
            "skipped" if rate is None else self._status("error_rate", warn),
            process.p_value,
            note,
            process.value,
            detectable,
        )

    def _p95(self, describe: bool) -> Check:
        limits, cand = self.limits, self.last.candidate
        name, description = "p95", "candidate p95 response time, ms"
        if self.abort_bound is None:
            highest = f"{self.bounds[-1] * 1000:g} ms" if self.bounds else "none"
            return Check(
                name,
                description,
                None,
                limits.p95_abort_ms,
                "skipped",
                note=f"no bucket bound at or above {limits.p95_abort_ms:g} ms (highest: {highest})",
            )
        process = self.processes[name]
        upper = p95_bound(self.bounds, cand.buckets, cand.requests)
        value = None if upper is None or math.isinf(upper) else upper * 1000.0
        bound_ms = self.bounds[self.abort_bound] * 1000.0
        slow = 100.0 * _slow(cand, self.abort_bound) / cand.requests if cand.requests > 0 else 0.0
        notes = [f"{slow:.3g} % of candidate requests slower than {bound_ms:g} ms (a p95 above it: over 5 %)"]
        if bound_ms != limits.p95_abort_ms:
            notes.append(f"tested at {bound_ms:g} ms, the lowest bucket bound at or above the limit")
        if upper is not None and math.isinf(upper):
            notes.append("p95 above the highest bucket bound")
        warn = False
        if self.warning_bound is not None and cand.requests > 0:
            warn = _slow(cand, self.warning_bound) > P95_TAIL * cand.requests
        if warn:
            notes.append(f"above the warning level {limits.p95_warning_ms:g}")
        detectable = None
        if describe:
            k = sequential.detectable_odds(cand.requests, P95_TAIL / (1 - P95_TAIL), self.thresholds[name])
            detectable = None if k is None else 100.0 * _share(k, P95_TAIL)
            if detectable is not None:
                notes.append(f"detectable: over {detectable:.3g} % slower than {bound_ms:g} ms")
        return Check(
            name,
            description,
            value,
            limits.p95_abort_ms,
            "skipped" if cand.requests <= 0 else self._status(name, warn),
            process.p_value,
            "; ".join(notes),
            process.value,
            detectable,
        )

    def _error_ratio(self, describe: bool) -> Check:
        limits, live, cand = self.limits, self.last.live, self.last.candidate
        name, description = "error_rate_vs_live", "candidate error rate / live error rate"
        if live.requests <= 0:
            return Check(
                name,
                description,
                None,
                limits.error_rate_ratio,
                "skipped",
                note="the live version served no requests",
            )
        notes = [f"{cand.errors:.0f} errors of {cand.requests:.0f} (live: {live.errors:.0f} of {live.requests:.0f})"]
        if _ratio(cand.errors, cand.requests, live.errors, live.requests) is None and cand.errors > 0:
            notes.append("live had no errors")
        return self._relative(
            name,
            description,
            "errors",
            (cand.errors, cand.requests),
            (live.errors, live.requests),
            limits.error_rate_ratio,
            notes,
            describe,
        )

    def _relative(
        self,
        name: str,
        description: str,
        what: str,
        candidate: tuple[float, float],
        live: tuple[float, float],
        limit: float,
        notes: list[str],
        describe: bool,
    ) -> Check:
        """A check of the candidate's share of bad requests against live's, as a ratio at most `limit`:
        candidate and live are (bad, requests) counts over the evidence the check judges."""
        process = self.processes[name]
        (cand_bad, cand_n), (live_bad, live_n) = candidate, live
        value = _ratio(cand_bad, cand_n, live_bad, live_n)
        warn = value is not None and value > limit
        detectable = None
        if describe:
            detectable = _detectable_ratio(cand_n, live_bad, live_n, limit, self.thresholds[name])
            notes.append(self._reach(what, detectable, cand_n, live_bad, live_n, limit, self.thresholds[name]))
        return Check(
            name,
            description,
            value,
            limit,
            self._status(name, warn),
            process.p_value,
            "; ".join(n for n in notes if n),
            process.value,
            detectable,
        )

    def _slow_ratio(self, describe: bool) -> Check:
        limits, live, cand = self.limits, self.last.live, self.last.candidate
        name = "p95_vs_live"
        if self.slow_index is None or self.slow_from is None:
            why = (
                "the live version served no requests"
                if live.requests <= 0
                else f"waiting for {SLOW_BOUND_REQUESTS} live requests to choose the slow bound"
            )
            return Check(
                name,
                "candidate share of slow requests / live's",
                None,
                limits.slow_requests_ratio,
                "skipped",
                note=why,
            )
        index, since = self.slow_index, self.slow_from
        bound_ms = self.bounds[index] * 1000.0
        description = f"candidate share of requests slower than {bound_ms:g} ms / live's"
        cand_n, live_n = cand.requests - since.candidate.requests, live.requests - since.live.requests
        cand_slow = _slow(cand, index) - _slow(since.candidate, index)
        live_slow = _slow(live, index) - _slow(since.live, index)
        notes = [
            f"slow bound {bound_ms:g} ms (at most {SLOW_SHARE_MAX:.0%} of live above it at {_minutes(since.t)}); "
            f"since then {cand_slow:.0f} of {cand_n:.0f} candidate requests slower (live: {live_slow:.0f} of {live_n:.0f})"
        ]
        return self._relative(
            name,
            description,
            "slow requests",
            (cand_slow, cand_n),
            (live_slow, live_n),
            limits.slow_requests_ratio,
            notes,
            describe,
        )

    def _reach(
        self,
        what: str,
        detectable: float | None,
        cand_n: float,
        live_events: float,
        live_n: float,
        tolerance: float,
        level: float,
    ) -> str:
        if detectable is not None and detectable <= REGRESSION:
            return f"a {REGRESSION:g}x regression of {what} would show: detectable from {detectable:.3g}x"
        seconds = self.time_to_detect(cand_n, live_events, live_n, tolerance, level)
        shown = "" if detectable is None else f"detectable so far: {detectable:.3g}x; "
        if seconds is None:
            return f"{shown}too little traffic to tell a {REGRESSION:g}x regression of {what} from healthy"
        return f"{shown}a {REGRESSION:g}x regression of {what} needs about {_minutes(seconds)} at this traffic"

    def time_to_detect(
        self, cand_n: float, live_events: float, live_n: float, tolerance: float, level: float
    ) -> float | None:
        """Seconds at the stage, at the traffic so far, for a REGRESSION x rate to show (None: never)."""
        elapsed = self.last.t
        if elapsed <= 0 or cand_n <= 0 or live_n <= 0:
            return None
        low, high = 1.0, 1e3  # multiples of the time so far
        ratio = tolerance

        def shows(scale: float) -> bool:
            found = _detectable_ratio(cand_n * scale, max(live_events, 0.5) * scale, live_n * scale, ratio, level)
            return found is not None and found <= REGRESSION

        if ratio >= REGRESSION or not shows(high):
            return None
        if shows(low):
            return elapsed
        for _ in range(50):
            mid = math.sqrt(low * high)
            low, high = (low, mid) if shows(mid) else (mid, high)
            if high / low < 1.01:
                break
        return elapsed * high

    def sensitivity(self) -> str:
        """A sentence for the verdict when the traffic is too low to tell a 2x regression of errors
        from healthy within the bake; empty otherwise."""
        live, cand = self.last.live, self.last.candidate
        if live.requests <= 0 or cand.requests <= 0 or self.last.t <= 0:
            return ""
        seconds = self.time_to_detect(
            cand.requests,
            live.errors,
            live.requests,
            self.limits.error_rate_ratio,
            self.thresholds["error_rate_vs_live"],
        )
        bake = self.limits.bake.total_seconds()
        if seconds is not None and seconds <= max(bake, self.last.t):
            return ""
        rate = cand.requests / self.last.t * 60.0
        needs = "longer than 1000 x the time so far" if seconds is None else f"about {_minutes(seconds)}"
        return (
            f"; too little traffic to tell a {REGRESSION:g}x error regression from healthy within the bake: "
            f"at {rate:.3g} candidate requests/min it takes {needs}"
        )


def _delta(now: Counts, before: Counts) -> Counts:
    buckets = tuple(max(a - b, 0.0) for a, b in zip(now.buckets, before.buckets or tuple(0.0 for _ in now.buckets)))
    return Counts(max(now.requests - before.requests, 0.0), max(now.errors - before.errors, 0.0), buckets)


def _slow_bound(bounds: Sequence[float], live: Counts) -> int:
    for index, count in enumerate(live.buckets):
        if live.requests - count <= SLOW_SHARE_MAX * live.requests:
            return index
    return len(bounds) - 1


def _share(k: float, p0: float) -> float:
    odds = k * p0 / (1 - p0)
    return odds / (1 + odds)


def _ratio(cand_x: float, cand_n: float, live_x: float, live_n: float) -> float | None:
    if cand_n <= 0 or live_n <= 0 or live_x <= 0:
        return None
    return (cand_x / cand_n) / (live_x / live_n)


def _detectable_ratio(cand_n: float, live_events: float, live_n: float, tolerance: float, level: float) -> float | None:
    """The smallest rate ratio (candidate / live) that expected counts like these would show."""
    if cand_n <= 0 or live_n <= 0:
        return None
    live_x = max(live_events, 0.5)  # live's rate, never taken as 0
    share = cand_n / live_n

    def shows(ratio: float) -> bool:
        cand_x = ratio * share * live_x
        return sequential.whole_window_e_value(cand_x, cand_x + live_x, tolerance * share) >= level

    high = tolerance * 1e4
    if not shows(high):
        return None
    low = tolerance
    for _ in range(60):
        mid = math.sqrt(low * high)
        low, high = (low, mid) if shows(mid) else (mid, high)
        if high / low < 1.001:
            break
    return high


def judge(
    limits: Limits,
    bounds: Sequence[float],
    step: float,
    samples: Iterable[Sample],
    at_stage: timedelta,
    *,
    problem: str | None = None,
    candidate: str = "the candidate",
) -> Verdict:
    """The verdict after `at_stage` at the stage, from every step's evidence. `problem`: why the
    metrics could not be read (then hold). `candidate`: how the reasons name it."""
    if problem is not None:
        return Verdict("hold", f"no metrics: {problem}", "no_metrics")
    judged = Judge(limits, bounds, step, candidate)
    for sample in samples:
        judged.add(sample)
    return judged.verdict(at_stage)


def totals(version: str, counts: Counts, bounds: Sequence[float]) -> VersionMetrics:
    """What the evidence says of one version over the whole stage (the p95 as its bucket bound)."""
    p95 = p95_bound(bounds, counts.buckets, counts.requests)
    return VersionMetrics(
        version, counts.requests, counts.errors, None if p95 is None or math.isinf(p95) else p95 * 1000.0
    )


def _shown(check: Check) -> str:
    value = "-" if check.value is None else f"{check.value:.4g}"
    p = f", p = {check.p_value:.3g}" if check.p_value is not None else ""
    return f"{check.name} {value} > {check.limit:g}{p}"


def _hours(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds % 60:02d}s"
