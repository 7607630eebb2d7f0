"""`stagewise status`: where a rollout stands, as one JSON document (schema stagewise.status/v1) and
its terminal view.

Three sources, each read on its own so that one that cannot be reached leaves the others shown:
- the stack file (always): stage, colours, versions, the traffic it asks for, the next step;
- the engine's state (`pulumi stack export`): the traffic the last `pulumi up` applied (the stack's
  `traffic` output), marked when it differs from the file;
- the stage gate: one analysis through the gate's public API (`commands.run_once`), read only
  through `Analysis.to_dict()`'s documented JSON (docs/analysis.schema.json).

`Tracker` keeps the analyses of a watch so that the view can show each version's requests, errors
and p95 per look (the gate's figures are cumulative since the stage began).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from stagewise.core import rollout
from stagewise.tools import git, processes, window_guard
from stagewise.tools import history as history_lib
from stagewise.tools.render import printable
from stagewise.tools.session import CliError, Loaded, out

SCHEMA = "stagewise.status/v1"
RECENT_LOOKS = 10


class SourceError(RuntimeError):
    """A source (the engine's state, the metrics) could not be read; the message says which and why."""


def next_command(release: rollout.Release, catalog: rollout.Catalog, stack: str) -> str:
    """The next step as a line that runs when pasted into a shell (a `#` comment says what it does).
    At rest the new version is not known: `$TAG` must be set, and the shell says so when it is not."""
    upcoming = rollout.next_stage(release, catalog)
    if rollout.at_rest(release):
        return f'stagewise deploy --stack {stack} "${{TAG:?set TAG to the version to deploy}}"'
    if upcoming is None:
        return f"stagewise finish --stack {stack}  # {release.candidate} becomes live"
    return f"stagewise promote --stack {stack}  # to {upcoming.name}, {upcoming.share} %"


def file_view(loaded: Loaded) -> dict[str, Any]:
    release, catalog = loaded.release, loaded.catalog
    shares = rollout.traffic(release, catalog)
    upcoming = rollout.next_stage(release, catalog)
    changes = git.file_status(loaded.root, loaded.source)
    return {
        "stack": loaded.stack,
        "environment": loaded.config.environment,
        "file": loaded.source,
        "stage": {
            "name": release.stage,
            "position": catalog.index(release.stage),
            "of": len(catalog.stages) - 1,
            "stages": [{"name": s.name, "weight": s.share} for s in catalog.stages],
            "next": None if upcoming is None else {"name": upcoming.name, "weight": upcoming.share},
        },
        "live": release.live,
        "candidate": release.candidate,
        "colours": {
            colour: {
                "role": "live" if colour == release.live else "candidate",
                "version": release.version(colour),
                "traffic": shares[colour],
            }
            for colour in rollout.COLOURS
        },
        "uncommitted": changes,
        "next": next_command(release, catalog, loaded.stack),
    }


def stage_since(loaded: Loaded) -> str | None:
    """When the commit that set the current stage was made (None: not committed, or no git)."""
    try:
        commits = git.log(loaded.root, loaded.source)
        texts = git.contents(loaded.root, commits, loaded.source)
    except git.GitError:
        return None
    steps = history_lib.steps(zip(commits, texts), loaded.catalog)
    if not steps or steps[-1].after is None or steps[-1].after.stage != loaded.release.stage:
        return None
    return steps[-1].meta.committed or steps[-1].meta.date


# The engine's state.


def pulumi_export(root: Path, stack: str) -> dict[str, Any]:
    """`pulumi stack export --stack S`: the engine's state of the stack (no secrets are decrypted)."""
    try:
        text = processes.stack_export(root, stack)
    except processes.PulumiCliError as error:
        raise SourceError(printable(str(error))) from None
    try:
        document = json.loads(text)
    except ValueError:
        raise SourceError("pulumi stack export did not print JSON") from None
    if not isinstance(document, dict):
        raise SourceError("pulumi stack export did not print a JSON object")
    return document


def applied_traffic(export: dict[str, Any]) -> tuple[dict[str, int] | None, str | None]:
    """The `traffic` output of the stack resource in an export, checked (each colour 0..100, summing to
    100), and when the state was last written. (None, ...) when the stack was never deployed."""
    deployment = export.get("deployment")
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        return None, None
    manifest = deployment.get("manifest") if isinstance(deployment, dict) else None
    when = manifest.get("time") if isinstance(manifest, dict) and isinstance(manifest.get("time"), str) else None
    for resource in resources:
        if isinstance(resource, dict) and resource.get("type") == "pulumi:pulumi:Stack":
            outputs = resource.get("outputs")
            traffic = outputs.get("traffic") if isinstance(outputs, dict) else None
            if traffic is None:
                return None, when
            if (
                not isinstance(traffic, dict)
                or set(traffic) != set(rollout.COLOURS)
                or not all(type(v) is int and 0 <= v <= 100 for v in traffic.values())
                or sum(traffic.values()) != 100
            ):
                raise SourceError("the engine's state holds a traffic output that is not two shares summing to 100")
            return {c: traffic[c] for c in rollout.COLOURS}, when
    return None, when


def applied_view(loaded: Loaded, export: Callable[[Path, str], dict[str, Any]] | None = None) -> dict[str, Any]:
    wanted = rollout.traffic(loaded.release, loaded.catalog)
    try:
        traffic, when = applied_traffic((export or pulumi_export)(loaded.root, loaded.stack))
    except SourceError as error:
        return {"source": "pulumi stack export", "traffic": None, "at": None, "differs": None, "error": str(error)}
    return {
        "source": "pulumi stack export",
        "traffic": traffic,
        "at": when,
        "differs": None if traffic is None else traffic != dict(wanted),
        "error": None if traffic is not None else "the stack has no traffic output: it was never deployed",
    }


# The stage gate.

Analyze = Callable[[str, dict[str, Any]], dict[str, Any]]


def gate_analysis(stack: str, providers: dict[str, Any]) -> dict[str, Any]:
    """One analysis as the gate's JSON (docs/analysis.schema.json), through its public API."""
    from stagewise.tools.gate import commands  # the gate loads its providers: only when asked

    _, analysis = commands.run_once(stack, None, providers)
    return analysis.to_dict()


def gate_view(loaded: Loaded, providers: dict[str, Any], analyze: Analyze | None = None) -> dict[str, Any]:
    if rollout.traffic(loaded.release, loaded.catalog)[loaded.release.candidate] == 0:
        return {"analysis": None, "error": None, "skipped": f"stage {loaded.release.stage} sends no traffic to judge"}
    try:
        return {"analysis": (analyze or gate_analysis)(loaded.stack, providers), "error": None, "skipped": None}
    except CliError as error:
        return {"analysis": None, "error": str(error), "skipped": None}
    except Exception as error:  # an unreachable source must not end a watch: shown, and tried again
        return {"analysis": None, "error": f"{type(error).__name__}: {error}", "skipped": None}


@dataclass
class Tracker:
    """The analyses of a watch: each version's figures per look (the gate's are since the stage began)."""

    looks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, analysis: dict[str, Any] | None) -> list[dict[str, Any]]:
        if analysis is not None:
            if self.looks and self.looks[-1]["stage"] != analysis["stage"]["name"]:
                self.looks.clear()  # a new stage: its figures start again
            self.looks.append(
                {
                    "at": analysis["at"],
                    "stage": analysis["stage"]["name"],
                    **{role: analysis["versions"][role] for role in ("candidate", "live")},
                }
            )
            del self.looks[:-RECENT_LOOKS]
        return self.recent()

    def recent(self) -> list[dict[str, Any]]:
        """Per look: each version's requests and errors since the look before (None for the first)."""
        rows = []
        for before, now in zip([None, *self.looks], self.looks):
            row: dict[str, Any] = {"at": now["at"]}
            for role in ("candidate", "live"):
                v = now[role]
                b = before[role] if before else None
                row[role] = {
                    "requests": _delta(v["requests"], b and b["requests"]),
                    "errors": _delta(v["errors"], b and b["errors"]),
                    "errorRate": v["errorRate"],
                    "p95Ms": v["p95Ms"],
                    "totalRequests": v["requests"],
                }
            rows.append(row)
        return rows


