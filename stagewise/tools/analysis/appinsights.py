"""The Application Insights provider: KQL over the stack's own Application Insights resource,
through the Azure Monitor query API (azure-monitor-query's LogsQueryClient.query_resource) with
azure-identity's DefaultAzureCredential (in CI: the workflow's OIDC login; locally: az login).

By default it runs the rollout alerts' own per-version queries (stagewise.core.alert_rules), so the gate
and the alerts read the same numbers: each returns one row per application_Version, and a version
is judged by its own row. The time range is the query's `timespan`, not part of the text.

The gate's evidence (`steps`) is one query per version with the same filter as the alerts: per
evidence step (`bin_at` from the stage's start), the requests, the HTTP 5xx errors and the requests
at or below each latency bound. Application Insights keeps every request's duration, so these
counts are exact at any bound.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stagewise.core import alert_rules
from stagewise.core.gate_config import OTEL_LATENCY_BOUNDS_MS, Queries
from stagewise.tools.analysis.provider import ProviderError, Steps, Window, quoted
from stagewise.tools.analysis.verdict import Counts, VersionMetrics

VERSION = alert_rules.VERSION_COLUMN


def slower_than_template(health_path: str = alert_rules.HEALTH_PATH) -> str:
    """The alerts' per-version query, measuring the requests slower than $thresholdMs instead."""
    alerts = alert_rules.per_version_query("p95_ms", health_path)
    measure = f"p95_ms = {alert_rules.MEASURES['p95_ms']}"
    assert measure in alerts  # the same filter and grouping as the alerts; only the measure differs
    return alerts.replace(measure, "slower = countif(duration > $thresholdMs)")


def steps_query(
    version: str,
    start: datetime,
    step: timedelta,
    bounds_ms: tuple[float, ...],
    health_path: str = alert_rules.HEALTH_PATH,
) -> str:
    """KQL for one version's evidence: per step from `start`, requests, errors and the requests at or
    below each bound (columns step, requests, errors, le0, le1, ...). The alerts' filter."""
    alerts = alert_rules.per_version_query("error_share", health_path)
    where = alerts.split(" | summarize")[0]
    at_or_below = ", ".join(f"le{i} = countif(duration <= {bound:g})" for i, bound in enumerate(bounds_ms))
    stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f"{where} | where {VERSION} == {quoted(version)}"
        f" | summarize requests = count(), errors = countif(toint(resultCode) >= 500), {at_or_below}"
        f" by step = bin_at(timestamp, {int(step.total_seconds())}s, datetime({stamp}))"
    )


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
    ):
        self.resource_id = resource_id
        self.health_path = health_path
        self.bounds_ms = tuple(sorted(set(bounds_ms)))
        self.kql = KqlQueries.of(queries, health_path)
        self.timeout = max(int(timeout.total_seconds()), 1)
        self._client = client
        self.name = f"appinsights {resource_id}"

    @property
    def client(self) -> Any:
        if self._client is None:
            from azure.identity import DefaultAzureCredential
            from azure.monitor.query import LogsQueryClient

            self._client = LogsQueryClient(DefaultAzureCredential())
        return self._client

    def rows(self, kql: str, window: Window) -> list[dict[str, Any]]:
        """The rows of the query's first table, by column name."""
        from azure.core.exceptions import AzureError
        from azure.monitor.query import LogsQueryStatus

        try:
            result = self.client.query_resource(
                self.resource_id, kql, timespan=(window.start, window.end), server_timeout=self.timeout
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
        kql = steps_query(version, start, step, self.bounds_ms, self.health_path)
        rows = self.rows(kql, Window(start, start + steps * step))
        per_step = [[0.0] * (2 + len(self.bounds_ms)) for _ in range(steps)]
        for row in rows:
            when = row.get("step")
            if not isinstance(when, datetime):
                raise ProviderError(f"the evidence query returned no step time: {str(row)[:200]}")
            index = int(round((when - start).total_seconds() / step.total_seconds()))
            if 0 <= index < steps:
                names = ["requests", "errors", *(f"le{i}" for i in range(len(self.bounds_ms)))]
                per_step[index] = [_number(row.get(name), name) for name in names]
        counts, running = [], [0.0] * (2 + len(self.bounds_ms))
        for values in per_step:
            running = [a + b for a, b in zip(running, values)]
            counts.append(Counts(running[0], running[1], tuple(running[2:])))
        return Steps(tuple(b / 1000.0 for b in self.bounds_ms), tuple(counts))


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
