"""The Application Insights provider: KQL over the stack's own Application Insights resource,
through the Azure Monitor query API (azure-monitor-query's LogsQueryClient.query_resource) with
azure-identity's DefaultAzureCredential (in CI: the workflow's OIDC login; locally: az login).

The query's time range is its `timespan`, so the KQL text carries no time filter and is the same
text the rollout alerts use (see stagewise.alert_rules).
"""

from __future__ import annotations

import math
import string
from datetime import timedelta
from typing import Any

from stagewise.analysis.provider import ProviderError, Window, quoted
from stagewise.analysis.settings import Queries
from stagewise.analysis.verdict import VersionMetrics


def summary_query(version: str, queries: Queries | None = None) -> str:
    return string.Template((queries or Queries()).summary).substitute(version=quoted(version), thresholdMs="0")


def slower_than_query(version: str, threshold_ms: float, queries: Queries | None = None) -> str:
    return string.Template((queries or Queries()).slower_than).substitute(
        version=quoted(version), thresholdMs=f"{threshold_ms:.3f}"
    )


class AppInsightsProvider:
    def __init__(self, resource_id: str, queries: Queries | None = None, timeout: timedelta = timedelta(seconds=30),
                 client: Any = None):
        self.resource_id = resource_id
        self.queries = queries or Queries()
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

    def query(self, kql: str, window: Window) -> dict[str, Any]:
        """The first row of the query's first table, by column name ({} when there is no row)."""
        from azure.core.exceptions import AzureError
        from azure.monitor.query import LogsQueryStatus

        try:
            result = self.client.query_resource(
                self.resource_id, kql, timespan=(window.start, window.end), server_timeout=self.timeout
            )
        except AzureError as error:
            raise ProviderError(f"Application Insights query failed: {type(error).__name__}: {_first_line(error)}") from None
        except Exception as error:  # DefaultAzureCredential raises its own types when no credential works
            raise ProviderError(f"Application Insights query failed: {type(error).__name__}: {_first_line(error)}") from None
        if result.status != LogsQueryStatus.SUCCESS:
            # Partial data could hide the failing requests: never judge on it.
            raise ProviderError(f"Application Insights returned partial results: {_first_line(result.partial_error)}")
        if not result.tables:
            raise ProviderError("Application Insights returned no table")
        table = result.tables[0]
        if not table.rows:
            return {}
        return dict(zip(table.columns, list(table.rows[0])))

    def version_metrics(self, version: str, window: Window) -> VersionMetrics:
        row = self.query(summary_query(version, self.queries), window)
        try:
            total = _number(row.get("requests"))
            errors = _number(row.get("errors"))
            p95 = row.get("p95_ms")
        except (TypeError, ValueError):
            raise ProviderError(f"the summary query must return numbers requests, errors, p95_ms; got {row}") from None
        p95_ms = None if p95 is None or total == 0 or (isinstance(p95, float) and math.isnan(p95)) else float(p95)
        return VersionMetrics(version, total, errors, p95_ms)

    def slower_than(self, version: str, window: Window, threshold_ms: float) -> float:
        row = self.query(slower_than_query(version, threshold_ms, self.queries), window)
        try:
            return _number(row.get("slower"))
        except (TypeError, ValueError):
            raise ProviderError(f"the slowerThan query must return a number `slower`; got {row}") from None


def _number(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else "no message"
