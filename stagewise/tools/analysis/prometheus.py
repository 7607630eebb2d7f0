"""The Prometheus provider: instant queries over Prometheus's HTTP API (GET /api/v1/query).

The p95 and the count of slow requests are read from the request-duration histogram's buckets
the way PromQL's histogram_quantile reads them: linear interpolation inside a bucket, the lowest
bucket starting at 0, and nothing above the highest finite bucket bound.
"""

from __future__ import annotations

import math
import string
from datetime import timedelta
from typing import Any

import requests

from stagewise.core.gate_config import Queries
from stagewise.tools.analysis.provider import ProviderError, Window, quoted
from stagewise.tools.analysis.verdict import VersionMetrics

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

    def _render(self, template: str, version: str, window: Window) -> str:
        seconds = max(int(window.length.total_seconds()), 1)
        return string.Template(template).substitute(version=quoted(version), window=f"{seconds}s")

    def query(self, promql: str, window: Window) -> list[tuple[dict[str, str], float]]:
        """An instant query at the window's end: each series' labels and value."""
        try:
            response = self.session.get(
                f"{self.url}/api/v1/query",
                params={"query": promql, "time": f"{window.end.timestamp():.3f}", "timeout": f"{self.timeout:g}s"},
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


def _short(error: Exception) -> str:
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    return text if len(text) < 200 else text[:200] + "..."
