"""The numbers a report asks for: which windows, which versions, and what it says when there are none."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from stagewise.tools.gate.evidence import VersionMetrics
from stagewise.tools.gate.provider import ProviderError, Window
from stagewise.tools.report import metrics
from tests.unit.test_report_timeline import BASE, play, text


class Recorder:
    """A provider that answers from a rule and remembers every question."""

    name = "recorder"

    def __init__(self, fail_after: int | None = None):
        self.asked: list[tuple[str, datetime, datetime]] = []
        self.fail_after = fail_after

    def version_metrics(self, version: str, window: Window) -> VersionMetrics:
        if self.fail_after is not None and len(self.asked) >= self.fail_after:
            raise ProviderError("connection refused")
        start, end = window.start, window.end
        self.asked.append((version, start, end))
        minutes = (end - start).total_seconds() / 60
        # 2.0 fails 4 % of 10 requests a minute and answers in 300 ms; 1.0 fails 1 % in 200 ms.
        rate, p95 = (0.04, 300.0) if version == "2.0" else (0.01, 200.0)
        return VersionMetrics(version, 10 * minutes, 10 * minutes * rate, p95)


ROLLOUT = play(
    BASE,
    (1, text("idle", green="2.0")),
    (2, text("canary", green="2.0")),
    (4, text("half", green="2.0")),
    (5, text("idle", green="2.0")),
)[0]


def test_each_stage_is_measured_over_its_own_window_for_both_versions():
    source = Recorder()
    found = metrics.collect(ROLLOUT, source)
    assert found.missing is None and found.source == "recorder"
    windows = [(s.start, s.end) for s in ROLLOUT.stages]
    for version in ("2.0", "1.0"):
        assert [(a, b) for v, a, b in source.asked[: 2 * len(windows)] if v == version] == windows
    canary = found.stages[1]
    assert (canary.candidate.requests, canary.live.requests) == (1200, 1200)
    assert canary.difference.error_rate_points == pytest.approx(3.0)
    assert canary.difference.p95_ratio == pytest.approx(1.5)


def test_the_chart_series_cover_the_whole_rollout_per_version():
    found = metrics.collect(ROLLOUT, Recorder())
    assert set(found.series) == {"2.0", "1.0"}
    points = found.series["2.0"]
    assert points[0].start == ROLLOUT.start and points[-1].end == ROLLOUT.end
    assert all(a.end == b.start for a, b in itertools.pairwise(points))
    assert sum(p.measurement.requests for p in points) == pytest.approx(10 * 4 * 60)


def test_no_source_says_why():
    found = metrics.collect(ROLLOUT, None, "Pulumi.dev.yaml sets no stagewise:analysis")
    assert (found.stages, found.series, found.missing) == ((), None, "Pulumi.dev.yaml sets no stagewise:analysis")


def test_a_source_that_fails_midway_gives_no_numbers_and_the_reason():
    found = metrics.collect(ROLLOUT, Recorder(fail_after=3))
    assert found.stages == () and found.series is None
    assert found.missing == "recorder could not be read: connection refused"


def test_no_baseline_no_difference():
    (first,) = play((0, text("idle", blue="1.0")), (1, text("canary", green="2.0")))
    found = metrics.collect(first, Recorder())
    assert all(s.live is not None for s in found.stages)  # 1.0 is live: it is the baseline
    only = metrics.StageMetrics(first.stages[0], VersionMetrics("2.0", 10, 1, 100.0), None)
    assert only.difference == metrics.Difference(None, None)


@pytest.mark.parametrize(
    "span, count, expected",
    [
        (timedelta(hours=1), 60, 60),
        (timedelta(minutes=10), 60, 10),  # never shorter than a minute
        (timedelta(hours=1, seconds=30), 60, 60),  # 61 s each; the last one is the rest
        (timedelta(hours=2), 60, 60),
        (timedelta(0), 60, 0),
    ],
)
def test_buckets(span, count, expected):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    windows = metrics.buckets(start, start + span, count)
    assert len(windows) == expected
    if windows:
        assert windows[0][0] == start and windows[-1][1] == start + span
        assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
        assert len({b - a for a, b in windows[:-1]}) <= 1
        assert all((b - a).total_seconds() == int((b - a).total_seconds()) for a, b in windows)
