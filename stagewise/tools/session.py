"""A command's work with the project: find it and the stack, read or edit the stack file under its
lock, and turn every refusal into one message on stderr with exit code 1, never a traceback."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from stagewise.core import rollout
from stagewise.core.config import ConfigError, StackConfig
from stagewise.core.gate_config import parse_duration
from stagewise.core.redact import printable
from stagewise.core.stackconfig import decode
from stagewise.formats import stackfile
from stagewise.formats.keys import RELEASE_KEY
from stagewise.formats.stackfile import StackText, read_project_text
from stagewise.tools import git, safefile, stackedit
from stagewise.tools.processes import STACK_NAME, PulumiCliError, default_stack

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(Exception):
    """A refusal the CLI reports as one message (and optional detail lines), exit code 1."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.details = details or []


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Turn every expected failure into a clear message on stderr and exit code 1."""
    try:
        yield
    except CliError as error:
        fail(str(error), error.details)
    except ConfigError as error:
        fail("the stack config is invalid:", error.problems)
    except (stackfile.StackFileError, safefile.EditError, rollout.RolloutError, git.GitError, PulumiCliError) as error:
        fail(str(error))
    except OSError as error:  # e.g. a read-only folder: the atomic write leaves the file as it was
        fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))
    except Exception as error:  # a bug: the user still gets a message, never a traceback
        if isinstance(error, (typer.Exit, typer.Abort, _CLICK_ERROR)):
            raise
        fail(f"unexpected {type(error).__name__}: {error} (a bug in stagewise; please report it)")


def _shown(text: str) -> str:
    # A message may quote outside text (a file's value, an error from a metrics source): each line is
    # shown with control characters escaped and credentials in URLs hidden.
    return "\n".join(printable(line) for line in text.split("\n"))


def fail(message: str, details: Sequence[str] = ()) -> None:
    err.print(Text("error: ", style="bold red") + Text(_shown(message)))
    for line in details:
        err.print(Text(f"  - {_shown(line)}"))
    raise typer.Exit(EXIT_ERROR)


def find_root() -> Path:
    return stackfile.project_root(Path.cwd())


def stack_names(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def stack_name(root: Path, stack: str | None) -> str:
    name = stack if stack is not None else default_stack(root)
    if not STACK_NAME.match(name):
        raise CliError(f"{name!r} is not a stack name (letters, digits, '_', '.', '-')")
    return name


def closest(name: str, names: Sequence[str]) -> str | None:
    """The name a typo most likely meant: the one it begins (`prod` -> `production`), else the most
    similar by difflib's ratio (`canery` -> `canary`), else None."""
    starting = [n for n in names if n.startswith(name)] if name else []
    if len(starting) == 1:
        return starting[0]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return close[0] if close else None


def interval_option(text: str, option: str = "--interval") -> timedelta:
    """A command's time between looks: a duration of at least one second, or a CliError naming the option."""
    try:
        every = parse_duration(text)
    except ValueError as error:
        raise CliError(f"{option}: {error}") from None
    if every < timedelta(seconds=1):
        raise CliError(f"{option} {text} must be at least 1s")
    return every


def did_you_mean(name: str, names: Sequence[str]) -> str:
    close = closest(name, names)
    return f"; did you mean {close!r}?" if close else ""


def unknown_stack(root: Path, stack: str) -> CliError:
    known = stack_names(root)
    hint = did_you_mean(stack, known)
    return CliError(
        f"unknown stack {stack!r}: there is no Pulumi.{stack}.yaml in {root}{hint} "
        f"(stacks here: {', '.join(known) or 'none'})"
    )


@dataclass(frozen=True)
class Loaded:
    """A stack as a command reads it: each file read and parsed once, the config validated once."""

    root: Path
    stack: str
    snapshot: safefile.Snapshot
    project_defaults: dict[str, Any]
    """Pulumi.yaml's config defaults (stackfile.project_defaults)."""
    parsed: StackText
    """The stack file's text (the snapshot's) and its document as the engine reads it."""
    config: StackConfig

    @property
    def release(self) -> rollout.Release:
        return self.config.rollout_release

    @property
    def catalog(self) -> rollout.Catalog:
        return self.config.catalog

    @property
    def source(self) -> str:
        return self.snapshot.path.name


def committed_stage(loaded: Loaded) -> str | None:
    """The stage of the stack file as last committed (git HEAD); None where there is none (no repository
    or commit, a file not yet committed, or a committed text that does not read)."""
    if not git.is_repository(loaded.root):
        return None
    try:
        text = git.show(loaded.root, "HEAD", loaded.source)
        if text == loaded.parsed.text:  # unchanged since the commit: already parsed
            return loaded.release.stage
        config = StackText.parse(text, loaded.source).config if text is not None else {}
    except (git.GitError, UnicodeDecodeError, stackfile.StackFileError):
        return None
    release = config.get(RELEASE_KEY)
    stage = release.get("stage") if isinstance(release, dict) else None
    return stage if isinstance(stage, str) else None


def stack_file(stack_option: str | None) -> tuple[Path, str, Path]:
    root = find_root()
    stack = stack_name(root, stack_option)
    path = stackfile.stack_path(root, stack)
    if not path.exists() and not path.is_symlink():
        raise unknown_stack(root, stack)
    return root, stack, path


def _loaded(root: Path, stack: str, snapshot: safefile.Snapshot) -> Loaded:
    defaults = stackfile.project_defaults(read_project_text(root))
    parsed = StackText.parse(snapshot.text, snapshot.path.name)
    return Loaded(root, stack, snapshot, defaults, parsed, decode(defaults, parsed))


def load(stack_option: str | None) -> Loaded:
    root, stack, path = stack_file(stack_option)
    return _loaded(root, stack, safefile.read(path))


@contextlib.contextmanager
def editing(stack_option: str | None) -> Iterator[Loaded]:
    """The stack, read under the stack file's lock, held until the edit is written (or refused)."""
    root, stack, path = stack_file(stack_option)
    with safefile.editing(path) as snapshot:
        yield _loaded(root, stack, snapshot)


def apply(
    loaded: Loaded, command: str, after: rollout.Release, notes: Sequence[str] = (), record: str | None = None
) -> None:
    """Write `after` and say what changed. `record`: what the suggested commit message must carry (an
    override such as --outside-window)."""
    before = loaded.release
    values = {key: getattr(after, key) for key in stackedit.OWNED_KEYS if getattr(after, key) != getattr(before, key)}
    if not values:
        out.print(f"{loaded.stack}: nothing to change.")
        return
    try:
        text, document = stackedit.edit(loaded.parsed.text, loaded.parsed.document, values)
    except (stackfile.StackFileError, safefile.EditError) as error:
        raise CliError(f"{loaded.source}: {error}") from None
    try:
        decode(loaded.project_defaults, StackText(text, loaded.source, document))
    except ConfigError as error:
        raise CliError(
            f"{command} would leave {loaded.source} with a config the program refuses; nothing was written:",
            error.problems,
        ) from None
    safefile.write(loaded.snapshot, text)

    out.print(Text(f"{loaded.stack}: {command}", style="bold"))
    for key, value in values.items():
        out.print(f"  {RELEASE_KEY}.{key}: {getattr(before, key) or '(none)'} -> {value}")
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
    if record:
        message = f"{loaded.stack}: {command} ({record})".replace('"', "'")
        out.print(f'  the commit records it: git commit -m "{message}" -- {loaded.source}')
