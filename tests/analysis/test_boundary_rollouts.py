"""The guarantee through PromQL on off-grid scrapes: candidates at exactly the tolerances (errorRateRatio
x live's error rate, slowRequestsRatio x live's share of slow requests), each rollout's two pods scraped every 30 s at offsets of their
own, read by the Prometheus provider from a real Prometheus and judged by the gate, are aborted at
most falseAbortRate of the time. The same 400 rollouts read with increase() per step, as the gate
did before, were aborted 14 times (3.5 %), so this test tells the two apart; exact counts: none."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import offgrid
import promserver
import pytest
from scenarios import ROOT
from scipy import stats

from stagewise.core import stackconfig
from stagewise.tools.gate import analysis, judge
from stagewise.tools.gate.prometheus import PrometheusProvider
from stagewise.tools.gate.settled import SettledCache

ROLLOUTS = 400
BASE = (int(time.time()) // 3600) * 3600 - 5 * 3600
STAGE = BASE + 600.0
HOURS = 2
BOUNDS = (0.1, 0.5, 2.5)
LIVE_ERRORS = 0.01
RPS = 10.0
CANARY = 0.05


def production() -> analysis.Limits:
    config = stackconfig.config_from_texts(
        (ROOT / "Pulumi.yaml").read_text(), (ROOT / "Pulumi.production.yaml").read_text(), "Pulumi.production.yaml"
    )
    return analysis.limits(config, "canary")


def latency_shares(ratio: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Share of requests in each bucket: live log-normal (median 60 ms, sigma 0.5); the candidate with
    `ratio` times live's share above the slow bound (the lowest bound at most 20 % of live exceed:
    100 ms, 15 % above it), so both relative checks sit exactly at their tolerance."""
    cdf = stats.lognorm.cdf(np.asarray(BOUNDS), 0.5, scale=0.06)
    live = np.diff(np.concatenate([[0.0], cdf]))
    above = 1.0 - live[0]
    candidate = np.concatenate([[1.0 - ratio * above], live[1:] * ratio])
    return tuple(float(x) for x in live), tuple(float(x) for x in candidate)


@pytest.fixture(scope="module")
def boundary(tmp_path_factory):
    limits = production()
    rng = np.random.default_rng(2323)
    live_shares, candidate_shares = latency_shares(limits.slow_requests_ratio)
    end = STAGE + HOURS * 3600 + 120
    pods = []
    for r in range(ROLLOUTS):
        for role, rps, errors, born, shares in (
            ("live", RPS * (1 - CANARY), LIVE_ERRORS, BASE, live_shares),
            (
                "candidate",
                RPS * CANARY,
                LIVE_ERRORS * limits.error_rate_ratio,
                STAGE + rng.uniform(0, 20),
                candidate_shares,
            ),
        ):
            pods.append(
                offgrid.Scraped(
                    f"{role}-{r}",
                    f"{role}-{r}",
                    born,
                    end,
                    rps,
                    30.0,
                    float(rng.uniform(0, 30)),
                    errors,
                    shares,
                    BOUNDS,
                )
            )
    work = tmp_path_factory.mktemp("boundary")
    bin_dir = promserver.binaries()
    promserver.backfill(bin_dir, offgrid.scraped_openmetrics(pods, rng), work / "data")
    server = promserver.start(bin_dir, work / "data", work)
    yield server, limits
    server.stop()


def test_candidates_at_the_error_tolerance_are_aborted_at_most_false_abort_rate(boundary):
    server, limits = boundary
    assert limits.error_rate_ratio > 1 and limits.bake > timedelta(hours=HOURS)  # abort or hold, never promote
    provider = PrometheusProvider(server.url, bounds_ms=tuple(b * 1000 for b in BOUNDS), cache=SettledCache(None))
    start, minute, steps = datetime.fromtimestamp(STAGE, UTC), timedelta(minutes=1), HOURS * 60
    aborted, served = 0, []
    for r in range(ROLLOUTS):
        found = provider.steps_for((f"live-{r}", f"candidate-{r}"), start, steps, minute)
        live, candidate = found[f"live-{r}"], found[f"candidate-{r}"]
        assert live.problems == candidate.problems == () and len(candidate.counts) == steps
        bounds, samples = analysis.evidence(live, candidate, minute)
        result = judge.judge(limits, bounds, minute.total_seconds(), samples, timedelta(hours=HOURS))
        aborted += result.verdict == "abort"
        served.append(candidate.counts[-1].requests)
    # The data is what the test says: about 0.5 request/s to the candidate for two hours, all counted.
    assert np.mean(served) == pytest.approx(RPS * CANARY * HOURS * 3600, rel=0.02)
    assert aborted / ROLLOUTS <= limits.false_abort_rate, f"{aborted} of {ROLLOUTS} aborted"
