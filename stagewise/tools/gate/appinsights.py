"""The Application Insights provider: KQL over the stack's own Application Insights resource,
through the Azure Monitor query API (azure-monitor-query's LogsQueryClient.query_resource) with
azure-identity's DefaultAzureCredential (in CI: the workflow's OIDC login; locally: az login).

By default it runs the rollout alerts' own per-version queries (stagewise.core.alert_rules), so the gate
and the alerts read the same numbers: each returns one row per application_Version, and a version
is judged by its own row. The time range is the query's `timespan`, not part of the text.

The gate's evidence (`steps_for`) is one query for both versions with the same filter as the
alerts: per version and evidence step (`bin_at` from the stage's start), the requests, the HTTP 5xx
errors and the requests at or below each latency bound. Application Insights keeps every request's
duration and timestamp, so these counts are exact at any bound, and each request is in the step of
its own timestamp (step i holds [start + i * step, start + (i + 1) * step)).

Only settled steps are returned, SETTLE after their end (ingestion delay, below), and settled steps
are kept (in memory and on disk, `settled.SettledCache`): a look asks only for the steps after the
last settled one, so it scans minutes of requests at hour 48 as at minute 1.
"""

from __future__ import annotations

import math
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from stagewise.core import alert_rules
from stagewise.core.gate_config import OTEL_LATENCY_BOUNDS_MS, Queries
from stagewise.tools.gate.evidence import Counts, VersionMetrics
from stagewise.tools.gate.provider import DataProblem, ProviderError, Steps, Window, quoted
from stagewise.tools.gate.settled import SettledCache

VERSION = alert_rules.VERSION_COLUMN

SETTLE = timedelta(minutes=5)
"""A step is judged this long after its end. Microsoft's "Log data ingestion time in Azure Monitor"
(learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time): "The average latency to ingest
log data is between 20 seconds and 3 minutes"; 5 minutes covers that and the SDK's export batching.
A request ingested later than that is not counted in its step (the step is not read again)."""


def slower_than_template(health_path: str = alert_rules.HEALTH_PATH) -> str:
    """The alerts' per-version query, measuring the requests slower than $thresholdMs instead."""
    alerts = alert_rules.per_version_query("p95_ms", health_path)
    measure = f"p95_ms = {alert_rules.MEASURES['p95_ms']}"
    assert measure in alerts  # the same filter and grouping as the alerts; only the measure differs
    return alerts.replace(measure, "slower = countif(duration > $thresholdMs)")


