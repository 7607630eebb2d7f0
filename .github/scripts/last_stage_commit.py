#!/usr/bin/env python3
"""The last commit that changed a stack's rollout stage, for `rollback.yml --method revert`.

  last_stage_commit.py Pulumi.<stack>.yaml    prints the commit's SHA, or fails naming why

A stage commit is one after which `stagewise:release` says something else about the stage, the
live colour or the colours' versions than before it: what `stagewise deploy|promote|rollback|
abort|finish` write. Commits that only touched other keys of the file (alerts, feature flags)
are passed over. Needs git and ruamel.yaml (the project's environment).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from ruamel.yaml import YAML

RELEASE = "stagewise:release"
RELEASE_FIELDS = ("stage", "live", "blue", "green")


def release(text: str | None) -> tuple[Any, ...] | None:
    """The release fields of one version of the file; None when it has none or cannot be read."""
    if text is None:
        return None
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except Exception:  # ruamel raises several unrelated error types
        return None
    config = document.get("config") if isinstance(document, dict) else None
    value = config.get(RELEASE) if isinstance(config, dict) else None
    if not isinstance(value, dict):
        return None
    return tuple(value.get(field) for field in RELEASE_FIELDS)


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def file_at(commit: str, path: str) -> str | None:
    result = _git("show", f"{commit}:{path}")
    return result.stdout if result.returncode == 0 else None


def last_stage_commit(path: str) -> str:
    history = _git("log", "--format=%H", "--", path)
    if history.returncode != 0:
        raise SystemExit(f"last_stage_commit: git log failed: {history.stderr.strip()}")
    for commit in history.stdout.split():
        after = release(file_at(commit, path))
        before = release(file_at(f"{commit}^", path))
        if after is not None and before is not None and after != before:
            return commit
    raise SystemExit(f"last_stage_commit: no commit in the history of {path} changed its release; nothing to revert")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(last_stage_commit(sys.argv[1]))
