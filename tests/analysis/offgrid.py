"""Request-duration histograms the way a real app and Prometheus produce them: individual requests at
random times, each pod scraped at its own interval and offset (off the evidence grid), pods that
restart (their counters reset to 0), pods born after the stage began, written as OpenMetrics text
for `promtool tsdb create-blocks-from openmetrics`.

`expected` computes the counts the gate must report from the requests themselves, not by
differencing samples: a request is seen at the first scrape of its pod (same process) at or after
it, and belongs to the evidence step of that scrape; a request whose process died before a scrape
saw it is never seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

METRIC = "http_server_request_duration_seconds"


@dataclass(frozen=True)
class Pod:
    """One process serving a version: its requests from `born` to `end` (unix seconds), scraped
    every `interval` s starting `offset` s after `born`; `restarts`: times its counters go back to 0."""

    version: str
    name: str
    born: float
    end: float
    rps: float
    interval: float
    offset: float
    error_share: float = 0.01
    latencies: tuple[tuple[float, float], ...] = ((0.04, 0.9), (0.3, 0.08), (3.0, 0.02))
    restarts: tuple[float, ...] = ()
    bounds: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
    histogram: bool = True
    nan_at: float | None = None  # a scrape at or after this time reports NaN for the pod's requests


@dataclass
class Generated:
    """A pod's requests (time, failed, latency) and scrape times (ms)."""

    pod: Pod
    times: np.ndarray
    failed: np.ndarray
    latency: np.ndarray
    scrapes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def generate(pod: Pod, rng: np.random.Generator) -> Generated:
    count = rng.poisson(pod.rps * (pod.end - pod.born))
    times = np.sort(rng.uniform(pod.born, pod.end, count))
    failed = rng.random(count) < pod.error_share
    values = np.array([latency for latency, _ in pod.latencies])
    shares = np.array([share for _, share in pod.latencies])
    latency = values[rng.choice(len(values), size=count, p=shares / shares.sum())]
    first = pod.born + pod.offset
    scrapes = np.round(np.arange(first, pod.end, pod.interval) * 1000).astype(np.int64)
    return Generated(pod, times, failed, latency, scrapes)


def _incarnation(pod: Pod, t: np.ndarray) -> np.ndarray:
    """Which process (0, 1, ... after each restart) a time falls in."""
    return np.searchsorted(np.asarray(sorted(pod.restarts)), t, side="right")


def samples(generated: Generated) -> dict[tuple[tuple[str, str], ...], list[tuple[int, float]]]:
    """label set -> [(timestamp ms, value)]: what each scrape of the pod shows."""
    pod = generated.pod
    out: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
    request_life = _incarnation(pod, generated.times)
    scrape_seconds = generated.scrapes / 1000.0
    scrape_life = _incarnation(pod, scrape_seconds)
    restarts = [-math.inf, *sorted(pod.restarts)]
    for code, selected in (("200", ~generated.failed), ("500", generated.failed)):
        times, latency, life = generated.times[selected], generated.latency[selected], request_life[selected]
        base = (("http_response_status_code", code), ("instance", pod.name), ("service_version", pod.version))
        series: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
        for stamp, seconds, alive in zip(generated.scrapes, scrape_seconds, scrape_life):
            # The counter holds the requests of this process up to the scrape.
            mine = (life == alive) & (times <= seconds) & (times > restarts[alive])
            total = float(mine.sum())
            if pod.nan_at is not None and seconds >= pod.nan_at:
                total = math.nan
            series.setdefault((("__name__", f"{METRIC}_count"), *base), []).append((int(stamp), total))
            if pod.histogram:
                for bound in pod.bounds:
                    below = float((mine & (latency <= bound)).sum())
                    series.setdefault((("__name__", f"{METRIC}_bucket"), *base, ("le", repr(bound))), []).append(
                        (int(stamp), below)
                    )
                series.setdefault((("__name__", f"{METRIC}_bucket"), *base, ("le", "+Inf")), []).append(
                    (int(stamp), total)
                )
        out.update(series)
    return out


