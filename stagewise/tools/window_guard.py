"""Deploy windows at the command line: deploy, promote, finish and the gate's automatic promote refuse
outside `stagewise:rollout.windows` unless overridden (`--outside-window`), and an override is recorded.

abort and rollback never ask: taking traffic away from a candidate is always allowed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from stagewise.core import windows
from stagewise.core.config import StackConfig
from stagewise.tools.session import CliError


def now() -> datetime:
    """The moment a command judges the windows at (a test replaces it)."""
    return datetime.now(UTC)


OutsideWindowOption = Annotated[
    bool,
    typer.Option(
        "--outside-window",
        help="Run even outside stagewise:rollout.windows; the suggested commit message records it.",
    ),
]


def check(config: StackConfig, action: str, outside_window: bool, at: datetime | None = None) -> str | None:
    """None when the stack has no windows or one is open; CliError when all are closed and not overridden;
    the note to record (in the commit message) when overridden."""
    settings = config.rollout_rules.windows
    if settings is None:
        return None
    spans = settings.to_windows()
    moment = at or now()
    if spans.is_open(moment):
        return None
    if not outside_window:
        raise CliError(windows.closed_message(spans, moment, action))
    local = moment.astimezone(spans.tz)
    return f"outside the deploy window ({local:%a %Y-%m-%d %H:%M} {spans.zone}), --outside-window"


def closed(config: StackConfig, action: str, at: datetime | None = None) -> str | None:
    """Why `action` may not run now (the next opening included), or None: for the gate's automatic
    promote, which reports it and writes nothing rather than fail."""
    try:
        check(config, action, outside_window=False, at=at)
    except CliError as error:
        return str(error)
    return None


def view(config: StackConfig, at: datetime | None = None) -> dict[str, Any] | None:
    """The windows as `status` shows them: open now, and when the next one opens."""
    settings = config.rollout_rules.windows
    if settings is None:
        return None
    spans = settings.to_windows()
    moment = at or now()
    opens = spans.next_open(moment)
    return {
        "open": spans.is_open(moment),
        "nextOpen": None if opens is None else opens.isoformat().replace("+00:00", "Z"),
        "windows": spans.describe(),
    }
