"""Whatever a contributor puts into a commit, and whatever the machine lacks, a command answers
with a message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import time

import pytest


def _commit_raw(repo, author: bytes, message: bytes) -> None:
    """A commit whose author and message hold arbitrary bytes (git takes them as they are)."""
    tree = subprocess.run(["git", "write-tree"], cwd=repo.path, capture_output=True, check=True).stdout.strip()
    parent = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo.path, capture_output=True, check=True).stdout.strip()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "x",
        "GIT_AUTHOR_EMAIL": "a@b.c",
        "GIT_COMMITTER_NAME": "c",
        "GIT_COMMITTER_EMAIL": "c@b.c",
    }
    raw = (
        b"tree " + tree + b"\nparent " + parent + b"\nauthor " + author + b" <a@b.c> 1700000000 +0000\n"
        b"committer c <c@b.c> 1700000000 +0000\n\n" + message
    )
    sha = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input=raw,
        capture_output=True,
        check=True,
        env=env,
    ).stdout.strip()
    subprocess.run(["git", "update-ref", "HEAD", sha], cwd=repo.path, check=True)


HOSTILE = [
    (b"Unit\x1fSeparator", b"subject with \x1e record separator\n"),
    (b"Esc \x1b[31mred\x1b[0m", b"\x1b]0;title\x07 bell\n"),
    (b"Bad \xff\xfe UTF-8", b"subject \xc3\x28 invalid\n"),
    (b"Tab\tand\rCR", b"first line\nsecond line\n\nbody \x00 with NUL\n"),
    (b"Del\x7f\x01\x02", b"\x0b\x0c\x1c\x1d\n"),
]


@pytest.mark.parametrize("author, message", HOSTILE, ids=range(len(HOSTILE)))
def test_history_survives_any_author_and_subject(repo, author: bytes, message: bytes):
    repo.set_release("production", stage="half")
    subprocess.run(["git", "add", "-A"], cwd=repo.path, check=True)
    _commit_raw(repo, author, message)
    result = repo.run("history", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "stage quarter -> half" in result.stdout
    # Control characters are shown escaped, never sent to the terminal.
    assert not any(ord(c) < 32 and c != "\n" or ord(c) == 127 for c in result.stdout)


def test_git_missing_from_path_is_named_as_such(repo, monkeypatch):
    monkeypatch.setenv("PATH", str(repo.path / "no-bin"))
    for args in (["history", "--stack", "production"], ["plan", "--stack", "production"]):
        result = repo.run(*args)
        assert result.exit_code == 1
        assert "git is not installed (or not on PATH)" in result.stderr
        assert "not inside a git repository" not in result.stderr
    status = repo.run("status", "--stack", "production")
    assert status.exit_code == 0
    assert "git is not installed" in status.stdout


BOMB = "".join(
    ["  stagewise:bomb:\n    a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"]
    + [f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)


@pytest.mark.parametrize("command", ["status", "promote", "plan", "history"])
def test_an_alias_bomb_is_refused_at_once_by_every_command(repo, command):
    text = repo.file("production").read_text().replace("config:\n", "config:\n" + BOMB, 1)
    repo.file("production").write_text(text)
    if command == "history":
        repo.commit("a bomb")
    started = time.monotonic()
    result = repo.run(command, "--stack", "production")
    assert time.monotonic() - started < 10
    if command == "history":  # history shows an unreadable version, it does not fail
        assert result.exit_code == 0 and "document contains excessive aliasing" in result.stdout
    else:
        assert result.exit_code == 1
        assert "document contains excessive aliasing" in result.stderr


def test_a_recursive_alias_is_a_message_not_a_recursion_error(repo):
    text = (
        repo.file("production")
        .read_text()
        .replace("config:\n", "config:\n  stagewise:loop: &loop\n    again: *loop\n", 1)
    )
    repo.file("production").write_text(text)
    result = repo.run("status", "--stack", "production")
    assert result.exit_code == 1
    assert "anchor 'loop' value contains itself" in result.stderr


@pytest.mark.parametrize("author, message", HOSTILE, ids=range(len(HOSTILE)))
def test_landed_commits_survive_any_author_and_subject_and_are_dated_by_their_committer(repo, author, message):
    from stagewise.tools import git

    repo.set_release("production", stage="half")
    subprocess.run(["git", "add", "-A"], cwd=repo.path, check=True)
    _commit_raw(repo, author, message)
    raw = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=repo.path, capture_output=True, check=True).stdout
    # Re-write the same commit landing an hour after it was authored, as a merge queue would.
    landed_raw = raw.replace(b"committer c <c@b.c> 1700000000 +0000", b"committer c <c@b.c> 1700003600 +0000")
    sha = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input=landed_raw,
        capture_output=True,
        check=True,
    ).stdout.strip()
    subprocess.run(["git", "update-ref", "HEAD", sha], cwd=repo.path, check=True)

    last = git.landed(repo.path, "Pulumi.production.yaml")[-1]
    assert last.sha == sha.decode()
    assert (last.date, last.committed) == ("2023-11-14T22:13:20+00:00", "2023-11-14T23:13:20+00:00")
