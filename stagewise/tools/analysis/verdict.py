"""The gate's judgement: promote, hold or abort, from the evidence of the candidate and the live version.

Pure: no I/O, no clock. The evidence is a fixed grid from the stage's start: at every step (e.g.
each minute) each version's counts since the stage began (requests, HTTP 5xx errors, requests at
or below each latency bucket bound). `Judge` takes the steps one at a time and keeps one
anytime-valid e-process per test (stagewise.core.sequential), so the verdict at time t depends
only on the evidence up to t, not on how often anyone looked. `analyze`, `watch` and `replay` all
judge through it.

The abort checks, all one-sided (a check can only find the candidate worse):
- `error_rate`: the candidate's error rate is above `errorRateAbort` (tested, not point-estimated).
- `p95`: more than 5 % of the candidate's requests are slower than `latencyP95AbortMs`, i.e. its p95
  is above it, counted exactly at a bucket bound (the lowest bound at or above the limit).
- `error_rate_vs_live`: the candidate's error rate is above `errorRateRatio` times live's.
- `p95_vs_live`: the candidate's share of requests slower than the slow bound is above
  `slowRequestsRatio` times live's. The slow bound is chosen from live's counts alone, before the
  evidence it judges: the lowest bucket bound that at most 20 % of live's requests exceed, read at the
  first step where live has served 100 requests; the check's evidence starts after that step.

The promote evidence, one test per family (intersection-union: promote needs both):
- `errors_not_worse`: the candidate's error rate is below `promoteMargin` times live's, or below
  `errorRateWarning` (a non-inferiority e-process for each; the family's e-value is their mean).
- `latency_not_worse`: its share of slow requests is below `promoteMargin` times live's (at the slow
  bound), or fewer than 5 % of its requests are slower than `latencyP95WarningMs`.

The rules:
- Missing or bad data never moves a rollout: a family whose data is missing or inconsistent is not
  judged on it (never zero-filled) and the verdict holds, naming the version, the series and the fault.
- `abort` as soon as a check's e-process reaches its threshold (SHARES of the stage's budget), unless
  the check is absolute and live breaks the same limit (a shared outage: hold).
- `promote` when the bake time is over, the stage's `minRequests` are in, the candidate served
  requests recently and about its share, no check holds evidence against the candidate (an e-value
  above the square root of its threshold), and both promote tests reached 1 / the stage's budget.
- Otherwise `hold`, naming what it waits for.

The budget: `falseAbortRate` is the rollout's false-decision budget, split over its stages with
traffic (stagewise.core.sequential.stage_budgets). Within a stage a false abort needs every abort
check's null to hold (the candidate within `errorRateRatio` and `slowRequestsRatio` of live), and a
false promote needs a promote test's null to hold (the candidate past `promoteMargin`); the margin is
above both tolerances, so no truth allows both, and each direction spends the stage's whole budget.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

from stagewise.core import sequential
from stagewise.core.gate_config import P95_TAIL, PROMOTE_MARGIN, bound_at_or_above

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
Family = Literal["requests", "errors", "latency"]

CHECKS = ("error_rate", "p95", "error_rate_vs_live", "p95_vs_live")
FAMILY: dict[str, Family] = {
    "error_rate": "errors",
    "p95": "latency",
    "error_rate_vs_live": "errors",
    "p95_vs_live": "latency",
}
TEST_FAMILY: dict[str, Family] = {
    **FAMILY,
    "errors_vs_live": "errors",
    "errors_floor": "errors",
    "latency_vs_live": "latency",
    "latency_floor": "latency",
}
SHARES = {"error_rate": 1 / 6, "p95": 1 / 12, "error_rate_vs_live": 1 / 2, "p95_vs_live": 1 / 4}
"""Each check's share of the stage's budget (a weighted union bound over the checks). The relative
checks carry the tolerances and get three quarters: a regression of a few times live's rate shows
only through them. A candidate past an absolute limit is usually far past it, where a higher
threshold costs a step or two. Errors get twice latency's share: they are rare, so a handful of
events must decide, where every nat of threshold counts; a latency check sees about a fifth of all
requests, where a higher threshold costs little time (bench/gate_quality.py: the abort medians of
the budget per stage match those of the whole budget per stage with the old 1/3, 1/6 split)."""
ABSOLUTE = ("error_rate", "p95")
"""The checks against a fixed limit: live is tested against the same limit, for a shared outage."""
PROMOTE_TESTS = ("errors_vs_live", "errors_floor", "latency_vs_live", "latency_floor")
PROMOTE_FAMILIES: dict[str, tuple[str, str]] = {
    "errors_not_worse": ("errors_vs_live", "errors_floor"),
    "latency_not_worse": ("latency_vs_live", "latency_floor"),
}
SLOW_SHARE_MAX = 0.20
"""The slow bound is the lowest bound that at most this share of live's requests exceed."""
SLOW_BOUND_REQUESTS = 100
"""Live requests needed before the slow bound is chosen."""
REGRESSION = 2.0
"""The regression each verdict says it could, or could not yet, tell from healthy (x live's rate)."""
RECENT_MIN, RECENT_MAX = 3, 30
"""The recent steps a candidate must have served requests in: enough steps to expect RECENT_REQUESTS
of them at its rate so far, at least RECENT_MIN (one quiet step is noise) and at most RECENT_MAX."""
RECENT_REQUESTS = 10.0
"""With 10 requests expected, a healthy Poisson stream is silent with probability e**-10 (5e-5):
silence that long means the candidate stopped getting traffic, not chance."""
SHARE_FACTOR = 2.0
"""The candidate's observed share of the recent requests may be this factor off the stage's weight
(below or above) before the verdict holds: the route may not be applied yet, or sends elsewhere."""
SHARE_EXPECTED = 30.0
"""Candidate requests expected in the recent steps before the share is compared (fewer are noise)."""


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
    """The rollout's false-decision budget."""
    stage_budget: float | None = None
    """This stage's part of it (None: all of it, as for a rollout of one stage)."""
    promote_margin: float = PROMOTE_MARGIN
    no_traffic_deadline: timedelta | None = None
    """How long the candidate may go without requests before the rollout is stuck (None: never)."""

    @property
    def budget(self) -> float:
        return self.stage_budget if self.stage_budget is not None else self.false_abort_rate

    def threshold(self, check: str) -> float:
        """The e-value at which `check` aborts."""
        return sequential.threshold(self.budget, SHARES[check])

    @property
    def promote_threshold(self) -> float:
        """The e-value each promote family must reach (intersection-union: each at the whole budget)."""
        return sequential.threshold(self.budget, 1.0)


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


