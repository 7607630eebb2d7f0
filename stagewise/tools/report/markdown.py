"""The report as Markdown: what a person reads after the rollout, top to bottom."""

from __future__ import annotations

from datetime import datetime

from stagewise.core.redact import markdown_text
from stagewise.tools.gate.evidence import VersionMetrics
from stagewise.tools.report.data import Report
from stagewise.tools.report.timeline import Change, Rollout, StageSpan, human_duration

CHART = "report.png"

_OUTCOME = {
    "finished": "finished: {version} is live on {candidate}",
    "aborted": "aborted: {baseline} stayed live on {live}",
    "superseded": "superseded: another version replaced {version} on {candidate} before it finished",
    "in progress": "in progress",
}


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _cell(text: str) -> str:
    # An author is outside text: shown as written, never as a link, an image, HTML or a new column.
    return markdown_text(text)


class Links:
    """Commit and pull request references, as links when the repository's web address is known."""

    def __init__(self, repository_url: str | None = None):
        self.base = repository_url.rstrip("/") if repository_url else None

    def commit(self, change: Change) -> str:
        short = f"`{change.sha[:8]}`"
        return f"[{short}]({self.base}/commit/{change.sha})" if self.base else short

    def pull_request(self, change: Change) -> str:
        number = change.pull_request
        if number is None:
            return ""
        return f"[#{number}]({self.base}/pull/{number})" if self.base else f"#{number}"


def _by(change: Change, links: Links) -> str:
    pr = links.pull_request(change)
    return f"{links.commit(change)} by {_cell(change.author)}" + (f", {pr}" if pr else "")


def _share(value: int | None) -> str:
    return "?" if value is None else f"{value} %"


def _stage_name(span: StageSpan) -> str:
    return f"{span.stage} ({span.action})" if span.action in ("deploy", "created") else span.stage


def _outcome(rollout: Rollout) -> str:
    return _OUTCOME[rollout.outcome].format(
        version=rollout.version,
        candidate=rollout.candidate,
        baseline=rollout.baseline or "the live version",
        live=rollout.live,
    )


def _number(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def _pair(candidate: VersionMetrics, live: VersionMetrics | None, attribute: str, unit: str, digits: int) -> str:
    first = _number(getattr(candidate, attribute), unit, digits)
    return first if live is None else f"{first} / {_number(getattr(live, attribute), unit, digits)}"


def _verdict(span: StageSpan) -> str:
    """The stage gate's verdict that ended the stage, where a gate ran."""
    verdict = span.ended_by.verdict if span.ended_by else None
    return f"**{verdict}**" if verdict else ""


def render(report: Report, links: Links | None = None, chart: str | None = CHART) -> str:
    links = links or Links()
    rollout = report.rollout
    lines = [f"# {report.title}", ""]
    started, ended = rollout.started_by, rollout.ended_by
    summary = [
        ("Outcome", f"**{_outcome(rollout)}**"),
        (
            "Candidate",
            f"{rollout.version} on {rollout.candidate}"
            + (f", against {rollout.baseline} on {rollout.live}" if rollout.baseline else ""),
        ),
        ("Started", f"{_when(rollout.start)}, {_by(started, links)}"),
        ("Ended", f"{_when(rollout.end)}, {_by(ended, links)}" if ended else f"not yet (as of {_when(rollout.end)})"),
        ("Duration", human_duration(rollout.duration)),
        ("Incidents", ", ".join(f"{i.kind} at {i.from_stage}" for i in rollout.incidents) or "none"),
    ]
    lines += ["| | |", "|---|---|"] + [f"| {key} | {value} |" for key, value in summary] + [""]
    if report.previous is not None:
        previous = report.previous
        lines += [
            (
                f"Before it: {previous.version} on {previous.candidate}, {previous.outcome} "
                f"({_when(previous.start)} to {_when(previous.end)})."
            ),
            "",
        ]
    if chart:
        lines += [f"![Traffic per colour, error rate and p95 per version over the rollout]({chart})", ""]

    lines += [
        "## Timeline",
        "",
        "| Stage | Candidate share | Start | End | Duration | Commit | PR |",
        "|---|---:|---|---|---:|---|---|",
    ]
    for span in rollout.stages:
        end = "now" if span.open else _when(span.end)
        lines.append(
            f"| {_stage_name(span)} | {_share(span.share)} | {_when(span.start)} | {end} | "
            f"{human_duration(span.duration)} | {links.commit(span.change)} {_cell(span.change.author)} | "
            f"{links.pull_request(span.change)} |"
        )
    if ended is not None:
        lines.append(
            f"| {rollout.outcome} | | {_when(ended.at)} | | | {links.commit(ended)} {_cell(ended.author)} "
            f"| {links.pull_request(ended)} |"
        )
    lines.append("")

    lines += ["## Metrics per stage", ""]
    metrics = report.metrics
    if metrics.missing is not None:
        lines += [f"No metrics: {metrics.missing}. The timeline above is complete without them.", ""]
    else:
        against = f" / {rollout.baseline} (live)" if rollout.baseline else ""
        lines += [
            f"From {metrics.source}. Each cell: {rollout.version} (candidate){against}.",
            "",
            "| Stage | Requests | Error rate | p95 | Error rate difference | p95 ratio | Gate verdict |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for found in metrics.stages:
            difference = found.difference
            lines.append(
                f"| {_stage_name(found.stage)} | {_pair(found.candidate, found.live, 'requests', '', 0)} | "
                f"{_pair(found.candidate, found.live, 'error_rate', ' %', 2)} | "
                f"{_pair(found.candidate, found.live, 'p95_ms', ' ms', 0)} | "
                f"{_number(difference.error_rate_points, ' points', 2)} | {_number(difference.p95_ratio, '', 2)} | "
                f"{_verdict(found.stage)} |"
            )
        lines.append("")

    lines += ["## Incidents", ""]
    if not rollout.incidents:
        lines += ["None.", ""]
    for number, incident in enumerate(rollout.incidents, 1):
        lines.append(
            f"{number}. **{incident.kind}** at {_when(incident.at)}: {incident.from_stage} ({_share(incident.from_share)})"
            f" to {incident.to_stage or 'nothing'} ({_share(incident.to_share)}), {_by(incident.change, links)}"
            + (" (automated)" if incident.change.by_bot else "")
        )
        lines += [f"   > {line}" if line else "   >" for line in incident.reason.splitlines()]
        lines.append("")

    lines += ["## Outcome", "", f"{_outcome(rollout).capitalize()}.", ""]
    if rollout.notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in rollout.notes] + [""]
    lines.append(f"_Generated {_when(report.generated)} from the history of {report.file}._")
    return "\n".join(lines) + "\n"
