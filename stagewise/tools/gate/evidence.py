"""The evidence the gate judges: each version's cumulative counts at each step of the grid from the
stage's start, and what makes a step's counts unfit to judge (never zero-filled, never skipped in
silence: stagewise.tools.gate.judge holds on them). Pure: no I/O, no clock."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from stagewise.core.gate_config import P95_TAIL

Family = Literal["requests", "errors", "latency"]
"""What a fault affects: every check (requests), the error checks, or the latency checks."""


@dataclass(frozen=True)
class Counts:
    """One version's counts since the stage began. `buckets[i]`: requests at or below bounds[i]."""

    requests: float
    errors: float
    buckets: tuple[float, ...] = ()


@dataclass(frozen=True)
class Sample:
    """The evidence at one step: `t` seconds after the stage began, both versions' cumulative counts."""

    t: float
    live: Counts
    candidate: Counts


@dataclass(frozen=True)
class VersionMetrics:
    """One version's requests over the window. p95_ms is None when it served none."""

    version: str
    requests: float
    errors: float
    p95_ms: float | None

    @property
    def error_rate(self) -> float | None:
        """Percent of requests that failed (HTTP 5xx); None without requests."""
        return 100.0 * self.errors / self.requests if self.requests > 0 else None


def p95_bound(bounds: Sequence[float], buckets: Sequence[float], requests: float) -> float | None:
    """The p95 as the buckets state it without interpolation: the lowest bound (seconds) at or below
    which at least 95 % of the requests are; inf above the highest bound, None without requests."""
    if requests <= 0:
        return None
    for bound, count in zip(bounds, buckets):
        if count >= (1 - P95_TAIL) * requests:
            return bound
    return math.inf


def totals(version: str, counts: Counts, bounds: Sequence[float]) -> VersionMetrics:
    """What the evidence says of one version over the whole stage (the p95 as its bucket bound)."""
    p95 = p95_bound(bounds, counts.buckets, counts.requests)
    return VersionMetrics(
        version, counts.requests, counts.errors, None if p95 is None or math.isinf(p95) else p95 * 1000.0
    )


def slow(counts: Counts, index: int) -> float:
    return max(counts.requests - counts.buckets[index], 0.0) if index < len(counts.buckets) else 0.0


def minutes(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def invalid(name: str, now: Counts, before: Counts, bounds: int, t: float) -> dict[Family, str]:
    """What is wrong with one version's cumulative counts at a step, given the step before: values
    that are not finite or negative, counts that fell, more errors than requests, buckets that do not
    fit the histogram. One reason per family, naming the version, the series and the fault."""
    at = f"at {minutes(t)}"
    found: dict[Family, str] = {}

    def bad(family: Family, text: str) -> None:
        found.setdefault(family, f"{name}: {text} {at}")

    counters: tuple[tuple[Family, float, float], ...] = (
        ("requests", now.requests, before.requests),
        ("errors", now.errors, before.errors),
    )
    for family, value, earlier in counters:
        series = family
        if not math.isfinite(value) or value < 0:
            bad(family, f"{series} count is {value!r}")
        elif value < earlier:
            bad(family, f"{series} count fell from {earlier:.0f} to {value:.0f}")
    if "requests" not in found and "errors" not in found:
        if now.errors - before.errors > now.requests - before.requests + 1e-9:
            bad(
                "errors",
                f"more errors ({now.errors - before.errors:.0f}) than requests "
                f"({now.requests - before.requests:.0f}) in the step",
            )
    if len(now.buckets) != bounds:
        bad("latency", f"latency histogram has {len(now.buckets)} buckets, not {bounds}")
        return found
    previous = before.buckets or tuple(0.0 for _ in now.buckets)
    lowest = 0.0
    for count, earlier in zip(now.buckets, previous):
        if not math.isfinite(count) or count < 0:
            bad("latency", f"latency bucket count is {count!r}")
        elif count < earlier - 1e-9:
            bad("latency", f"latency bucket count fell from {earlier:.0f} to {count:.0f}")
        elif count < lowest - 1e-9:
            bad("latency", "latency buckets are not cumulative (a higher bound counts fewer requests)")
        elif math.isfinite(now.requests) and count > now.requests + 1e-9:
            bad("latency", f"a latency bucket counts {count:.0f} requests of {now.requests:.0f}")
        lowest = max(lowest, count) if math.isfinite(count) else lowest
    return found


def delta(now: Counts, before: Counts) -> Counts:
    buckets = tuple(max(a - b, 0.0) for a, b in zip(now.buckets, before.buckets or tuple(0.0 for _ in now.buckets)))
    return Counts(max(now.requests - before.requests, 0.0), max(now.errors - before.errors, 0.0), buckets)
