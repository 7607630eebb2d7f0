"""The few git questions the CLI asks, answered by the git command line."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

NOT_INSTALLED = "git is not installed (or not on PATH)"


class GitError(RuntimeError):
    """git is missing, the folder is not a repository, or a revision does not exist."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    date: str
    """ISO 8601, author date."""
    subject: str
    committed: str = ""
    """ISO 8601, committer date: when the commit landed where it is (e.g. a pull request's merge)."""
    body: str = ""
    """The message after its subject (the first paragraph)."""


def _git(root: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=root, input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError(NOT_INSTALLED) from None


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode(errors="replace").strip()


def is_repository(root: Path) -> bool:
    """Whether `root` is inside a git work tree; GitError when git itself is missing."""
    return _git(root, "rev-parse", "--is-inside-work-tree").returncode == 0


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
    """'clean', 'modified', 'untracked', 'not in a git repository' or why git cannot tell."""
    try:
        inside = is_repository(root)
    except GitError as error:
        return f"unknown ({error})"
    if not inside:
        return "not in a git repository"
    result = _git(root, "status", "--porcelain", "--", name)
    if result.returncode != 0:
        raise GitError(f"git status failed: {_stderr(result)}")
    line = result.stdout.decode().strip()
    if not line:
        return "clean"
    return "untracked" if line.startswith("??") else "modified"


def log(root: Path, name: str) -> list[Commit]:
    """Commits that changed `name`, oldest first. Author and subject are read from the commit
    objects themselves, so that no byte a contributor can put there is mistaken for structure."""
    require_repository(root)
    result = _git(root, "log", "--reverse", "--format=%H", "--", name)
    if result.returncode != 0:
        # A repository without commits has no history at all.
        if b"does not have any commits" in result.stderr:
            return []
        raise GitError(f"git log failed: {_stderr(result)}")
    shas = result.stdout.decode("ascii", errors="replace").split()
    return [_commit(sha, raw or b"") for sha, raw in zip(shas, _batch(root, shas))]


_SIGNATURE = re.compile(rb"^(author|committer) (.*?) <[^>]*> (\d+) ([+-])(\d\d)(\d\d)$")


def _signature(line: bytes) -> tuple[str, str]:
    """The name and ISO 8601 date of an author or committer header line ('' where unreadable)."""
    match = _SIGNATURE.match(line)
    if match is None:
        return line.partition(b" ")[2].decode("utf-8", errors="replace"), ""
    _, name, seconds, sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == b"-" else 1)
    try:
        date = datetime.fromtimestamp(int(seconds), timezone(offset)).isoformat()
    except (OverflowError, ValueError, OSError):
        date = ""
    return name.decode("utf-8", errors="replace"), date


def _commit(sha: str, raw: bytes) -> Commit:
    """A commit read from its object: author, both dates, subject and body."""
    header, _, message = raw.partition(b"\n\n")
    signatures: dict[bytes, tuple[str, str]] = {}
    for line in header.split(b"\n"):
        kind = line.partition(b" ")[0]
        if kind in (b"author", b"committer") and kind not in signatures:
            signatures[kind] = _signature(line)
    author = signatures.get(b"author", ("", ""))[0]
    date = signatures.get(b"author", ("", ""))[1]
    # git's %s: the first paragraph of the message, its lines joined by spaces; %b: the rest.
    first, _, rest = message.partition(b"\n\n")
    subject = b" ".join(first.strip().splitlines())
    return Commit(
        sha,
        author,
        date,
        subject.decode("utf-8", errors="replace"),
        committed=signatures.get(b"committer", ("", ""))[1],
        body=rest.strip().decode("utf-8", errors="replace"),
    )


def _batch(root: Path, revisions: list[str]) -> list[bytes | None]:
    """The raw content of each object named (None where it does not exist), with one git process."""
    if not revisions:
        return []
    result = _git(root, "cat-file", "--batch", input="".join(f"{r}\n" for r in revisions).encode())
    if result.returncode != 0:
        raise GitError(f"git cat-file failed: {_stderr(result)}")
    out, at = result.stdout, 0
    objects: list[bytes | None] = []
    for _ in revisions:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            objects.append(None)
            continue
        size = int(header[2])
        objects.append(out[at : at + size])
        at += size + 1
    return objects


def contents(root: Path, commits: list[Commit], name: str) -> list[str | None]:
    """The text of `name` at each commit (None where it does not exist), with one git process."""
    if not commits:
        return []
    # --batch does not resolve ./ paths, so ask with paths relative to the repository's top.
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.decode().strip()
    blobs = _batch(root, [f"{c.sha}:{prefix}{name}" for c in commits])
    return [None if blob is None else blob.decode("utf-8", errors="replace") for blob in blobs]


def landed(root: Path, name: str) -> list[Commit]:
    """Commits that changed `name` on the current branch's first-parent line, oldest first: for a
    merged pull request, the merge commit, whose `committed` date is when the change landed."""
    require_repository(root)
    result = _git(root, "log", "--first-parent", "--reverse", "--format=%H", "--", name)
    if result.returncode != 0:
        if b"does not have any commits" in result.stderr:
            return []
        raise GitError(f"git log failed: {_stderr(result)}")
    shas = result.stdout.decode("ascii", errors="replace").split()
    return [_commit(sha, raw or b"") for sha, raw in zip(shas, _batch(root, shas))]


def changes_before(root: Path, rev: str, name: str) -> list[str]:
    """The commits at or before `rev` on its first-parent line that changed `name`, newest first."""
    result = _git(root, "rev-list", "--first-parent", rev, "--", name)
    if result.returncode != 0:
        raise GitError(f"git rev-list failed: {_stderr(result)}")
    return result.stdout.decode().split()


def between(root: Path, base: str, head: str) -> set[str]:
    """The commits reachable from `head` and not from `base`."""
    result = _git(root, "rev-list", f"{base}..{head}")
    if result.returncode != 0:
        raise GitError(f"unknown revision range {base}..{head}: {_stderr(result)}")
    return set(result.stdout.decode().split())
