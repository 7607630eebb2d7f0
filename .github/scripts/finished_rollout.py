#!/usr/bin/env python3
"""Whether a push finished a rollout of a stack, as GitHub Actions step outputs.

  finished_rollout.py --stack S --base <sha> --head <sha>

Prints `sha=`, `version=` and `pull-request=` lines for $GITHUB_OUTPUT: the finish commit among
base..head (all empty when the push finished no rollout of S), the version that became live and
the pull request the finish commit's message names (empty when it names none). When base is not
a usable commit (a new branch, a force push), only head counts as pushed.
Needs the project's environment (it reads the history with stagewise's own code) and a full clone.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from stagewise.tools import git
from stagewise.tools.report import build

ROOT = Path(__file__).resolve().parents[2]
NO_COMMIT = re.compile(r"^0*$")


def pushed(root: Path, base: str, head: str) -> set[str]:
    if not NO_COMMIT.match(base):
        try:
            return git.between(root, base, head)
        except git.GitError:
            pass
    return {git.resolve(root, head)}


def outputs(root: Path, stack: str, base: str, head: str) -> dict[str, str]:
    found = build.finished_in(root, stack, pushed(root, base, head), datetime.now(UTC))
    if found is None or found.ended_by is None:
        return {"sha": "", "version": "", "pull-request": ""}
    number = found.ended_by.pull_request
    return {"sha": found.ended_by.sha, "version": found.version, "pull-request": "" if number is None else str(number)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--head", required=True)
    args = parser.parse_args(argv)
    for name, value in outputs(ROOT, args.stack, args.base, args.head).items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
