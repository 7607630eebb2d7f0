"""One report's content, and that content as plain data (`--json`, report.json).

The JSON schema (version SCHEMA) is documented in docs/cli.md; times are RFC 3339 in UTC,
durations in seconds, error rates in percent, latencies in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stagewise.tools.gate.evidence import VersionMetrics
from stagewise.tools.report.metrics import RolloutMetrics, StageMetrics
from stagewise.tools.report.timeline import Change, Incident, Rollout, StageSpan

SCHEMA = 1


@dataclass(frozen=True)
class Report:
    stack: str
    file: str
    """The stack file the history was read from."""
    generated: datetime
    rollout: Rollout
    metrics: RolloutMetrics
    previous: Rollout | None = None
    """The rollout before this one, for context (e.g. the aborted attempt before a fix)."""

    @property
    def title(self) -> str:
        return f"{self.stack}: rollout of {self.rollout.version}"

    def stage_metrics(self, span: StageSpan) -> StageMetrics | None:
        return next((m for m in self.metrics.stages if m.stage is span), None)


def time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _change(change: Change | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "sha": change.sha,
        "author": change.author,
        "at": time(change.at),
        "subject": change.subject,
        "pullRequest": change.pull_request,
    }


def _measurement(value: VersionMetrics | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"requests": value.requests, "errors": value.errors, "errorRate": value.error_rate, "p95Ms": value.p95_ms}


def _stage(report: Report, span: StageSpan) -> dict[str, Any]:
    found = report.stage_metrics(span)
    metrics = None
    if found is not None:
        difference = found.difference
        metrics = {
            "candidate": _measurement(found.candidate),
            "live": _measurement(found.live),
            "difference": {"errorRatePoints": difference.error_rate_points, "p95Ratio": difference.p95_ratio},
        }
    return {
        "stage": span.stage,
        "share": span.share,
        "traffic": span.traffic,
        "start": time(span.start),
        "end": time(span.end),
        "open": span.open,
        "durationSeconds": span.duration.total_seconds(),
        "action": span.action,
        "commit": _change(span.change),
        "endedBy": _change(span.ended_by),
        "gateVerdict": span.ended_by.verdict if span.ended_by else None,
        "metrics": metrics,
    }


def _incident(incident: Incident) -> dict[str, Any]:
    return {
        "kind": incident.kind,
        "at": time(incident.at),
        "from": {"stage": incident.from_stage, "share": incident.from_share},
        "to": {"stage": incident.to_stage, "share": incident.to_share},
        "reason": incident.reason,
        "byBot": incident.change.by_bot,
        "gateVerdict": incident.change.verdict,
        "commit": _change(incident.change),
    }


def _summary(rollout: Rollout) -> dict[str, Any]:
    return {
        "version": rollout.version,
        "candidate": rollout.candidate,
        "live": rollout.live,
        "baseline": rollout.baseline,
        "outcome": rollout.outcome,
        "start": time(rollout.start),
        "end": time(rollout.end) if rollout.outcome != "in progress" else None,
        "durationSeconds": rollout.duration.total_seconds(),
        "startedBy": _change(rollout.started_by),
        "endedBy": _change(rollout.ended_by),
    }


def to_dict(report: Report) -> dict[str, Any]:
    rollout, metrics = report.rollout, report.metrics
    series = None
    if metrics.series is not None:
        series = {
            version: [
                {"start": time(p.start), "end": time(p.end), **(_measurement(p.measurement) or {})} for p in points
            ]
            for version, points in metrics.series.items()
        }
    return {
        "schema": SCHEMA,
        "stack": report.stack,
        "file": report.file,
        "generated": time(report.generated),
        "rollout": _summary(rollout),
        "stages": [_stage(report, span) for span in rollout.stages],
        "incidents": [_incident(i) for i in rollout.incidents],
        "metrics": {
            "available": metrics.missing is None,
            "source": metrics.source,
            "missing": metrics.missing,
            "series": series,
        },
        "notes": list(rollout.notes),
        "previous": _summary(report.previous) if report.previous else None,
    }