def invalid(name: str, now: Counts, before: Counts, bounds: int, t: float) -> dict[Family, str]:
    """What is wrong with one version's cumulative counts at a step, given the step before: values
    that are not finite or negative, counts that fell, more errors than requests, buckets that do not
    fit the histogram. One reason per family, naming the version, the series and the fault."""
    at = f"at {_minutes(t)}"
    found: dict[Family, str] = {}

    def bad(family: Family, text: str) -> None:
        found.setdefault(family, f"{name}: {text} {at}")

    counters: tuple[tuple[Family, float, float], ...] = (
        ("requests", now.requests, before.requests),
        ("errors", now.errors, before.errors),
    )
    for family, value, earlier in counters:
        series = family
        if not math.isfinite(value) or value < 0:
            bad(family, f"{series} count is {value!r}")
        elif value < earlier:
            bad(family, f"{series} count fell from {earlier:.0f} to {value:.0f}")
    if "requests" not in found and "errors" not in found:
        if now.errors - before.errors > now.requests - before.requests + 1e-9:
            bad(
                "errors",
                f"more errors ({now.errors - before.errors:.0f}) than requests "
                f"({now.requests - before.requests:.0f}) in the step",
            )
    if len(now.buckets) != bounds:
        bad("latency", f"latency histogram has {len(now.buckets)} buckets, not {bounds}")
        return found
    previous = before.buckets or tuple(0.0 for _ in now.buckets)
    lowest = 0.0
    for count, earlier in zip(now.buckets, previous):
        if not math.isfinite(count) or count < 0:
            bad("latency", f"latency bucket count is {count!r}")
        elif count < earlier - 1e-9:
            bad("latency", f"latency bucket count fell from {earlier:.0f} to {count:.0f}")
        elif count < lowest - 1e-9:
            bad("latency", "latency buckets are not cumulative (a higher bound counts fewer requests)")
        elif math.isfinite(now.requests) and count > now.requests + 1e-9:
            bad("latency", f"a latency bucket counts {count:.0f} requests of {now.requests:.0f}")
        lowest = max(lowest, count) if math.isfinite(count) else lowest
    return found


