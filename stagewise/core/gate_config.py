"""`stagewise:analysis` and the per-stage gate keys: models, durations and the default queries.

Pure: no Pulumi import, no I/O. `stagewise.core.config` embeds these models, so they are validated
with the rest of the stack config, at the program's edge and by the CLI alike.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from stagewise.core import counter_selector
from stagewise.core.config_types import Model
from stagewise.core.redact import has_credentials, redact_url
from stagewise.formats import facts

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

DURATION_MAX = timedelta(days=365)
"""The longest duration read (a bake, a stage's bake, `watch --timeout`): a year is beyond any rollout,
and a bound keeps every later sum of times within what a timedelta and a clock can hold."""

QUERY_TIMEOUT_MAX = timedelta(minutes=5)
"""analysis.timeout, per query: beyond it a slow metrics source holds a gate's look for ever."""

LATENCY_BOUNDS_MAX = 100
"""latencyBoundsMs holds at most this many bounds (OpenTelemetry's default has 14); each is a query's row."""


def parse_duration(text: object) -> timedelta:
    """'30m', '24h', '1h30m', '45s', '2d' -> timedelta. Anything else is refused with the grammar."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, str) and len(text) > 40:
        raise ValueError(f"{text[:40]!r}... is not a duration of at most {DURATION_MAX.days}d")
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or not text:
        raise ValueError(f"{text!r} is not a duration; use a number with d, h, m or s, e.g. 30m, 24h, 1h30m")
    total = sum(int(g or 0) * size for g, size in zip(match.groups(), _UNITS.values()))
    if total > DURATION_MAX.total_seconds():
        raise ValueError(f"{text!r} is longer than the {DURATION_MAX.days}d a duration may be")
    return timedelta(seconds=total)


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
# A Prometheus template is a plain counter selector (stagewise.core.counter_selector): the gate reads
# the raw samples of its series and counts exactly; $version (the version's tag) is the value of the
# matcher on the version label. A version's requests are the series whose service_version is its tag.
PROMETHEUS_REQUESTS = "http_server_request_duration_seconds_count{service_version=$version}"
PROMETHEUS_ERRORS = (
    'http_server_request_duration_seconds_count{service_version=$version,http_response_status_code=~"5.."}'
)
PROMETHEUS_DURATION_BUCKETS = "http_server_request_duration_seconds_bucket{service_version=$version}"

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
PROMETHEUS_PLACEHOLDERS = frozenset({"version"})
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


# The config sections' base: camelCase keys, unknown keys refused, numbers finite, booleans not numbers.
_Model = Model


PROMETHEUS_QUERY_KEYS = ("requests", "errors", "durationBuckets")
_SUFFIXES = {
    "requests": counter_selector.COUNTER_SUFFIXES,
    "errors": counter_selector.COUNTER_SUFFIXES,
    "durationBuckets": (counter_selector.BUCKET_SUFFIX,),
}
APPINSIGHTS_QUERY_KEYS = ("errorShare", "p95", "slowerThan")


class Queries(_Model):
    """Query templates. Prometheus: one plain counter selector each (requests and errors: a `_count`
    or `_total` counter; durationBuckets: the histogram's `_bucket` series, in seconds), which the
    gate reads sample by sample; anything that cannot give exact counts is refused with why.
    Application Insights: KQL."""

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
    def _promql(cls, template: str, info: ValidationInfo) -> str:
        key = to_camel(info.field_name or "")
        if "$window" in template:
            raise ValueError(
                f"queries.{key} uses $window: the gate reads every raw sample of the selector and counts each "
                "step itself, so a template takes no range; write the counter selector alone, e.g. "
                + (PROMETHEUS_DURATION_BUCKETS if key == "durationBuckets" else PROMETHEUS_REQUESTS)
            )
        _checked(template, {"version"}, PROMETHEUS_PLACEHOLDERS)
        try:
            counter_selector.parse(template, _SUFFIXES[key])
        except counter_selector.SelectorError as error:
            raise ValueError(f"queries.{key} cannot give exact counts: it {error}") from None
        return template

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


PROMOTE_MARGIN = 2.0
"""Promote needs evidence that the candidate is no worse than this multiple of live's error rate and
share of slow requests (or below the warning levels). Above both tolerances (errorRateRatio,
slowRequestsRatio), so a candidate cannot be within them and past the margin at once."""
MARGIN_OVER_TOLERANCE = 1.5
"""promoteMargin's default where a tolerance is 4/3 or more: this multiple of the larger tolerance."""
FALSE_ABORT_RATE_FLOOR = 0.001
"""Below 0.1 % a rollout's budget, split over four stages and four checks, asks for e-values of
tens of thousands: a 5x regression at 10 req/s would go unseen for hours."""

P95_TAIL = 0.05
"""A p95 above a latency means more than this share of requests are slower than it."""

# OpenTelemetry's default explicit bucket bounds for http.server.request.duration, in ms
# (semantic-conventions, http-metrics.md: "[ 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
# 0.75, 1, 2.5, 5, 7.5, 10 ]" seconds).
OTEL_LATENCY_BOUNDS_MS: tuple[float, ...] = (5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)


def bound_at_or_above(bounds: tuple[float, ...] | list[float], value: float) -> int | None:
    """Index of the lowest bound at or above `value` (None above the highest): where a latency
    limit is counted exactly, and an abort there still means the limit is broken."""
    return next((i for i, bound in enumerate(bounds) if bound >= value - 1e-12 * max(abs(value), 1.0)), None)


def nearest_bounds(bounds: tuple[float, ...], value: float) -> str:
    below = [b for b in bounds if b < value]
    above = [b for b in bounds if b > value]
    named = [f"{b:g}" for b in (below[-1:] + above[:1])]
    return " and ".join(named) if named else "none"


# Keys of the fixed-horizon gate, replaced by the anytime-valid one: each refused with how to convert it.
RETIRED_KEYS: dict[str, str] = {
    "errorRateIncreasePoints": (
        "was a margin in percentage points above live's error rate, which lets a 2x regression through at a "
        "1 % baseline; tolerances are relative to live now: set errorRateRatio, the candidate's error rate as "
        "a multiple of live's (default 1.25)"
    ),
    "latencyP95Ratio": (
        "compared interpolated p95s; the gate now counts requests slower than a bucket bound exactly: set "
        "slowRequestsRatio, the candidate's share of slow requests as a multiple of live's (default 1.5)"
    ),
    "significance": (
        "was a p-value threshold for each look, so false aborts added up over the looks; set falseAbortRate, "
        "the chance of aborting a candidate within its limits over the whole stage, all checks and looks "
        "together (default 0.02)"
    ),
}


class AnalysisConfig(_Model):
    """`stagewise:analysis`: where the metrics come from and the limits a candidate must meet."""

    provider: Literal["prometheus", "appinsights"]
    url: str | None = Field(None, description="Prometheus base URL (prometheus only), without credentials")
    bearer_token_secret: str | None = Field(
        None, description="stagewise:secrets entry holding a bearer token sent to Prometheus (prometheus only)"
    )
    basic_auth_user: str | None = Field(
        None, description="user name for Prometheus basic auth, with basicAuthPasswordSecret (prometheus only)"
    )
    basic_auth_password_secret: str | None = Field(
        None, description="stagewise:secrets entry holding the basic-auth password (prometheus only)"
    )
    resource_id: str | None = Field(
        None, description="Application Insights resource ID (appinsights only; default: the stack's insights_id output)"
    )
    bake: Duration = Field(description="minimum time at a stage before promote, unless the stage sets its own")
    min_requests: int = Field(
        ge=1, description="candidate requests needed before promote, unless the stage sets its own"
    )
    error_rate_warning: float = Field(gt=0, le=100, description="HTTP 5xx share, percent: warns")
    error_rate_abort: float = Field(
        gt=0, lt=100, description="HTTP 5xx share, percent: aborts when shown above (below 100: no rate is above it)"
    )
    latency_p95_warning_ms: float = Field(gt=0, description="p95 response time: warns")
    latency_p95_abort_ms: float = Field(gt=0, description="p95 response time: aborts when shown above")
    error_rate_ratio: float = Field(ge=1, description="candidate error rate may be at most this multiple of live's")
    slow_requests_ratio: float = Field(
        ge=1, description="candidate share of slow requests may be at most this multiple of live's"
    )
    false_abort_rate: float = Field(
        ge=FALSE_ABORT_RATE_FLOOR,
        le=0.1,
        description=(
            "the rollout's false-decision budget: chance of aborting a candidate within every limit, or of "
            "promoting one past promoteMargin, over all its stages and looks"
        ),
    )
    promote_margin: float | None = Field(
        None,
        gt=1,
        le=100,
        description=(
            "promote needs evidence the candidate is no worse than this multiple of live (errors, slow share); "
            "default 2, or 1.5 x the larger tolerance when that is more"
        ),
    )
    no_traffic_deadline: Duration = Field(
        timedelta(minutes=30),
        description="how long the candidate may serve no requests at a stage before the rollout is stuck",
    )
    step: Duration = Field(timedelta(minutes=1), description="the evidence grid: counts read per step")
    latency_bounds_ms: tuple[float, ...] = Field(
        OTEL_LATENCY_BOUNDS_MS, description="the latency histogram's bucket bounds, ms (prometheus)"
    )
    auto_promote: bool = Field(False, description="CI may push a promote verdict to main itself (never production)")
    timeout: Duration = Field(
        timedelta(seconds=10), description="one look's deadline: every request to the metrics source within it"
    )
    queries: Queries = Queries()

    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data: object) -> object:
        if isinstance(data, dict):
            for key, why in RETIRED_KEYS.items():
                if key in data:
                    value = data[key]
                    points = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 100
                    # The conversion only where it makes sense: -5 points is no ratio (it was -4).
                    converted = (
                        f"; {value:g} points at a 1 % baseline is errorRateRatio: {1 + value:g}"
                        if key == "errorRateIncreasePoints" and points
                        else ""
                    )
                    raise ValueError(f"{key} ({value!r}) is no longer read: it {why}{converted}")
        return data

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+\S*$", url):
            raise ValueError(f"{redact_url(url)!r} is not an http:// or https:// URL without spaces")
        if url is not None and has_credentials(url):
            # A URL is printed in reasons, JSON and the reports CI posts; a stack secret is not.
            raise ValueError(
                f"{redact_url(url)!r} carries credentials, which would be printed wherever the URL is: store them "
                f"in stagewise:secrets and name the entry in bearerTokenSecret, or basicAuthUser with "
                f"basicAuthPasswordSecret"
            )
        return url.rstrip("/") if url else url

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> AnalysisConfig:
        basic = (self.basic_auth_user, self.basic_auth_password_secret)
        given = [k for k, v in (("bearerTokenSecret", self.bearer_token_secret), ("basicAuthUser", basic[0])) if v]
        if (given or basic[1]) and self.provider != "prometheus":
            raise ValueError(f"{(given or ['basicAuthPasswordSecret'])[0]} is for provider prometheus")
        if len(given) == 2:
            raise ValueError("bearerTokenSecret and basicAuthUser: Prometheus takes one way to sign in; give one")
        if (basic[0] is None) != (basic[1] is None):
            raise ValueError("basicAuthUser and basicAuthPasswordSecret go together: give both, or neither")
        return self

    @field_validator("latency_bounds_ms")
    @classmethod
    def _increasing(cls, bounds: tuple[float, ...]) -> tuple[float, ...]:
        if len(bounds) > LATENCY_BOUNDS_MAX:
            raise ValueError(f"holds {len(bounds)} bounds; at most {LATENCY_BOUNDS_MAX}")
        if not bounds or bounds[0] <= 0 or any(later <= earlier for earlier, later in zip(bounds, bounds[1:])):
            raise ValueError(f"{list(bounds)} must be positive and strictly increasing, in ms")
        return bounds

    @property
    def margin(self) -> float:
        """promoteMargin as set, else PROMOTE_MARGIN, or 1.5 x the larger tolerance when that is more
        (the margin must stay above both tolerances)."""
        if self.promote_margin is not None:
            return self.promote_margin
        return max(PROMOTE_MARGIN, MARGIN_OVER_TOLERANCE * max(self.error_rate_ratio, self.slow_requests_ratio))

    @model_validator(mode="after")
    def _consistent(self) -> AnalysisConfig:
        if self.provider == "prometheus" and not self.url:
            raise ValueError(f"provider prometheus needs url (e.g. {facts.PROMETHEUS_URL})")
        if self.provider == "appinsights" and self.url:
            raise ValueError("url is for provider prometheus; appinsights reads the stack's Application Insights")
        if self.provider == "prometheus" and self.resource_id:
            raise ValueError("resourceId is for provider appinsights")
        if self.error_rate_warning >= self.error_rate_abort:
            raise ValueError(
                f"errorRateWarning ({self.error_rate_warning}) must be below errorRateAbort ({self.error_rate_abort})"
            )
        for key, tolerance in (
            ("errorRateRatio", self.error_rate_ratio),
            ("slowRequestsRatio", self.slow_requests_ratio),
        ):
            if self.promote_margin is not None and self.promote_margin <= tolerance:
                raise ValueError(
                    f"promoteMargin ({self.promote_margin:g}) must be above {key} ({tolerance:g}): a candidate "
                    "within the tolerance must not also count as past the margin"
                )
        if self.latency_p95_warning_ms >= self.latency_p95_abort_ms:
            raise ValueError(
                f"latencyP95WarningMs ({self.latency_p95_warning_ms}) must be below "
                f"latencyP95AbortMs ({self.latency_p95_abort_ms})"
            )
        if self.provider == "prometheus":
            # A histogram counts requests exactly at its bounds only: a limit between two would be
            # read by interpolation, which is how a real +20 % p95 read as x1.13.
            for key, value in (
                ("latencyP95AbortMs", self.latency_p95_abort_ms),
                ("latencyP95WarningMs", self.latency_p95_warning_ms),
            ):
                if value not in self.latency_bounds_ms:
                    raise ValueError(
                        f"{key} ({value:g}) is not a bucket bound of the latency histogram (latencyBoundsMs); "
                        f"the nearest bounds are {nearest_bounds(self.latency_bounds_ms, value)} ms"
                    )
        step = self.step.total_seconds()
        if not 10 <= step <= 600:
            raise ValueError(f"step ({format_duration(self.step)}) must be between 10s and 10m")
        other = APPINSIGHTS_QUERY_KEYS if self.provider == "prometheus" else PROMETHEUS_QUERY_KEYS
        misplaced = sorted(self.queries.given() & set(other))
        if misplaced:
            raise ValueError(
                f"queries.{misplaced[0]} is not a {self.provider} query; "
                f"{self.provider} takes: {', '.join(APPINSIGHTS_QUERY_KEYS if other == PROMETHEUS_QUERY_KEYS else PROMETHEUS_QUERY_KEYS)}"
            )
        if not timedelta(seconds=1) <= self.timeout <= QUERY_TIMEOUT_MAX:
            raise ValueError(
                f"timeout ({format_duration(self.timeout)}) must be between 1s and {format_duration(QUERY_TIMEOUT_MAX)}"
            )
        return self
