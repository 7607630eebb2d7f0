"""Stack files that are not plain files, files being edited by two commands at once, and the
bytes an edit keeps."""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_commands import refused, release
from typer.testing import CliRunner

from stagewise.core import rollout, stackconfig
from stagewise.tools import cli, safefile, stackedit


def stage(path: Path) -> str:
    return release(path)["stage"]


# Files that are not plain files.


def test_a_symlinked_stack_file_is_edited_through_the_link(repo):
    target_dir = repo.path / "stacks"
    target_dir.mkdir()
    target = target_dir / "production.yaml"
    repo.file("production").rename(target)
    repo.file("production").symlink_to(Path("stacks") / "production.yaml")
    assert repo.run("promote", "--stack", "production").exit_code == 0
    assert repo.file("production").is_symlink()
    assert stage(target) == "half"
    assert sorted(os.listdir(target_dir)) == ["production.yaml"]


def test_a_dangling_symlink_is_named_as_such(repo):
    repo.file("production").unlink()
    repo.file("production").symlink_to("nowhere.yaml")
    error = refused(repo, "production", "promote", "--stack", "production")
    assert "Pulumi.production.yaml is a symbolic link to nowhere.yaml, which does not exist" in error


def test_a_directory_is_named_as_such(repo):
    repo.file("production").unlink()
    repo.file("production").mkdir()
    result = repo.run("status", "--stack", "production")
    assert result.exit_code == 1
    assert "Pulumi.production.yaml is a directory, not a stack file" in result.stderr


def test_a_fifo_is_named_as_such_and_never_opened(repo):
    repo.file("production").unlink()
    os.mkfifo(repo.file("production"))
    started = time.monotonic()
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 1
    assert "Pulumi.production.yaml is a named pipe (FIFO), not a stack file" in result.stderr
    assert time.monotonic() - started < 5


def test_a_read_only_stack_file_is_refused_and_left_alone(repo):
    repo.file("production").chmod(0o444)
    error = refused(repo, "production", "promote", "--stack", "production")
    assert "Pulumi.production.yaml is read-only (mode 0444)" in error
    assert stat.S_IMODE(repo.file("production").stat().st_mode) == 0o444


def test_a_hard_linked_stack_file_is_refused_so_no_name_goes_stale(repo):
    other = repo.path / "production-copy.yaml"
    os.link(repo.file("production"), other)
    error = refused(repo, "production", "promote", "--stack", "production")
    assert "has 2 hard links" in error
    assert os.path.samefile(repo.file("production"), other)


# Two commands at once.


def test_a_command_waits_for_another_one_editing_the_file(repo, monkeypatch):
    monkeypatch.setattr(safefile, "LOCK_TIMEOUT_SECONDS", 10.0)
    locked, release_lock = threading.Event(), threading.Event()

    def hold() -> None:
        with safefile.editing(repo.file("production")):
            locked.set()
            release_lock.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    threading.Timer(0.5, release_lock.set).start()
    started = time.monotonic()
    result = repo.run("promote", "--stack", "production")
    holder.join(10)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.4
    assert stage(repo.file("production")) == "half"


def test_a_command_gives_up_with_a_message_when_the_file_stays_locked(repo, monkeypatch):
    monkeypatch.setattr(safefile, "LOCK_TIMEOUT_SECONDS", 0.5)
    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(repo.file("production"), ready, done))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        error = refused(repo, "production", "abort", "--stack", "production")
        assert time.monotonic() - started < 5
        assert "another command is editing Pulumi.production.yaml" in error and "waited 0.5 s" in error
    finally:
        done.set()
        holder.join(10)


def _hold_lock(path: Path, ready, done) -> None:
    with safefile.editing(path):
        ready.set()
        done.wait(20)


COMMANDS = {
    "promote": lambda r, c: rollout.promote(r, c),
    "abort": lambda r, c: rollout.abort(r, c),
    "rollback": lambda r, c: rollout.rollback(r, c),
    "deploy": lambda r, c: rollout.deploy(r, c, "9.9.9"),
}


def _serial_outcomes(release_: rollout.Release, catalog: rollout.Catalog, first: str, second: str):
    """Final state and exit codes if `first` ran entirely before `second` (on production: at most one
    stage past the committed one, `release_`'s)."""
    codes, state = [], release_
    for name in (first, second):
        try:
            after = COMMANDS[name](state, catalog)
            if name == "promote":
                rollout.committed_step(release_.stage, after, catalog)
            state = after
            codes.append(0)
        except rollout.RolloutError:
            codes.append(1)
    return state, codes


