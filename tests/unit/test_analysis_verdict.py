"""The gate's judgement on evidence grids: abort on conclusive evidence at once (no minimum sample),
promote only after the bake with enough requests and no evidence building against the candidate,
hold otherwise; every verdict the same however often it is asked."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import pytest

from stagewise.tools.gate.evidence import Counts, Sample, p95_bound
from stagewise.tools.gate.judge import Judge, judge
from stagewise.tools.gate.rules import Limits

LIMITS = Limits(
    bake=timedelta(minutes=30),
    min_requests=100,
    error_rate_warning=1.0,
    error_rate_abort=5.0,
    p95_warning_ms=500,
    p95_abort_ms=2500,
    error_rate_ratio=1.25,
    slow_requests_ratio=1.5,
    false_abort_rate=0.02,
)
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
STEP = 60.0

# Share of requests at or below each bound: live at 60 ms median (18 % above 100 ms, 2 % above 250 ms).
FAST = (0.0, 0.0, 0.01, 0.3, 0.6, 0.82, 0.98, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
SLOW = (0.0, 0.0, 0.0, 0.1, 0.3, 0.5, 0.9, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)  # about p95 +50 %
VERY_SLOW = (0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0, 1.0, 1.0)  # 20 % above 2.5 s

Rates = Callable[[int], tuple[float, float, tuple[float, ...]]]
"""step (from 1) -> requests, error share, latency shares at or below each bound."""


def steady(requests: float, errors: float, latency: tuple[float, ...] = FAST) -> Rates:
    return lambda step: (requests, errors, latency)


def grid(live: Rates, candidate: Rates, steps: int) -> list[Sample]:
    """Cumulative counts at each step, from per-step expected counts (no noise: the tests are exact)."""
    samples, totals = [], {"live": [0.0, 0.0, [0.0] * len(BOUNDS)], "candidate": [0.0, 0.0, [0.0] * len(BOUNDS)]}
    for step in range(1, steps + 1):
        for name, rates in (("live", live), ("candidate", candidate)):
            n, share, latency = rates(step)
            total = totals[name]
            total[0] += n
            total[1] += n * share
            total[2] = [b + n * s for b, s in zip(total[2], latency)]
        samples.append(
            Sample(
                step * STEP,
                Counts(totals["live"][0], totals["live"][1], tuple(totals["live"][2])),
                Counts(totals["candidate"][0], totals["candidate"][1], tuple(totals["candidate"][2])),
            )
        )
    return samples


LIVE = steady(570, 0.01)


def verdict(candidate: Rates, steps: int, live: Rates = LIVE, limits: Limits = LIMITS):
    return judge(limits, BOUNDS, STEP, grid(live, candidate, steps), timedelta(seconds=steps * STEP))


def statuses(result) -> dict[str, str]:
    return {c.name: c.status for c in result.checks}


def test_healthy_and_baked_promotes_with_every_check_passing_once_shown_no_worse_than_live():
    result = verdict(steady(30, 0.008), 80)
    assert result.verdict == "promote" and set(statuses(result).values()) == {"pass"}
    assert all(e.reached for e in result.evidence)


def test_healthy_and_baked_but_not_yet_shown_no_worse_holds_and_says_how_many_requests_it_needs():
    result = verdict(steady(30, 0.008), 40)
    assert (result.verdict, result.hold_reason) == ("hold", "evidence")
    errors = {e.name: e for e in result.evidence}["errors_not_worse"]
    assert not errors.reached and errors.needs is not None and 0 < errors.needs < 1200
    assert f"needs about {errors.needs:.0f} more candidate requests" in result.reason
    # The extrapolation is in the right range: the evidence is there after about that many more.
    later = verdict(steady(30, 0.008), 40 + math.ceil(2 * errors.needs / 30))
    assert later.verdict == "promote"


def test_a_candidate_at_the_promote_margin_is_never_promoted_however_long_it_bakes():
    # Twice live's error rate, exactly the margin: the non-inferiority evidence never builds.
    result = verdict(steady(30, 0.02), 600)
    assert result.verdict != "promote"
    errors = {e.name: e for e in result.evidence}["errors_not_worse"]
    assert errors.e_value < 1.0


def test_a_provider_problem_holds():
    result = judge(LIMITS, BOUNDS, STEP, [], timedelta(hours=1), problem="Prometheus at http://x is unreachable")
    assert (result.verdict, result.hold_reason) == ("hold", "no_metrics") and "unreachable" in result.reason


def test_no_candidate_traffic_holds_and_names_the_version():
    samples = grid(LIVE, steady(0, 0.0), 10)
    result = judge(LIMITS, BOUNDS, STEP, samples, timedelta(minutes=10), candidate="version 2.0")
    assert (result.verdict, result.hold_reason) == ("hold", "no_candidate_traffic")
    assert "version 2.0 served no requests" in result.reason


def test_bake_not_over_holds_and_says_how_long():
    result = verdict(steady(30, 0.01), 10)
    assert (result.verdict, result.hold_reason) == ("hold", "bake") and "20m00s left" in result.reason


def test_too_few_requests_holds_after_the_bake():
    result = verdict(steady(2, 0.01), 40)  # 80 of the 100 the stage needs
    assert (result.verdict, result.hold_reason) == ("hold", "samples") and "80 of the 100" in result.reason


def test_conclusive_evidence_aborts_at_once_without_a_minimum_sample():
    # 20 requests, all failing, in the first minute: far fewer than minRequests, long before the bake.
    result = verdict(steady(20, 1.0), 1)
    assert result.verdict == "abort" and statuses(result)["error_rate"] == "fail"
    assert result.decided_at == STEP and "evidence conclusive at 1m00s" in result.reason


def test_an_abort_stands_however_often_and_whenever_it_is_asked():
    # Bad for 5 minutes, then healthy for an hour: the e-value falls again, the abort stays.
    def candidate(step: int):
        return (30, 0.5 if step <= 5 else 0.0, FAST)

    samples = grid(LIVE, candidate, 65)
    judged = Judge(LIMITS, BOUNDS, STEP)
    looks = []
    for sample in samples:
        judged.add(sample)
        looks.append(judged.verdict(timedelta(seconds=sample.t), describe=False).verdict)
    first = looks.index("abort")
    assert first < 5 and set(looks[first:]) == {"abort"}
    assert judge(LIMITS, BOUNDS, STEP, samples, timedelta(minutes=65)).decided_at == (first + 1) * STEP


def test_the_verdict_depends_on_the_data_not_on_the_looks():
    samples = grid(LIVE, steady(30, 0.025), 45)
    watched = Judge(LIMITS, BOUNDS, STEP)
    for sample in samples:
        watched.add(sample)
        watched.verdict(timedelta(seconds=sample.t))
    once = judge(LIMITS, BOUNDS, STEP, samples, timedelta(minutes=45))
    assert watched.verdict(timedelta(minutes=45)) == once


def test_a_regression_that_starts_late_is_caught_not_diluted():
    # Healthy for 2 hours, then 4x live's errors: the windows that start late see it undiluted.
    def candidate(step: int):
        return (30, 0.01 if step <= 120 else 0.04, FAST)

    result = verdict(candidate, 180)
    assert result.verdict == "abort" and statuses(result)["error_rate_vs_live"] == "fail"
    assert result.decided_at > 120 * STEP


def test_errors_within_the_tolerance_of_live_never_abort():
    # 1.2 x live's error rate (within 1.25) for 10 hours at high traffic.
    result = verdict(steady(3000, 0.012), 600, live=steady(57000, 0.01))
    assert result.verdict == "promote" and statuses(result)["error_rate_vs_live"] == "pass"


def test_errors_over_the_tolerance_of_live_abort():
    result = verdict(steady(3000, 0.014), 60, live=steady(57000, 0.01))
    assert result.verdict == "abort" and statuses(result)["error_rate_vs_live"] == "fail"


def test_an_absolute_error_limit_is_tested_not_point_estimated():
    # 3 errors in 50 requests read 6 %, above 5 %, but prove nothing: live is as bad, nothing aborts.
    samples = [Sample(60, Counts(950, 57, tuple(950 * s for s in FAST)), Counts(50, 3, tuple(50 * s for s in FAST)))]
    result = judge(LIMITS, BOUNDS, STEP, samples, timedelta(minutes=1))
    error_rate = next(c for c in result.checks if c.name == "error_rate")
    assert result.verdict == "hold" and error_rate.value == 6.0 and error_rate.status == "warn"


def test_the_p95_limit_is_counted_exactly_at_a_bucket_bound():
    result = verdict(steady(30, 0.01, VERY_SLOW), 20)
    p95 = next(c for c in result.checks if c.name == "p95")
    # 20 % of requests above 2.5 s: the p95 lies in the 2.5 .. 5 s bucket, stated as its upper bound.
    assert result.verdict == "abort" and p95.status == "fail" and p95.value == 5000.0
    assert "20 % of candidate requests slower than 2500 ms" in p95.note


def test_a_p95_limit_between_bounds_is_tested_at_the_bound_above():
    limits = Limits(**{**LIMITS.__dict__, "p95_abort_ms": 2000})
    result = verdict(steady(30, 0.01, VERY_SLOW), 20, limits=limits)
    p95 = next(c for c in result.checks if c.name == "p95")
    assert p95.status == "fail" and "tested at 2500 ms, the lowest bucket bound at or above the limit" in p95.note


def test_slower_than_live_is_judged_by_the_share_above_a_bound_chosen_from_live():
    result = verdict(steady(30, 0.01, SLOW), 20)
    relative = next(c for c in result.checks if c.name == "p95_vs_live")
    # Live: 18 % above 100 ms (at most 20 %), 40 % above 75 ms: the slow bound is 100 ms.
    assert relative.description == "candidate share of requests slower than 100 ms / live's"
    assert result.verdict == "abort" and relative.status == "fail"
    assert relative.value == pytest.approx(0.5 / 0.18)


def test_evidence_building_against_the_candidate_holds_instead_of_promoting():
    # 3 x live's errors at little traffic: not conclusive after the bake, but not healthy either.
    result = verdict(steady(20, 0.03), 35)
    assert (result.verdict, result.hold_reason) == ("hold", "significance"), result.reason
    assert statuses(result)["error_rate_vs_live"] == "wait" and "evidence against the candidate" in result.reason


def test_warning_levels_warn_without_blocking_promote():
    result = verdict(steady(3000, 0.012), 40, live=steady(57000, 0.012))
    assert result.verdict == "promote" and statuses(result)["error_rate"] == "warn"


def test_relative_checks_are_skipped_when_live_served_nothing_and_the_floors_decide_promote():
    # At 100 %: no live to compare with, so promote needs the candidate shown below the warning levels.
    below = verdict(steady(30, 0.001), 80, live=steady(0, 0.0))
    assert below.verdict == "promote"
    assert statuses(below)["error_rate_vs_live"] == statuses(below)["p95_vs_live"] == "skipped"
    at_warning = verdict(steady(30, 0.01), 80, live=steady(0, 0.0))
    assert (at_warning.verdict, at_warning.hold_reason) == ("hold", "evidence")


def test_each_check_says_what_it_could_detect_and_more_traffic_sees_smaller_regressions():
    low = {c.name: c for c in verdict(steady(3, 0.01), 40).checks}
    high = {c.name: c for c in verdict(steady(300, 0.01), 40, live=steady(5700, 0.01)).checks}
    for name in ("error_rate", "p95", "error_rate_vs_live", "p95_vs_live"):
        assert high[name].detectable is not None, name
        assert low[name].detectable is None or low[name].detectable > high[name].detectable, name
    assert high["error_rate_vs_live"].detectable < 2 and "a 2x regression of errors would show" in (
        high["error_rate_vs_live"].note
    )


def test_too_little_traffic_to_see_a_2x_regression_within_the_bake_is_said_with_the_time_it_needs():
    result = verdict(steady(0.5, 0.01), 40, live=steady(9.5, 0.01))
    assert "too little traffic to tell a 2x error regression from healthy within the bake" in result.reason
    assert "candidate requests/min it takes" in result.reason


def test_the_p95_read_from_buckets_is_a_bound_never_interpolated():
    assert p95_bound(BOUNDS, tuple(100 * s for s in FAST), 100) == 0.25
    assert p95_bound(BOUNDS, tuple(100 * s for s in VERY_SLOW), 100) == 5.0
    assert p95_bound(BOUNDS, (0,) * 14, 100) == float("inf") and p95_bound(BOUNDS, (0,) * 14, 0) is None


def test_without_latency_buckets_the_latency_checks_are_skipped_and_the_error_checks_still_judge():
    samples = [Sample(60.0 * i, Counts(570.0 * i, 5.7 * i), Counts(30.0 * i, 15.0 * i)) for i in range(1, 4)]
    result = judge(LIMITS, (), STEP, samples, timedelta(minutes=3))
    assert result.verdict == "abort" and statuses(result)["error_rate"] == "fail"
    assert statuses(result)["p95"] == "no_data" and statuses(result)["p95_vs_live"] == "skipped"


@pytest.mark.parametrize("live_errors", [0.01, 0.0])
def test_no_sentence_claims_too_little_traffic_at_3000_requests_a_minute(live_errors):
    # 150 candidate requests a minute: traffic is not what limits the evidence, whatever live's errors.
    result = verdict(steady(150, live_errors), 10, live=steady(2850, live_errors))
    assert result.hold_reason == "bake" and "too little traffic" not in result.reason
