"""gate_quality's rollouts through PromQL: the same scenarios, scraped, backfilled into a real
Prometheus and read back by the gate's Prometheus provider, as `analyze` reads them.

Each rollout's live and candidate are one pod each, scraped every 30 s at an offset of its own (the
candidate's pod starts with the stage), so no sample sits on the evidence grid. Between two scrapes
a pod serves Poisson(rate x gap) requests, binomial errors and multinomial latency buckets: the same
distributions as gate_quality's per-minute simulation, cut at the scrapes instead of the minutes.
The provider's exact counts per step are written in replay's format, so both paths are judged by
the same `stagewise replay`.

Series per pod: the request counter by status code (200, 500) and one histogram without the status
code label (the default queries sum the buckets over every code anyway); this keeps the backfill of
hundreds of rollouts per scenario small.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))

import promserver  # noqa: E402

from stagewise.tools.gate.prometheus import PrometheusProvider  # noqa: E402
from stagewise.tools.gate.settled import SettledCache  # noqa: E402

METRIC = "http_server_request_duration_seconds"
INTERVAL = 30.0
"""Scrape interval, s: the one the docs allow for a 1-minute step and the worst for increase()."""


class Scenario(Protocol):
    name: str
    rps: float
    live_errors: float
    error_factor: float
    latency_factor: float
    bad_from: int
    stops_at: int | None


def rollouts(
    scenario: Scenario,
    runs: int,
    rng: np.random.Generator,
    bounds: tuple[float, ...],
    bucket_shares: Callable[[float], np.ndarray],
    canary: float,
    minutes: int,
) -> list[dict[str, Any]]:
    """`runs` rollouts of the scenario in replay's format, counted by the provider from Prometheus."""
    base = (time.time() // 3600) * 3600 - (minutes // 60 + 4) * 3600
    stage = base + 600.0
    end = stage + minutes * 60 + 2 * INTERVAL
    lines = [f"# TYPE {METRIC} histogram", f"# UNIT {METRIC} seconds"]
    healthy, slow = bucket_shares(1.0), bucket_shares(scenario.latency_factor)
    bad_errors = min(scenario.live_errors * scenario.error_factor, 1.0)
    for run in range(runs):
        for role in ("live", "candidate"):
            born = base if role == "live" else stage
            stamps = np.arange(born + rng.uniform(0, INTERVAL), end, INTERVAL)
            gaps = np.diff(np.concatenate([[born], stamps]))
            minute = (stamps - stage) / 60.0
            bad = (minute > scenario.bad_from) if role == "candidate" else np.zeros(len(stamps), dtype=bool)
            rate = scenario.rps * (canary if role == "candidate" else 1 - canary) * gaps
            if role == "candidate" and scenario.stops_at is not None:
                rate = np.where(minute > scenario.stops_at, 0.0, rate)
            served = rng.poisson(rate)
            failed = rng.binomial(served, np.where(bad, bad_errors, scenario.live_errors))
            # Each interval's latencies from the shape it has (slow once the candidate turned bad).
            buckets = np.where(bad[:, None], rng.multinomial(served, slow), rng.multinomial(served, healthy))
            version = f"{role}-{run}"
            for code, counts in (("200", served - failed), ("500", failed)):
                labels = f'http_response_status_code="{code}",instance="{version}",service_version="{version}"'
                lines += [f"{METRIC}_count{{{labels}}} {v} {t:.3f}" for t, v in zip(stamps, np.cumsum(counts))]
            below = np.cumsum(np.cumsum(buckets, axis=1), axis=0)
            labels = f'instance="{version}",service_version="{version}"'
            for i, bound in enumerate(bounds):
                lines += [
                    f'{METRIC}_bucket{{{labels},le="{bound!r}"}} {v} {t:.3f}' for t, v in zip(stamps, below[:, i])
                ]
            lines += [f'{METRIC}_bucket{{{labels},le="+Inf"}} {v} {t:.3f}' for t, v in zip(stamps, np.cumsum(served))]
    lines.append("# EOF")
    with tempfile.TemporaryDirectory(prefix="gate-quality-promql-") as folder:
        work = Path(folder)
        bin_dir = promserver.binaries()
        promserver.backfill(bin_dir, "\n".join(lines) + "\n", work / "data")
        server = promserver.start(bin_dir, work / "data", work)
        try:
            provider = PrometheusProvider(
                server.url,
                bounds_ms=tuple(b * 1000 for b in bounds),
                cache=SettledCache(None),
                timeout=timedelta(minutes=1),
            )
            start, step = datetime.fromtimestamp(stage, UTC), timedelta(minutes=1)
            out = []
            for run in range(runs):
                found = provider.steps_for((f"live-{run}", f"candidate-{run}"), start, minutes, step)
                live, candidate = found[f"live-{run}"], found[f"candidate-{run}"]
                problems = [p.reason for p in (*live.problems, *candidate.problems)]
                # A candidate that served nothing has no histogram to be missing; anything else is the bench's fault.
                if problems and not all("no series matches" in p for p in problems):
                    raise SystemExit(f"{scenario.name}, rollout {run}: {problems}")
                samples = [
                    {
                        "t": (i + 1) * 60,
                        "live": _counts(live.counts[i], live.bounds, bounds),
                        "candidate": _counts(candidate.counts[i], candidate.bounds, bounds),
                    }
                    for i in range(minutes)
                ]
                out.append({"name": f"{run}", "samples": samples})
            return out
        finally:
            server.stop()


def _counts(counts: Any, have: tuple[float, ...], bounds: tuple[float, ...]) -> dict[str, Any]:
    where = {b: i for i, b in enumerate(have)}
    return {
        "requests": _int(counts.requests),
        "errors": _int(counts.errors),
        "buckets": [_int(counts.buckets[where[b]]) if b in where else 0 for b in bounds],
    }


def _int(value: float) -> int:
    assert math.isfinite(value) and value == int(value), value  # exact counts are whole numbers
    return int(value)
