"""`stagewise analyze`, `watch` and `replay`: the stage gate on the command line.

Registered on the CLI's app by stagewise.tools.cli. A verdict is carried out (`--apply`) through the
same rollout transitions and stack-file edit as `stagewise promote` / `abort` / `finish`.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from stagewise.core import rollout
from stagewise.core.config import StackConfig
from stagewise.core.gate_config import format_duration, parse_duration
from stagewise.tools import processes, rollout_watch, window_guard
from stagewise.tools.app import StackOption, app
from stagewise.tools.gate import analysis, settled
from stagewise.tools.gate import replay as replay_lib
from stagewise.tools.gate.provider import MetricsProvider
from stagewise.tools.render import printable
from stagewise.tools.session import CliError, Loaded, apply, did_you_mean, err, interval_option, load, out, reported

_STATUS_STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "wait": "yellow",
    "skipped": "dim",
    "no_data": "bold yellow",
    "outage": "bold yellow",
}
_VERDICT_STYLE = {"promote": "bold green", "hold": "bold yellow", "abort": "bold red"}


def stack_provider(loaded: Loaded, config: StackConfig | None = None) -> MetricsProvider:
    """The stack's metrics provider (as `config` sets it, default the working tree's); Application
    Insights' resource ID from the stack's output unless set; Prometheus's credentials decrypted from
    the stack's secrets by the Pulumi CLI."""
    config = config or loaded.config
    settings = config.analysis
    needs_lookup = settings.provider == "appinsights" and not settings.resource_id

    def secret(name: str) -> str:
        return processes.config_secret(loaded.root, loaded.stack, f"stagewise:secrets.{name}")

    try:
        insights = processes.insights_id(loaded.root, loaded.stack) if needs_lookup else None
        return analysis.provider_for(settings, insights, config.traffic.probe.path, secret)
    except processes.PulumiCliError as error:
        raise analysis.GateError(str(error)) from None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def run_once(
    stack: str | None, at: datetime | None, providers: dict[str, MetricsProvider] | None = None
) -> tuple[Loaded, analysis.Analysis]:
    """One analysis, with the gate's limits as the commit that began the stage set them (an edit made
    mid-stage applies from the next stage) and its metrics source where the stack file says now. `providers`: kept across a watch's looks, so that each
    look reads only the evidence steps it has not read yet."""
    loaded = load(stack)
    try:
        if at is not None and at > _now() + timedelta(seconds=1):
            raise analysis.GateError(f"--at {at.isoformat()} is in the future; the gate judges what has happened")
        start = analysis.stage_start(loaded.root, loaded.source, loaded.catalog, at, loaded.release)
        analysis.require_traffic(start, loaded.catalog)
        config = analysis.with_source(analysis.config_at(loaded.root, loaded.source, start), loaded.config)
        kept = {} if providers is None else providers
        key = config.analysis.model_dump_json()
        if key not in kept:
            kept[key] = stack_provider(loaded, config)
        outcome = analysis.analyze(config, loaded.stack, start, kept[key], at or _now(), cache=cache_folder())
        return loaded, outcome
    except analysis.GateError as error:
        raise CliError(str(error)) from None


def cache_folder() -> Path:
    """Where the gate keeps what it has judged between processes: beside the settled steps."""
    return settled.default_folder() / "judges"


def carry_out(loaded: Loaded, outcome: analysis.Analysis) -> dict[str, Any] | None:
    """promote (finish at the last stage) or abort on the stack file; hold changes nothing."""
    release, catalog = loaded.release, loaded.catalog
    if outcome.verdict == "hold":
        return None
    if outcome.verdict == "abort":
        after, command = rollout.abort(release, catalog), "abort"
    elif rollout.next_stage(release, catalog) is None:
        after, command = rollout.finish(release, catalog), "finish"
    else:
        after, command = rollout.promote(release, catalog), "promote"
    # Deploy windows (stagewise:rollout.windows): an automatic promote or finish waits for one; abort never does.
    refusal = window_guard.closed(loaded.config, command) if command != "abort" else None
    if refusal is not None:
        err.print(f"analysis: {outcome.verdict}, not applied: {refusal}")
        return None
    title = f"{command} {release.stage} -> {after.stage}" if command != "finish" else f"finish: {after.live} is live"
    apply(loaded, f"{title} (analysis: {outcome.verdict})", after, [outcome.result.reason])
    return {"command": command, "from": release.stage, "to": after.stage, "live": after.live}