# Where the CLI's edit path can be slowed: after the file is read (the edit of its text) and between the
# last check that it is unchanged and the rename. test_the_race_tests_delays_are_on_the_commands_path
# fails if a command stops calling either, so that the race test cannot quietly stop probing.
def _slowed(after_read: float, before_rename: float, calls: list[str] | None = None) -> None:
    real_edit, real_unchanged = stackedit.edit, safefile.unchanged_on_disk

    def slow_edit(text, document, values):
        if calls is not None:
            calls.append("edit")
        time.sleep(after_read)
        return real_edit(text, document, values)

    def slow_check(snapshot):
        if calls is not None:
            calls.append("unchanged_on_disk")
        unchanged = real_unchanged(snapshot)
        time.sleep(before_rename)
        return unchanged

    stackedit.edit, safefile.unchanged_on_disk = slow_edit, slow_check


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_race_tests_delays_are_on_the_commands_path(repo, monkeypatch, command):
    monkeypatch.setattr(stackedit, "edit", stackedit.edit)
    monkeypatch.setattr(safefile, "unchanged_on_disk", safefile.unchanged_on_disk)
    repo.set_release("production", stage="canary", green="1.5.0", blue="1.4.2", live="blue")
    repo.commit("production at canary")
    calls: list[str] = []
    _slowed(0.0, 0.0, calls)
    args = [command] + (["9.9.9"] if command == "deploy" else []) + ["--stack", "production"]
    if command == "deploy":
        repo.run("abort", "--stack", "production")
        calls.clear()
    result = repo.run(*args)
    assert result.exit_code == 0, result.output
    assert calls == ["edit", "unchanged_on_disk"], calls


def _run_delayed(root: str, command: str, delays: tuple[float, float, float], results) -> None:
    """A CLI command in its own process, slowed down at the three places where a race can hide."""
    os.chdir(root)
    start, after_read, before_rename = delays
    _slowed(after_read, before_rename)
    time.sleep(start)
    args = [command] + (["9.9.9"] if command == "deploy" else []) + ["--stack", "production"]
    outcome = CliRunner().invoke(cli.app, args)
    results[command + str(delays)] = outcome.exit_code
    results["output" + command + str(delays)] = outcome.output


delay = st.sampled_from([0.0, 0.01, 0.05, 0.1])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.sampled_from(["idle", "canary", "quarter", "half"]),
    pair=st.sampled_from(
        [
            ("promote", "abort"),
            ("abort", "promote"),
            ("promote", "promote"),
            ("rollback", "abort"),
            ("deploy", "promote"),
            ("abort", "abort"),
        ]
    ),
    delays=st.tuples(st.tuples(delay, delay, delay), st.tuples(delay, delay, delay)),
)
def test_two_writers_in_two_processes_never_lose_an_update(repo, start, pair, delays):
    repo.set_release("production", stage=start, green="1.5.0", blue="1.4.2", live="blue")
    repo.commit(f"production at {start}")
    project = (repo.path / "Pulumi.yaml").read_text()
    config = stackconfig.config_from_texts(project, repo.file("production").read_text(), "Pulumi.production.yaml")
    if pair[0] == pair[1]:
        delays = (delays[0], delays[0][:2] + (delays[0][2] + 0.001,))  # two distinct result keys
    manager = multiprocessing.Manager()
    results = manager.dict()
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_run_delayed, args=(str(repo.path), c, d, results)) for c, d in zip(pair, delays)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    codes = [results[c + str(d)] for c, d in zip(pair, delays)]
    final = stackconfig.config_from_texts(project, repo.file("production").read_text(), "Pulumi.production.yaml")
    possible = []
    for first in (0, 1):
        order = (pair[first], pair[1 - first])
        state, serial_codes = _serial_outcomes(config.rollout_release, config.catalog, *order)
        possible.append((state, serial_codes if first == 0 else serial_codes[::-1]))
    outputs = [results["output" + c + str(d)] for c, d in zip(pair, delays)]
    assert (final.rollout_release, codes) in possible, (pair, delays, codes, final.release, outputs)
    manager.shutdown()


# The bytes an edit keeps.


def test_mixed_line_endings_are_kept_line_by_line(repo):
    lines = repo.read("production").decode().splitlines(keepends=True)
    mixed = "".join(
        line.replace("\n", "\r\n") if i % 3 == 0 or "stage:" in line else line for i, line in enumerate(lines)
    )
    repo.file("production").write_bytes(mixed.encode())
    assert repo.run("promote", "--stack", "production").exit_code == 0
    after = repo.read("production").decode().splitlines(keepends=True)
    before = mixed.splitlines(keepends=True)
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(after) == len(before)
    assert [(a.strip(), b.strip()) for a, b in changed] == [("stage: quarter", "stage: half")]
    assert changed[0][0].endswith("\r\n") == changed[0][1].endswith("\r\n")


@pytest.mark.parametrize(
    "dress",
    [
        lambda t: "\ufeff" + t,
        lambda t: t.rstrip("\n"),
        lambda t: t.replace("stagewise:owner: platform-team", "stagewise:owner: platform-team   "),
    ],
    ids=["bom", "no-final-newline", "trailing-spaces"],
)
def test_a_bom_a_missing_final_newline_and_trailing_spaces_are_kept(repo, dress):
    text = dress(repo.read("production").decode())
    repo.file("production").write_bytes(text.encode())
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert repo.read("production").decode() == text.replace("stage: quarter", "stage: half")


def test_a_layout_that_cannot_be_kept_names_the_line(repo):
    text = (
        repo.read("production").decode().replace("stagewise:owner: platform-team", "stagewise:owner:    platform-team")
    )
    repo.file("production").write_bytes(text.encode())
    line = text.splitlines().index("  stagewise:owner:    platform-team") + 1
    error = refused(repo, "production", "promote", "--stack", "production")
    assert f"line {line}" in error and "stagewise:owner:    platform-team" in error
    assert "indentation or spacing" not in error
