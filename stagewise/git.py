"""The few git questions the CLI asks, answered by the git command line."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


class GitError(RuntimeError):
    """git is missing, the folder is not a repository, or a revision does not exist."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    date: str
    """ISO 8601, author date."""
    subject: str


def _git(root: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=root, input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode(errors="replace").strip()


def is_repository(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").returncode == 0
    except GitError:
        return False


def require_repository(root: Path) -> None:
    if not is_repository(root):
        raise GitError(f"{root} is not inside a git repository")


def resolve(root: Path, rev: str) -> str:
    """The commit `rev` names, or GitError naming the revision."""
    require_repository(root)
    result = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if result.returncode != 0:
        raise GitError(f"unknown revision {rev!r}")
    return result.stdout.decode().strip()


def show(root: Path, rev: str, name: str) -> str | None:
    """The text of `name` (relative to `root`) at commit `rev`; None when it does not exist there."""
    result = _git(root, "cat-file", "blob", f"{rev}:./{name}")
    if result.returncode != 0:
        if _git(root, "cat-file", "-e", f"{rev}^{{commit}}").returncode != 0:
            raise GitError(f"unknown revision {rev!r}")
        return None
    return result.stdout.decode("utf-8")


def file_status(root: Path, name: str) -> str:
    """'clean', 'modified', 'untracked' or 'not in a git repository'."""
    if not is_repository(root):
        return "not in a git repository"
    result = _git(root, "status", "--porcelain", "--", name)
    if result.returncode != 0:
        raise GitError(f"git status failed: {_stderr(result)}")
    line = result.stdout.decode().strip()
    if not line:
        return "clean"
    return "untracked" if line.startswith("??") else "modified"


def log(root: Path, name: str) -> list[Commit]:
    """Commits that changed `name`, oldest first."""
    require_repository(root)
    result = _git(root, "log", "--reverse", "--format=%H%x1f%an%x1f%aI%x1f%s%x1e", "--", name)
    if result.returncode != 0:
        # A repository without commits has no history at all.
        if b"does not have any commits" in result.stderr:
            return []
        raise GitError(f"git log failed: {_stderr(result)}")
    commits = []
    for record in result.stdout.decode(errors="replace").split("\x1e"):
        record = record.strip("\n")
        if record:
            sha, author, date, subject = record.split("\x1f")
            commits.append(Commit(sha, author, date, subject))
    return commits


def contents(root: Path, commits: list[Commit], name: str) -> list[str | None]:
    """The text of `name` at each commit (None where it does not exist), with one git process."""
    if not commits:
        return []
    # --batch does not resolve ./ paths, so ask with paths relative to the repository's top.
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.decode().strip()
    request = "".join(f"{c.sha}:{prefix}{name}\n" for c in commits).encode()
    result = _git(root, "cat-file", "--batch", input=request)
    if result.returncode != 0:
        raise GitError(f"git cat-file failed: {_stderr(result)}")
    out, texts, at = result.stdout, [], 0
    for _ in commits:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) >= 2 and header[1] == b"missing":
            texts.append(None)
            continue
        size = int(header[2])
        texts.append(out[at:at + size].decode("utf-8", errors="replace"))
        at += size + 1
    return texts


def landed(root: Path, name: str) -> list[Commit]:
    """Commits that changed `name` on the current branch's first-parent line, oldest first, each
    dated when it landed there (committer date): for a merged pull request, the merge commit."""
    require_repository(root)
    result = _git(root, "log", "--first-parent", "--reverse", "--format=%H%x1f%an%x1f%cI%x1f%s%x1e", "--", name)
    if result.returncode != 0:
        if b"does not have any commits" in result.stderr:
            return []
        raise GitError(f"git log failed: {_stderr(result)}")
    commits = []
    for record in result.stdout.decode(errors="replace").split("\x1e"):
        record = record.strip("\n")
        if record:
            sha, author, date, subject = record.split("\x1f")
            commits.append(Commit(sha, author, date, subject))
    return commits
