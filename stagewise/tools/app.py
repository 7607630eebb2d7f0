"""The `stagewise` Typer app every command registers on, and the options commands share.

The conventions every command follows are applied here, once, so a command added anywhere gets them:
`-h` as well as `--help`, `--version`, flags shown without a value type, and an epilog with an example
and the exit codes (stagewise.tools.helptext, which a test holds complete).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import typer

from stagewise.tools import helptext
from stagewise.tools.session import EXIT_ERROR

# click reports a usage error with exit code 2, which `plan` uses for "has changes".
_USAGE_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def _plain_flags(params: Iterable[Any]) -> None:
    """A flag takes no value: show no `<bool>` after it in the help."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class _Group(typer.core.TyperGroup):
    """Usage errors exit 1 like every other error, so 2 always means "the plan has changes"."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _usage_errors_exit_1():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        _plain_flags(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags([*command.params, command.get_help_option(ctx)])
            if command.epilog is None and cmd_name in helptext.EPILOGS:
                command.epilog = helptext.epilog(cmd_name)
            if command.short_help is None and command.help:
                command.short_help = _first_sentence(command.help)
        return command


def _first_sentence(text: str) -> str:
    """A docstring's first sentence on one line: the command list shows it (the help shows the rest)."""
    words = " ".join(text.split("\n\n", 1)[0].split())
    end = words.find(". ")
    return words if end < 0 else words[: end + 1]


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
    epilog=helptext.MAIN_EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version() -> str:
    try:
        return importlib.metadata.version("stagewise")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stagewise {version()}")
        raise typer.Exit(0)


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """Staged blue-green rollouts as Pulumi stack config changes."""


StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack", "-s", help="Stack name (default: the selected Pulumi stack, else dev).", show_default=False
    ),
]
