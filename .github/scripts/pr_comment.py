#!/usr/bin/env python3
"""The pull-request comment that shows, per stack, the rollout plan and the Pulumi preview.

  pr_comment.py section --stack S --plan plan.md --plan-exit N [--preview out.txt --preview-exit N]
      prints one stack's section (Markdown); without --preview the stack was planned only.
  pr_comment.py assemble --sections DIR --stacks JSON --sha SHA --run-url URL
      prints the whole comment: the hidden marker the workflow finds it by, then the section
      (DIR/<stack>.md) of every stack in the JSON list, in that order; a stack whose job left no
      section is reported as such.
  pr_comment.py marker
      prints the hidden marker, for finding the comment again.

GitHub refuses comments above 65,536 characters, so long outputs are cut in the middle (the
head holds the diff, the tail the policy results and the summary) and point to the run log.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

MARKER = "<!-- stagewise-preview -->"
COMMENT_LIMIT = 65_536
# Room for the header, the footer and each section's own Markdown around the outputs.
RESERVED = 4_000
SECTION_SUFFIX = ".md"


def fence(text: str) -> str:
    """A code fence longer than any backtick run in `text`, so output cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def clip(text: str, budget: int, run_url: str) -> str:
    """`text` cut to about `budget` characters, keeping its start and its end."""
    if len(text) <= budget:
        return text
    notice = f"\n… {len(text) - budget:,} characters cut; the full output is in the run log: {run_url}\n"
    head = int(budget * 0.4)
    tail = budget - head
    return text[:head] + notice + text[-tail:]


# `stagewise plan` exits 0 when nothing changes, 2 when something does, 1 on an error.
PLAN_OK = (0, 2)


def section(stack: str, plan: str, plan_exit: int, preview: str | None, preview_exit: int | None) -> str:
    ok = plan_exit in PLAN_OK and preview_exit in (None, 0)
    status = "ready" if ok else "failed"
    lines = [f"### `{stack}`: {status}", ""]
    if plan_exit in PLAN_OK:
        lines += [plan.strip(), ""]
    else:
        lines += [
            f"`stagewise plan` failed (exit {plan_exit}):",
            "",
            fence(plan) + "text",
            plan.strip(),
            fence(plan),
            "",
        ]
    if preview is None:
        lines += ["_Not previewed: this stack runs on a local cluster, not on Azure._", ""]
    else:
        summary = "pulumi preview --diff --policy-pack policy"
        result = (
            "succeeded" if preview_exit == 0 else f"failed (exit {preview_exit}; see the policy results at the end)"
        )
        lines += [
            f"<details{'' if preview_exit == 0 else ' open'}><summary><code>{summary}</code> {result}</summary>",
            "",
            fence(preview) + "diff",
            preview.rstrip(),
            fence(preview),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def missing(stack: str, run_url: str) -> str:
    return (
        f"### `{stack}`: no result\n\nThe job stopped before it could plan or preview; see the [run log]({run_url}).\n"
    )


def assemble(sections: list[str], sha: str, run_url: str) -> str:
    header = "\n".join(
        [
            MARKER,
            "## Stagewise preview",
            "",
            f"For `{sha[:12]}`. Each stack's rollout plan and what `pulumi up` would change once this is merged. "
            "This comment is updated on every push.",
            "",
        ]
    )
    footer = f"\n---\n[Workflow run]({run_url})\n"
    if not sections:
        sections = ["_No stack is affected by this change._\n"]
    budget = max(1_000, (COMMENT_LIMIT - RESERVED - len(header) - len(footer)) // len(sections))
    return header + "\n".join(clip(s, budget, run_url) for s in sections) + footer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("section")
    one.add_argument("--stack", required=True)
    one.add_argument("--plan", type=Path, required=True)
    one.add_argument("--plan-exit", type=int, required=True)
    one.add_argument("--preview", type=Path)
    one.add_argument("--preview-exit", type=int)
    commands.add_parser("marker")
    whole = commands.add_parser("assemble")
    whole.add_argument("--sections", type=Path, required=True)
    whole.add_argument("--stacks", type=json.loads, required=True, help="JSON list of stacks, in order")
    whole.add_argument("--sha", required=True)
    whole.add_argument("--run-url", required=True)
    args = parser.parse_args(argv)

    if args.command == "marker":
        print(MARKER)
    elif args.command == "section":
        preview = args.preview.read_text(encoding="utf-8", errors="replace") if args.preview else None
        plan = args.plan.read_text(encoding="utf-8", errors="replace")
        sys.stdout.write(section(args.stack, plan, args.plan_exit, preview, args.preview_exit))
    else:
        sections = []
        for stack in args.stacks:
            path = args.sections / f"{stack}{SECTION_SUFFIX}"
            sections.append(path.read_text(encoding="utf-8") if path.is_file() else missing(stack, args.run_url))
        sys.stdout.write(assemble(sections, args.sha, args.run_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
