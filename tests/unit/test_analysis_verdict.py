"""The gate's judgement, table-driven: promote only on complete evidence, abort only on a broken
limit with enough requests (and, for a relative limit, a significant test), hold otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stagewise.tools.analysis.verdict import Limits, VersionMetrics, error_rate_increase_test, judge, p95_exceeds_test

LIMITS = Limits(
    bake=timedelta(minutes=30),
    min_requests=100,
    error_rate_warning=1.0,
    error_rate_abort=5.0,
    p95_warning_ms=500,
    p95_abort_ms=2000,
    error_rate_increase_points=3.0,
    p95_ratio=1.15,
    significance=0.05,
)
BAKED = timedelta(hours=1)
LIVE = VersionMetrics("1.0", requests=100_000, errors=200, p95_ms=100.0)


def candidate(requests=5000, errors=10, p95_ms=100.0) -> VersionMetrics:
    return VersionMetrics("2.0", requests, errors, p95_ms)


def statuses(verdict) -> dict[str, str]:
    return {c.name: c.status for c in verdict.checks}


def test_healthy_and_baked_promotes():
    verdict = judge(LIMITS, BAKED, candidate(), LIVE, slower=100)
    assert verdict.verdict == "promote" and set(statuses(verdict).values()) == {"pass"}


@pytest.mark.parametrize(
    ("metrics", "problem", "reason", "text"),
    [
        (None, "Prometheus at http://x is unreachable: connection refused", "no_metrics", "unreachable"),
        (candidate(requests=0, errors=0, p95_ms=None), None, "no_candidate_traffic", "served no requests"),
    ],
    ids=["provider-down", "no-candidate-traffic"],
)
def test_missing_data_holds_and_says_which(metrics, problem, reason, text):
    verdict = judge(LIMITS, BAKED, metrics, LIVE, problem=problem)
    assert (verdict.verdict, verdict.hold_reason) == ("hold", reason) and text in verdict.reason


def test_a_provider_problem_holds_even_with_numbers_at_hand():
    assert judge(LIMITS, BAKED, candidate(errors=4000), LIVE, problem="query error").verdict == "hold"


def test_bake_not_over_holds():
    verdict = judge(LIMITS, timedelta(minutes=10), candidate(), LIVE, slower=100)
    assert (verdict.verdict, verdict.hold_reason) == ("hold", "bake") and "20m00s left" in verdict.reason


def test_too_few_requests_holds():
    verdict = judge(LIMITS, BAKED, candidate(requests=99, errors=0), LIVE, slower=1)
    assert (verdict.verdict, verdict.hold_reason) == ("hold", "samples") and "99 of the 100" in verdict.reason


def test_absolute_error_breach_aborts_even_before_the_bake_is_over():
    verdict = judge(LIMITS, timedelta(minutes=1), candidate(requests=200, errors=20), LIVE, slower=5)
    assert verdict.verdict == "abort" and statuses(verdict)["error_rate"] == "fail"
    assert "error_rate 10 > 5" in verdict.reason


def test_absolute_breach_with_too_few_requests_holds():
    verdict = judge(LIMITS, BAKED, candidate(requests=20, errors=5), LIVE, slower=0)
    assert (verdict.verdict, verdict.hold_reason) == ("hold", "samples")
    assert statuses(verdict)["error_rate"] == "wait"


def test_p95_breach_aborts():
    verdict = judge(LIMITS, BAKED, candidate(p95_ms=2500), LIVE, slower=3000)
    assert verdict.verdict == "abort" and statuses(verdict)["p95"] == "fail"


def test_warning_levels_warn_without_blocking_promote():
    verdict = judge(
        LIMITS, BAKED, candidate(errors=60, p95_ms=110.0), VersionMetrics("1.0", 100_000, 1000, 100.0), slower=200
    )
    assert verdict.verdict == "promote" and statuses(verdict)["error_rate"] == "warn"


def test_relative_error_breach_with_enough_requests_aborts():
    # 4.5 % against 0.2 %: 4.3 points over a 3-point margin, with 5000 requests.
    verdict = judge(LIMITS, BAKED, candidate(errors=225), LIVE, slower=100)
    relative = next(c for c in verdict.checks if c.name == "error_rate_vs_live")
    assert verdict.verdict == "abort" and relative.status == "fail" and relative.p_value < 1e-4  # z = 4.5


def test_relative_error_breach_that_is_not_significant_holds_for_significance():
    # 4.0 % of 150 requests against 0.2 %: beyond the margin, but 6 errors cannot tell it from chance.
    verdict = judge(LIMITS, BAKED, candidate(requests=150, errors=6), LIVE, slower=3)
    relative = next(c for c in verdict.checks if c.name == "error_rate_vs_live")
    assert (verdict.verdict, verdict.hold_reason) == ("hold", "significance")
    assert relative.status == "wait" and relative.p_value > 0.05


def test_the_error_rate_test_gets_sharper_with_more_requests():
    p_values = [
        error_rate_increase_test(candidate(requests=n, errors=n * 0.06), LIVE, 3.0) for n in (100, 1000, 10_000)
    ]
    assert p_values[0] > p_values[1] > p_values[2] and p_values[2] < 1e-9
    # At the margin exactly, the test is undecided.
    at_margin = error_rate_increase_test(candidate(requests=10**6, errors=0.032 * 10**6), LIVE, 3.0)
    assert at_margin == pytest.approx(0.5, abs=0.02)


def test_the_binomial_tail_test_matches_the_textbook_value():
    # P(X >= 10) for X ~ Binomial(100, 0.05) is 0.0282 (tables of the binomial distribution).
    assert p95_exceeds_test(100, 10) == pytest.approx(0.0282, abs=5e-4)
    assert p95_exceeds_test(100, 5) > 0.3


def test_relative_latency_breach_aborts_when_the_slow_share_is_significant():
    verdict = judge(LIMITS, BAKED, candidate(p95_ms=300.0), LIVE, slower=1500)
    relative = next(c for c in verdict.checks if c.name == "p95_vs_live")
    assert verdict.verdict == "abort" and relative.value == pytest.approx(3.0) and relative.status == "fail"


def test_relative_latency_over_the_ratio_without_evidence_holds():
    # The p95 ratio is 1.3, but only 6 % of 200 requests are slower than 1.15 x live p95.
    verdict = judge(LIMITS, BAKED, candidate(requests=200, errors=0, p95_ms=130.0), LIVE, slower=12)
    assert (verdict.verdict, verdict.hold_reason) == ("hold", "significance")


def test_relative_checks_are_skipped_when_live_served_nothing():
    # At 100 % the live colour gets no traffic: the absolute limits alone decide.
    verdict = judge(LIMITS, BAKED, candidate(), VersionMetrics("1.0", 0, 0, None))
    assert verdict.verdict == "promote"
    assert statuses(verdict)["error_rate_vs_live"] == statuses(verdict)["p95_vs_live"] == "skipped"
