"""The gate's judgement: promote, hold or abort, from the evidence of the candidate and the live version.

Pure: no I/O, no clock. The evidence is a fixed grid from the stage's start: at every step (e.g.
each minute) each version's counts since the stage began (requests, HTTP 5xx errors, requests at
or below each latency bucket bound). `Judge` takes the steps one at a time and keeps one
anytime-valid e-process per test (stagewise.tools.gate.sequential), so the verdict at time t depends
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
traffic (stagewise.tools.gate.sequential.stage_budgets). Within a stage a false abort needs every abort
check's null to hold (the candidate within `errorRateRatio` and `slowRequestsRatio` of live), and a
false promote needs a promote test's null to hold (the candidate past `promoteMargin`); the margin is
above both tolerances, so no truth allows both, and each direction spends the stage's whole budget.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import timedelta

from stagewise.core.gate_config import P95_TAIL, bound_at_or_above
from stagewise.tools.gate import explain, sequential
from stagewise.tools.gate.evidence import Counts, Family, Sample, delta, invalid, slow
from stagewise.tools.gate.explain import Check, Evidence, HoldReason, Verdict, VerdictName
from stagewise.tools.gate.rules import (
    ABSOLUTE,
    CHECKS,
    PROMOTE_FAMILIES,
    PROMOTE_TESTS,
    RECENT_MAX,
    RECENT_MIN,
    RECENT_REQUESTS,
    SHARE_EXPECTED,
    SHARE_FACTOR,
    SLOW_BOUND_REQUESTS,
    SLOW_SHARE_MAX,
    TEST_FAMILY,
    Limits,
)


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
        live, cand = delta(sample.live, previous.live), delta(sample.candidate, previous.candidate)
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
            self._update("p95", sample.t, slow(cand, index), cand.requests, tail)
            self._update_live("p95", sample.t, slow(live, index), live.requests, tail)
        else:
            self._update("p95", sample.t, 0.0, 0.0, 1.0)
            self._update_live("p95", sample.t, 0.0, 0.0, 1.0)
        if self.warning_bound is not None:
            self.promotes["latency_floor"].update(slow(cand, self.warning_bound), cand.requests, tail)
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
            slow_c, slow_l = slow(cand, index), slow(live, index)
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
        if self.steps - self.last_traffic_step() >= self.recent_steps():
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

    def last_traffic_step(self) -> int:
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
        return explain.verdict(self, at_stage, describe=describe)

    def checks(self, describe: bool = True) -> tuple[Check, ...]:
        return explain.checks(self, describe)


def _slow_bound(bounds: Sequence[float], live: Counts) -> int:
    for index, count in enumerate(live.buckets):
        if live.requests - count <= SLOW_SHARE_MAX * live.requests:
            return index
    return len(bounds) - 1


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
