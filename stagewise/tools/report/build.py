"""`stagewise report`: from a project folder and a stack to the report, and the report to files.

The only module of the report that reads git, the stack config or the metrics provider.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from stagewise.formats import stackfile
from stagewise.tools import git, history
from stagewise.tools.gate.provider import MetricsProvider
from stagewise.tools.report import chart, data, markdown, timeline
from stagewise.tools.report.metrics import collect

LATEST = "latest"
FILES = ("report.md", "report.png", "report.svg", "report.json")

SourceFactory = Callable[[Path, str], "tuple[MetricsProvider | None, str | None]"]
"""(project root, stack) -> the metrics source, or None and why there is none."""


class ReportError(Exception):
    """Nothing to report, or a rollout that cannot be found; the message says what there is."""


@dataclass(frozen=True)
class History:
    file: str
    commits: list[git.Commit]
    rollouts: list[timeline.Rollout]


def read_history(root: Path, stack: str, now: datetime) -> History:
    path = stackfile.stack_path(root, stack)
    # The commits as they landed on the branch (a merged pull request at its merge), as the stage
    # gates date a stage: both measure the same windows.
    commits = git.landed(root, path.name)
    texts = git.contents(root, commits, path.name)
    project = root / stackfile.PROJECT_FILE
    catalog = history.default_catalog(project.read_text(encoding="utf-8")) if project.is_file() else None
    steps = history.steps(zip(commits, texts), catalog)
    return History(path.name, commits, timeline.rollouts(steps, now))


def choose(root: Path, found: History, which: str) -> timeline.Rollout:
    """The rollout `which` names: latest, a version rolled out (its last rollout), or a git revision
    (the rollout it belongs to, or the one under way at it). A version comes first: release tags
    often bear the version's name, and the version is what was meant."""
    if not found.rollouts:
        raise ReportError(
            f"no rollout in the history of {found.file}: no committed `stagewise deploy` "
            f"(and the file never started in the middle of one)"
        )
    if which == LATEST:
        return found.rollouts[-1]
    chosen = timeline.by_version(found.rollouts, which)
    if chosen is not None:
        return chosen
    try:
        sha = git.resolve(root, which)
    except git.GitError:
        versions = ", ".join(dict.fromkeys(r.version for r in found.rollouts))
        raise ReportError(
            f"--rollout {which!r} is neither a version rolled out in {found.file} nor a git revision "
            f"(versions: {versions}); use latest, one of those versions, or a commit"
        ) from None
    # The stack file as of that commit: its last change there that landed on this branch (a
    # commit of a merged side branch counts as of the branch's commit before it).
    order = [c.sha for c in found.commits]
    known = set(order)
    as_of = next((c for c in git.changes_before(root, sha, found.file) if c in known), None)
    chosen = timeline.select(found.rollouts, as_of, order) if as_of else None
    if chosen is None:
        raise ReportError(f"no rollout of {found.file} had begun at {which} ({sha[:8]})")
    return chosen


def build(root: Path, stack: str, which: str, now: datetime, sources: SourceFactory) -> data.Report:
    found = read_history(root, stack, now)
    chosen = choose(root, found, which)
    index = found.rollouts.index(chosen)
    source, missing = sources(root, stack)
    return data.Report(
        stack=stack,
        file=found.file,
        generated=now,
        rollout=chosen,
        metrics=collect(chosen, source, missing),
        previous=found.rollouts[index - 1] if index > 0 else None,
    )


def repository_url() -> str | None:
    """The repository's web address in GitHub Actions, so that commits and pull requests are links."""
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    return f"{server}/{repository}" if server and repository else None


def as_json(report: data.Report) -> str:
    return json.dumps(data.to_dict(report), indent=2) + "\n"


def write(report: data.Report, out: Path) -> list[Path]:
    """Every file rendered first, then each written atomically: no half-written report."""
    rendered = chart.render(report)
    contents = {
        "report.md": markdown.render(report, markdown.Links(repository_url())).encode(),
        "report.png": rendered.png,
        "report.svg": rendered.svg,
        "report.json": as_json(report).encode(),
    }
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in contents.items():
        _write_atomic(out / name, content)
        written.append(out / name)
    return written


def _write_atomic(path: Path, content: bytes) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def run(
    root: Path, stack: str, which: str, out: Path | None, json_output: bool, now: datetime, sources: SourceFactory
) -> str:
    """The command: what it prints. With `out`, the four files are written there too."""
    report = build(root, stack, which, now, sources)
    if out is None:
        return as_json(report) if json_output else markdown.render(report, markdown.Links(repository_url()), chart=None)
    written = write(report, out)
    return as_json(report) if json_output else "".join(f"wrote {path}\n" for path in written)


def finished_in(root: Path, stack: str, pushed: set[str], now: datetime) -> timeline.Rollout | None:
    """The latest rollout of `stack` whose finish is one of the `pushed` commits (CI's trigger for
    a report: the candidate just became live), or None."""
    for found in reversed(read_history(root, stack, now).rollouts):
        if found.outcome == "finished" and found.ended_by is not None and found.ended_by.sha in pushed:
            return found
    return None