class Judge:
    """The gate over one stage: feed it the evidence step by step (`add`), ask for the verdict.

    `bounds`: the latency histogram's finite bucket bounds, seconds, ascending. `weight`: the stage's
    percent of traffic to the candidate (None: its observed share is not compared)."""

    def __init__(
        self,
        limits: Limits,
        bounds: Sequence[float],
        step: float,
        candidate: str = "the candidate",
        *,
        live: str = "the live version",
        weight: float | None = None,
    ):
        self.limits, self.bounds, self.step, self.candidate, self.live = limits, tuple(bounds), step, candidate, live
        self.weight = weight
        self.thresholds = {name: limits.threshold(name) for name in CHECKS}
        self.processes = {name: sequential.EProcess() for name in CHECKS}
        self.live_processes = {name: sequential.EProcess() for name in ABSOLUTE}
        self.promotes = {name: sequential.non_inferiority() for name in PROMOTE_TESTS}
        self.crossed: dict[str, float] = {}
        self.live_crossed: dict[str, float] = {}
        zero = Counts(0.0, 0.0, tuple(0.0 for _ in self.bounds))
        self.last = Sample(0.0, zero, zero)
        self.abort_bound = bound_at_or_above(self.bounds, limits.p95_abort_ms / 1000.0)
        self.warning_bound = bound_at_or_above(self.bounds, limits.p95_warning_ms / 1000.0)
        self.slow_index: int | None = None
        self.slow_from: Sample | None = None  # the counts when the slow bound was chosen
        self.steps = 0
        self.t = 0.0
        self.recent: deque[tuple[float, float]] = deque(maxlen=RECENT_MAX)
        """(candidate, live) requests of the last steps."""
        self.last_traffic: float | None = None
        """Seconds after the stage began of the last step in which the candidate served requests."""
        self.found: dict[Family, str] = {}
        """What was wrong with the evidence at the last step added (family -> reason)."""
        self.reported: dict[Family, str] = {}
        """What the provider reported wrong at the latest look (set by whoever reads the provider)."""

    def _advance(self, excluded: Iterable[str] = ()) -> None:
        """One step without evidence for the tests named (all, by default: a gap)."""
        skip = set(excluded)
        for group in (self.processes, self.live_processes, self.promotes):
            for name, process in group.items():
                if not skip or name in skip:
                    process.update(0.0, 0.0, 1.0)

    def add(self, sample: Sample, problems: Iterable[tuple[Family, str]] = ()) -> None:
        """The next step's cumulative counts (t a multiple of the step, after the last one).
        `problems`: what the provider could not read exactly for this step (family, reason)."""
        behind = max(int(round((sample.t - self.t) / self.step)), 1)
        for _ in range(behind - 1):  # steps without a sample: their counts arrive with this one
            self._advance()
        self.steps += behind
        self.t = sample.t
        found: dict[Family, str] = {}
        for family, reason in problems:
            found.setdefault(family, reason)
        n = len(self.bounds)
        for name, now, before in (
            (self.candidate, sample.candidate, self.last.candidate),
            (self.live, sample.live, self.last.live),
        ):
            for family, reason in invalid(name, now, before, n, sample.t).items():
                found.setdefault(family, reason)
        self.found = found
        if "requests" in found:  # nothing of this step can be judged; the next good step carries it
            self._advance()
            return
        previous, self.last = self.last, sample
        live, cand = _delta(sample.live, previous.live), _delta(sample.candidate, previous.candidate)
        self.recent.append((cand.requests, live.requests))
        if cand.requests > 0:
            self.last_traffic = sample.t
        share = cand.requests / live.requests if live.requests > 0 else math.inf
        limits = self.limits
        frozen = [name for name, family in TEST_FAMILY.items() if family in found]
        if frozen:
            self._advance(frozen)
        margin = limits.promote_margin
        if "errors" not in found:
            p_abort = limits.error_rate_abort / 100.0
            self._update("error_rate", sample.t, cand.errors, cand.requests, p_abort / (1 - p_abort))
            self._update_live("error_rate", sample.t, live.errors, live.requests, p_abort / (1 - p_abort))
            self._update(
                "error_rate_vs_live", sample.t, cand.errors, cand.errors + live.errors, limits.error_rate_ratio * share
            )
            self.promotes["errors_vs_live"].update(cand.errors, cand.errors + live.errors, margin * share)
            p_warn = limits.error_rate_warning / 100.0
            self.promotes["errors_floor"].update(cand.errors, cand.requests, p_warn / (1 - p_warn))
        if "latency" in found:
            return
        tail = P95_TAIL / (1 - P95_TAIL)
        if self.abort_bound is not None:
            index = self.abort_bound
            self._update("p95", sample.t, _slow(cand, index), cand.requests, tail)
            self._update_live("p95", sample.t, _slow(live, index), live.requests, tail)
        else:
            self._update("p95", sample.t, 0.0, 0.0, 1.0)
            self._update_live("p95", sample.t, 0.0, 0.0, 1.0)
        if self.warning_bound is not None:
            self.promotes["latency_floor"].update(_slow(cand, self.warning_bound), cand.requests, tail)
        else:
            self.promotes["latency_floor"].update(0.0, 0.0, 1.0)
        if self.slow_index is None:
            self._update("p95_vs_live", sample.t, 0.0, 0.0, 1.0)
            self.promotes["latency_vs_live"].update(0.0, 0.0, 1.0)
            if self.bounds and sample.live.requests >= SLOW_BOUND_REQUESTS:
                self.slow_index = _slow_bound(self.bounds, sample.live)
                self.slow_from = sample
        else:
            index = self.slow_index
            slow_c, slow_l = _slow(cand, index), _slow(live, index)
            self._update("p95_vs_live", sample.t, slow_c, slow_c + slow_l, limits.slow_requests_ratio * share)
            self.promotes["latency_vs_live"].update(slow_c, slow_c + slow_l, margin * share)

    def _update(self, name: str, t: float, x: float, m: float, odds0: float) -> None:
        value = self.processes[name].update(x, m, odds0)
        if value >= self.thresholds[name] and name not in self.crossed:
            self.crossed[name] = t

    def _update_live(self, name: str, t: float, x: float, m: float, odds0: float) -> None:
        value = self.live_processes[name].update(x, m, odds0)
        if value >= self.thresholds[name] and name not in self.live_crossed:
            self.live_crossed[name] = t

    # The decision.

    @property
    def problems(self) -> dict[Family, str]:
        """What holds the verdict for bad data: the last step's faults and the latest look's."""
        return {**self.reported, **self.found}

    def outage(self) -> list[str]:
        """The crossed checks that live breaks too (absolute limits only)."""
        return [name for name in self.crossed if name in self.live_crossed]

    def recent_steps(self) -> int:
        """How many recent steps the candidate must have served requests in (RECENT_REQUESTS expected)."""
        served = self.last.candidate.requests
        rate = served / self.steps if self.steps else 0.0
        wanted = math.ceil(RECENT_REQUESTS / rate) if rate > 0 else RECENT_MAX
        return min(max(wanted, RECENT_MIN), RECENT_MAX)

    def silent_for(self) -> float:
        """Seconds since the candidate last served a request (since the stage began if never)."""
        return self.t - (self.last_traffic if self.last_traffic is not None else 0.0)

    def recent_share(self) -> tuple[float, float] | None:
        """The candidate's share of the recent steps' requests, and the candidate requests the stage's
        weight would send there; None when the share cannot be compared."""
        if self.weight is None or not 0 < self.weight < 100:
            return None
        steps = list(self.recent)[-self.recent_steps() :]
        cand, live = sum(c for c, _ in steps), sum(v for _, v in steps)
        expected = (cand + live) * self.weight / 100.0
        if expected < SHARE_EXPECTED:
            return None
        return cand / (cand + live), expected

    def share_off(self) -> bool:
        found = self.recent_share()
        if found is None or self.weight is None:
            return False
        share, weight = found[0], self.weight / 100.0
        return share < weight / SHARE_FACTOR or share > min(weight * SHARE_FACTOR, 1.0 - (1.0 - weight) / SHARE_FACTOR)

    def evidence(self) -> tuple[Evidence, ...]:
        """The promote tests' e-values (each family's: the mean of its two tests) and what they need."""
        found = []
        threshold = self.limits.promote_threshold
        served = self.last.candidate.requests
        descriptions = {
            "errors_not_worse": (
                f"errors below {self.limits.promote_margin:g} x live's rate or below "
                f"{self.limits.error_rate_warning:g} %"
            ),
            "latency_not_worse": (
                f"slow requests below {self.limits.promote_margin:g} x live's share or fewer than 5 % slower "
                f"than {self.limits.p95_warning_ms:g} ms"
            ),
        }
        for family, (relative, floor) in PROMOTE_FAMILIES.items():
            value = (self.promotes[relative].value + self.promotes[floor].value) / 2
            needs: float | None = 0.0
            if value < threshold:
                # log E grows about linearly with the requests judged: extrapolate from its pace so far.
                needs = None
                if value > 1.0 and served > 0:
                    needs = served * (math.log(threshold) - math.log(value)) / math.log(value)
            found.append(Evidence(family, descriptions[family], value, threshold, needs))
        return tuple(found)

    def decide(self, at_stage: timedelta) -> tuple[VerdictName, HoldReason | None]:
        """The decision alone, `at_stage` after the stage began (what `verdict` explains)."""
        limits = self.limits
        if self.last.candidate.requests <= 0:
            return "hold", "no_candidate_traffic"
        if set(self.crossed) - set(self.outage()):
            return "abort", None
        if self.crossed:
            return "hold", "shared_outage"
        if self.problems:
            return "hold", "bad_data"
        if self.steps - self._last_traffic_step() >= self.recent_steps():
            return "hold", "no_recent_traffic"
        if self.share_off():
            return "hold", "traffic_share"
        if at_stage < limits.bake:
            return "hold", "bake"
        if self.last.candidate.requests < limits.min_requests:
            return "hold", "samples"
        if self.abort_bound is None:
            return "hold", "bad_data"
        if any(p.value >= math.sqrt(self.thresholds[name]) for name, p in self.processes.items()):
            return "hold", "significance"
        if not all(e.reached for e in self.evidence()):
            return "hold", "evidence"
        return "promote", None

    def _last_traffic_step(self) -> int:
        if self.last_traffic is None:
            return 0
        return int(round(self.last_traffic / self.step))

    def stuck(self, held: HoldReason | None) -> bool:
        deadline = self.limits.no_traffic_deadline
        return (
            held in ("no_candidate_traffic", "no_recent_traffic")
            and deadline is not None
            and self.silent_for() >= deadline.total_seconds()
        )

    def verdict(self, at_stage: timedelta, *, describe: bool = True) -> Verdict:
        """The verdict `at_stage` after the stage began, from the steps added so far, with its
        evidence. `describe`: also compute what each check could detect."""
        limits, cand = self.limits, self.last.candidate
        decided, held = self.decide(at_stage)
        checks = self.checks(describe)
        evidence = self.evidence()
        stuck = self.stuck(held)
        late = f"; stuck: no candidate traffic for {_minutes(self.silent_for())}" if stuck else ""
        if held == "no_candidate_traffic":
            reason = f"no candidate traffic: {self.candidate} served no requests in the {self.steps} steps judged"
            return Verdict("hold", reason + late, held, checks, evidence=evidence, stuck=stuck)
        if decided == "abort":
            failed = [c for c in checks if c.status == "fail"]
            first = min(t for name, t in self.crossed.items() if name not in self.outage())
            reason = "limit broken: " + "; ".join(_shown(c) for c in failed)
            return Verdict(
                "abort", f"{reason} (evidence conclusive at {_minutes(first)})", None, checks, first, evidence
            )
        if held == "shared_outage":
            shared = [c for c in checks if c.status == "outage"]
            reason = "live breaks the limit too: shared outage (" + "; ".join(_shown(c) for c in shared) + ")"
            return Verdict("hold", reason, held, checks, evidence=evidence)
        if held == "bad_data":
            if self.problems:
                reason = "bad metrics: " + "; ".join(
                    f"{family}: {why}" for family, why in sorted(self.problems.items())
                )
            else:
                highest = f"{self.bounds[-1] * 1000:g} ms" if self.bounds else "none"
                reason = (
                    f"bad metrics: the latency histogram has no bound at or above latencyP95AbortMs "
                    f"({limits.p95_abort_ms:g} ms; highest: {highest}), so the p95 check cannot see a breach"
                )
            return Verdict("hold", reason, held, checks, evidence=evidence)
        if held == "no_recent_traffic":
            reason = (
                f"no recent candidate traffic: {self.candidate} served no requests in the last "
                f"{self.steps - self._last_traffic_step()} steps (it needs some in every {self.recent_steps()})"
            )
            return Verdict("hold", reason + late, held, checks, evidence=evidence, stuck=stuck)
        if held == "traffic_share":
            found = self.recent_share()
            assert found is not None
            reason = (
                f"traffic share off: {self.candidate} got {100 * found[0]:.3g} % of the recent requests, the stage "
                f"sends {self.weight:g} % (is the stage applied?)"
            )
            return Verdict("hold", reason, held, checks, evidence=evidence)
        sensitivity = self.sensitivity() if describe else ""
        if held == "bake":
            left = limits.bake - at_stage
            reason = (
                f"bake time not over: {_hours(at_stage)} of {_hours(limits.bake)} at the stage ({_hours(left)} left)"
            )
            return Verdict("hold", reason + sensitivity, held, checks, evidence=evidence)
        if held == "samples":
            reason = f"too few requests: {cand.requests:.0f} of the {limits.min_requests} the stage needs"
            return Verdict("hold", reason + sensitivity, held, checks, evidence=evidence)
        if held == "significance":
            waiting = [c for c in checks if c.status == "wait"]
            reason = "evidence against the candidate is building: " + "; ".join(
                f"{c.name} e-value {c.e_value:.3g} (aborts at {self.thresholds[c.name]:g})" for c in waiting
            )
            return Verdict("hold", reason, held, checks, evidence=evidence)
        if held == "evidence":
            reason = "not yet shown to be no worse than live: " + "; ".join(
                _needs(e) for e in evidence if not e.reached
            )
            return Verdict("hold", reason, held, checks, evidence=evidence)
        return Verdict(
            "promote",
            "bake time over, enough requests, shown no worse than live, no limit broken",
            None,
            checks,
            evidence=evidence,
        )

    def checks(self, describe: bool = True) -> tuple[Check, ...]:
        made = (
            self._error_rate(describe),
            self._p95(describe),
            self._error_ratio(describe),
            self._slow_ratio(describe),
        )
        return tuple(self._with_data(replace(c, threshold=self.thresholds[c.name])) for c in made)

    def _with_data(self, check: Check) -> Check:
        family = FAMILY[check.name]
        why = self.problems.get("requests") or self.problems.get(family)
        if why is not None and check.name not in self.crossed:
            return replace(check, status="no_data", note=why)
        if check.name in self.crossed and check.name in self.live_crossed:
            note = f"live breaks it too (conclusive at {_minutes(self.live_crossed[check.name])}): shared outage"
            return replace(check, status="outage", note="; ".join(n for n in (check.note, note) if n))
        return check

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
                "no_data",
                note=f"no bucket bound at or above {limits.p95_abort_ms:g} ms (highest: {highest}): holds",
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
                notes.append(f"caught about half the time: over {detectable:.3g} % slower than {bound_ms:g} ms")
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
            return (
                f"a {REGRESSION:g}x regression of {what} would show: caught about half the time from {detectable:.3g}x"
            )
        seconds = self.time_to_detect(cand_n, live_events, live_n, tolerance, level)
        shown = "" if detectable is None else f"caught about half the time so far: from {detectable:.3g}x; "
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
        if live.errors < 1 or self.limits.error_rate_ratio >= REGRESSION:
            # Without live errors there is no rate to compare with (the error floor decides), and a
            # tolerance of 2x or more cannot tell a 2x regression by design: neither is about traffic.
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
    weight: float | None = None,
) -> Verdict:
    """The verdict after `at_stage` at the stage, from every step's evidence. `problem`: why the
    metrics could not be read (then hold). `candidate`: how the reasons name it."""
    if problem is not None:
        return no_metrics(problem)
    judged = Judge(limits, bounds, step, candidate, weight=weight)
    for sample in samples:
        judged.add(sample)
    return judged.verdict(at_stage)


def no_metrics(problem: str) -> Verdict:
    """Hold: the metrics could not be read at all, for `problem`."""
    return Verdict("hold", f"no metrics: {problem}", "no_metrics")


def totals(version: str, counts: Counts, bounds: Sequence[float]) -> VersionMetrics:
    """What the evidence says of one version over the whole stage (the p95 as its bucket bound)."""
    p95 = p95_bound(bounds, counts.buckets, counts.requests)
    return VersionMetrics(
        version, counts.requests, counts.errors, None if p95 is None or math.isinf(p95) else p95 * 1000.0
    )


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
