"""The Prometheus provider's counts against a real Prometheus, from data shaped the way real apps and
scrapes produce it: pods scraped every 5, 15 and 30 s at offsets of their own, a pod that restarts
mid-stage, a pod born mid-stage, a version whose histogram is missing, one whose series are
missing, one with a bucket bound missing and one with a NaN sample. The expected counts come from
the generated requests themselves (offgrid.expected), not from differencing samples."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import offgrid
import promserver
import pytest

from stagewise.core.gate_config import OTEL_LATENCY_BOUNDS_MS
from stagewise.tools.gate.prometheus import PrometheusProvider
from stagewise.tools.gate.provider import ProviderError
from stagewise.tools.gate.settled import SettledCache

HOUR = 3600.0
BASE = (int(time.time()) // 3600) * 3600 - 4 * 3600
STAGE = BASE + 613.4  # a commit's time: on no scrape's grid
END = STAGE + HOUR + 300
MINUTE = timedelta(minutes=1)


def pod(version: str, name: str, interval: float, offset: float, **more) -> offgrid.Pod:
    return offgrid.Pod(
        version, name, more.pop("born", BASE), more.pop("end", END), more.pop("rps", 2.0), interval, offset, **more
    )


PODS = [
    # live: three pods at 5, 15 and 30 s; the 30 s one restarts 37 minutes into the stage.
    pod("1.0.0", "a1", 15, 3.7),
    pod("1.0.0", "a2", 30, 11.2, restarts=(STAGE + 37 * 60 + 4.1,)),
    pod("1.0.0", "a3", 5, 1.3),
    # candidate: 30 s and 5 s pods from before the stage, a 15 s pod born 20 minutes into it.
    pod("2.0.0", "b1", 30, 21.9, rps=0.7, error_share=0.05),
    pod("2.0.0", "b2", 5, 0.4, rps=0.3),
    pod("2.0.0", "b3", 15, 9.1, born=STAGE + 20 * 60 + 7.7, rps=1.1),
    # broken ones
    pod("3.0.0-nohistogram", "c1", 15, 2.0, histogram=False),
    pod("4.0.0-nobound", "d1", 15, 5.0),
    pod(
        "4.0.0-nobound",
        "d2",
        15,
        6.0,
        bounds=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0),
    ),
    pod("5.0.0-nan", "e1", 15, 7.0, nan_at=STAGE + 10 * 60),
]


@pytest.fixture(scope="module")
def offgrid_prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("offgrid")
    bin_dir = promserver.binaries()
    rng = np.random.default_rng(23)
    generated = [offgrid.generate(p, rng) for p in PODS]
    promserver.backfill(bin_dir, offgrid.openmetrics(generated), work / "data")
    server = promserver.start(bin_dir, work / "data", work)
    yield server, generated
    server.stop()


def provider(url: str, **more) -> PrometheusProvider:
    return PrometheusProvider(url, bounds_ms=OTEL_LATENCY_BOUNDS_MS, cache=SettledCache(None), **more)


def start() -> datetime:
    return datetime.fromtimestamp(STAGE, UTC)


@pytest.mark.parametrize("step", [60.0, 10.0, 45.0])
def test_each_steps_counts_equal_the_requests_its_scrapes_saw(offgrid_prometheus, step):
    server, generated = offgrid_prometheus
    steps = int(HOUR // step)
    found = provider(server.url).steps_for(("1.0.0", "2.0.0"), start(), steps, timedelta(seconds=step))
    for version in ("1.0.0", "2.0.0"):
        truth = offgrid.expected(generated, version, STAGE, step, steps)
        got = found[version]
        assert got.problems == ()
        assert got.bounds == tuple(b / 1000 for b in OTEL_LATENCY_BOUNDS_MS)
        assert [c.requests for c in got.counts] == truth.requests, version
        assert [c.errors for c in got.counts] == truth.errors, version
        for i, bound in enumerate(got.bounds):
            assert [c.buckets[i] for c in got.counts] == truth.buckets[bound], (version, bound)
    # The data is what the test claims: the restart and the pod born mid-stage are inside it.
    assert truth.requests[-1] > 0


def test_the_counts_are_not_what_increase_would_extrapolate(offgrid_prometheus):
    # A check on the check: the same steps read the old way (increase() per step) differ from the
    # truth, so the test above can tell the two apart.
    import requests as http

    server, generated = offgrid_prometheus
    truth = offgrid.expected(generated, "2.0.0", STAGE, 60.0, 60)
    promql = 'sum(increase(http_server_request_duration_seconds_count{service_version="2.0.0"}[60s]))'
    answer = http.get(
        f"{server.url}/api/v1/query_range",
        params={"query": promql, "start": STAGE + 60, "end": STAGE + HOUR, "step": "60s"},
        timeout=10,
    ).json()
    per_step = np.array([float(v) for _, v in answer["data"]["result"][0]["values"]])
    exact = np.diff([0, *truth.requests])
    assert len(per_step) == len(exact) == 60
    assert (np.abs(per_step - exact) > 0.5).sum() > 30  # most steps differ: not integers, not these counts


def test_a_look_reads_only_the_steps_since_the_last_settled_one_and_agrees_with_a_fresh_read(
    offgrid_prometheus, tmp_path
):
    server, _ = offgrid_prometheus
    cache = SettledCache(tmp_path)
    watching = PrometheusProvider(server.url, bounds_ms=OTEL_LATENCY_BOUNDS_MS, cache=cache)
    first = watching.steps_for(("1.0.0", "2.0.0"), start(), 30, MINUTE)
    asked = watching.requests_made
    later = watching.steps_for(("1.0.0", "2.0.0"), start(), 32, MINUTE)
    assert watching.requests_made == asked + 1  # both versions, every family: one request for 2 new steps
    assert later["2.0.0"].counts[:30] == first["2.0.0"].counts
    fresh = provider(server.url).steps_for(("1.0.0", "2.0.0"), start(), 32, MINUTE)
    assert later == fresh
    # Another process: the steps come from the cache on disk, and only newer ones are read.
    restarted = PrometheusProvider(server.url, bounds_ms=OTEL_LATENCY_BOUNDS_MS, cache=cache)
    assert restarted.steps_for(("1.0.0", "2.0.0"), start(), 32, MINUTE) == fresh
    assert restarted.requests_made == 0


def test_steps_not_settled_are_not_returned(offgrid_prometheus):
    server, _ = offgrid_prometheus
    # Pretend it is 90 s after the end of step 20: steps up to 19 have settled (SETTLE is 1 minute).
    now = STAGE + 21 * 60 + 30
    found = provider(server.url, clock=lambda: now).steps_for(("2.0.0",), start(), 21, MINUTE)
    assert len(found["2.0.0"].counts) == 20
    # At the moment the stage began nothing has settled.
    assert provider(server.url, clock=lambda: STAGE).steps("2.0.0", start(), 1, MINUTE).counts == ()


def test_a_step_settles_two_scrape_intervals_after_its_end_as_the_data_shows_them(offgrid_prometheus):
    server, _ = offgrid_prometheus
    now = STAGE + 20 * 60 + 45  # 45 s after step 20's end
    reader = provider(server.url, clock=lambda: now)
    # Before anything was read: SETTLE (1 minute), so step 20 has not settled.
    assert len(reader.steps("3.0.0-nohistogram", start(), 21, MINUTE).counts) == 19
    # Its pod is scraped every 15 s: two intervals are 30 s, and step 20 has settled 45 s after its end.
    assert len(reader.steps("3.0.0-nohistogram", start(), 21, MINUTE).counts) == 20


def test_a_version_without_a_histogram_is_a_latency_problem_not_zeros(offgrid_prometheus):
    server, _ = offgrid_prometheus
    found = provider(server.url).steps("3.0.0-nohistogram", start(), 60, MINUTE)
    assert found.counts[-1].requests > 1000 and found.bounds == ()
    (problem,) = found.problems
    assert problem.series == "latency"
    assert "version 3.0.0-nohistogram served" in problem.reason and "no latency histogram" in problem.reason


def test_a_bound_missing_from_one_pods_histogram_is_a_latency_problem(offgrid_prometheus):
    server, _ = offgrid_prometheus
    found = provider(server.url).steps("4.0.0-nobound", start(), 60, MINUTE)
    assert 0.25 not in found.bounds and 0.5 in found.bounds
    assert {p.series for p in found.problems} == {"latency"}
    reasons = " ".join(p.reason for p in found.problems)
    assert 'instance="d2"' in reasons and "no bucket at 250 ms" in reasons and "4.0.0-nobound" in reasons


def test_a_version_with_no_series_is_a_requests_problem(offgrid_prometheus):
    server, _ = offgrid_prometheus
    found = provider(server.url).steps("9.9.9-absent", start(), 60, MINUTE)
    (problem,) = found.problems
    assert problem.series == "requests"
    assert 'http_server_request_duration_seconds_count{service_version="9.9.9-absent"}' in problem.reason
    assert "no series matches" in problem.reason


def test_a_nan_sample_is_a_problem_naming_the_series(offgrid_prometheus):
    server, _ = offgrid_prometheus
    found = provider(server.url).steps("5.0.0-nan", start(), 60, MINUTE)
    assert found.problems and {p.series for p in found.problems} == {"requests", "errors"}
    assert all("has the sample NaN at" in p.reason and 'instance="e1"' in p.reason for p in found.problems)


def test_the_timeout_is_one_deadline_for_the_whole_look(offgrid_prometheus):
    server, _ = offgrid_prometheus
    from stagewise.tools.gate import prometheus as module

    slow = provider(server.url, timeout=timedelta(seconds=1))
    real = slow.raw_samples

    def sleepy(selector, after, until):
        time.sleep(0.4)  # each request well inside the timeout, the look not
        return real(selector, after, until)

    slow.raw_samples = sleepy  # type: ignore[method-assign]
    original = module.CHUNK
    module.CHUNK = timedelta(minutes=5)
    try:
        with pytest.raises(ProviderError, match="did not answer within 1 s"):
            slow.steps("2.0.0", start(), 60, MINUTE)
    finally:
        module.CHUNK = original
    # What it read before the deadline is kept: the next look goes on from there.
    assert 0 < slow._version("2.0.0", start(), MINUTE).settled < 60


def test_one_request_reads_both_versions_and_every_family(offgrid_prometheus):
    server, _ = offgrid_prometheus
    reader = provider(server.url)
    reader.steps_for(("1.0.0", "2.0.0"), start(), 20, MINUTE)
    assert reader.requests_made == 1


def test_the_defaults_query_only_the_configured_bounds(offgrid_prometheus):
    server, _ = offgrid_prometheus
    few = PrometheusProvider(server.url, bounds_ms=(50, 250, 2500), cache=SettledCache(None))
    found = few.steps("1.0.0", start(), 10, MINUTE)
    assert found.bounds == (0.05, 0.25, 2.5) and found.problems == ()
    whole = provider(server.url).steps("1.0.0", start(), 10, MINUTE)
    assert [c.buckets for c in found.counts] == [(c.buckets[3], c.buckets[6], c.buckets[10]) for c in whole.counts]


def test_pods_replaced_mid_stage_are_not_double_counted(offgrid_prometheus, tmp_path):
    # The generator's own sanity: the pods above do restart and are born inside the stage.
    restarted = [p for p in PODS if p.restarts and STAGE < p.restarts[0] < STAGE + HOUR]
    born = [p for p in PODS if STAGE < p.born < STAGE + HOUR]
    assert restarted and born and replace(born[0], born=BASE).born == BASE
    assert Path(tmp_path).exists()
