"""`stagewise`: rollout stages as edits of a stack file, an offline plan, and the rollout history.

Every command works on `Pulumi.<stack>.yaml` in the project folder (the nearest folder at or
above the current one holding Pulumi.yaml). Commands that change the file change only the keys
of `stagewise:release` they own, through the rollout model, and only to a config the program
accepts. Exit codes: 0 done (plan: no changes), 2 plan has changes, 1 anything refused or broken;
analyze and watch: 0 promote, 3 hold, 4 abort.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from stagewise.core import limits, rollout, tiers
from stagewise.formats import stackfile
from stagewise.tools import git, validation, window_guard
from stagewise.tools import history as history_lib
from stagewise.tools.app import StackOption, app
from stagewise.tools.planning import PlanError, UnknownStack, compute_plan
from stagewise.tools.render import history_line, markdown, print_plan, printable
from stagewise.tools.session import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    CliError,
    apply,
    committed_stage,
    did_you_mean,
    editing,
    err,
    find_root,
    interval_option,
    load,
    out,
    read_project_text,
    reported,
    stack_name,
    unknown_stack,
)
from stagewise.tools.window_guard import OutsideWindowOption

# Changing the release.


@app.command()
def deploy(
    tag: Annotated[str, typer.Argument(help="Image tag for the candidate colour.")],
    stack: StackOption = None,
    outside_window: OutsideWindowOption = False,
) -> None:
    """Put TAG on the candidate colour (at stage idle: it gets no traffic yet)."""
    with reported():
        if not limits.IMAGE_TAG.match(tag):
            raise CliError(f"{tag!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
        with editing(stack) as loaded:
            after = rollout.deploy(loaded.release, loaded.catalog, tag)
            record = window_guard.check(loaded.config, "deploy", outside_window)
            apply(loaded, f"deploy {tag} to {loaded.release.candidate}", after, record=record)


@app.command()
def promote(
    to: Annotated[str | None, typer.Option("--to", help="Target stage (default: the next one).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Allow skipping stages in production.")] = False,
    allow_older: Annotated[
        bool, typer.Option("--older", help="Allow moving traffic towards an older version than the live one.")
    ] = False,
    stack: StackOption = None,
    outside_window: OutsideWindowOption = False,
) -> None:
    """Move the candidate to the next stage (or to --to). Production refuses to skip a stage unless --force,
    and to move traffic towards a version older than the live one unless --older."""
    with reported(), editing(stack) as loaded:
        catalog, release = loaded.catalog, loaded.release
        if to is not None and to not in catalog.names:
            hint = did_you_mean(to, catalog.names)
            raise CliError(f"unknown stage {to!r}{hint} (stages of {loaded.stack}: {', '.join(catalog.names)})")
        relaxed = not tiers.promotion_guarded(loaded.config.environment)
        after = rollout.promote(release, catalog, to, skip_stages=force or relaxed, allow_older=allow_older or relaxed)
        if not (force or relaxed):
            rollout.committed_step(committed_stage(loaded), after, catalog)
        skipped = catalog.names[catalog.index(release.stage) + 1 : catalog.index(after.stage)]
        notes = [f"skipped: {', '.join(skipped)}"] if skipped else []
        candidate, live = release.version(release.candidate), release.version(release.live)
        if rollout.older(candidate, live):
            notes.append(f"warning: traffic moves towards the older version {candidate} (live: {live})")
        record = window_guard.check(loaded.config, "promote", outside_window)
        apply(loaded, f"promote {release.stage} -> {after.stage}", after, notes, record)


@app.command()
def rollback(stack: StackOption = None) -> None:
    """Move back one stage."""
    with reported(), editing(stack) as loaded:
        after = rollout.rollback(loaded.release, loaded.catalog)
        apply(loaded, f"rollback {loaded.release.stage} -> {after.stage}", after)


@app.command()
def abort(stack: StackOption = None) -> None:
    """Send all traffic back to the live colour (stage idle); the candidate runs the live version again."""
    with reported(), editing(stack) as loaded:
        after = rollout.abort(loaded.release, loaded.catalog)
        apply(loaded, f"abort {loaded.release.stage} -> {after.stage}", after)


@app.command()
def finish(stack: StackOption = None, outside_window: OutsideWindowOption = False) -> None:
    """At 100 %: make the candidate the live colour and return to stage idle (no resource changes)."""
    with reported(), editing(stack) as loaded:
        after = rollout.finish(loaded.release, loaded.catalog)
        record = window_guard.check(loaded.config, "finish", outside_window)
        apply(loaded, f"finish: {after.live} is live", after, record=record)


# Reading the state.


@app.command()
def status(
    stack: StackOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the status as JSON (schema stagewise.status/v1).")
    ] = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh in place until Ctrl-C.")] = False,
    interval: Annotated[str, typer.Option("--interval", help="Time between refreshes with --watch.")] = "10s",
    offline: Annotated[
        bool, typer.Option("--offline", help="The stack file only: no engine state, no metrics.")
    ] = False,
) -> None:
    """Where the rollout stands: the stack file's stage and versions, the traffic the last pulumi up applied,
    the gate's evidence and verdict, time in the stage, and the next command."""
    from stagewise.tools import status as status_lib

    with reported():
        if watch and as_json:
            raise CliError("choose one of --watch and --json")
        if watch and offline:
            raise CliError("--watch shows the live state; --offline reads only the stack file, use one of them")
        every = interval_option(interval)
        providers: dict[str, Any] = {}
        if watch:
            status_lib.watch(lambda: load(stack), every.total_seconds(), providers)
            return
        document = status_lib.snapshot(load(stack), live=not offline, providers=providers)
    if as_json:
        typer.echo(json.dumps(document, indent=2))
    else:
        out.print(status_lib.render(document))