def openmetrics(generated: list[Generated]) -> str:
    lines = [f"# TYPE {METRIC} histogram", f"# UNIT {METRIC} seconds"]
    for one in generated:
        for labels, points in samples(one).items():
            name = dict(labels)["__name__"]
            rendered = ",".join(f'{k}="{v}"' for k, v in labels if k != "__name__")
            lines += [f"{name}{{{rendered}}} {_number(value)} {stamp / 1000:.3f}" for stamp, value in points]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:g}"


@dataclass(frozen=True)
class Expected:
    requests: list[int]
    errors: list[int]
    buckets: dict[float, list[int]]


def expected(generated: list[Generated], version: str, start: float, step: float, steps: int) -> Expected:
    """Cumulative counts per step from the requests: each request in the step of the first scrape of
    its process at or after it (when that scrape is after the stage's start)."""
    requests = np.zeros(steps, dtype=np.int64)
    errors = np.zeros(steps, dtype=np.int64)
    bounds = generated[0].pod.bounds if generated else ()
    buckets = {bound: np.zeros(steps, dtype=np.int64) for bound in bounds}
    for one in generated:
        pod = one.pod
        if pod.version != version:
            continue
        scrape_seconds = one.scrapes / 1000.0
        restarts = [*sorted(pod.restarts), math.inf]
        life = _incarnation(pod, one.times)
        for t, failed, latency, alive in zip(one.times, one.failed, one.latency, life):
            # The first scrape at or after the request, before the process died.
            index = np.searchsorted(scrape_seconds, t, side="left")
            if index >= len(scrape_seconds) or scrape_seconds[index] >= restarts[alive]:
                continue  # never seen: the process restarted (or the data ended) before a scrape
            seen = scrape_seconds[index]
            if seen <= start:
                continue  # part of the baseline
            step_index = math.ceil((seen - start) / step) - 1
            if step_index >= steps:
                continue
            requests[step_index] += 1
            errors[step_index] += int(failed)
            for bound in bounds:
                if latency <= bound:
                    buckets[bound][step_index] += 1
    return Expected(
        [int(x) for x in np.cumsum(requests)],
        [int(x) for x in np.cumsum(errors)],
        {bound: [int(x) for x in np.cumsum(values)] for bound, values in buckets.items()},
    )


@dataclass(frozen=True)
class Scraped:
    """A pod's counters as its scrapes see them, drawn per scrape interval (Poisson requests, binomial
    errors, multinomial latency buckets): the same distribution as `generate`'s single requests,
    cheap enough for hundreds of simulated rollouts."""

    version: str
    name: str
    born: float
    end: float
    rps: float
    interval: float
    offset: float
    error_share: float
    bucket_shares: tuple[float, ...]  # share of requests in each bucket of `bounds`, the rest above
    bounds: tuple[float, ...]


def scraped_openmetrics(pods: list[Scraped], rng: np.random.Generator) -> str:
    lines = [f"# TYPE {METRIC} histogram", f"# UNIT {METRIC} seconds"]
    for pod in pods:
        stamps = np.arange(pod.born + pod.offset, pod.end, pod.interval)
        gaps = np.diff(np.concatenate([[pod.born], stamps]))
        served = rng.poisson(pod.rps * gaps)
        failed = rng.binomial(served, pod.error_share)
        shares = np.array([*pod.bucket_shares, 1.0 - sum(pod.bucket_shares)])
        for code, counts in (("200", served - failed), ("500", failed)):
            labels = f'http_response_status_code="{code}",instance="{pod.name}",service_version="{pod.version}"'
            per_bucket = rng.multinomial(counts, shares).reshape(len(counts), len(shares))
            total = np.cumsum(counts)
            below = np.cumsum(np.cumsum(per_bucket, axis=1), axis=0)
            lines += [f"{METRIC}_count{{{labels}}} {v} {t:.3f}" for t, v in zip(stamps, total)]
            for i, bound in enumerate(pod.bounds):
                lines += [
                    f'{METRIC}_bucket{{{labels},le="{bound!r}"}} {v} {t:.3f}' for t, v in zip(stamps, below[:, i])
                ]
            lines += [f'{METRIC}_bucket{{{labels},le="+Inf"}} {v} {t:.3f}' for t, v in zip(stamps, total)]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
