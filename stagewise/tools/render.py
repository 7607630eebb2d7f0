"""How the CLI shows a plan and a history step on a terminal."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from stagewise.tools import git
from stagewise.tools import history as history_lib
from stagewise.tools import plan as plan_lib
from stagewise.tools.session import out

_OP_STYLES = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}


def print_plan(result: plan_lib.Plan, title: str) -> None:
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


def printable(text: str) -> str:
    """`text` with control characters shown escaped: a commit's author must not drive the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def history_line(step: history_lib.Step[git.Commit]) -> str:
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
