"""What never moves a rollout: missing or inconsistent data, a candidate that stopped getting traffic
or gets the wrong share of it, and an outage live shares. Each holds, names what is wrong, and is
never promoted; the checks that can still see abort as before."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace
from datetime import timedelta

import pytest

from stagewise.tools.gate.evidence import Sample
from stagewise.tools.gate.judge import Judge
from tests.unit.test_analysis_verdict import BOUNDS, FAST, LIMITS, LIVE, STEP, grid, statuses, steady, verdict


def judged(samples, *, problems=(), weight=None, limits=LIMITS, bounds=BOUNDS):
    judge = Judge(limits, bounds, STEP, "version 1.5.0", live="live version 1.4.2", weight=weight)
    for sample in samples:
        judge.add(sample, problems)
    return judge, judge.verdict(timedelta(seconds=judge.t))


def with_candidate(samples, index, **changes):
    """The samples with the candidate's counts at `index` changed (a fault at one step)."""
    changed = list(samples)
    changed[index] = replace(changed[index], candidate=replace(changed[index].candidate, **changes))
    return changed


# Missing or bad data.


def test_a_latency_family_the_provider_could_not_read_holds_and_is_never_zero_filled():
    # The candidate's histogram is missing: its buckets read as zero would make every request slower
    # than every bound. Reported as a problem, the latency checks do not judge them.
    samples = grid(LIVE, steady(30, 0.008), 80)
    zeroed = [replace(s, candidate=replace(s.candidate, buckets=tuple(0.0 for _ in BOUNDS))) for s in samples]
    reason = "version 1.5.0: no http_server_request_duration_seconds_bucket series"
    _, result = judged(zeroed, problems=[("latency", reason)])
    assert (result.verdict, result.hold_reason) == ("hold", "bad_data") and reason in result.reason
    assert statuses(result)["p95"] == statuses(result)["p95_vs_live"] == "no_data"
    assert statuses(result)["error_rate"] == "pass"


def test_the_error_checks_still_abort_while_the_latency_data_is_missing():
    samples = grid(LIVE, steady(30, 0.3), 5)
    _, result = judged(samples, problems=[("latency", "version 1.5.0: no histogram")])
    assert result.verdict == "abort" and statuses(result)["error_rate"] == "fail"


@pytest.mark.parametrize(
    ("change", "family", "says"),
    [
        ({"requests": math.nan}, "requests", "requests count is nan"),
        ({"requests": math.inf}, "requests", "requests count is inf"),
        ({"errors": -3.0}, "errors", "errors count is -3.0"),
        ({"errors": 1e9}, "errors", "more errors"),
        ({"buckets": (math.nan, *FAST[1:])}, "latency", "latency bucket count is nan"),
        ({"buckets": FAST[:-1]}, "latency", "buckets, not 14"),
    ],
)
def test_a_count_that_is_not_finite_negative_or_inconsistent_holds_naming_the_version_and_series(change, family, says):
    samples = with_candidate(grid(LIVE, steady(30, 0.008), 80), -1, **change)
    _, result = judged(samples)
    assert (result.verdict, result.hold_reason) == ("hold", "bad_data"), result.reason
    assert f"{family}: version 1.5.0: " in result.reason and says in result.reason


def test_a_count_that_falls_holds_and_the_steps_after_it_judge_again():
    samples = grid(LIVE, steady(30, 0.008), 120)
    fell = with_candidate(samples, 100, requests=samples[99].candidate.requests - 10)
    _, at_fault = judged(fell[:101])
    assert at_fault.hold_reason == "bad_data" and "requests count fell" in at_fault.reason
    _, after = judged(fell)
    assert after.verdict == "promote"


def test_a_latency_limit_above_the_histograms_highest_bound_holds_however_slow_the_candidate():
    # Buckets up to 1 s, limit 2.5 s: the p95 check cannot see a breach, so it never lets a promote through.
    short = BOUNDS[:10]
    slow = tuple(0.0 for _ in short)  # every request above 1 s
    samples = [
        Sample(s.t, replace(s.live, buckets=s.live.buckets[:10]), replace(s.candidate, buckets=slow))
        for s in grid(LIVE, steady(30, 0.0), 120)
    ]
    _, result = judged(samples, bounds=short)
    assert result.verdict != "promote" and statuses(result)["p95"] == "no_data"
    assert "no bucket bound at or above 2500 ms" in {c.name: c for c in result.checks}["p95"].note


# Traffic is part of the evidence.


def test_a_candidate_that_stopped_getting_traffic_holds_is_stuck_after_the_deadline_and_never_promotes():
    # 60 requests in 2 minutes, then nothing: the bake ends, and it must not be promoted.
    def stops(step: int):
        return (30.0 if step <= 2 else 0.0, 0.0, FAST)

    limits = replace(LIMITS, min_requests=50, no_traffic_deadline=timedelta(minutes=30))
    _, early = judged(grid(LIVE, stops, 20), limits=limits)
    assert (early.hold_reason, early.stuck) == ("no_recent_traffic", False)
    assert "no recent candidate traffic" in early.reason
    _, late = judged(grid(LIVE, stops, 240), limits=limits)
    assert (late.verdict, late.hold_reason, late.stuck) == ("hold", "no_recent_traffic", True)
    assert "stuck: no candidate traffic for 3h58m" in late.reason


def test_a_candidate_getting_far_less_than_the_stages_weight_holds():
    # The stage sends 20 %; the candidate gets 5 % (the route is not applied yet, say).
    _, result = judged(grid(LIVE, steady(30, 0.008), 80), weight=20)
    assert (result.verdict, result.hold_reason) == ("hold", "traffic_share")
    assert "got 5 % of the recent requests, the stage sends 20 %" in result.reason
    _, right = judged(grid(LIVE, steady(30, 0.008), 80), weight=5)
    assert right.verdict == "promote"


# A shared outage.


def test_a_candidate_only_as_broken_as_live_holds_as_a_shared_outage():
    result = verdict(steady(30, 0.2), 10, live=steady(570, 0.2))
    assert (result.verdict, result.hold_reason) == ("hold", "shared_outage")
    assert result.reason.startswith("live breaks the limit too: shared outage")
    assert statuses(result)["error_rate"] == "outage"


def test_a_candidate_worse_than_live_in_an_outage_is_still_aborted_by_the_relative_check():
    result = verdict(steady(30, 0.6), 10, live=steady(570, 0.2))
    assert result.verdict == "abort" and statuses(result)["error_rate_vs_live"] == "fail"


# Kept across looks.


def test_a_judge_kept_between_looks_and_processes_gives_the_verdict_of_one_judging_all_steps():
    samples = grid(LIVE, steady(30, 0.008), 90)
    whole, expected = judged(samples)
    first = Judge(LIMITS, BOUNDS, STEP, "version 1.5.0", live="live version 1.4.2")
    for sample in samples[:45]:
        first.add(sample)
    resumed = pickle.loads(pickle.dumps(first))
    for sample in samples[45:]:
        resumed.add(sample)
    got = resumed.verdict(timedelta(seconds=resumed.t))
    assert (got.verdict, got.reason, got.checks, got.evidence) == (
        expected.verdict,
        expected.reason,
        expected.checks,
        expected.evidence,
    )


def test_counts_of_steps_not_yet_added_are_judged_with_the_next_step():
    samples = grid(LIVE, steady(30, 0.3), 6)
    gap = [samples[0], samples[3], samples[5]]  # steps 2, 3, 5 missing: their counts arrive later
    _, result = judged(gap)
    assert result.verdict == "abort"
