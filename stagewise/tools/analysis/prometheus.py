"""The Prometheus provider over Prometheus's HTTP API.

The gate's evidence comes from range queries (GET /api/v1/query_range): each query template with
$window set to the evidence step, evaluated at every step from the stage's start, so each point is
that step's increase; the gate adds them up. Latency is counted at the histogram's own bucket
bounds (`le`), never interpolated inside a bucket.

`version_metrics` and `slower_than` (instant queries over a whole window, the p95 and slow counts
interpolated the way PromQL's histogram_quantile does) serve the rollout report.
"""

from __future__ import annotations

import math
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from stagewise.core.gate_config import Queries
from stagewise.tools.analysis.provider import ProviderError, Steps, Window, quoted
from stagewise.tools.analysis.verdict import Counts, VersionMetrics

Buckets = list[tuple[float, float]]
"""(upper bound in seconds, cumulative count), ascending, the last one +Inf."""


def quantile(q: float, buckets: Buckets) -> float | None:
    """The q-quantile (seconds) of a cumulative histogram, as histogram_quantile computes it."""
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return None
    counts = _monotonic([c for _, c in buckets])
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    index = next(i for i, c in enumerate(counts) if c >= rank)
    if index == len(buckets) - 1:
        return buckets[-2][0]
    start, end = (0.0 if index == 0 else buckets[index - 1][0]), buckets[index][0]
    if index == 0 and end <= 0:
        return end
    below = 0.0 if index == 0 else counts[index - 1]
    inside = counts[index] - below
    return start + (end - start) * ((rank - below) / inside if inside else 0.0)


def count_above(threshold: float, buckets: Buckets) -> float:
    """Observations above `threshold` (seconds), interpolating linearly inside its bucket."""
    if len(buckets) < 2:
        return 0.0
    counts = _monotonic([c for _, c in buckets])
    total = counts[-1]
    below, lower = 0.0, 0.0
    for (bound, _), count in zip(buckets, counts):
        if math.isinf(bound):
            break  # above the highest finite bound nothing is known: count it all as slower
        if threshold < bound:
            below += (count - below) * (threshold - lower) / (bound - lower) if bound > lower else 0.0
            return max(total - below, 0.0)
        below, lower = count, bound
    return max(total - below, 0.0)


def _monotonic(counts: list[float]) -> list[float]:
    # Buckets scraped at slightly different moments can dip; PromQL evens them out the same way.
    result, highest = [], 0.0
    for count in counts:
        highest = max(highest, count)
        result.append(highest)
    return result


