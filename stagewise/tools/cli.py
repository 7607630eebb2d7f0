"""`stagewise`: rollout stages as edits of a stack file, an offline plan, and the rollout history.

Every command works on `Pulumi.<stack>.yaml` in the project folder (the nearest folder at or
above the current one holding Pulumi.yaml). Commands that change the file change only the keys
of `stagewise:release` they own, through the rollout model, and only to a config the program
accepts. Exit codes: 0 done (plan: no changes), 2 plan has changes, 1 anything refused or broken;
analyze and watch: 0 promote, 3 hold, 4 abort.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional, Sequence

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stagewise.tools import git, history as history_lib, plan as plan_lib, stackedit
from stagewise.core import rollout, stackfile
from stagewise.core.config import ConfigError, StackConfig

DEFAULT_STACK = "dev"
# `pulumi stack --show-name` can be slow (or wait on a backend); never let it hold a command up.
PULUMI_LOOKUP_TIMEOUT_SECONDS = 3.0
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# Docker's grammar for an image tag.
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

# click reports a usage error with exit code 2, which `plan` uses for "has changes".
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Group(typer.core.TyperGroup):
    """Usage errors exit 1 like every other error, so 2 always means "the plan has changes"."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _usage_errors_exit_1():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except _USAGE_ERROR as err:
        err.exit_code = EXIT_ERROR
        raise


