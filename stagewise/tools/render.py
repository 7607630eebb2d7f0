"""How the CLI shows a plan (on a terminal, or as Markdown for a pull request) and a history step.

The plan's lines (`property_line`, `summary_line`, `secret_line`) are shared by both views of a plan.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text

from stagewise.core.redact import printable as printable  # the one helper for outside text, re-exported
from stagewise.formats.stackfile import SECRET_PLACEHOLDER
from stagewise.tools import git
from stagewise.tools import history as history_lib
from stagewise.tools.plan import OPS, Op, Plan, PropertyChange, plain
from stagewise.tools.session import out

_OP_STYLES = {"create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}

# A plan's lines.

SYMBOLS: dict[Op, str] = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def show(value: Any) -> str:
    """A value as `pulumi preview` shows it: JSON, with secrets as [secret]."""
    if value == SECRET_PLACEHOLDER:
        return SECRET_PLACEHOLDER
    return json.dumps(plain(value), sort_keys=False, separators=(", ", ": "))


def property_line(change: PropertyChange) -> str:
    if change.kind == "add":
        return f"+ {change.path}: {show(change.after)}"
    if change.kind == "delete":
        return f"- {change.path}: {show(change.before)}"
    return f"~ {change.path}: {show(change.before)} => {show(change.after)}"


def summary_line(plan: Plan) -> str:
    if plan.empty:
        return "no changes"
    counts = plan.counts()
    words = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete"}
    parts = [f"{counts[op]} {words[op]}" for op in OPS if counts[op]]
    if plan.outputs:
        parts.append(f"{len(plan.outputs)} output{'s' if len(plan.outputs) != 1 else ''} changed")
    if plan.secrets_changed:
        parts.append(f"{len(plan.secrets_changed)} secret{'s' if len(plan.secrets_changed) != 1 else ''} changed")
    return ", ".join(parts)


def secret_line(path: str) -> str:
    return (
        f"~ {path}: the encrypted value changed; the plan cannot show secret values, "
        f"so the resources holding it may be updated without being listed"
    )


# A plan as Markdown, and on a terminal.


def markdown(plan: Plan, title: str) -> str:
    """The plan as a pull-request comment."""
    lines = [f"### {title}", "", f"**{summary_line(plan)}**" + (" (traffic only)" if plan.traffic_only else ""), ""]
    if plan.changes:
        lines += ["| | Resource | Type | Properties |", "|---|---|---|---|"]
        for c in plan.changes:
            props = ", ".join(f"`{p.path}`" for p in c.diff) if c.op in ("update", "replace") else ""
            op = f"{SYMBOLS[c.op]} {c.op}" + (" (protected: refused)" if c.refused else "")
            lines.append(f"| {op} | `{c.name}` | `{c.type}` | {props} |")
        lines += ["", "```diff"]
        for c in plan.changes:
            lines.append(f"{SYMBOLS[c.op]} {c.type} {c.name} ({c.op})")
            if c.op in ("update", "replace"):
                lines += [f"    {property_line(p)}" for p in c.diff]
        lines.append("```")
    if plan.outputs:
        lines += ["", "Outputs:", "", "```diff"] + [property_line(p) for p in plan.outputs] + ["```"]
    if plan.secrets_changed:
        lines += ["", "Secrets:", "", "```diff"] + [secret_line(p) for p in plan.secrets_changed] + ["```"]
    for note in plan.notes:
        lines += ["", f"> {note}"]
    return "\n".join(lines) + "\n"


def print_plan(result: Plan, title: str) -> None:
    out.print(Text(title, style="bold"))
    for change in result.changes:
        line = Text(f"  {SYMBOLS[change.op]} ", style=_OP_STYLES[change.op])
        line += Text(f"{change.type}  {change.name}  ") + Text(change.op, style=_OP_STYLES[change.op])
        if change.replace_keys:
            line += Text(f"  (replace on: {', '.join(change.replace_keys)})")
        if change.refused:
            line += Text("  protected: pulumi up would refuse", style="bold red")
        out.print(line)
        if change.op in ("update", "replace"):
            for prop in change.diff:
                out.print(Text(f"      {property_line(prop)}"))
    if result.outputs:
        out.print("Outputs:")
        for prop in result.outputs:
            out.print(Text(f"  {property_line(prop)}"))
    if result.secrets_changed:
        out.print("Secrets:")
        for path in result.secrets_changed:
            out.print(Text(f"  {secret_line(path)}"))
    for note in result.notes:
        out.print(Text(f"note: {note}", style="dim"))
    summary = summary_line(result) + (" (traffic only)" if result.traffic_only else "")
    out.print(Text(summary, style="bold"))


# A history step.


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