def _delta(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else max(now - before, 0.0)


def snapshot(
    loaded: Loaded,
    *,
    live: bool,
    providers: dict[str, Any],
    tracker: Tracker | None = None,
    export: Callable[[Path, str], dict[str, Any]] | None = None,
    analyze: Analyze | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The whole status document. `live` False: the stack file only (no process, no network)."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    since = stage_since(loaded)
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "at": moment.isoformat().replace("+00:00", "Z"),
        **file_view(loaded),
        "since": since,
        "secondsInStage": None if since is None else max(0, int((moment - _parse(since)).total_seconds())),
        "window": window_guard.view(loaded.config),
        "applied": None,
        "gate": None,
        "recent": [],
    }
    if live:
        document["applied"] = applied_view(loaded, export)
        document["gate"] = gate_view(loaded, providers, analyze)
        document["recent"] = (tracker or Tracker()).add(document["gate"]["analysis"])
        document["next"] = gate_next(document["next"], document["gate"]["analysis"], loaded.stack)
    return document


def gate_next(planned: str, analysis: dict[str, Any] | None, stack: str) -> str:
    """The next command once the gate has spoken: abort on abort, keep watching on hold, else the plan."""
    if analysis is None or analysis["verdict"] == "promote":
        return planned
    if analysis["verdict"] == "abort":
        return f"stagewise abort --stack {stack}  # the gate's verdict"
    return f"stagewise watch --stack {stack}  # the gate holds ({analysis['holdReason'] or 'hold'})"


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# The terminal view.

_VERDICT_STYLE = {"promote": "bold green", "hold": "bold yellow", "abort": "bold red"}
_CHECK_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "wait": "yellow", "skipped": "dim"}


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "unknown (stage not committed)"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def render(doc: dict[str, Any]) -> RenderableType:
    """The status document as the terminal shows it (`status`, and each refresh of `status --watch`)."""
    parts: list[RenderableType] = []
    applied = doc["applied"]
    traffic = applied["traffic"] if applied else None
    table = Table(title=f"{doc['stack']} ({doc['environment']})", title_justify="left")
    for column in ("colour", "role", "version", "traffic"):
        table.add_column(column, justify="right" if column == "traffic" else "left")
    if traffic is not None:
        table.add_column("applied", justify="right")
    for colour, c in doc["colours"].items():
        row = [colour, c["role"], printable(c["version"] or "(none)"), f"{c['traffic']} %"]
        if traffic is not None:
            differs = traffic[colour] != c["traffic"]
            row.append(Text(f"{traffic[colour]} %" + (" *" if differs else ""), style="bold red" if differs else ""))
        table.add_row(*row)
    parts.append(table)
    stage = doc["stage"]
    names = " > ".join(s["name"] for s in stage["stages"])
    parts.append(Text(f"stage: {stage['name']} ({stage['position']} of {stage['of']}: {names})"))
    upcoming = stage["next"]
    following = f"{upcoming['name']} ({upcoming['weight']} %)" if upcoming else "none (last stage)"
    parts.append(Text(f"next stage: {following}"))
    parts.append(Text(f"in stage for: {duration(doc['secondsInStage'])}"))
    window = doc["window"]
    if window is not None:
        state = "open" if window["open"] else f"closed; the next opens {window['nextOpen'] or 'never (no window)'}"
        parts.append(Text(f"deploy window: {state} ({window['windows']})", style="" if window["open"] else "yellow"))
    if applied is not None:
        if applied["error"]:
            parts.append(Text(f"applied: {applied['error']}", style="yellow"))
        elif applied["differs"]:
            parts.append(
                Text("applied: * the last pulumi up applied other weights than the stack file asks for", style="red")
            )
        else:
            parts.append(Text(f"applied: as the stack file asks (state of {applied['at'] or 'unknown time'})"))
    gate = doc["gate"]
    if gate is not None:
        parts.extend(_gate_parts(gate, doc["recent"]))
    changes = {"clean": "none", "modified": "yes (not committed)", "untracked": "yes (file not committed)"}
    parts.append(Text(f"uncommitted changes to {doc['file']}: {changes.get(doc['uncommitted'], doc['uncommitted'])}"))
    parts.append(Text(f"next step: {doc['next']}"))
    return Group(*parts)