def _print(outcome: analysis.Analysis) -> None:
    data = outcome.to_dict()
    stage = data["stage"]
    out.print(
        Text(
            f"{outcome.stack}: stage {stage['name']} ({outcome.share} % to the candidate) since "
            f"{stage['since']} (commit {stage['commit'][:8]}), bake {stage['bake']}, "
            f"minRequests {stage['minRequests']}",
            style="bold",
        )
    )
    evidence = data["evidence"]
    out.print(
        f"window: {data['window']['start']} .. {data['window']['end']}, from {data['provider']}; "
        f"{evidence['steps']} steps of {evidence['step']}, falseAbortRate {evidence['falseAbortRate']:g} for the "
        f"rollout ({evidence['stageBudget']:.3g} at this stage), promoteMargin {evidence['promoteMargin']:g}"
    )
    table = Table(title_justify="left")
    for column in ("role", "colour", "version", "requests", "errors", "error rate", "p95"):
        table.add_column(column, justify="right" if column in ("requests", "errors", "error rate", "p95") else "left")
    for role, v in data["versions"].items():
        table.add_row(
            role,
            v["colour"],
            v["version"] or "(none)",
            _num(v["requests"], "{:.0f}"),
            _num(v["errors"], "{:.0f}"),
            _num(v["errorRate"], "{:.2f} %"),
            _num(v["p95Ms"], "{:.0f} ms"),
        )
    out.print(table)
    _print_checks(data["checks"])
    for e in data["promoteEvidence"]:
        needs = "" if e["reached"] else f", {_needs(e['needsRequests'])}"
        out.print(
            f"promote evidence {e['name']} ({e['description']}): e-value {e['eValue']:.3g} of {e['threshold']:g}{needs}"
        )
    held = f" ({data['holdReason']})" if data["holdReason"] else ""
    held += " STUCK" if data["stuck"] else ""
    out.print(Text(f"verdict: {outcome.verdict}{held}: {outcome.result.reason}", style=_VERDICT_STYLE[outcome.verdict]))


def _print_checks(checks: list[dict[str, Any]]) -> None:
    if not checks:
        return
    table = Table(title_justify="left")
    for column in ("limit", "value", "allowed", "e-value", "aborts at", "p-value", "detectable", "result", "note"):
        table.add_column(column)
    for c in checks:
        table.add_row(
            c["description"],
            _num(c["value"], "{:.4g}"),
            f"<= {c['limit']:g}",
            _num(c["eValue"], "{:.3g}"),
            _num(c["threshold"], "{:g}"),
            _num(c["pValue"], "{:.3g}"),
            _num(c["detectable"], "{:.3g}"),
            Text(c["status"], style=_STATUS_STYLE[c["status"]]),
            c["note"],
        )
    out.print(table)


def _needs(requests: float | None) -> str:
    return "no evidence yet" if requests is None else f"needs about {max(requests, 1):.0f} more candidate requests"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _emit(loaded: Loaded, outcome: analysis.Analysis, as_json: bool, apply: bool) -> None:
    if not as_json:
        _print(outcome)
        if apply:
            carry_out(loaded, outcome)
        return
    # The JSON alone goes to stdout; what the edit prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        applied = carry_out(loaded, outcome) if apply else None
    typer.echo(json.dumps({**outcome.to_dict(), "applied": applied}, indent=2))


AtOption = Annotated[str | None, typer.Option("--at", help="Judge as if it were this moment (RFC 3339), for replays.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the analysis as JSON (schema stagewise.analysis/v1).")]
ApplyOption = Annotated[
    bool, typer.Option("--apply", help="Carry out promote (finish at the last stage) or abort on the stack file.")
]


@app.command()
def analyze(
    stack: StackOption = None, as_json: JsonOption = False, at: AtOption = None, apply: ApplyOption = False
) -> None:
    """Judge the candidate against the live version since the stage began: promote, hold or abort.
    Exit 0 promote, 3 hold, 4 abort, 5 stuck (no candidate traffic past noTrafficDeadline), 1 error."""
    with reported():
        if apply and at is not None:
            raise CliError("--apply acts on the stack as it is now; --at is for replays, use one of them")
        try:
            moment = analysis.parse_time(at) if at is not None else None
        except analysis.GateError as error:
            raise CliError(str(error)) from None
        loaded, outcome = run_once(stack, moment)
        _emit(loaded, outcome, as_json, apply)
    raise typer.Exit(outcome.exit_code)


