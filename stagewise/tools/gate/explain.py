"""The gate's explanations: each check's value, status and what it could detect, the promote
evidence, and the verdict's reason, from a Judge's state. Pure: no I/O, no clock.

`verdict(judge, at_stage)` is what `Judge.verdict` returns; `analyze`, `watch`, `replay`, `status`
and the report show what it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from stagewise.core.gate_config import P95_TAIL
from stagewise.tools.gate import sequential
from stagewise.tools.gate.evidence import minutes, p95_bound, slow
from stagewise.tools.gate.rules import FAMILY, REGRESSION, SLOW_BOUND_REQUESTS, SLOW_SHARE_MAX

if TYPE_CHECKING:
    from stagewise.tools.gate.judge import Judge

VerdictName = Literal["promote", "hold", "abort"]
HoldReason = Literal[
    "no_metrics",
    "bad_data",
    "no_candidate_traffic",
    "no_recent_traffic",
    "traffic_share",
    "shared_outage",
    "bake",
    "samples",
    "significance",
    "evidence",
]
Status = Literal["pass", "warn", "fail", "wait", "skipped", "no_data", "outage"]


@dataclass(frozen=True)
class Check:
    """One limit: the measured value against the limit, the evidence, and the outcome.

    `p_value` is always valid (1 / the e-process's peak); `e_value` the e-process now; `detectable`
    the regression the evidence so far would catch about half the time, in the unit of `limit`."""

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
class Evidence:
    """One promote test family: its e-value against the e-value promote needs."""

    name: str
    description: str
    e_value: float
    threshold: float
    needs: float | None
    """About how many more candidate requests it needs at the evidence's pace so far (None: no
    evidence yet to extrapolate from; 0: reached)."""

    @property
    def reached(self) -> bool:
        return self.e_value >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "eValue": self.e_value,
            "threshold": self.threshold,
            "reached": self.reached,
            "needsRequests": self.needs,
        }


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    reason: str
    hold_reason: HoldReason | None = None
    checks: tuple[Check, ...] = field(default_factory=tuple)
    decided_at: float | None = None
    """Seconds after the stage began of the step that decided an abort."""
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    stuck: bool = False
    """A hold past its deadline (no candidate traffic for longer than noTrafficDeadline)."""


def verdict(judge: Judge, at_stage: timedelta, *, describe: bool = True) -> Verdict:
    """The verdict `at_stage` after the stage began, from the steps added so far, with its
    evidence. `describe`: also compute what each check could detect."""
    limits, cand = judge.limits, judge.last.candidate
    decided, held = judge.decide(at_stage)
    made = checks(judge, describe)
    evidence = judge.evidence()
    stuck = judge.stuck(held)
    late = f"; stuck: no candidate traffic for {minutes(judge.silent_for())}" if stuck else ""
    if held == "no_candidate_traffic":
        reason = f"no candidate traffic: {judge.candidate} served no requests in the {judge.steps} steps judged"
        why = judge.problems.get("requests")
        if why is not None:  # what the source said instead of counts: not scraped, or garbage
            reason += f" ({why})"
        return Verdict("hold", reason + late, held, made, evidence=evidence, stuck=stuck)
    if decided == "abort":
        failed = [c for c in made if c.status == "fail"]
        first = min(t for name, t in judge.crossed.items() if name not in judge.outage())
        reason = "limit broken: " + "; ".join(_shown(c) for c in failed)
        return Verdict("abort", f"{reason} (evidence conclusive at {minutes(first)})", None, made, first, evidence)
    if held == "shared_outage":
        shared = [c for c in made if c.status == "outage"]
        reason = "live breaks the limit too: shared outage (" + "; ".join(_shown(c) for c in shared) + ")"
        return Verdict("hold", reason, held, made, evidence=evidence)
    if held == "bad_data":
        if judge.problems:
            reason = "bad metrics: " + "; ".join(f"{family}: {why}" for family, why in sorted(judge.problems.items()))
        else:
            highest = f"{judge.bounds[-1] * 1000:g} ms" if judge.bounds else "none"
            reason = (
                f"bad metrics: the latency histogram has no bound at or above latencyP95AbortMs "
                f"({limits.p95_abort_ms:g} ms; highest: {highest}), so the p95 check cannot see a breach"
            )
        return Verdict("hold", reason, held, made, evidence=evidence)
    if held == "no_recent_traffic":
        reason = (
            f"no recent candidate traffic: {judge.candidate} served no requests in the last "
            f"{judge.steps - judge.last_traffic_step()} steps (it needs some in every {judge.recent_steps()})"
        )
        return Verdict("hold", reason + late, held, made, evidence=evidence, stuck=stuck)
    if held == "traffic_share":
        found = judge.recent_share()
        assert found is not None
        reason = (
            f"traffic share off: {judge.candidate} got {100 * found[0]:.3g} % of the recent requests, the stage "
            f"sends {judge.weight:g} % (is the stage applied?)"
        )
        return Verdict("hold", reason, held, made, evidence=evidence)
    told = sensitivity(judge) if describe else ""
    if held == "bake":
        left = limits.bake - at_stage
        reason = f"bake time not over: {_hours(at_stage)} of {_hours(limits.bake)} at the stage ({_hours(left)} left)"
        return Verdict("hold", reason + told, held, made, evidence=evidence)
    if held == "samples":
        reason = f"too few requests: {cand.requests:.0f} of the {limits.min_requests} the stage needs"
        return Verdict("hold", reason + told, held, made, evidence=evidence)
    if held == "significance":
        waiting = [c for c in made if c.status == "wait"]
        reason = "evidence against the candidate is building: " + "; ".join(
            f"{c.name} e-value {c.e_value:.3g} (aborts at {judge.thresholds[c.name]:g})" for c in waiting
        )
        return Verdict("hold", reason, held, made, evidence=evidence)
    if held == "evidence":
        reason = "not yet shown to be no worse than live: " + "; ".join(_needs(e) for e in evidence if not e.reached)
        return Verdict("hold", reason, held, made, evidence=evidence)
    return Verdict(
        "promote",
        "bake time over, enough requests, shown no worse than live, no limit broken",
        None,
        made,
        evidence=evidence,
    )


def checks(judge: Judge, describe: bool = True) -> tuple[Check, ...]:
    made = (
        _error_rate(judge, describe),
        _p95(judge, describe),
        _error_ratio(judge, describe),
        _slow_ratio(judge, describe),
    )
    return tuple(_with_data(judge, replace(c, threshold=judge.thresholds[c.name])) for c in made)


def _with_data(judge: Judge, check: Check) -> Check:
    family = FAMILY[check.name]
    why = judge.problems.get("requests") or judge.problems.get(family)
    if why is not None and check.name not in judge.crossed:
        return replace(check, status="no_data", note=why)
    if check.name in judge.crossed and check.name in judge.live_crossed:
        note = f"live breaks it too (conclusive at {minutes(judge.live_crossed[check.name])}): shared outage"
        return replace(check, status="outage", note="; ".join(n for n in (check.note, note) if n))
    return check


def _status(judge: Judge, name: str, warn: bool) -> Status:
    process = judge.processes[name]
    if name in judge.crossed:
        return "fail"
    if process.value >= math.sqrt(judge.thresholds[name]):
        return "wait"
    return "warn" if warn else "pass"


def _error_rate(judge: Judge, describe: bool) -> Check:
    limits, cand = judge.limits, judge.last.candidate
    process = judge.processes["error_rate"]
    rate = 100.0 * cand.errors / cand.requests if cand.requests > 0 else None
    warn = rate is not None and rate > limits.error_rate_warning
    detectable = None
    if describe:
        p = limits.error_rate_abort / 100.0
        k = sequential.detectable_odds(cand.requests, p / (1 - p), judge.thresholds["error_rate"])
        detectable = None if k is None else 100.0 * _share(k, p)
    note = f"above the warning level {limits.error_rate_warning:g}" if warn else ""
    return Check(
        "error_rate",
        "candidate error rate (HTTP 5xx), percent",
        rate,
        limits.error_rate_abort,
        "skipped" if rate is None else _status(judge, "error_rate", warn),
        process.p_value,
        note,
        process.value,
        detectable,
    )


def _p95(judge: Judge, describe: bool) -> Check:
    limits, cand = judge.limits, judge.last.candidate
    name, description = "p95", "candidate p95 response time, ms"
    if judge.abort_bound is None:
        highest = f"{judge.bounds[-1] * 1000:g} ms" if judge.bounds else "none"
        return Check(
            name,
            description,
            None,
            limits.p95_abort_ms,
            "no_data",
            note=f"no bucket bound at or above {limits.p95_abort_ms:g} ms (highest: {highest}): holds",
        )
    process = judge.processes[name]
    upper = p95_bound(judge.bounds, cand.buckets, cand.requests)
    value = None if upper is None or math.isinf(upper) else upper * 1000.0
    bound_ms = judge.bounds[judge.abort_bound] * 1000.0
    above = 100.0 * slow(cand, judge.abort_bound) / cand.requests if cand.requests > 0 else 0.0
    notes = [f"{above:.3g} % of candidate requests slower than {bound_ms:g} ms (a p95 above it: over 5 %)"]
    if bound_ms != limits.p95_abort_ms:
        notes.append(f"tested at {bound_ms:g} ms, the lowest bucket bound at or above the limit")
    if upper is not None and math.isinf(upper):
        notes.append("p95 above the highest bucket bound")
    warn = False
    if judge.warning_bound is not None and cand.requests > 0:
        warn = slow(cand, judge.warning_bound) > P95_TAIL * cand.requests
    if warn:
        notes.append(f"above the warning level {limits.p95_warning_ms:g}")
    detectable = None
    if describe:
        k = sequential.detectable_odds(cand.requests, P95_TAIL / (1 - P95_TAIL), judge.thresholds[name])
        detectable = None if k is None else 100.0 * _share(k, P95_TAIL)
        if detectable is not None:
            notes.append(f"caught about half the time: over {detectable:.3g} % slower than {bound_ms:g} ms")
    return Check(
        name,
        description,
        value,
        limits.p95_abort_ms,
        "skipped" if cand.requests <= 0 else _status(judge, name, warn),
        process.p_value,
        "; ".join(notes),
        process.value,
        detectable,
    )


def _error_ratio(judge: Judge, describe: bool) -> Check:
    limits, live, cand = judge.limits, judge.last.live, judge.last.candidate
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
    return _relative(
        judge,
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
    judge: Judge,
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
    process = judge.processes[name]
    (cand_bad, cand_n), (live_bad, live_n) = candidate, live
    value = _ratio(cand_bad, cand_n, live_bad, live_n)
    warn = value is not None and value > limit
    detectable = None
    if describe:
        detectable = _detectable_ratio(cand_n, live_bad, live_n, limit, judge.thresholds[name])
        notes.append(_reach(judge, what, detectable, cand_n, live_bad, live_n, limit, judge.thresholds[name]))
    return Check(
        name,
        description,
        value,
        limit,
        _status(judge, name, warn),
        process.p_value,
        "; ".join(n for n in notes if n),
        process.value,
        detectable,
    )


def _slow_ratio(judge: Judge, describe: bool) -> Check:
    limits, live, cand = judge.limits, judge.last.live, judge.last.candidate
    name = "p95_vs_live"
    if judge.slow_index is None or judge.slow_from is None:
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
    index, since = judge.slow_index, judge.slow_from
    bound_ms = judge.bounds[index] * 1000.0
    description = f"candidate share of requests slower than {bound_ms:g} ms / live's"
    cand_n, live_n = cand.requests - since.candidate.requests, live.requests - since.live.requests
    cand_slow = slow(cand, index) - slow(since.candidate, index)
    live_slow = slow(live, index) - slow(since.live, index)
    notes = [
        f"slow bound {bound_ms:g} ms (at most {SLOW_SHARE_MAX:.0%} of live above it at {minutes(since.t)}); "
        f"since then {cand_slow:.0f} of {cand_n:.0f} candidate requests slower (live: {live_slow:.0f} of {live_n:.0f})"
    ]
    return _relative(
        judge,
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
    judge: Judge,
    what: str,
    detectable: float | None,
    cand_n: float,
    live_events: float,
    live_n: float,
    tolerance: float,
    level: float,
) -> str:
    if detectable is not None and detectable <= REGRESSION:
        return f"a {REGRESSION:g}x regression of {what} would show: caught about half the time from {detectable:.3g}x"
    seconds = time_to_detect(judge, cand_n, live_events, live_n, tolerance, level)
    shown = "" if detectable is None else f"caught about half the time so far: from {detectable:.3g}x; "
    if seconds is None:
        return f"{shown}too little traffic to tell a {REGRESSION:g}x regression of {what} from healthy"
    return f"{shown}a {REGRESSION:g}x regression of {what} needs about {minutes(seconds)} at this traffic"


def time_to_detect(
    judge: Judge, cand_n: float, live_events: float, live_n: float, tolerance: float, level: float
) -> float | None:
    """Seconds at the stage, at the traffic so far, for a REGRESSION x rate to show (None: never)."""
    elapsed = judge.last.t
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


def sensitivity(judge: Judge) -> str:
    """A sentence for the verdict when the traffic is too low to tell a 2x regression of errors
    from healthy within the bake; empty otherwise."""
    live, cand = judge.last.live, judge.last.candidate
    if live.requests <= 0 or cand.requests <= 0 or judge.last.t <= 0:
        return ""
    if live.errors < 1 or judge.limits.error_rate_ratio >= REGRESSION:
        # Without live errors there is no rate to compare with (the error floor decides), and a
        # tolerance of 2x or more cannot tell a 2x regression by design: neither is about traffic.
        return ""
    seconds = time_to_detect(
        judge,
        cand.requests,
        live.errors,
        live.requests,
        judge.limits.error_rate_ratio,
        judge.thresholds["error_rate_vs_live"],
    )
    bake = judge.limits.bake.total_seconds()
    if seconds is not None and seconds <= max(bake, judge.last.t):
        return ""
    rate = cand.requests / judge.last.t * 60.0
    needs = "longer than 1000 x the time so far" if seconds is None else f"about {minutes(seconds)}"
    return (
        f"; too little traffic to tell a {REGRESSION:g}x error regression from healthy within the bake: "
        f"at {rate:.3g} candidate requests/min it takes {needs}"
    )


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


def _needs(evidence: Evidence) -> str:
    shown = f"{evidence.name} e-value {evidence.e_value:.3g} of {evidence.threshold:g}"
    if evidence.needs is None:
        return f"{shown} (no evidence yet: needs more candidate requests)"
    return f"{shown} (needs about {max(evidence.needs, 1):.0f} more candidate requests)"


def _shown(check: Check) -> str:
    value = "-" if check.value is None else f"{check.value:.4g}"
    p = f", p = {check.p_value:.3g}" if check.p_value is not None else ""
    return f"{check.name} {value} > {check.limit:g}{p}"


def _hours(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds % 60:02d}s"
