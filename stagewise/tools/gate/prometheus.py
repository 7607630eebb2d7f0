"""The Prometheus provider over Prometheus's HTTP API.

The gate's evidence is exact counts. Each query template is a plain counter selector
(stagewise.core.counter_selector); the provider reads the raw samples of every series it selects
(an instant query of the selector with a range, GET /api/v1/query, which returns each sample with
its own timestamp) and differences them per series on this side:

- the events between two samples of a series belong to the step of the later sample (step i holds
  the samples in (start + i * step, start + (i + 1) * step]), so each event is counted once, in
  the step whose end its sample precedes, wherever the scrapes sit relative to the grid;
- a drop is a counter reset: the increment is the new value (the counter restarted from 0);
- a series' baseline is its last sample at or before the stage's start (looked for LOOKBACK back);
  a series with none there was born later and counts from 0.

No increase() or rate(): those extrapolate to the window's edges (about step / (step - scrape
interval) too much), which breaks the sequential test's guarantee. Both versions, the requests,
the errors and the bucket bounds the gate uses are read in one request when the templates allow it
(a regex on the version label, the families told apart on this side).

Only settled steps are returned: a step settles when every scrape timestamped inside it has been
appended, two scrape intervals after its end (the widest gap between two samples of a series in
the last read; at least SETTLE_MIN, at most SETTLE, and SETTLE before anything was read). Settled steps are kept (in memory and in `settled.SettledCache` on
disk), so a look reads only the samples after the last settled step, at minute 1 as at hour 48.

Missing or bad data is reported in `Steps.problems`, never zero-filled: a version without any
requests series, a histogram missing for a version that served requests, a bound missing from a
histogram, a NaN, infinite or negative sample.

`version_metrics` and `slower_than` (instant queries over a whole window, the p95 and slow counts
interpolated the way PromQL's histogram_quantile does) serve the rollout report; they wrap the
same selectors in increase(), which is fine for a report's figures and never reaches the gate.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from stagewise.core import counter_selector
from stagewise.core.counter_selector import Matcher, Selector
from stagewise.core.gate_config import Queries
from stagewise.core.redact import printable
from stagewise.tools.gate.evidence import Counts, VersionMetrics
from stagewise.tools.gate.provider import DataProblem, ProviderError, Steps, Window
from stagewise.tools.gate.settled import SettledCache

Buckets = list[tuple[float, float]]
"""(upper bound in seconds, cumulative count), ascending, the last one +Inf."""

Family = Literal["requests", "errors", "latency"]

SETTLE = timedelta(minutes=1)
"""The longest a step waits to be judged after its end: two scrape intervals at the 30 s the docs
allow. A scrape is stamped when it starts and appended when it completes, within its timeout (at
most the interval), so two intervals after a step's end its last scrape is in."""

SETTLE_MIN = timedelta(seconds=10)
"""The shortest wait, whatever the scrape interval (a scrape's own timeout defaults to 10 s)."""

LOOKBACK = timedelta(minutes=10)
"""How far before the stage's start a series' baseline sample is looked for: twice Prometheus's
5-minute staleness, beyond which Prometheus itself treats a series as gone."""