def steps_query(
    versions: tuple[str, ...] | str,
    start: datetime,
    step: timedelta,
    bounds_ms: tuple[float, ...],
    health_path: str = alert_rules.HEALTH_PATH,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """KQL for the versions' evidence: per version and step from `start`, requests, errors and the
    requests at or below each bound (columns application_Version, step, requests, errors, le0, le1,
    ...). The alerts' filter; only requests in [since, until) when given (the query's timespan
    bounds them too; the text says so for a reader of the query)."""
    names = (versions,) if isinstance(versions, str) else versions
    alerts = alert_rules.per_version_query("error_share", health_path)
    where = alerts.split(" | summarize")[0]
    at_or_below = ", ".join(f"le{i} = countif(duration <= {bound:g})" for i, bound in enumerate(bounds_ms))
    which = (
        f"{VERSION} == {quoted(names[0])}"
        if len(names) == 1
        else f"{VERSION} in ({', '.join(quoted(v) for v in names)})"
    )
    between = "".join(
        f" | where timestamp {op} datetime({_stamp(when)})" for op, when in ((">=", since), ("<", until)) if when
    )
    return (
        f"{where} | where {which}{between}"
        f" | summarize requests = count(), errors = countif(toint(resultCode) >= 500), {at_or_below}"
        f" by {VERSION}, step = bin_at(timestamp, {int(step.total_seconds())}s, datetime({_stamp(start)}))"
    )


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class KqlQueries:
    """The KQL the provider runs: the stack's overrides, else the alerts' queries."""

    error_share: str
    p95: str
    slower_than: str

    @classmethod
    def of(cls, queries: Queries | None = None, health_path: str = alert_rules.HEALTH_PATH) -> KqlQueries:
        given = queries or Queries()
        return cls(
            given.error_share or alert_rules.per_version_query("error_share", health_path),
            given.p95 or alert_rules.per_version_query("p95_ms", health_path),
            given.slower_than or slower_than_template(health_path),
        )

    def slower(self, threshold_ms: float) -> str:
        return string.Template(self.slower_than).substitute(thresholdMs=f"{threshold_ms:.3f}")


class AppInsightsProvider:
    def __init__(
        self,
        resource_id: str,
        queries: Queries | None = None,
        timeout: timedelta = timedelta(seconds=30),
        client: Any = None,
        health_path: str = alert_rules.HEALTH_PATH,
        bounds_ms: tuple[float, ...] = OTEL_LATENCY_BOUNDS_MS,
        cache: SettledCache | None = None,
        settle: timedelta = SETTLE,
        clock: Any = time.time,
    ):
        self.resource_id = resource_id
        self.health_path = health_path
        self.bounds_ms = tuple(sorted(set(bounds_ms)))
        self.kql = KqlQueries.of(queries, health_path)
        self.timeout = max(int(timeout.total_seconds()), 1)
        self._client = client
        self.name = f"appinsights {resource_id}"
        self.cache = SettledCache.default() if cache is None else cache
        self.settle = settle
        self.clock = clock
        self._kept: dict[tuple[str, datetime, timedelta], _Kept] = {}
        self.queries_made = 0
        """Queries sent so far (the tests count them)."""

    @property
    def client(self) -> Any:
        if self._client is None:
            from azure.identity import DefaultAzureCredential
            from azure.monitor.query import LogsQueryClient

            self._client = LogsQueryClient(DefaultAzureCredential())
        return self._client

    def rows(self, kql: str, window: Window, timeout: int | None = None) -> list[dict[str, Any]]:
        """The rows of the query's first table, by column name."""
        from azure.core.exceptions import AzureError
        from azure.monitor.query import LogsQueryStatus

        self.queries_made += 1
        try:
            result = self.client.query_resource(
                self.resource_id,
                kql,
                timespan=(window.start, window.end),
                server_timeout=timeout or self.timeout,
                # The service stops at server_timeout; these bound the client's wait for it too
                # (azure-core's transport defaults are 300 s).
                connection_timeout=timeout or self.timeout,
                read_timeout=timeout or self.timeout,
            )
        except AzureError as error:
            raise ProviderError(
                f"Application Insights query failed: {type(error).__name__}: {_first_line(error)}"
            ) from None
        except Exception as error:  # DefaultAzureCredential raises its own types when no credential works
            raise ProviderError(
                f"Application Insights query failed: {type(error).__name__}: {_first_line(error)}"
            ) from None
        if result.status != LogsQueryStatus.SUCCESS:
            # Partial data could hide the failing requests: never judge on it.
            raise ProviderError(f"Application Insights returned partial results: {_first_line(result.partial_error)}")
        if not result.tables:
            raise ProviderError("Application Insights returned no table")
        table = result.tables[0]
        return [dict(zip(table.columns, list(row))) for row in table.rows]

    def version_row(self, kql: str, version: str, window: Window, measure: str) -> dict[str, Any]:
        """The row of `version` ({} when it served nothing), checked for the columns it must have."""
        rows = self.rows(kql, window)
        if rows and not {VERSION, measure, "requests"} <= set(rows[0]):
            raise ProviderError(
                f"the query must return the columns {VERSION}, {measure} and requests; it returned "
                f"{', '.join(rows[0])}: {kql}"
            )
        return next((row for row in rows if str(row.get(VERSION)) == version), {})

    def version_metrics(self, version: str, window: Window) -> VersionMetrics:
        errors_row = self.version_row(self.kql.error_share, version, window, "error_share")
        total = _number(errors_row.get("requests"), "requests")
        share = _number(errors_row.get("error_share"), "error_share")
        p95: float | None = None
        if total > 0:
            p95_row = self.version_row(self.kql.p95, version, window, "p95_ms")
            value = p95_row.get("p95_ms")
            p95 = (
                None if value is None or (isinstance(value, float) and math.isnan(value)) else _number(value, "p95_ms")
            )
        # error_share is a percentage of whole requests: round back to the count it came from.
        return VersionMetrics(version, total, round(share * total / 100.0), p95)

    def slower_than(self, version: str, window: Window, threshold_ms: float) -> float:
        row = self.version_row(self.kql.slower(threshold_ms), version, window, "slower")
        return _number(row.get("slower"), "slower")

    def steps(self, version: str, start: datetime, steps: int, step: timedelta) -> Steps:
        """`version`'s settled steps; see steps_for."""
        return self.steps_for((version,), start, steps, step)[version]

    def steps_for(self, versions: tuple[str, ...], start: datetime, steps: int, step: timedelta) -> dict[str, Steps]:
        """Each version's counts at each settled step of the first `steps` from `start`.

        Only settled steps are returned (SETTLE after their end), so `counts` may be shorter than
        `steps`, the same length for every version asked together: the gate judges only settled
        steps. Settled steps are kept; one query reads the steps since the last settled one, for
        all versions, within the timeout."""
        seconds = step.total_seconds()
        settled = int((self.clock() - self.settle.total_seconds() - start.timestamp()) // seconds)
        settled = max(0, min(steps, settled))
        kept = {v: self._version(v, start, step) for v in versions}
        behind = tuple(v for v in versions if kept[v].settled < settled)
        if behind:
            begin = min(kept[v].settled for v in behind)
            since, until = start + begin * step, start + settled * step
            kql = steps_query(behind, start, step, self.bounds_ms, self.health_path, since, until)
            per_step = {v: [[0.0] * (2 + len(self.bounds_ms)) for _ in range(settled - begin)] for v in behind}
            names = ["requests", "errors", *(f"le{i}" for i in range(len(self.bounds_ms)))]
            for row in self.rows(kql, Window(since, until)):
                when, version = row.get("step"), str(row.get(VERSION))
                if not isinstance(when, datetime):
                    raise ProviderError(f"the evidence query returned no step time: {str(row)[:200]}")
                index = int(round((when - start).total_seconds() / seconds)) - begin
                if version in per_step and 0 <= index < settled - begin:
                    values = []
                    for name in names:
                        value, wrong = _count(row.get(name), name)
                        if wrong:
                            family: Literal["requests", "errors", "latency"] = (
                                "requests" if name == "requests" else "errors" if name == "errors" else "latency"
                            )
                            kept[version].problems.setdefault(
                                f"{family} {name}",
                                (
                                    family,
                                    f"version {version}: column {name} of step {index + begin} ({when.isoformat()}) "
                                    f"is {wrong}",
                                ),
                            )
                        values.append(value)
                    per_step[version][index] = values
            for version in behind:
                kept[version].extend(per_step[version][kept[version].settled - begin :], settled)
                self.cache.save(
                    self._key(version, start, step), kept[version].dump(), kept[version].rows, kept[version].on_disk
                )
                kept[version].on_disk = len(kept[version].rows)
        bounds = tuple(b / 1000.0 for b in self.bounds_ms)
        return {v: kept[v].steps(bounds, settled) for v in versions}

    def _key(self, version: str, start: datetime, step: timedelta) -> dict[str, Any]:
        return {
            "source": self.resource_id,
            "query": steps_query(version, start, step, self.bounds_ms, self.health_path),
            "version": version,
            "start": start.astimezone(UTC).isoformat(),
            "step": step.total_seconds(),
        }

    def _version(self, version: str, start: datetime, step: timedelta) -> _Kept:
        key = (version, start, step)
        if key not in self._kept:
            stored = self.cache.load(self._key(version, start, step))
            self._kept[key] = _Kept.restore(*stored) if stored else _Kept()
        return self._kept[key]


@dataclass
class _Kept:
    """One version's settled steps: cumulative [requests, errors, le0, le1, ...] per step."""

    settled: int = 0
    rows: list[list[float]] = field(default_factory=list)
    problems: dict[str, tuple[Literal["requests", "errors", "latency"], str]] = field(default_factory=dict)
    on_disk: int = field(default=0, compare=False)

    def extend(self, per_step: list[list[float]], settled: int) -> None:
        running = self.rows[-1] if self.rows else None
        for values in per_step:
            running = values if running is None else [a + b for a, b in zip(running, values)]
            self.rows.append(running)
        self.settled = settled

    def steps(self, bounds: tuple[float, ...], settled: int) -> Steps:
        counts = tuple(Counts(r[0], r[1], tuple(r[2:])) for r in self.rows[:settled])
        return Steps(bounds, counts, tuple(DataProblem(f, reason) for f, reason in self.problems.values()))

    def dump(self) -> dict[str, Any]:
        return {"settled": self.settled, "problems": [[k, f, r] for k, (f, r) in self.problems.items()]}

    @classmethod
    def restore(cls, stored: dict[str, Any], rows: list[list[float]]) -> _Kept:
        try:
            return cls(
                int(stored["settled"]),
                [[float(x) for x in row] for row in rows],
                {str(k): (f, str(r)) for k, f, r in stored["problems"]},
                len(rows),
            )
        except (KeyError, TypeError, ValueError):
            return cls()


def _count(value: Any, column: str) -> tuple[float, str | None]:
    """A count from a row, and what is wrong with it (None when it is a count). A step without a
    row served nothing; a cell that is null, NaN, infinite or negative is reported, never read as 0."""
    if value is None:
        return 0.0, "null"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProviderError(f"column {column} is not a number: {value!r}") from None
    if math.isnan(number) or math.isinf(number) or number < 0:
        return 0.0, f"{number:g}, not a count (not counted)"
    return number, None


def _number(value: Any, column: str) -> float:
    if value is None:
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProviderError(f"column {column} is not a number: {value!r}") from None
    return 0.0 if math.isnan(number) else number


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else "no message"