@app.command()
def watch(
    stack: StackOption = None,
    interval: Annotated[str, typer.Option("--interval", help="Time between analyses (e.g. 30s, 1m).")] = "30s",
    timeout: Annotated[str, typer.Option("--timeout", help="Give up after this long (e.g. 2h).")] = "2h",
    as_json: JsonOption = False,
    apply: ApplyOption = False,
) -> None:
    """Run analyze every --interval until a verdict other than hold, or until --timeout (then exit 3).
    Exit codes as analyze."""
    with reported():
        every = interval_option(interval)
        try:
            limit = parse_duration(timeout)
        except ValueError as error:
            raise CliError(f"--timeout: {error}") from None
        deadline = time.monotonic() + limit.total_seconds()
        providers: dict[str, MetricsProvider] = {}
        watcher: rollout_watch.Watcher | None = None
        while True:
            loaded, outcome = run_once(stack, None, providers)
            # Stage deadlines and notifications (stagewise/tools/rollout_watch.py): they read the look's JSON only.
            watcher = watcher or rollout_watch.Watcher.start(loaded)
            if (stuck := watcher.look(loaded, outcome.to_dict())) is not None:
                break
            if outcome.verdict != "hold" or outcome.result.stuck or time.monotonic() + every.total_seconds() > deadline:
                break
            err.print(
                f"{_now():%H:%M:%S} hold ({outcome.result.hold_reason}): {outcome.result.reason}; "
                f"next analysis in {format_duration(every)}"
            )
            time.sleep(every.total_seconds())
        if outcome.verdict == "hold" and stuck is None:
            err.print(f"watch: timeout {format_duration(limit)} reached; the verdict is still hold")
        _emit(loaded, outcome, as_json, apply)
        assert watcher is not None
        code = watcher.end(stack, outcome.to_dict(), stuck, apply)
    raise typer.Exit(outcome.exit_code if code is None else code)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="Recorded rollouts (JSON, the format in docs/stage-gates.md).")],
    stack: StackOption = None,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help="The stage whose bake, minRequests and limits apply (default: the current one, or the first "
            "that sends traffic when the stack is idle).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Judge recorded rollouts with the stack's gate config, through the same decision code as analyze
    and watch: each rollout's first promote or abort, or hold. Exit 0 judged, 1 refused."""
    with reported():
        loaded = load(stack)
        chosen = _replay_stage(loaded, stage)
        try:
            recording = replay_lib.read(file)
        except replay_lib.ReplayError as error:
            raise CliError(f"{replay_lib.source_name(file)}: {error}") from None
        gate_limits = analysis.limits(loaded.config, chosen.name)
        results = [replay_lib.replay(gate_limits, recording, rollout) for rollout in recording.rollouts]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "stack": loaded.stack,
                    "stage": chosen.name,
                    "rollouts": [replay_lib.result_dict(r) for r in results],
                },
                indent=2,
            )
        )
        return
    out.print(
        Text(
            f"{loaded.stack}: {len(results)} rollouts judged with stage {chosen.name}'s limits (bake "
            f"{format_duration(gate_limits.bake)}, minRequests {gate_limits.min_requests}, falseAbortRate "
            f"{gate_limits.false_abort_rate:g})",
            style="bold",
        )
    )
    table = Table(title_justify="left")
    for column in ("rollout", "verdict", "at", "looks", "reason"):
        table.add_column(column)
    for r in results:
        at = "-" if r.t is None else format_duration(timedelta(seconds=r.t))
        verdict = r.verdict.verdict
        # A name is the file's text: shown escaped, never as markup or terminal control.
        name = Text(printable(r.name))
        table.add_row(name, Text(verdict, style=_VERDICT_STYLE[verdict]), at, str(r.looks), Text(r.verdict.reason))
    out.print(table)


def _replay_stage(loaded: Loaded, name: str | None) -> rollout.Stage:
    catalog = loaded.catalog
    if name is not None:
        if name not in catalog.names:
            hint = did_you_mean(name, catalog.names)
            raise CliError(f"unknown stage {name!r}{hint} (stages of {loaded.stack}: {', '.join(catalog.names)})")
        chosen = catalog.get(name)
        if chosen.share == 0:
            raise CliError(f"stage {name!r} sends no traffic to the candidate: there is nothing to judge")
        return chosen
    current = catalog.get(loaded.release.stage)
    if current.share > 0:
        return current
    first = next((s for s in catalog.stages if s.share > 0), None)
    if first is None:
        raise CliError(f"no stage of {loaded.stack} sends traffic to the candidate")
    return first
