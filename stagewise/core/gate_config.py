"""`stagewise:analysis` and the per-stage gate keys: models, durations and the default queries.

Pure: no Pulumi import, no I/O. `stagewise.core.config` embeds these models, so they are validated
with the rest of the stack config, at the program's edge and by the CLI alike.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator, model_validator
from pydantic.alias_generators import to_camel

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: object) -> timedelta:
    """'30m', '24h', '1h30m', '45s', '2d' -> timedelta. Anything else is refused with the grammar."""
    if isinstance(text, timedelta):
        return text
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or not text:
        raise ValueError(f"{text!r} is not a duration; use a number with d, h, m or s, e.g. 30m, 24h, 1h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """timedelta -> text parse_duration reads back, in hours at most ('48h', '1h30m', '0s')."""
    left, parts = int(value.total_seconds()), []
    for unit, size in list(_UNITS.items())[1:]:
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]


# The default queries follow OpenTelemetry's HTTP server semantic conventions, so that one
# instrumentation of the app serves both platforms: the `http.server.request.duration` histogram
# (seconds) with `http.response.status_code`, and the resource attribute `service.version`.
# Prometheus (its OTLP receiver, or the OpenTelemetry Collector's exporter) names them
# http_server_request_duration_seconds{_bucket,_count}, http_response_status_code, service_version.
# Placeholders: $version (the version's tag, quoted for the query language) and $window (the range,
# e.g. 3600s). A version's requests are the series whose service_version equals its tag.
PROMETHEUS_REQUESTS = "sum(increase(http_server_request_duration_seconds_count{service_version=$version}[$window]))"
PROMETHEUS_ERRORS = (
    "sum(increase(http_server_request_duration_seconds_count{service_version=$version,"
    'http_response_status_code=~"5.."}[$window]))'
)
PROMETHEUS_DURATION_BUCKETS = (
    "sum by (le) (increase(http_server_request_duration_seconds_bucket{service_version=$version}[$window]))"
)

# Application Insights: by default the very queries the rollout alerts run
# (stagewise.core.alert_rules.per_version_query over the stack's health-probe path): one row per
# application_Version, so the gate and the alerts agree on what "a version's error share" is.
# The time range is the query's timespan, not part of the text. A template overriding them must
# return the same columns: application_Version, the measure (error_share, p95_ms or slower) and
# requests. $thresholdMs is a latency in milliseconds (slowerThan only).
# Tables and columns: azure-docs apm-tables.md, "Legacy table: requests" (application_Version =
# AppVersion, resultCode, duration = DurationMs); the AppRequests reference: "DurationMs ... Number
# of milliseconds it took the application to handle the request". The distro reads service.version
# from OTEL_RESOURCE_ATTRIBUTES (azure-monitor-docs opentelemetry-configuration.md: "Set Resource
# attributes using the `OTEL_RESOURCE_ATTRIBUTES` and/or `OTEL_SERVICE_NAME` environment variables").
PROMETHEUS_PLACEHOLDERS = frozenset({"version", "window"})
APPINSIGHTS_PLACEHOLDERS = frozenset({"thresholdMs"})


def placeholders(template: str) -> set[str]:
    """The $names a query template uses (ValueError on a '$' that starts none)."""
    parsed = string.Template(template)
    if not parsed.is_valid():
        raise ValueError("has a '$' that starts no placeholder (write $$ for a literal $)")
    return set(parsed.get_identifiers())


def _checked(template: str, required: set[str], allowed: frozenset[str]) -> str:
    used = placeholders(template)
    unknown = sorted(used - allowed)
    if unknown:
        listed = ", ".join("$" + a for a in sorted(allowed)) or "none (write $$ for a literal $)"
        raise ValueError(f"uses ${', $'.join(unknown)}; allowed placeholders: {listed}")
    missing = sorted(required - used)
    if missing:
        raise ValueError(f"must use ${', $'.join(missing)}")
    return template


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


PROMETHEUS_QUERY_KEYS = ("requests", "errors", "durationBuckets")
APPINSIGHTS_QUERY_KEYS = ("errorShare", "p95", "slowerThan")


class Queries(_Model):
    """Query templates. Prometheus: instant PromQL queries, each returning one number
    (durationBuckets: one per `le`, cumulative, in seconds). Application Insights: KQL."""

    requests: str = PROMETHEUS_REQUESTS
    errors: str = PROMETHEUS_ERRORS
    duration_buckets: str = PROMETHEUS_DURATION_BUCKETS
    error_share: str | None = Field(
        None, description="by application_Version: error_share, requests (default: the alerts')"
    )
    p95: str | None = Field(None, description="by application_Version: p95_ms, requests (default: the alerts')")
    slower_than: str | None = Field(None, description="by application_Version: slower (above $thresholdMs), requests")

    @field_validator("requests", "errors", "duration_buckets")
    @classmethod
    def _promql(cls, template: str) -> str:
        return _checked(template, {"version", "window"}, PROMETHEUS_PLACEHOLDERS)

    @field_validator("error_share", "p95")
    @classmethod
    def _kql(cls, template: str | None) -> str | None:
        return None if template is None else _checked(template, set(), frozenset())

    @field_validator("slower_than")
    @classmethod
    def _slower(cls, template: str | None) -> str | None:
        return None if template is None else _checked(template, {"thresholdMs"}, APPINSIGHTS_PLACEHOLDERS)

    def given(self) -> set[str]:
        """The keys the stack file sets (camelCase)."""
        return {to_camel(name) for name in self.model_fields_set}


class AnalysisConfig(_Model):
    """`stagewise:analysis`: where the metrics come from and the limits a candidate must meet."""

    provider: Literal["prometheus", "appinsights"]
    url: str | None = Field(None, description="Prometheus base URL (prometheus only)")
    resource_id: str | None = Field(
        None, description="Application Insights resource ID (appinsights only; default: the stack's insights_id output)"
    )
    bake: Duration = Field(description="minimum time at a stage before promote, unless the stage sets its own")
    min_requests: int = Field(
        ge=1, description="candidate requests needed before promote, unless the stage sets its own"
    )
    error_rate_warning: float = Field(gt=0, le=100, description="HTTP 5xx share, percent: warns")
    error_rate_abort: float = Field(gt=0, le=100, description="HTTP 5xx share, percent: aborts")
    latency_p95_warning_ms: float = Field(gt=0, description="p95 response time: warns")
    latency_p95_abort_ms: float = Field(gt=0, description="p95 response time: aborts")
    error_rate_increase_points: float = Field(
        ge=0, le=100, description="candidate error rate may exceed the live one by this many percentage points"
    )
    latency_p95_ratio: float = Field(ge=1, description="candidate p95 may be at most this multiple of the live p95")
    significance: float = Field(
        gt=0, lt=1, description="a relative limit is broken only when its test's p-value is below this"
    )
    auto_promote: bool = Field(False, description="CI may push a promote verdict to main itself (never production)")
    timeout: Duration = Field(timedelta(seconds=10), description="per query")
    queries: Queries = Queries()

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return url.rstrip("/") if url else url

    @model_validator(mode="after")
    def _consistent(self) -> AnalysisConfig:
        if self.provider == "prometheus" and not self.url:
            raise ValueError("provider prometheus needs url (e.g. http://127.0.0.1:9090)")
        if self.provider == "appinsights" and self.url:
            raise ValueError("url is for provider prometheus; appinsights reads the stack's Application Insights")
        if self.provider == "prometheus" and self.resource_id:
            raise ValueError("resourceId is for provider appinsights")
        if self.error_rate_warning >= self.error_rate_abort:
            raise ValueError(
                f"errorRateWarning ({self.error_rate_warning}) must be below errorRateAbort ({self.error_rate_abort})"
            )
        if self.latency_p95_warning_ms >= self.latency_p95_abort_ms:
            raise ValueError(
                f"latencyP95WarningMs ({self.latency_p95_warning_ms}) must be below "
                f"latencyP95AbortMs ({self.latency_p95_abort_ms})"
            )
        other = APPINSIGHTS_QUERY_KEYS if self.provider == "prometheus" else PROMETHEUS_QUERY_KEYS
        misplaced = sorted(self.queries.given() & set(other))
        if misplaced:
            raise ValueError(
                f"queries.{misplaced[0]} is not a {self.provider} query; "
                f"{self.provider} takes: {', '.join(APPINSIGHTS_QUERY_KEYS if other == PROMETHEUS_QUERY_KEYS else PROMETHEUS_QUERY_KEYS)}"
            )
        if self.timeout.total_seconds() < 1:
            raise ValueError(f"timeout ({format_duration(self.timeout)}) must be at least 1s")
        return self


# Tier defaults, from the rollout plans we serve: error rate above 1 % warns and above 5 % rolls
# back; p95 above 500 ms warns and above 2 s rolls back; success rate at most 3 to 5 points below
# the baseline (3 in production, 5 elsewhere) and latency at most 15 % above it; minimum time per
# stage alpha 48 h, beta 24 h; minimum sample 50, 100, 250 requests.
COMMON_DEFAULTS: dict[str, object] = {
    "errorRateWarning": 1.0,
    "errorRateAbort": 5.0,
    "latencyP95WarningMs": 500,
    "latencyP95AbortMs": 2000,
    "errorRateIncreasePoints": 5.0,
    "latencyP95Ratio": 1.15,
    "significance": 0.05,
}
TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {"provider": "appinsights", "bake": "30m", "minRequests": 50, "autoPromote": True},
    "staging": {"provider": "appinsights", "bake": "24h", "minRequests": 100},
    "production": {"provider": "appinsights", "bake": "48h", "minRequests": 250, "errorRateIncreasePoints": 3.0},
    "local": {
        "provider": "prometheus",
        "url": "http://127.0.0.1:9090",
        "bake": "5m",
        "minRequests": 50,
        "autoPromote": True,
    },
}
