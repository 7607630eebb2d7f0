"""Request-duration histograms as an app instrumented with OpenTelemetry exports them to Prometheus,
written as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`."""

from __future__ import annotations

import math
from dataclasses import dataclass

METRIC = "http_server_request_duration_seconds"
# OpenTelemetry's default explicit buckets for http.server.request.duration (seconds).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass(frozen=True)
class Traffic:
    """One version's steady traffic: requests per second, the share that fail with 500, and its
    latencies as (seconds, share of requests)."""

    version: str
    start: float  # unix seconds
    end: float
    rps: float
    error_share: float = 0.0
    latencies: tuple[tuple[float, float], ...] = ((0.04, 1.0),)
    step: float = 15.0
    extra_labels: tuple[tuple[str, str], ...] = ()


def series(traffic: Traffic) -> dict[tuple[tuple[str, str], ...], list[tuple[float, float]]]:
    """label set -> [(timestamp, cumulative value)] for the _bucket, _count and _sum series."""
    out: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    total = errors = 0.0
    t = traffic.start
    while t <= traffic.end + 1e-9:
        total = math.floor((t - traffic.start) * traffic.rps)
        errors = math.floor(total * traffic.error_share)
        for code, count in (("200", total - errors), ("500", errors)):
            base = (("http_response_status_code", code), ("service_version", traffic.version), *traffic.extra_labels)
            cumulative = 0.0
            for bound in (*BUCKETS, math.inf):
                cumulative = sum(count * share for latency, share in traffic.latencies if latency <= bound)
                le = "+Inf" if math.isinf(bound) else repr(bound)
                out.setdefault((("__name__", f"{METRIC}_bucket"), *base, ("le", le)), []).append(
                    (t, float(math.floor(cumulative)))
                )
            out.setdefault((("__name__", f"{METRIC}_count"), *base), []).append((t, float(count)))
            out.setdefault((("__name__", f"{METRIC}_sum"), *base), []).append(
                (t, sum(count * share * latency for latency, share in traffic.latencies))
            )
        t += traffic.step
    return out


def openmetrics(traffics: list[Traffic]) -> str:
    lines = [f"# TYPE {METRIC} histogram", f"# UNIT {METRIC} seconds"]
    for traffic in traffics:
        for labels, samples in series(traffic).items():
            name = dict(labels)["__name__"]
            rendered = ",".join(f'{k}="{v}"' for k, v in labels if k != "__name__")
            lines += [f"{name}{{{rendered}}} {value:g} {ts:.3f}" for ts, value in samples]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
