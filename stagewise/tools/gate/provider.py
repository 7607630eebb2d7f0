"""What a metrics provider answers, whatever its backend: a version's requests over a time window.

Pure. `MetricsProvider` is the interface the gate (and any later report) uses; the Prometheus
and Application Insights providers implement it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from stagewise.tools.gate.evidence import Counts, VersionMetrics


class ProviderError(RuntimeError):
    """The metrics could not be read. The message says which case: unreachable, refused, bad query..."""


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end), both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window needs timezone-aware times")
        if self.end <= self.start:
            raise ValueError(f"a window must end after it starts ({self.start.isoformat()} .. {self.end.isoformat()})")

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class DataProblem:
    """Evidence the provider could not read as exact counts: the checks of `series` must hold,
    never judge a zero-filled or partial count."""

    series: Literal["requests", "errors", "latency"]
    """Which check family it affects."""
    reason: str
    """Names the version, the series (metric and labels) and what is wrong."""


@dataclass(frozen=True)
class Steps:
    """One version's evidence on the grid: `counts[i]` holds its counts from the grid's start to
    start + (i + 1) * step (cumulative), `buckets` per bound of `bounds` (seconds, ascending).

    `problems` lists what could not be read exactly (a missing histogram or bound, a NaN, Inf or
    negative sample, no requests series); the counts it affects are not to be judged."""

    bounds: tuple[float, ...]
    counts: tuple[Counts, ...]
    problems: tuple[DataProblem, ...] = ()


class MetricsProvider(Protocol):
    """Requests, errors and latency of one version over a window, and per step of the evidence grid."""

    name: str
    """Shown in the evidence, e.g. 'prometheus http://prometheus.example:9090'."""

    def version_metrics(self, version: str, window: Window) -> VersionMetrics:
        """Requests, HTTP 5xx errors and p95 (ms) of `version`; raises ProviderError."""
        ...

    def slower_than(self, version: str, window: Window, threshold_ms: float) -> float:
        """How many of `version`'s requests took longer than `threshold_ms`; raises ProviderError."""
        ...

    def steps(self, version: str, start: datetime, steps: int, step: timedelta) -> Steps:
        """`version`'s counts at each settled step of the first `steps` from `start`; raises ProviderError."""
        ...

    def steps_for(self, versions: tuple[str, ...], start: datetime, steps: int, step: timedelta) -> dict[str, Steps]:
        """Each version's counts at each settled step of the first `steps` from `start`, read together
        (one request where the source allows), every version with the same number of steps.

        Only settled steps are returned (each source says when a step settles: all its data has
        arrived), so the counts may be fewer than `steps`: the gate judges only settled steps, and a
        step's counts never change once returned. Raises ProviderError; the whole call shares one
        deadline, the configured timeout."""
        ...


def quoted(version: str) -> str:
    """A version as a double-quoted string literal, valid in PromQL and in KQL alike."""
    return '"' + version.replace("\\", "\\\\").replace('"', '\\"') + '"'
