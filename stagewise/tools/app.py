"""The `stagewise` Typer app every command registers on, and the options commands share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from stagewise.tools.session import EXIT_ERROR

# click reports a usage error with exit code 2, which `plan` uses for "has changes".
_USAGE_ERROR: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


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


StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack", "-s", help="Stack name (default: the selected Pulumi stack, else dev).", show_default=False
    ),
]