class PrometheusProvider:
    def __init__(
        self,
        url: str,
        queries: Queries | None = None,
        timeout: timedelta = timedelta(seconds=10),
        session: requests.Session | None = None,
    ):
        self.url = url.rstrip("/")
        self.queries = queries or Queries()
        self.timeout = timeout.total_seconds()
        self.session = session or requests.Session()
        self.name = f"prometheus {self.url}"
        self._buckets: dict[tuple[str, Window], Buckets] = {}
        self._settled: dict[tuple[str, datetime, timedelta], _Increments] = {}

    def _render(self, template: str, version: str, window: Window) -> str:
        seconds = max(int(window.length.total_seconds()), 1)
        return string.Template(template).substitute(version=quoted(version), window=f"{seconds}s")

    def _get(self, path: str, promql: str, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The `data` of a successful answer and the whole answer; ProviderError with the reason otherwise."""
        try:
            response = self.session.get(
                f"{self.url}{path}",
                params={"query": promql, **params, "timeout": f"{self.timeout:g}s"},
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise ProviderError(f"Prometheus at {self.url} did not answer within {self.timeout:g} s") from None
        except requests.RequestException as error:
            raise ProviderError(f"Prometheus at {self.url} is unreachable: {_short(error)}") from None
        try:
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError(body)
        except ValueError:
            raise ProviderError(
                f"Prometheus at {self.url} answered HTTP {response.status_code} without JSON (is it Prometheus?)"
            ) from None
        if body.get("status") != "success":
            raise ProviderError(
                f"Prometheus refused the query ({body.get('errorType', f'HTTP {response.status_code}')}: "
                f"{body.get('error', 'no message')}): {promql}"
            )
        data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
        return data, body

    def query(self, promql: str, window: Window) -> list[tuple[dict[str, str], float]]:
        """An instant query at the window's end: each series' labels and value."""
        data, body = self._get("/api/v1/query", promql, {"time": f"{window.end.timestamp():.3f}"})
        try:
            if data.get("resultType") == "scalar":
                return [({}, float(data["result"][1]))]
            if data.get("resultType") != "vector":
                raise ProviderError(f"the query returned a {data.get('resultType')}, not an instant vector: {promql}")
            return [(series.get("metric", {}), float(series["value"][1])) for series in data["result"]]
        except (KeyError, IndexError, TypeError, ValueError):
            raise ProviderError(
                f"Prometheus at {self.url} answered in an unexpected shape: {str(body)[:200]}"
            ) from None

    def _number(self, template: str, version: str, window: Window) -> float:
        promql = self._render(template, version, window)
        values = [v for _, v in self.query(promql, window) if not math.isnan(v)]
        return sum(values)

    def buckets(self, version: str, window: Window) -> Buckets:
        key = (version, window)
        if key not in self._buckets:
            promql = self._render(self.queries.duration_buckets, version, window)
            found: dict[float, float] = {}
            for labels, value in self.query(promql, window):
                if "le" not in labels:
                    raise ProviderError(f"the duration buckets query must return one series per `le` label: {promql}")
                bound = float(labels["le"])
                found[bound] = found.get(bound, 0.0) + (0.0 if math.isnan(value) else value)
            self._buckets[key] = sorted(found.items())
        return self._buckets[key]

    def version_metrics(self, version: str, window: Window) -> VersionMetrics:
        total = self._number(self.queries.requests, version, window)
        errors = self._number(self.queries.errors, version, window)
        p95 = quantile(0.95, self.buckets(version, window)) if total > 0 else None
        return VersionMetrics(version, total, errors, None if p95 is None else p95 * 1000.0)

    def slower_than(self, version: str, window: Window, threshold_ms: float) -> float:
        return count_above(threshold_ms / 1000.0, self.buckets(version, window))

    def query_range(
        self, promql: str, start: datetime, steps: int, step: timedelta
    ) -> list[tuple[dict[str, str], list[float]]]:
        """A range query at start + step, start + 2 step, ... (`steps` points): each series' labels
        and its value at every point (0 where it has none). Asked in parts of at most MAX_POINTS."""
        seconds = step.total_seconds()
        first = start.timestamp() + seconds
        found: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[float]]] = {}
        for offset in range(0, max(steps, 0), MAX_POINTS):
            count = min(MAX_POINTS, steps - offset)
            begin = first + offset * seconds
            data, body = self._get(
                "/api/v1/query_range",
                promql,
                {"start": f"{begin:.3f}", "end": f"{begin + (count - 1) * seconds:.3f}", "step": f"{seconds:g}s"},
            )
            if data.get("resultType") != "matrix":
                raise ProviderError(
                    f"the range query returned a {data.get('resultType')}, not a range vector: {promql}"
                )
            try:
                for series in data["result"]:
                    labels = series.get("metric", {})
                    _, values = found.setdefault(tuple(sorted(labels.items())), (labels, [0.0] * steps))
                    for stamp, text in series["values"]:
                        index = int(round((float(stamp) - first) / seconds))
                        value = float(text)
                        if 0 <= index < steps and not math.isnan(value):
                            values[index] = value
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                raise ProviderError(
                    f"Prometheus at {self.url} answered in an unexpected shape: {str(body)[:200]}"
                ) from None
        return list(found.values())

    def steps(self, version: str, start: datetime, steps: int, step: timedelta) -> Steps:
        """Each step's increase of the requests, errors and duration buckets, added up from the start.

        Steps that ended SETTLED ago or more are kept and not asked for again, so a watch's look
        reads only the newest steps: every look judges the same counts for a step."""
        key = (version, start, step)
        kept = self._settled.get(key, _Increments())
        have = min(len(kept.requests), steps)
        fresh = self._increments(version, start + have * step, steps - have, step)
        merged = kept.head(have).extended(fresh)
        settled = int((time.time() - SETTLED.total_seconds() - start.timestamp()) // step.total_seconds())
        if settled > have:
            self._settled[key] = merged.head(min(settled, steps))
        if steps > 0 and not any(merged.requests):
            self._check_step(version, start, steps, step)
        bounds = tuple(sorted(merged.per_bound))
        counts, total, bad, below = [], 0.0, 0.0, [0.0] * len(bounds)
        for i in range(steps):
            total += merged.requests[i]
            bad += merged.errors[i]
            below = [b + merged.per_bound[bound][i] for b, bound in zip(below, bounds)]
            counts.append(Counts(total, min(bad, total), tuple(_monotonic([min(b, total) for b in below]))))
        return Steps(bounds, tuple(counts))

    def _check_step(self, version: str, start: datetime, steps: int, step: timedelta) -> None:
        """No requests in any step: make sure that is so over the whole window too. increase() needs
        two samples inside its range, so a step no longer than the scrape interval reads nothing."""
        whole = self._number(self.queries.requests, version, Window(start, start + steps * step))
        if whole > 0:
            raise ProviderError(
                f"version {version} served {whole:.0f} requests since the stage began, but none shows in "
                f"any {step.total_seconds():g}s step: each step's increase() needs two scrapes inside it; "
                "set stagewise:analysis.step to at least twice Prometheus's scrape interval"
            )

    def _increments(self, version: str, start: datetime, steps: int, step: timedelta) -> _Increments:
        """The increase in each of `steps` steps from `start` (range queries, $window = the step)."""
        window = Window(start, start + step)

        def each(template: str) -> list[tuple[dict[str, str], list[float]]]:
            return self.query_range(self._render(template, version, window), start, steps, step)

        if steps <= 0:
            return _Increments()
        found = _Increments(
            _summed([v for _, v in each(self.queries.requests)], steps),
            _summed([v for _, v in each(self.queries.errors)], steps),
        )
        promql = self._render(self.queries.duration_buckets, version, window)
        for labels, values in each(self.queries.duration_buckets):
            if "le" not in labels:
                raise ProviderError(f"the duration buckets query must return one series per `le` label: {promql}")
            bound = float(labels["le"])
            if not math.isinf(bound):
                found.per_bound[bound] = _summed([found.per_bound.get(bound, [0.0] * steps), values], steps)
        return found


MAX_POINTS = 10_000
"""Points per range query: Prometheus refuses more than 11,000 per series (a stage of 8 days at 1m)."""

SETTLED = timedelta(minutes=2)
"""A step that ended this long ago is in Prometheus for good (scrapes every 15 to 60 s)."""


@dataclass
class _Increments:
    """Per-step increases of one version: requests, errors, and the requests at or below each bound."""

    requests: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    per_bound: dict[float, list[float]] = field(default_factory=dict)

    def head(self, steps: int) -> _Increments:
        return _Increments(
            self.requests[:steps], self.errors[:steps], {b: v[:steps] for b, v in self.per_bound.items()}
        )

    def extended(self, more: _Increments) -> _Increments:
        have, new = len(self.requests), len(more.requests)
        bounds = set(self.per_bound) | set(more.per_bound)
        return _Increments(
            self.requests + more.requests,
            self.errors + more.errors,
            {b: self.per_bound.get(b, [0.0] * have) + more.per_bound.get(b, [0.0] * new) for b in bounds},
        )


def _summed(rows: list[list[float]], steps: int) -> list[float]:
    return [sum(row[i] for row in rows) for i in range(steps)]


def _short(error: Exception) -> str:
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    return text if len(text) < 200 else text[:200] + "..."