CHUNK = timedelta(minutes=30)
"""The most time one request reads raw samples for (a first look at hour 48 reads in parts, and
each part's steps are kept as soon as it is read, so a look cut short by the timeout still advances)."""


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
        bounds_ms: tuple[float, ...] | None = None,
        cache: SettledCache | None = None,
        settle: timedelta = SETTLE,
        clock: Any = time.time,
    ):
        """`bounds_ms`: the latency bounds the checks count at (stagewise:analysis.latencyBoundsMs);
        only those `le` series are read, and one missing is a problem. None: every bound the data has.
        `cache`: where settled steps are kept across processes (default: SettledCache.default())."""
        self.url = url.rstrip("/")
        self.queries = queries or Queries()
        self.timeout = timeout.total_seconds()
        self.session = session or requests.Session()
        self.name = f"prometheus {self.url}"
        # On loopback, gzip costs both sides more CPU than the bytes it saves (a look at 100 pods is
        # 1.6 MB of JSON: 48 against 65 ms measured); over a network it pays for itself.
        host = urlsplit(self.url).hostname or ""
        self._encoding = {"Accept-Encoding": "identity"} if host in ("127.0.0.1", "localhost", "::1") else {}
        self.bounds = None if bounds_ms is None else tuple(sorted({b / 1000.0 for b in bounds_ms}))
        self.cache = SettledCache.default() if cache is None else cache
        self.settle = settle
        self.clock = clock
        self.requests_selector = counter_selector.parse(self.queries.requests, counter_selector.COUNTER_SUFFIXES)
        self.errors_selector = counter_selector.parse(self.queries.errors, counter_selector.COUNTER_SUFFIXES)
        self.buckets_selector = counter_selector.parse(self.queries.duration_buckets, (counter_selector.BUCKET_SUFFIX,))
        self._buckets: dict[tuple[str, Window], Buckets] = {}
        self._kept: dict[tuple[str, datetime, timedelta], _Version] = {}
        self._kinds: dict[tuple[tuple[str, str], ...], _Kind] = {}
        self._deadline: float | None = None
        self.requests_made = 0
        """HTTP requests sent so far (the benchmark and tests count them)."""

    # -- HTTP --------------------------------------------------------------------------------------

    def _get(self, path: str, promql: str, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The `data` of a successful answer and the whole answer; ProviderError with the reason otherwise.

        Within a look (`steps_for`) every request shares one deadline, the configured timeout: the
        server is told what is left, and the answer is read in parts, each bounded by what is left."""
        deadline = self._deadline if self._deadline is not None else time.monotonic() + self.timeout
        left = deadline - time.monotonic()
        late = ProviderError(f"Prometheus at {self.url} did not answer within {self.timeout:g} s")
        if left <= 0:
            raise late
        self.requests_made += 1
        try:
            response = self.session.get(
                f"{self.url}{path}",
                params={"query": promql, **params, "timeout": f"{max(int(left * 1000), 1)}ms"},
                timeout=left,
                stream=True,
                headers=self._encoding,
            )
            parts = []
            for part in response.iter_content(1 << 16):
                parts.append(part)
                if time.monotonic() > deadline:
                    response.close()
                    raise late
            content = b"".join(parts)
        except requests.Timeout:
            raise late from None
        except requests.RequestException as error:
            raise ProviderError(f"Prometheus at {self.url} is unreachable: {_short(error)}") from None
        try:
            body = json.loads(content)
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

    def raw_samples(
        self, selector: str, after_ms: int, until_ms: int
    ) -> list[tuple[dict[str, str], list[tuple[float, str]]]]:
        """Every raw sample of the selector's series timestamped in (after_ms, until_ms]: labels and
        (timestamp in seconds, value as Prometheus wrote it). Prometheus 2 includes the range's start,
        3 does not; the samples at it are dropped here either way."""
        promql = f"{selector}[{until_ms - after_ms}ms]"
        data, body = self._get("/api/v1/query", promql, {"time": f"{until_ms / 1000:.3f}"})
        if data.get("resultType") != "matrix":
            raise ProviderError(f"the query returned a {data.get('resultType')}, not a range vector: {promql}")
        found = []
        # Both sides are the double nearest a whole number of ms: compared exactly.
        after, until = after_ms / 1000, until_ms / 1000
        try:
            for series in data["result"]:
                values = series["values"]
                if values and not after < float(values[0][0]):
                    values = [(t, v) for t, v in values if after < float(t) <= until]
                found.append((series["metric"], values))
        except (KeyError, IndexError, TypeError, ValueError):
            raise ProviderError(
                f"Prometheus at {self.url} answered in an unexpected shape: {str(body)[:200]}"
            ) from None
        return found

    # -- the rollout report's figures ---------------------------------------------------------------

    def _increase(self, selector: Selector, version: str, window: Window, by_le: bool = False) -> str:
        seconds = max(int(window.length.total_seconds()), 1)
        inner = f"increase({selector.render((version,))}[{seconds}s])"
        return f"sum by (le) ({inner})" if by_le else f"sum({inner})"

    def _number(self, selector: Selector, version: str, window: Window) -> float:
        values = [v for _, v in self.query(self._increase(selector, version, window), window) if not math.isnan(v)]
        return sum(values)

    def buckets(self, version: str, window: Window) -> Buckets:
        key = (version, window)
        if key not in self._buckets:
            promql = self._increase(self.buckets_selector, version, window, by_le=True)
            found: dict[float, float] = {}
            for labels, value in self.query(promql, window):
                if "le" not in labels:
                    raise ProviderError(f"the duration buckets query must return one series per `le` label: {promql}")
                try:
                    bound = float(labels["le"])
                except ValueError:
                    raise ProviderError(
                        f"the duration buckets query returned a series whose le is not a number "
                        f"({printable(labels['le'][:40])!r}): {promql}"
                    ) from None
                found[bound] = found.get(bound, 0.0) + (0.0 if math.isnan(value) else value)
            self._buckets[key] = sorted(found.items())
        return self._buckets[key]

    def version_metrics(self, version: str, window: Window) -> VersionMetrics:
        total = self._number(self.requests_selector, version, window)
        errors = self._number(self.errors_selector, version, window)
        p95 = quantile(0.95, self.buckets(version, window)) if total > 0 else None
        return VersionMetrics(version, total, errors, None if p95 is None else p95 * 1000.0)

    def slower_than(self, version: str, window: Window, threshold_ms: float) -> float:
        return count_above(threshold_ms / 1000.0, self.buckets(version, window))

    # -- the gate's evidence ------------------------------------------------------------------------

    def steps(self, version: str, start: datetime, steps: int, step: timedelta) -> Steps:
        """`version`'s settled steps; see steps_for."""
        return self.steps_for((version,), start, steps, step)[version]

    def steps_for(self, versions: tuple[str, ...], start: datetime, steps: int, step: timedelta) -> dict[str, Steps]:
        """Each version's exact counts at each settled step of the first `steps` from `start`.

        Only settled steps are returned (two scrape intervals after their end, SETTLE at most; every
        step when judging the past),
        so `counts` may be shorter than `steps`, the same length for every version asked together:
        the gate judges only settled steps. Settled steps are kept, and only the samples after the
        last one are read: in one request for all `versions` (more when a look reads a long stretch,
        or the templates cannot share one). The whole look shares one deadline, the timeout."""
        step_ms = int(step.total_seconds() * 1000)
        start_ms = int(round(start.timestamp() * 1000))
        now_ms = int(self.clock() * 1000)
        kept = {v: self._version(v, start, step) for v in versions}
        settled = max(0, min(steps, (now_ms - self._settle_ms(kept.values()) - start_ms) // step_ms))
        behind = [v for v in versions if kept[v].settled < settled]
        if behind:
            self._deadline = time.monotonic() + self.timeout
            try:
                self._read(behind, kept, start_ms, step_ms, settled)
            finally:
                self._deadline = None
                # Kept even when the deadline cut the look short: the next look goes on from there.
                for version in behind:
                    kept[version].save(self.cache, self._key(version, start, step))
        expected = self.bounds
        if expected is None:
            expected = tuple(sorted({b for v in versions for h in kept[v].hists.values() for b in h}))
        return {v: kept[v].steps(v, settled, expected, self._requests_text(v)) for v in versions}

    def _settle_ms(self, kept: Iterable[_Version]) -> int:
        """How long after its end a step is judged: two scrape intervals as the data shows them."""
        most = int(self.settle.total_seconds() * 1000)
        gaps = [v.gap_ms for v in kept if v.gap_ms > 0]
        if not gaps:
            return most
        return max(int(SETTLE_MIN.total_seconds() * 1000), min(most, 2 * max(gaps)))

    def _requests_text(self, version: str) -> str:
        return self.requests_selector.render((version,))

    def _key(self, version: str, start: datetime, step: timedelta) -> dict[str, Any]:
        return {
            "source": self.url,
            "queries": [self.queries.requests, self.queries.errors, self.queries.duration_buckets],
            "bounds": None if self.bounds is None else list(self.bounds),
            "version": version,
            "start": start.astimezone(UTC).isoformat(),
            "step": step.total_seconds(),
            "lookback": LOOKBACK.total_seconds(),
        }

    def _version(self, version: str, start: datetime, step: timedelta) -> _Version:
        key = (version, start, step)
        if key not in self._kept:
            stored = self.cache.load(self._key(version, start, step))
            self._kept[key] = _Version.restore(*stored) if stored else _Version()
        return self._kept[key]

    def _selectors(self, versions: tuple[str, ...]) -> list[str]:
        """The fewest selectors whose series include every family's, for all versions."""
        r, e, b = self.requests_selector, self.errors_selector, self.buckets_selector
        le = self._le_matcher()
        out = [r.render(versions)]
        if not (e.name == r.name and e.version_label == r.version_label and set(r.matchers) <= set(e.matchers)):
            out.append(e.render(versions))
        if b.version_label == r.version_label and set(b.matchers) == set(r.matchers):
            # One request: the name as a regex, and le (absent on the counter, so "" matches it).
            names = Matcher("__name__", "=~", f"{_re(r.name)}|{_re(b.name)}")
            both = Selector("", (names, *r.matchers), r.version_label)
            extra = () if le is None else (Matcher("le", "=~", le.value + "|"),)
            out[0] = both.render(versions, extra)
        else:
            out.append(b.render(versions, () if le is None else (le,)))
        return out

    def _le_matcher(self) -> Matcher | None:
        if self.bounds is None:
            return None
        # `le` is text: exporters write 1 as "1" or "1.0"; both are asked for, and compared as numbers here.
        forms = sorted({text for bound in self.bounds for text in _le_texts(bound)})
        return Matcher("le", "=~", "|".join(_re(t) for t in forms))

    def _read(
        self,
        versions: list[str],
        kept: dict[str, _Version],
        start_ms: int,
        step_ms: int,
        settled: int,
    ) -> None:
        begin = min(kept[v].settled for v in versions)
        after = start_ms - int(LOOKBACK.total_seconds() * 1000) if begin == 0 else start_ms + begin * step_ms
        chunk_steps = max(1, int(CHUNK.total_seconds() * 1000) // step_ms)
        selectors = self._selectors(tuple(versions))
        upto = begin
        while upto < settled:
            upto = min(settled, upto + chunk_steps)
            until = start_ms + upto * step_ms
            mine: dict[str, list[tuple[str, _Kind, list[tuple[float, str]]]]] = {v: [] for v in versions}
            seen: set[str] = set()
            for selector in selectors:
                for labels, samples in self.raw_samples(selector, after, until):
                    # Keyed by the sorted labels themselves: the identity string is made once per series.
                    key = tuple(sorted(labels.items()))
                    kind = self._kinds.get(key)
                    if kind is None:
                        kind = self._kinds[key] = self.classify(labels)
                    if kind.id in seen:
                        continue  # a series two selectors both returned: counted once
                    seen.add(kind.id)
                    if kind.version in mine:
                        mine[kind.version].append((kind.id, kind, samples))
            for version in versions:
                kept[version].add(version, mine[version], start_ms, step_ms, upto)
            after = until

    def classify(self, labels: dict[str, str]) -> _Kind:
        """Which version a series counts for, and in which families (a bucket: at which bound)."""
        r, e, b = self.requests_selector, self.errors_selector, self.buckets_selector
        version = labels.get(r.version_label)
        is_requests = r.matches(labels)
        is_errors = labels.get(e.version_label) == version and e.matches(labels)
        bound = None
        if labels.get(b.version_label) == version and b.matches(labels) and "le" in labels:
            try:
                value = float(labels["le"])
            except ValueError:
                value = math.nan
            if math.isfinite(value) and (self.bounds is None or any(math.isclose(value, x) for x in self.bounds)):
                bound = next((x for x in self.bounds or () if math.isclose(value, x)), value)
        if not (is_requests or is_errors or bound is not None):
            return _Kind(None, False, False, None, "", "", _series_id(labels))
        histogram = "" if bound is None else _series_text({k: v for k, v in labels.items() if k != "le"})
        return _Kind(version, is_requests, is_errors, bound, histogram, _series_text(labels), _series_id(labels))


@dataclass(frozen=True)
class _Kind:
    """What a series is: its version, its families, its bound and histogram (buckets), and its text."""

    version: str | None
    requests: bool
    errors: bool
    bound: float | None
    histogram: str
    text: str
    id: str


MAX_PROBLEMS = 20
"""Series with bad samples reported per version: the first ones say what is wrong; more add nothing."""


@dataclass
class _Version:
    """One version's settled evidence: cumulative counts per settled step, and each series' last sample."""

    settled: int = 0
    rows: list[list[float]] = field(default_factory=list)
    """Per settled step, cumulative: requests, errors, then the requests at or below each of `order`."""
    order: list[float] = field(default_factory=list)
    """Bounds in the order first seen (a row shorter than it: 0 at the bounds seen later, truly)."""
    series: dict[str, tuple[int, float]] = field(default_factory=dict)
    hists: dict[str, set[float]] = field(default_factory=dict)
    problems: dict[str, tuple[Family, str]] = field(default_factory=dict)
    """(family, reason) by family and series: the first bad sample of each series is reported."""
    requests_seen: bool = False
    on_disk: int = field(default=0, compare=False)
    gap_ms: int = field(default=0, compare=False)
    """The widest gap between two consecutive samples of a series in the last read: the scrape interval."""
    _counts: tuple[tuple[float, ...], list[Counts]] = field(default_factory=lambda: ((), []), compare=False)

    def add(
        self,
        version: str,
        found: list[tuple[str, _Kind, list[tuple[float, str]]]],
        start_ms: int,
        step_ms: int,
        upto: int,
    ) -> None:
        """Count the samples up to step `upto`'s end into the steps after the settled ones."""
        if upto <= self.settled:
            return
        first = self.settled
        after_ms = start_ms + first * step_ms
        new = upto - first
        requests_in = [0.0] * new
        errors_in = [0.0] * new
        bounds_in: dict[float, list[float]] = {}
        widest = 0
        for name, kind, samples in found:
            is_requests, is_errors, bound = kind.requests, kind.errors, kind.bound
            if is_requests:
                self.requests_seen = True
            if bound is not None and bound not in self.hists.setdefault(kind.histogram, set()):
                self.hists[kind.histogram].add(bound)
            last = self.series.get(name)
            if last is not None and len(samples) > 0:
                # The common case, in one go: every sample new, all in one step, no reset, no bad value.
                stamps = [int(round(float(t) * 1000)) for t, _ in samples]
                index = -(-(stamps[-1] - start_ms) // step_ms) - 1 - first
                if (
                    stamps[0] > max(last[0], after_ms)
                    and index < new
                    and -(-(stamps[0] - start_ms) // step_ms) - 1 - first == index
                ):
                    values = [_value(v) for _, v in samples]
                    if (
                        last[1] <= values[0]
                        and all(a <= b for a, b in zip(values, values[1:]))
                        and math.isfinite(values[-1])
                    ):
                        increment = values[-1] - last[1]
                        if is_requests:
                            requests_in[index] += increment
                        if is_errors:
                            errors_in[index] += increment
                        if bound is not None:
                            bounds_in.setdefault(bound, [0.0] * new)[index] += increment
                        widest = max(widest, stamps[0] - last[0], *(b - a for a, b in zip(stamps, stamps[1:])))
                        self.series[name] = (stamps[-1], values[-1])
                        continue
            for seconds, text in samples:
                stamp = int(round(float(seconds) * 1000))
                if last is not None and stamp <= last[0]:
                    continue  # read before (the baseline, or a stretch another version needed again)
                value = _value(text)
                if not math.isfinite(value) or value < 0:
                    for family, hit in (
                        ("requests", is_requests),
                        ("errors", is_errors),
                        ("latency", bound is not None),
                    ):
                        if hit and len(self.problems) < MAX_PROBLEMS and f"{family} {kind.text}" not in self.problems:
                            when = datetime.fromtimestamp(stamp / 1000, UTC).isoformat().replace("+00:00", "Z")
                            self.problems[f"{family} {kind.text}"] = (
                                family,  # type: ignore[assignment]
                                f"version {version}: {kind.text} has the sample {_clipped(text)} at {when}, which no counter "
                                "can hold (not counted; the first such sample of the series)",
                            )
                    continue
                if last is not None and stamp - last[0] > widest:
                    widest = stamp - last[0]
                if stamp <= start_ms:
                    last = (stamp, value)  # the baseline: the last sample at or before the stage's start
                    continue
                if stamp <= after_ms:
                    last = (stamp, value)  # already counted in a settled step (read again with a chunk)
                    continue
                increment = value if last is None or value < last[1] else value - last[1]
                last = (stamp, value)
                index = -(-(stamp - start_ms) // step_ms) - 1 - first
                if index >= new:
                    break
                if is_requests:
                    requests_in[index] += increment
                if is_errors:
                    errors_in[index] += increment
                if bound is not None:
                    bounds_in.setdefault(bound, [0.0] * new)[index] += increment
            if last is not None:
                self.series[name] = last
        for bound in bounds_in:
            if bound not in self.order:
                self.order.append(bound)
        where = [2 + self.order.index(bound) for bound in bounds_in]
        running = list(self.rows[-1]) if self.rows else [0.0, 0.0]
        running += [0.0] * (2 + len(self.order) - len(running))
        increments = list(bounds_in.values())
        for i in range(new):
            running[0] += requests_in[i]
            running[1] += errors_in[i]
            for at, values in zip(where, increments):
                running[at] += values[i]
            self.rows.append(list(running))
        self.settled = upto
        if widest:
            self.gap_ms = widest

    def steps(self, version: str, settled: int, expected: tuple[float, ...], requests_text: str) -> Steps:
        rows = self.rows[:settled]
        problems = [DataProblem(family, reason) for family, reason in self.problems.values()]
        if not self.requests_seen and settled > 0:
            problems.append(
                DataProblem(
                    "requests",
                    f"version {version}: no series matches {requests_text} since the stage began: it served "
                    "no requests, or Prometheus does not scrape it (or the version label is not set)",
                )
            )
        served = bool(rows) and rows[-1][0] > 0
        missing: set[float] = set()
        if not self.hists:
            if served:
                problems.append(
                    DataProblem(
                        "latency",
                        f"version {version} served {rows[-1][0]:.0f} requests but has no latency histogram "
                        "series (the durationBuckets query found none)",
                    )
                )
            bounds: tuple[float, ...] = ()
        else:
            for hist, have in sorted(self.hists.items()):
                lacking = [b for b in expected if not any(math.isclose(b, h) for h in have)]
                missing.update(lacking)
                if lacking:
                    listed = ", ".join(f"{b * 1000:g} ms" for b in lacking)
                    problems.append(
                        DataProblem(
                            "latency",
                            f"version {version}: {hist} has no bucket at {listed} (le), which the latency checks "
                            "count at",
                        )
                    )
            bounds = tuple(b for b in expected if b not in missing)
        return Steps(bounds, self.counts(bounds, settled), tuple(problems))

    def counts(self, bounds: tuple[float, ...], settled: int) -> tuple[Counts, ...]:
        """Counts per settled step on `bounds`, made once per step (a look at hour 48 makes one)."""
        made, counts = self._counts
        if made != bounds:
            counts = []
            self._counts = (bounds, counts)
        where = [2 + self.order.index(b) if b in self.order else -1 for b in bounds]
        for row in self.rows[len(counts) : settled]:
            counts.append(Counts(row[0], row[1], tuple(row[i] if 0 <= i < len(row) else 0.0 for i in where)))
        return tuple(counts[:settled])

    def save(self, cache: SettledCache, key: dict[str, Any]) -> None:
        cache.save(key, self.dump(), self.rows, self.on_disk)
        self.on_disk = len(self.rows)

    def dump(self) -> dict[str, Any]:
        return {
            "settled": self.settled,
            "order": self.order,
            "series": self.series,
            "hists": {h: sorted(b) for h, b in self.hists.items()},
            "problems": [[key, family, reason] for key, (family, reason) in self.problems.items()],
            "requestsSeen": self.requests_seen,
            "gapMs": self.gap_ms,
        }

    @classmethod
    def restore(cls, stored: dict[str, Any], rows: list[list[float]]) -> _Version:
        try:
            return cls(
                int(stored["settled"]),
                [[float(x) for x in row] for row in rows],
                [float(b) for b in stored["order"]],
                {str(k): (int(t), float(v)) for k, (t, v) in stored["series"].items()},
                {str(h): {float(b) for b in bs} for h, bs in stored["hists"].items()},
                {str(key): (family, str(reason)) for key, family, reason in stored["problems"]},
                bool(stored["requestsSeen"]),
                len(rows),
                int(stored.get("gapMs", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return cls()  # a cache file this code did not write: start over


def _le_texts(bound: float) -> tuple[str, ...]:
    """How exporters write a bound: 0.25, 1 or 1.0, 10 or 10.0."""
    texts = (f"{bound:g}", repr(bound))
    return (*texts, f"{bound:.1f}") if bound == int(bound) else texts


def _value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _re(text: str) -> str:
    return re.escape(text)


def _series_id(labels: dict[str, str]) -> str:
    """A series' identity, cheap to make: its labels in order, joined by characters no label holds."""
    return "\x1e".join(f"{k}\x1f{v}" for k, v in sorted(labels.items()))


def _series_text(labels: dict[str, str]) -> str:
    """A series as PromQL writes it, its values quoted (and escaped: they come from outside)."""
    name = labels.get("__name__", "")
    rest = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"


def _clipped(text: str) -> str:
    """A sample's text as a reason shows it: printable, and at most 24 characters (a 400-digit count
    is named, not printed)."""
    shown = printable(text)
    return shown if len(shown) <= 24 else f"{shown[:12]}...({len(text)} characters)"


def _short(error: Exception) -> str:
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    return text if len(text) < 200 else text[:200] + "..."
