#!/usr/bin/env python3
"""Which stacks a change affects, as GitHub Actions step outputs (JSON lists).

The stacks are the Pulumi.<stack>.yaml files in the repository, read at run time: a new stack
file is picked up without touching a workflow. A stack is affected when its own file changed,
or when the code every stack runs changed (then all of them are).

Outputs (one `name=<json list>` line each, for $GITHUB_OUTPUT):
  azure          stacks deployed to Azure (previewed on pull requests)
  nonproduction  Azure stacks outside the production tier (deployed first, no approval)
  production     production-tier stacks (deployed behind the `production` environment)
  local          Kubernetes stacks on a developer's local cluster (planned only, never deployed by CI)
  all            every affected stack (azure, then local): the order of the PR comment

The tier is the stack file's `stagewise:environment`; a file without a known one counts as
production, so it can only be deployed with an approval.

Usage: changed_stacks.py --base <sha> --head <sha>     (what changed between two commits)
       changed_stacks.py --all                         (every stack)
Standard library only: it runs before any environment is installed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A change to any of these changes what every stack deploys. The workflows' `paths` filters
# list the same entries (a test keeps them in step).
SHARED_CODE = ("components/", "infra/", "stagewise/", "policy/", "Pulumi.yaml", "pyproject.toml")
STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[^/]+)\.yaml$")
ENVIRONMENT = re.compile(r"""^\s*stagewise:environment:\s*["']?(?P<env>[A-Za-z]+)["']?\s*(?:#.*)?$""", re.MULTILINE)
NO_COMMIT = re.compile(r"^0*$")

AZURE_NONPRODUCTION = ("dev", "staging")
LOCAL = ("local",)
# Stacks are listed (and so deployed and shown) in rollout order.
TIER_ORDER = ("dev", "staging", "production", "unknown", "local")


def stacks(root: Path = ROOT) -> dict[str, str]:
    """Stack name -> its environment, for every stack file in `root`."""
    found = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        match = STACK_FILE.match(path.name)
        if match:
            env = ENVIRONMENT.search(path.read_text(encoding="utf-8"))
            found[match["stack"]] = env["env"] if env and env["env"] in TIER_ORDER else "unknown"
    return dict(sorted(found.items(), key=lambda item: (TIER_ORDER.index(item[1]), item[0])))


def affected(changed: list[str], known: dict[str, str]) -> list[str]:
    """The stacks a list of changed paths affects, in stack-file order."""
    if any(path == code or (code.endswith("/") and path.startswith(code)) for path in changed for code in SHARED_CODE):
        return list(known)
    named = {m["stack"] for m in map(STACK_FILE.match, changed) if m}
    return [s for s in known if s in named]


def outputs(selected: list[str], known: dict[str, str]) -> dict[str, list[str]]:
    tier = {s: known[s] for s in selected}
    return {
        "azure": [s for s in selected if tier[s] not in LOCAL],
        "nonproduction": [s for s in selected if tier[s] in AZURE_NONPRODUCTION],
        "production": [s for s in selected if tier[s] not in AZURE_NONPRODUCTION + LOCAL],
        "local": [s for s in selected if tier[s] in LOCAL],
        "all": [s for s in selected if tier[s] not in LOCAL] + [s for s in selected if tier[s] in LOCAL],
    }


def changed_files(base: str, head: str, root: Path = ROOT) -> list[str] | None:
    """Paths changed from base (or its merge base with head) to head; None when base is unusable
    (first push of a branch, a force push that dropped it, a shallow clone)."""
    if NO_COMMIT.match(base):
        return None
    result = subprocess.run(
        ["git", "diff", "--name-only", "--no-renames", f"{base}...{head}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"changed_stacks: cannot diff {base}...{head}: {result.stderr.strip()}", file=sys.stderr)
        return None
    return [line for line in result.stdout.splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base")
    parser.add_argument("--head", default="HEAD")
    parser.add_argument("--all", action="store_true", help="every stack, whatever changed")
    args = parser.parse_args(argv)
    if not args.all and not args.base:
        parser.error("give --base (and --head), or --all")

    known = stacks()
    changed = None if args.all else changed_files(args.base, args.head)
    selected = list(known) if changed is None else affected(changed, known)
    for name, values in outputs(selected, known).items():
        print(f"{name}={json.dumps(values, separators=(',', ':'))}")
    print(f"changed_stacks: {', '.join(selected) or 'none'} (of {', '.join(known) or 'none'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