app = typer.Typer(
    cls=_Group,
    help="Staged blue-green rollouts as Pulumi stack config changes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

StackOption = Annotated[
    Optional[str],
    typer.Option("--stack", "-s", help="Stack name (default: the selected Pulumi stack, else dev).", show_default=False),
]


class CliError(Exception):
    """A refusal the CLI reports as one message (and optional detail lines), exit code 1."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.details = details or []


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    """Turn every expected failure into a clear message on stderr and exit code 1."""
    try:
        yield
    except CliError as error:
        _fail(str(error), error.details)
    except ConfigError as error:
        _fail("the stack config is invalid:", error.problems)
    except (stackfile.StackFileError, stackedit.EditError, rollout.RolloutError, git.GitError) as error:
        _fail(str(error))
    except OSError as error:  # e.g. a read-only folder: the atomic write leaves the file as it was
        _fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))
    except Exception as error:  # a bug: the user still gets a message, never a traceback
        if isinstance(error, (typer.Exit, typer.Abort, _CLICK_ERROR)):
            raise
        _fail(f"unexpected {type(error).__name__}: {error} (a bug in stagewise; please report it)")


def _fail(message: str, details: Sequence[str] = ()) -> None:
    err.print(Text("error: ", style="bold red") + Text(message))
    for line in details:
        err.print(Text(f"  - {line}"))
    raise typer.Exit(EXIT_ERROR)


# Finding the project and the stack.


def default_stack(root: Path) -> str:
    """The selected Pulumi stack if a pulumi CLI is on PATH and answers quickly, else `dev`."""
    exe = shutil.which("pulumi")
    if exe is None:
        return DEFAULT_STACK
    try:
        # A session of its own, so that on timeout the whole process group (plugins too) goes.
        process = subprocess.Popen(
            [exe, "stack", "--show-name", "--non-interactive"],
            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}, start_new_session=True,
        )
    except OSError:
        return DEFAULT_STACK
    try:
        stdout, _ = process.communicate(timeout=PULUMI_LOOKUP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return DEFAULT_STACK
    lines = stdout.strip().splitlines()
    name = lines[-1].strip().rsplit("/", 1)[-1] if process.returncode == 0 and lines else ""
    return name if STACK_NAME.match(name) else DEFAULT_STACK


def _root() -> Path:
    return stackfile.project_root(Path.cwd())


def _stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _stack(root: Path, stack: str | None) -> str:
    name = stack if stack is not None else default_stack(root)
    if not STACK_NAME.match(name):
        raise CliError(f"{name!r} is not a stack name (letters, digits, '_', '.', '-')")
    return name


def _unknown_stack(root: Path, stack: str) -> CliError:
    known = _stacks(root)
    close = difflib.get_close_matches(stack, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return CliError(
        f"unknown stack {stack!r}: there is no Pulumi.{stack}.yaml in {root}{hint} "
        f"(stacks here: {', '.join(known) or 'none'})"
    )


@dataclass(frozen=True)
class Loaded:
    root: Path
    stack: str
    snapshot: stackedit.Snapshot
    project_text: str
    config: StackConfig

    @property
    def release(self) -> rollout.Release:
        return self.config.release.to_release()

    @property
    def catalog(self) -> rollout.Catalog:
        return self.config.catalog

    @property
    def source(self) -> str:
        return self.snapshot.path.name


def _project_text(root: Path) -> str:
    try:
        return (root / stackfile.PROJECT_FILE).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise stackfile.StackFileError(f"{stackfile.PROJECT_FILE} is not UTF-8 text: {error}") from None


def _stack_file(stack_option: str | None) -> tuple[Path, str, Path]:
    root = _root()
    stack = _stack(root, stack_option)
    path = stackfile.stack_path(root, stack)
    if not path.exists() and not path.is_symlink():
        raise _unknown_stack(root, stack)
    return root, stack, path


def _loaded(root: Path, stack: str, snapshot: stackedit.Snapshot) -> Loaded:
    project_text = _project_text(root)
    config = stackedit.config_from_texts(project_text, snapshot.text, snapshot.path.name)
    return Loaded(root, stack, snapshot, project_text, config)


def _load(stack_option: str | None) -> Loaded:
    root, stack, path = _stack_file(stack_option)
    return _loaded(root, stack, stackedit.read(path))


@contextlib.contextmanager
def _editing(stack_option: str | None) -> Iterator[Loaded]:
    """The stack, read under the stack file's lock, held until the edit is written (or refused)."""
    root, stack, path = _stack_file(stack_option)
    with stackedit.editing(path) as snapshot:
        yield _loaded(root, stack, snapshot)


# Changing the release.


def _apply(loaded: Loaded, command: str, after: rollout.Release, notes: Sequence[str] = ()) -> None:
    before = loaded.release
    values = {key: getattr(after, key) for key in stackedit.OWNED_KEYS if getattr(after, key) != getattr(before, key)}
    if not values:
        out.print(f"{loaded.stack}: nothing to change.")
        return
    text = stackedit.edit_release(loaded.snapshot.text, values)
    try:
        stackedit.config_from_texts(loaded.project_text, text, loaded.source)
    except ConfigError as error:
        raise CliError(
            f"{command} would leave {loaded.source} with a config the program refuses; nothing was written:",
            error.problems,
        ) from None
    stackedit.write(loaded.snapshot, text)

    out.print(Text(f"{loaded.stack}: {command}", style="bold"))
    for key, value in values.items():
        out.print(f"  {stackedit.RELEASE_KEY}.{key}: {getattr(before, key) or '(none)'} -> {value}")
    was, now = rollout.traffic(before, loaded.catalog), rollout.traffic(after, loaded.catalog)
    if was != now:
        shares = ", ".join(f"{c} {was[c]} % -> {now[c]} %" for c in rollout.COLOURS)
        out.print(f"  traffic: {shares}")
    for note in notes:
        out.print(f"  {note}")
    out.print(
        f"Next: review with `stagewise plan --stack {loaded.stack}` or `pulumi preview --stack {loaded.stack}`, "
        f"then commit {loaded.source}."
    )


@app.command()
def deploy(
    tag: Annotated[str, typer.Argument(help="Image tag for the candidate colour.")],
    stack: StackOption = None,
) -> None:
    """Put TAG on the candidate colour (at stage idle: it gets no traffic yet)."""
    with _reported():
        if not IMAGE_TAG.match(tag):
            raise CliError(f"{tag!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
        with _editing(stack) as loaded:
            _apply(loaded, f"deploy {tag} to {loaded.release.candidate}", rollout.deploy(loaded.release, loaded.catalog, tag))


@app.command()
def promote(
    to: Annotated[Optional[str], typer.Option("--to", help="Target stage (default: the next one).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Allow skipping stages in production.")] = False,
    allow_older: Annotated[bool, typer.Option("--older", help="Allow moving traffic towards an older version than the live one.")] = False,
    stack: StackOption = None,
) -> None:
    """Move the candidate to the next stage (or to --to). Production refuses to skip a stage unless --force,
    and to move traffic towards a version older than the live one unless --older."""
    with _reported(), _editing(stack) as loaded:
        catalog, release = loaded.catalog, loaded.release
        if to is not None and to not in catalog.names:
            close = difflib.get_close_matches(to, catalog.names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise CliError(f"unknown stage {to!r}{hint} (stages of {loaded.stack}: {', '.join(catalog.names)})")
        # Outside production, naming a later stage is enough to skip to it, and a warning is enough
        # when the candidate is older than the live version.
        relaxed = loaded.config.environment != "production"
        after = rollout.promote(release, catalog, to, force=force or relaxed, allow_older=allow_older or relaxed)
        skipped = catalog.names[catalog.index(release.stage) + 1:catalog.index(after.stage)]
        notes = [f"skipped: {', '.join(skipped)}"] if skipped else []
        candidate, live = release.version(release.candidate), release.version(release.live)
        if rollout.older(candidate, live):
            notes.append(f"warning: traffic moves towards the older version {candidate} (live: {live})")
        _apply(loaded, f"promote {release.stage} -> {after.stage}", after, notes)


@app.command()
def rollback(stack: StackOption = None) -> None:
    """Move back one stage."""
    with _reported(), _editing(stack) as loaded:
        after = rollout.rollback(loaded.release, loaded.catalog)
        _apply(loaded, f"rollback {loaded.release.stage} -> {after.stage}", after)


@app.command()
def abort(stack: StackOption = None) -> None:
    """Send all traffic back to the live colour (stage idle); the candidate runs the live version again."""
    with _reported(), _editing(stack) as loaded:
        after = rollout.abort(loaded.release, loaded.catalog)
        _apply(loaded, f"abort {loaded.release.stage} -> {after.stage}", after)


@app.command()
def finish(stack: StackOption = None) -> None:
    """At 100 %: make the candidate the live colour and return to stage idle (no resource changes)."""
    with _reported(), _editing(stack) as loaded:
        after = rollout.finish(loaded.release, loaded.catalog)
        _apply(loaded, f"finish: {after.live} is live", after)


# Reading the state.


def _next_step(release: rollout.Release, catalog: rollout.Catalog) -> str:
    upcoming = rollout.next_stage(release, catalog)
    if rollout.at_rest(release):
        return "stagewise deploy <tag>"
    if upcoming is None:
        return "stagewise finish"
    return f"stagewise promote  (to {upcoming.name}, {upcoming.weight} %)"


@app.command()
def status(stack: StackOption = None) -> None:
    """Live colour, versions, stage, traffic per colour, the next stage, uncommitted changes."""
    with _reported():
        loaded = _load(stack)
        release, catalog = loaded.release, loaded.catalog
        percent = rollout.traffic(release, catalog)
        table = Table(title=f"{loaded.stack} ({loaded.config.environment})", title_justify="left")
        for column in ("colour", "role", "version", "traffic"):
            table.add_column(column, justify="right" if column == "traffic" else "left")
        for colour in rollout.COLOURS:
            role = "live" if colour == release.live else "candidate"
            table.add_row(colour, role, release.version(colour) or "(none)", f"{percent[colour]} %")
        out.print(table)
        position = catalog.index(release.stage)
        upcoming = rollout.next_stage(release, catalog)
        out.print(f"stage: {release.stage} ({position} of {len(catalog.stages) - 1}: {' > '.join(catalog.names)})")
        out.print(f"next stage: {f'{upcoming.name} ({upcoming.weight} %)' if upcoming else 'none (last stage)'}")
        out.print(f"next step: {_next_step(release, catalog)} --stack {loaded.stack}")
        state = git.file_status(loaded.root, loaded.source)
        changes = {"clean": "none", "modified": "yes (not committed)", "untracked": "yes (file not committed)"}
        out.print(f"uncommitted changes to {loaded.source}: {changes.get(state, state)}")


@app.command()
def history(stack: StackOption = None) -> None:
    """Each stage change of the stack, from git log of its stack file."""
    with _reported():
        root = _root()
        name = _stack(root, stack)
        path = stackfile.stack_path(root, name)
        commits = git.log(root, path.name)
        if not commits and not path.is_file():
            raise _unknown_stack(root, name)
        texts = git.contents(root, commits, path.name)
        steps = history_lib.steps(zip(commits, texts), history_lib.default_catalog(_project_text(root)))
        if not steps:
            out.print(f"{name}: no committed rollout steps in {path.name}.")
            return
        out.print(Text(f"{name}: rollout history of {path.name}, oldest first", style="bold"))
        for step in steps:
            when = step.meta.date.replace("T", " ")[:16]
            out.print(Text(_printable(f"{step.meta.sha[:8]}  {when}  {step.meta.author}"), style="yellow"))
            out.print(Text(_printable(f"    {step.action}: {_history_line(step)}")))


def _printable(text: str) -> str:
    """`text` with control characters shown escaped: a commit's author must not drive the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _history_line(step: history_lib.Step[git.Commit]) -> str:
    if step.after is None:
        return "stack file removed"
    after = step.after
    if after.problem:
        return f"unreadable release ({after.problem})"
    # A new file has nothing to compare with: show what it starts at.
    before = step.before if step.before is not None and not step.before.problem else after

    def change(old: Any, new: Any, unit: str = "") -> str:
        shown = lambda v: "(none)" if v is None else f"{v}{unit}"  # noqa: E731
        return shown(new) if old == new else f"{shown(old)} -> {shown(new)}"

    return (
        f"stage {change(before.stage, after.stage)} "
        f"(candidate {change(before.share, after.share, ' %')}), "
        f"live {change(before.live, after.live)}, "
        f"blue {change(before.blue, after.blue)}, green {change(before.green, after.green)}"
    )


@app.command()
def report(
    which: Annotated[str, typer.Option("--rollout", help="latest, a version, or a git revision.")] = "latest",
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Write report.md, .png, .svg, .json here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    stack: StackOption = None,
) -> None:
    """One rollout's timeline, incidents, outcome and metrics per stage, from the stack file's git history."""
    from datetime import datetime, timezone

    from stagewise.tools.report import build, sources  # matplotlib loads slowly: only report needs it.

    with _reported():
        root = _root()
        name = _stack(root, stack)
        if not stackfile.stack_path(root, name).is_file() and not git.log(root, f"Pulumi.{name}.yaml"):
            raise _unknown_stack(root, name)
        try:
            text = build.run(root, name, which, out_dir, as_json, datetime.now(timezone.utc), sources.for_stack)
        except build.ReportError as error:
            raise CliError(str(error)) from None
    typer.echo(text, nl=False)


# The offline plan.


def _project_name(project_text: str) -> str:
    document = stackfile.load_yaml(project_text, stackfile.PROJECT_FILE)
    name = document.get("name") if isinstance(document, dict) else None
    return str(name) if name else "stagewise"


def _evaluate(project_text: str, stack_text: str, stack: str, where: str) -> Any:
    from stagewise.tools import evaluate  # Pulumi loads slowly: only plan needs it.

    try:
        return evaluate.evaluate_stack(project_text, stack_text, stack, project=_project_name(project_text))
    except ConfigError as error:
        raise CliError(f"the program refuses the config of {stack} {where}:", error.problems) from None
    except stackfile.StackFileError as error:
        raise CliError(f"{stack} {where}: {error}") from None
    except Exception as error:  # the program itself failed: say where, keep the cause
        raise CliError(f"evaluating {stack} {where} failed: {type(error).__name__}: {error}") from None


def _ciphertexts(stack_text: str | None) -> dict[str, str]:
    if stack_text is None:
        return {}
    document = stackfile.load_yaml(stack_text, "stack file")
    config = document.get("config") if isinstance(document, dict) else None
    return plan_lib.ciphertexts(config if isinstance(config, dict) else {})


def compute_plan(root: Path, stack: str, against: str) -> tuple[plan_lib.Plan, str]:
    """The plan from the stack as committed at `against` to the working tree, and the commit."""
    path = stackfile.stack_path(root, stack)
    if not path.exists() and not path.is_symlink():
        raise _unknown_stack(root, stack)
    commit = git.resolve(root, against)
    before_project = git.show(root, commit, stackfile.PROJECT_FILE)
    if before_project is None:
        raise CliError(f"{stackfile.PROJECT_FILE} does not exist at {against}")
    before_stack = git.show(root, commit, path.name)
    after_project, after_stack = _project_text(root), stackedit.read(path).text

    after = _evaluate(after_project, after_stack, stack, "in the working tree")
    before = _evaluate(before_project, before_stack, stack, f"at {against}") if before_stack is not None else None
    notes = [f"{path.name} does not exist at {against}: every resource is new."] if before_stack is None else []
    result = plan_lib.diff(
        plan_lib.states(before.resources) if before else {},
        plan_lib.states(after.resources),
        before.outputs if before else {},
        after.outputs,
        (before.secret_outputs if before else set()) | after.secret_outputs,
        plan_lib.secrets_changed(_ciphertexts(before_stack), _ciphertexts(after_stack)),
        notes,
    )
    return result, commit


_OP_STYLES = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}


def _print_plan(result: plan_lib.Plan, title: str) -> None:
    out.print(Text(title, style="bold"))
    for change in result.changes:
        line = Text(f"  {plan_lib.SYMBOLS[change.op]} ", style=_OP_STYLES[change.op])
        line += Text(f"{change.type}  {change.name}  ") + Text(change.op, style=_OP_STYLES[change.op])
        if change.replace_keys:
            line += Text(f"  (replace on: {', '.join(change.replace_keys)})")
        if change.refused:
            line += Text("  protected: pulumi up would refuse", style="bold red")
        out.print(line)
        if change.op in ("update", "replace"):
            for prop in change.diff:
                out.print(Text(f"      {plan_lib.property_line(prop)}"))
    if result.outputs:
        out.print("Outputs:")
        for prop in result.outputs:
            out.print(Text(f"  {plan_lib.property_line(prop)}"))
    if result.secrets_changed:
        out.print("Secrets:")
        for path in result.secrets_changed:
            out.print(Text(f"  {plan_lib.secret_line(path)}"))
    for note in result.notes:
        out.print(Text(f"note: {note}", style="dim"))
    summary = plan_lib.summary_line(result) + (" (traffic only)" if result.traffic_only else "")
    out.print(Text(summary, style="bold"))


@app.command()
def plan(
    against: Annotated[str, typer.Option("--against", help="Git revision to compare with.")] = "HEAD",
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the plan as Markdown (for a pull request).")] = False,
    stack: StackOption = None,
) -> None:
    """Offline preview: the stack as committed at --against vs the working tree, under mocks.
    Exit 0: no changes; 2: changes; 1: error."""
    with _reported():
        if as_json and as_markdown:
            raise CliError("choose one of --json and --markdown")
        root = _root()
        name = _stack(root, stack)
        result, commit = compute_plan(root, name, against)
    title = f"Plan for {name}: {against} ({commit[:8]}) -> working tree"
    if as_json:
        typer.echo(json.dumps({"stack": name, "against": against, "commit": commit, **result.to_dict()}, indent=2))
    elif as_markdown:
        typer.echo(plan_lib.markdown(result, title), nl=False)
    else:
        _print_plan(result, title)
    raise typer.Exit(EXIT_OK if result.empty else EXIT_CHANGES)


# Stage gates: `analyze` and `watch` live in stagewise/tools/analysis/commands.py and register on `app`.
from stagewise.tools.analysis import commands as _gate_commands  # noqa: E402,F401
