"""The gate's anytime-valid tests (stagewise.tools.gate.sequential): closed forms, the supermartingale
property computed exactly, and simulations that measure the false-alarm guarantee under many looks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from stagewise.tools.gate import sequential
from stagewise.tools.gate.sequential import EProcess, change_point_starts, change_point_weight, detectable_odds


def binomial_lr(x: float, m: float, theta1: float, theta0: float) -> float:
    """The textbook binomial likelihood ratio, written with probabilities rather than odds."""
    return (theta1 / theta0) ** x * ((1 - theta1) / (1 - theta0)) ** (m - x)


def odds_to_p(odds: float) -> float:
    return odds / (1 + odds)


@pytest.mark.parametrize(("x", "m", "odds0", "k"), [(3, 10, 0.25, 2.0), (0, 50, 0.05, 5.0), (40, 60, 1.0, 1.5)])
def test_one_step_with_one_alternative_is_the_binomial_likelihood_ratio(x, m, odds0, k):
    process = EProcess(multipliers=(k,))
    value = process.update(x, m, odds0)
    # After one step only the whole-stage window (weight w) has started; the rest of the prior
    # (1 - w) still sits at the martingales' initial value 1.
    w = sequential.WHOLE_STAGE
    expected = w * binomial_lr(x, m, odds_to_p(k * odds0), odds_to_p(odds0)) + (1 - w)
    assert value == pytest.approx(expected, rel=1e-12)


def test_two_steps_mix_the_whole_stage_and_the_window_from_step_one():
    k, odds0 = 3.0, 0.1
    process = EProcess(multipliers=(k,))
    process.update(2, 20, odds0)
    value = process.update(5, 20, odds0)
    theta1, theta0 = odds_to_p(k * odds0), odds_to_p(odds0)
    whole = binomial_lr(7, 40, theta1, theta0)  # the totals: the statistic is sufficient within a window
    late = binomial_lr(5, 20, theta1, theta0)
    # Weights: w for the whole stage, (1 - w) * 1/(1*2) for the window from step 1, as much not yet started.
    w = sequential.WHOLE_STAGE
    assert value == pytest.approx(w * whole + (1 - w) / 2 * late + (1 - w) / 2, rel=1e-12)


def test_the_change_point_prior_sums_to_one():
    starts = change_point_starts(10**6)
    assert starts[:5] == [0, 1, 2, 4, 8]
    assert all(change_point_starts(n) == [s for s in range(n) if sequential.begins_window(s)] for n in range(300))
    total = sum(change_point_weight(s) for s in starts)
    # w + (1 - w)(1 - 1/count) for the first `count` starts; the rest waits for later starts.
    w = sequential.WHOLE_STAGE
    assert total == pytest.approx(1 - (1 - w) / len(starts), rel=1e-12) and total < 1
    assert sum(sequential.PRIOR) == pytest.approx(1.0) and len(sequential.PRIOR) == len(sequential.ODDS_MULTIPLIERS)


@pytest.mark.parametrize("theta", [0.05, 0.03, 0.01])
def test_each_step_is_a_supermartingale_increment_under_the_null(theta):
    # E[LR] = sum over x of Binomial(m, theta) pmf * LR(x): exactly 1 at the null's boundary
    # (theta0 = 5 %), below 1 inside it, for every alternative.
    m, theta0 = 30, 0.05
    xs = np.arange(m + 1)
    for k in sequential.ODDS_MULTIPLIERS:
        theta1 = odds_to_p(k * theta0 / (1 - theta0))
        expectation = float(np.sum(stats.binom.pmf(xs, m, theta) * binomial_lr(xs, m, theta1, theta0)))
        if theta == theta0:
            assert expectation == pytest.approx(1.0, rel=1e-9)
        else:
            assert expectation < 1.0


def _false_alarms(rng, runs: int, steps: int, level: float, draw) -> float:
    alarms = 0
    for _ in range(runs):
        process = EProcess()
        for _ in range(steps):
            x, m, odds0 = draw(rng)
            if process.update(x, m, odds0) >= 1 / level:
                alarms += 1
                break
    return alarms / runs


def test_the_false_alarm_rate_under_continuous_monitoring_stays_below_alpha():
    # The null's worst case, the boundary itself: 5 % bad events, looked at after each of 100 steps.
    # Fixed-horizon tests repeated like this alarm far more often than their level.
    level, runs = 0.1, 400

    def draw(rng):
        m = rng.poisson(30)
        return rng.binomial(m, 0.05), m, 0.05 / 0.95

    rate = _false_alarms(np.random.default_rng(7), runs, 100, level, draw)
    assert rate <= level + 3 * math.sqrt(level * (1 - level) / runs), rate


def test_the_rate_ratio_test_keeps_its_level_with_poisson_counts_at_the_tolerance():
    # Lindon et al.'s setting: candidate and live events are Poisson with the candidate's rate at
    # exactly the tolerance (1.5 x live's), exposures varying from step to step.
    level, runs, tolerance = 0.1, 400, 1.5

    def draw(rng):
        cand_n, live_n = rng.poisson(50), rng.poisson(950)
        cand_x = rng.poisson(cand_n * 0.02 * tolerance)
        live_x = rng.poisson(live_n * 0.02)
        odds0 = tolerance * cand_n / live_n if live_n else math.inf
        return cand_x, cand_x + live_x, odds0

    rate = _false_alarms(np.random.default_rng(11), runs, 100, level, draw)
    assert rate <= level + 3 * math.sqrt(level * (1 - level) / runs), rate


def test_a_real_regression_is_found_and_the_p_value_stays_valid_after_it():
    process = EProcess()
    for _ in range(30):
        process.update(6, 30, 0.05 / 0.95)  # 20 % bad against a 5 % null
    assert process.peak >= 1e6 and process.p_value == pytest.approx(1 / process.peak)
    peak = process.peak
    for _ in range(30):
        process.update(0, 30, 0.05 / 0.95)  # healthy again: the e-value falls, the p-value stays
    assert process.value < peak and process.p_value == pytest.approx(1 / peak)


@pytest.mark.parametrize(("m", "odds0"), [(100, 0.05), (1000, 0.05), (50, 1.0)])
def test_detectable_odds_is_where_expected_counts_reach_the_level(m, odds0):
    level = 200.0
    k = detectable_odds(m, odds0, level)
    assert k is not None

    def expected_e(multiplier: float) -> float:
        theta = odds_to_p(multiplier * odds0)
        return sequential.whole_window_e_value(m * theta, m, odds0)

    assert expected_e(k) >= level > expected_e(k / 1.01)


def test_more_events_detect_smaller_regressions_and_none_detect_nothing():
    found = [detectable_odds(m, 0.05, 200.0) for m in (100, 1000, 10_000)]
    assert found[0] > found[1] > found[2]
    assert detectable_odds(0, 0.05, 200.0) is None and detectable_odds(1, 0.05, 200.0) is None


# Non-inferiority: the same likelihood ratios with alternatives below the null (k < 1).


@pytest.mark.parametrize("theta", [0.10, 0.15, 0.3])
def test_a_non_inferiority_step_is_a_supermartingale_increment_at_and_past_the_margin(theta):
    # The null is theta >= theta0 (the candidate past the margin): E[LR] is exactly 1 at the
    # boundary and below 1 beyond it, for every alternative k < 1.
    m, theta0 = 30, 0.10
    odds0 = theta0 / (1 - theta0)
    xs = np.arange(m + 1)
    for k in sequential.NON_INFERIORITY_MULTIPLIERS:
        lr = np.exp([sequential.log_likelihood_ratio(x, m, odds0, k) for x in xs])
        expectation = float(np.sum(stats.binom.pmf(xs, m, theta) * lr))
        if theta == theta0:
            assert expectation == pytest.approx(1.0, rel=1e-9)
        else:
            assert expectation < 1.0


def test_the_non_inferiority_prior_sums_to_one_and_judges_the_whole_stage_only():
    assert sum(sequential.NON_INFERIORITY_PRIOR) == pytest.approx(1.0)
    assert all(k < 1 for k in sequential.NON_INFERIORITY_MULTIPLIERS)
    process = sequential.non_inferiority()
    for _ in range(3):
        process.update(0, 100, 0.1)
    # One window, from step 0: the mixture of the three steps' ratios, nothing kept aside for later starts.
    expected = sum(
        w * math.exp(3 * sequential.log_likelihood_ratio(0, 100, 0.1, k))
        for w, k in zip(sequential.NON_INFERIORITY_PRIOR, sequential.NON_INFERIORITY_MULTIPLIERS)
    )
    assert process.value == pytest.approx(expected, rel=1e-12)


def test_non_inferiority_at_the_margin_is_shown_at_most_alpha_of_the_time_under_many_looks():
    # The candidate exactly at the margin (10 % of the events are its own, the null's boundary),
    # looked at after each of 100 steps: a false "no worse" at most alpha (plus 3 standard errors).
    level, runs = 0.1, 400
    rng = np.random.default_rng(11)
    shown = 0
    for _ in range(runs):
        process = sequential.non_inferiority()
        for _ in range(100):
            m = rng.poisson(30)
            if process.update(rng.binomial(m, 0.10), m, 0.10 / 0.90) >= 1 / level:
                shown += 1
                break
    assert shown / runs <= level + 3 * math.sqrt(level * (1 - level) / runs), shown / runs


def test_a_candidate_well_inside_the_margin_is_shown_no_worse():
    rng = np.random.default_rng(5)
    process = sequential.non_inferiority()
    for _ in range(100):
        m = rng.poisson(30)
        process.update(rng.binomial(m, 0.05), m, 0.10 / 0.90)  # half the margin: as good as live at 2x
    assert process.value >= 1 / 0.01


@pytest.mark.parametrize(
    ("stages", "expected"),
    [(1, (0.02,)), (2, (0.01, 0.01)), (4, (0.01, 0.005, 0.0025, 0.0025))],
)
def test_the_rollout_budget_is_split_over_its_stages_halving_and_summing_to_the_whole(stages, expected):
    budgets = sequential.stage_budgets(0.02, stages)
    assert budgets == pytest.approx(expected) and sum(budgets) == pytest.approx(0.02)
