"""The numbers of a rollout: per stage and per version, and over time for the chart.

What the report asks of a metrics provider is one question, `measure(version, start, end)`: that
version's requests, failed requests and p95 over the window. The stage gates' providers answer
the same question for the window since a stage began; `source` adapts them.

Pure apart from the calls to the source: the windows come from the timeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from stagewise.report.timeline import Rollout, StageSpan

# The chart's resolution: the rollout is cut into this many windows (each at least MIN_BUCKET long).
BUCKETS = 60
MIN_BUCKET = timedelta(minutes=1)


class MetricsUnavailable(Exception):
    """The provider cannot answer (not configured, unreachable, a query refused); the message says why."""


@dataclass(frozen=True)
class Measurement:
    """One version's requests over a window. p95_ms is None when it served none."""

    requests: float
    errors: float
    p95_ms: float | None

    @property
    def error_rate(self) -> float | None:
        """Percent of requests that failed; None without requests."""
        return 100.0 * self.errors / self.requests if self.requests > 0 else None


class MetricsSource(Protocol):
    @property
    def description(self) -> str:
        """Where the numbers come from, e.g. 'prometheus at http://127.0.0.1:9090'."""
        ...

    def measure(self, version: str, start: datetime, end: datetime) -> Measurement:
        """The version's requests from `start` to `end`; raises MetricsUnavailable."""
        ...


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
    candidate: Measurement
    live: Measurement | None
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
    measurement: Measurement


@dataclass(frozen=True)
class RolloutMetrics:
    """The rollout's numbers, or why there are none."""

    source: str | None
    stages: tuple[StageMetrics, ...] = ()
    series: dict[str, tuple[Point, ...]] | None = None
    """Per version, the windows the chart draws."""
    missing: str | None = None
    """Why there are no numbers; None when there are."""


def buckets(start: datetime, end: datetime, count: int = BUCKETS, least: timedelta = MIN_BUCKET) -> list[tuple[datetime, datetime]]:
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


def collect(rollout: Rollout, source: MetricsSource | None, missing: str | None = None) -> RolloutMetrics:
    """Every stage's numbers and the chart's series; with no source (or one that fails), why not."""
    if source is None:
        return RolloutMetrics(None, missing=missing or "no metrics provider is configured")
    versions = [rollout.version] + ([rollout.baseline] if rollout.baseline else [])
    try:
        stages = tuple(
            StageMetrics(
                span,
                source.measure(rollout.version, span.start, span.end),
                source.measure(rollout.baseline, span.start, span.end) if rollout.baseline else None,
            )
            for span in rollout.stages
            if span.end > span.start
        )
        series = {
            version: tuple(Point(a, b, source.measure(version, a, b)) for a, b in buckets(rollout.start, rollout.end))
            for version in versions
        }
    except MetricsUnavailable as error:
        return RolloutMetrics(source.description, missing=f"{source.description} could not be read: {error}")
    return RolloutMetrics(source.description, stages, series)