@app.command()
def history(
    stack: StackOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the steps as JSON.")] = False,
) -> None:
    """Each stage change of the stack, from git log of its stack file."""
    with reported():
        root = find_root()
        name = stack_name(root, stack)
        path = stackfile.stack_path(root, name)
        commits = git.log(root, path.name)
        if not commits and not path.is_file():
            raise unknown_stack(root, name)
        texts = git.contents(root, commits, path.name)
        steps = history_lib.steps(zip(commits, texts), history_lib.default_catalog(read_project_text(root)))
    if as_json:
        typer.echo(json.dumps({"stack": name, "file": path.name, "steps": [_step_dict(s) for s in steps]}, indent=2))
        return
    if not steps:
        out.print(f"{name}: no committed rollout steps in {path.name}.")
        return
    out.print(Text(f"{name}: rollout history of {path.name}, oldest first", style="bold"))
    for step in steps:
        when = step.meta.date.replace("T", " ")[:16]
        out.print(Text(printable(f"{step.meta.sha[:8]}  {when}  {step.meta.author}"), style="yellow"))
        out.print(Text(printable(f"    {step.action}: {history_line(step)}")))


def _view_dict(view: history_lib.ReleaseView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "stage": view.stage,
        "weight": view.share,
        "live": view.live,
        "blue": view.blue,
        "green": view.green,
        "traffic": view.traffic,
        "problem": view.problem,
    }


def _step_dict(step: history_lib.Step[git.Commit]) -> dict[str, Any]:
    meta = step.meta
    return {
        "action": step.action,
        "commit": {
            "sha": meta.sha,
            "author": meta.author,
            "date": meta.date,
            "committed": meta.committed or None,
            "subject": meta.subject,
        },
        "before": _view_dict(step.before),
        "after": _view_dict(step.after),
    }


@app.command()
def validate(
    file: Annotated[
        Path | None,
        typer.Argument(help="A stack file (default: the --stack's Pulumi.<stack>.yaml).", show_default=False),
    ] = None,
    stack: StackOption = None,
) -> None:
    """Check a stack file as the program and every command would: YAML, every config key, the release
    against its stages. Prints every problem found, one per line."""
    with reported():
        if file is not None and stack is not None:
            raise CliError("give a FILE or --stack, not both")
        root = find_root()
        if file is None:
            name = stack_name(root, stack)
            path = stackfile.stack_path(root, name)
            if not path.exists() and not path.is_symlink():
                raise unknown_stack(root, name)
        else:
            path = file
        problems = validation.problems(root, path)
    if problems:
        err.print(Text("error: ", style="bold red") + Text(f"{path.name}: {len(problems)} problem(s):"))
        for problem in problems:
            first, *rest = problem.splitlines() or [""]
            err.print(Text(f"  - {printable(first)}"))
            for line in rest:
                err.print(Text(f"    {printable(line)}"))
        raise typer.Exit(EXIT_ERROR)
    out.print(f"{path.name}: valid")


@app.command()
def report(
    which: Annotated[str, typer.Option("--rollout", help="latest, a version, or a git revision.")] = "latest",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write report.md, .png, .svg, .json here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    stack: StackOption = None,
) -> None:
    """One rollout's timeline, incidents, outcome and metrics per stage, from the stack file's git history."""
    from datetime import datetime

    from stagewise.tools.report import build, sources  # matplotlib loads slowly: only report needs it.

    with reported():
        root = find_root()
        name = stack_name(root, stack)
        if not stackfile.stack_path(root, name).is_file() and not git.log(root, f"Pulumi.{name}.yaml"):
            raise unknown_stack(root, name)
        try:
            text = build.run(root, name, which, out_dir, as_json, datetime.now(UTC), sources.for_stack)
        except build.ReportError as error:
            raise CliError(str(error)) from None
    typer.echo(text, nl=False)


# The offline plan.


@app.command()
def plan(
    against: Annotated[str, typer.Option("--against", help="Git revision to compare with.")] = "HEAD",
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the plan as Markdown (for a pull request).")
    ] = False,
    stack: StackOption = None,
) -> None:
    """Offline preview: the stack as committed at --against vs the working tree, under mocks.
    Exit 0: no changes; 2: changes; 1: error."""
    with reported():
        if as_json and as_markdown:
            raise CliError("choose one of --json and --markdown")
        root = find_root()
        name = stack_name(root, stack)
        try:
            result, commit = compute_plan(root, name, against)
        except UnknownStack as error:
            raise unknown_stack(error.root, error.stack) from None
        except PlanError as error:
            raise CliError(str(error), error.details) from None
    title = f"Plan for {name}: {against} ({commit[:8]}) -> working tree"
    if as_json:
        typer.echo(json.dumps({"stack": name, "against": against, "commit": commit, **result.to_dict()}, indent=2))
    elif as_markdown:
        typer.echo(markdown(result, title), nl=False)
    else:
        print_plan(result, title)
    raise typer.Exit(EXIT_OK if result.empty else EXIT_CHANGES)


# Commands that live in modules of their own and register on `app`: the stage gate's `analyze`, `watch` and
# `replay` (stagewise/tools/gate/commands.py), the live page `dashboard` (stagewise/tools/dashboard.py) and
# `notify` (stagewise/tools/notify.py).
from stagewise.tools import dashboard as _dashboard  # noqa: E402,F401
from stagewise.tools import notify as _notify  # noqa: E402,F401
from stagewise.tools.gate import commands as _gate_commands  # noqa: E402,F401