def _gate_parts(gate: dict[str, Any], recent: list[dict[str, Any]]) -> list[RenderableType]:
    if gate["skipped"]:
        return [Text(f"gate: {gate['skipped']}", style="dim")]
    if gate["error"]:
        return [Text(f"gate: cannot judge: {printable(gate['error'])}", style="bold yellow")]
    a = gate["analysis"]
    parts: list[RenderableType] = []
    versions = Table(title=f"since {a['stage']['since']}, from {printable(a['provider'])}", title_justify="left")
    for column in ("role", "version", "requests", "last look", "errors", "error rate", "p95"):
        versions.add_column(column, justify="left" if column in ("role", "version") else "right")
    last = recent[-1] if recent else None
    for role, v in a["versions"].items():
        delta = last[role]["requests"] if last else None
        versions.add_row(
            role,
            printable(v["version"] or "(none)"),
            _num(v["requests"], "{:.0f}"),
            _num(delta, "+{:.0f}"),
            _num(v["errors"], "{:.0f}"),
            _num(v["errorRate"], "{:.2f} %"),
            _num(v["p95Ms"], "{:.0f} ms"),
        )
    parts.append(versions)
    if a["checks"]:
        checks = Table(title_justify="left")
        for column in ("check", "value", "limit", "e-value", "aborts at", "result"):
            checks.add_column(column)
        for c in a["checks"]:
            checks.add_row(
                printable(c["description"]),
                _num(c["value"], "{:.4g}"),
                f"<= {c['limit']:g}",
                _num(c["eValue"], "{:.3g}"),
                _num(c["threshold"], "{:g}"),
                Text(c["status"], style=_CHECK_STYLE.get(c["status"], "")),
            )
        parts.append(checks)
    held = f" ({a['holdReason']})" if a["holdReason"] else ""
    held += " STUCK" if a.get("stuck") is True else ""  # issue 23's field, when the gate gives it
    parts.append(
        Text(f"verdict: {a['verdict']}{held}: {printable(a['reason'])}", style=_VERDICT_STYLE.get(a["verdict"], ""))
    )
    return parts


def watch(
    load: Callable[[], Loaded],
    interval: float,
    providers: dict[str, Any],
    *,
    console: Console | None = None,
    looks: int | None = None,
    **sources: Any,
) -> None:
    """Refresh the view in place every `interval` seconds until Ctrl-C (or `looks` refreshes, for tests).
    A stack file that cannot be read, or a source that cannot be reached, is shown in place and tried again."""
    tracker = Tracker()
    done = 0
    with Live(console=console or out, auto_refresh=False, vertical_overflow="visible") as live:
        try:
            while looks is None or done < looks:
                moment = datetime.now(UTC).replace(microsecond=0)
                header = Text(f"{moment:%H:%M:%S} UTC, every {interval:g} s (Ctrl-C to stop)", style="dim")
                try:
                    view = render(snapshot(load(), live=True, providers=providers, tracker=tracker, **sources))
                except CliError as error:
                    view = Text(f"cannot read the stack: {printable(str(error))}", style="bold red")
                live.update(Group(header, view), refresh=True)
                done += 1
                if looks is None or done < looks:
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass
