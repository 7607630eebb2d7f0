"""The numbers of a rollout: per stage and per version, and over time for the chart.

They come from the stage gates' own metrics provider (`stagewise.tools.gate.provider`), asked the
gate's one question: a version's requests, failed requests and p95 over a time window. Here the
windows are each stage of the rollout, and the consecutive windows the chart draws.

Pure apart from the calls to the provider: the windows come from the timeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from stagewise.tools.gate.evidence import VersionMetrics
from stagewise.tools.gate.provider import MetricsProvider, ProviderError, Window
from stagewise.tools.report.timeline import Rollout, StageSpan

# The chart's resolution: the rollout is cut into this many windows (each at least MIN_BUCKET long).
BUCKETS = 60
MIN_BUCKET = timedelta(minutes=1)


@dataclass(frozen=True)
class Difference:
    """Candidate against live over one stage."""

    error_rate_points: float | None
    """Candidate error rate minus live error rate, in percentage points."""
    p95_ratio: float | None
    """Candidate p95 / live p95."""


@dataclass(frozen=True)
class StageMetrics:
    stage: StageSpan
    candidate: VersionMetrics
    live: VersionMetrics | None
    """None when there is no baseline version (a first deploy)."""

    @property
    def difference(self) -> Difference:
        live = self.live
        if live is None:
            return Difference(None, None)
        a, b = self.candidate.error_rate, live.error_rate
        points = a - b if a is not None and b is not None else None
        ratio = self.candidate.p95_ms / live.p95_ms if self.candidate.p95_ms is not None and live.p95_ms else None
        return Difference(points, ratio)


@dataclass(frozen=True)
class Point:
    start: datetime
    end: datetime
    measurement: VersionMetrics


@dataclass(frozen=True)
class RolloutMetrics:
    """The rollout's numbers, or why there are none."""

    source: str | None
    stages: tuple[StageMetrics, ...] = ()
    series: dict[str, tuple[Point, ...]] | None = None
    """Per version, the windows the chart draws."""
    missing: str | None = None
    """Why there are no numbers; None when there are."""


def buckets(
    start: datetime, end: datetime, count: int = BUCKETS, least: timedelta = MIN_BUCKET
) -> list[tuple[datetime, datetime]]:
    """`start`..`end` cut into at most `count` consecutive windows of equal length in whole
    seconds (the last one what is left), each at least `least`."""
    span = end - start
    if span <= timedelta(0):
        return []
    # Whole seconds: query languages take a window as a number of seconds.
    size = max(timedelta(seconds=math.ceil((span / count).total_seconds())), least)
    windows, at = [], start
    while at < end:
        windows.append((at, min(at + size, end)))
        at += size
    return windows


def collect(rollout: Rollout, provider: MetricsProvider | None, missing: str | None = None) -> RolloutMetrics:
    """Every stage's numbers and the chart's series; with no provider (or one that fails), why not."""
    if provider is None:
        return RolloutMetrics(None, missing=missing or "no metrics provider is configured")

    def measure(version: str, start: datetime, end: datetime) -> VersionMetrics:
        return provider.version_metrics(version, Window(start, end))

    baseline = rollout.baseline
    versions = [rollout.version] + ([baseline] if baseline else [])
    try:
        stages = tuple(
            StageMetrics(
                span,
                measure(rollout.version, span.start, span.end),
                measure(baseline, span.start, span.end) if baseline else None,
            )
            for span in rollout.stages
            if span.end > span.start
        )
        series = {
            version: tuple(Point(a, b, measure(version, a, b)) for a, b in buckets(rollout.start, rollout.end))
            for version in versions
        }
    except ProviderError as error:
        return RolloutMetrics(provider.name, missing=f"{provider.name} could not be read: {error}")
    return RolloutMetrics(provider.name, stages, series)
