"""The rollout commands on real stack files in a temporary git repository."""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from stagewise.core import rollout, stackconfig
from stagewise.formats import yamlv3
from stagewise.tools import processes, stackedit

STACKS = ["dev", "staging", "production", "local"]


def release(path: Path) -> dict:
    return YAML(typ="safe", pure=True).load(path.read_text())["config"]["stagewise:release"]


def catalog_names(repo, stack: str) -> list[str]:
    project = (repo.path / "Pulumi.yaml").read_text()
    return stackconfig.config_from_texts(project, repo.file(stack).read_text(), f"Pulumi.{stack}.yaml").catalog.names


def refused(repo, stack: str, *args: str) -> str:
    """Run a command that must be refused: exit 1, the stack file byte for byte as before."""
    before = repo.read(stack) if repo.file(stack).exists() else None
    result = repo.run(*args)
    assert result.exit_code == 1, result.output
    assert (repo.read(stack) if repo.file(stack).exists() else None) == before
    assert result.stdout == ""
    return result.stderr


def test_status_shows_colours_versions_traffic_next_stage_and_uncommitted_changes(repo):
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="quarter")
    repo.commit("production at quarter")
    result = repo.run("status", "--stack", "production")
    assert result.exit_code == 0, result.output
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]
    assert rows == [["blue", "live", "1.4.2", "75 %"], ["green", "candidate", "1.5.0", "25 %"]], result.stdout
    assert "stage: quarter (2 of 4: idle > canary > quarter > half > full)" in result.stdout
    assert "next stage: half (50 %)" in result.stdout
    assert "uncommitted changes to Pulumi.production.yaml: none" in result.stdout

    assert repo.run("promote", "--stack", "production").exit_code == 0
    after = repo.run("status", "--stack", "production").stdout
    assert "uncommitted changes to Pulumi.production.yaml: yes (not committed)" in after
    assert "next stage: full (100 %)" in after


def test_status_at_the_last_stage_and_outside_git(repo):
    repo.set_release("production", stage="full")
    (repo.path / ".git").rename(repo.path / "not-git")
    result = repo.run("status", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "next stage: none (last stage)" in result.stdout
    assert "next step: stagewise finish --stack production" in result.stdout
    assert "uncommitted changes to Pulumi.production.yaml: not in a git repository" in result.stdout


@pytest.mark.parametrize("stack", STACKS)
def test_promote_then_rollback_restores_the_file_byte_for_byte_at_every_stage(repo, stack):
    if not release(repo.file(stack)).get("green") or not release(repo.file(stack)).get("blue"):
        repo.set_release(stack, blue="1.0.0", green="2.0.0")
    names = catalog_names(repo, stack)
    for stage in names[:-1]:
        repo.set_release(stack, stage=stage)
        repo.commit(f"{stack} at {stage}")  # a guarded stack moves one stage past the committed one
        before = repo.read(stack)
        promoted = repo.run("promote", "--stack", stack)
        assert promoted.exit_code == 0, promoted.output
        assert release(repo.file(stack))["stage"] == names[names.index(stage) + 1]
        assert repo.run("rollback", "--stack", stack).exit_code == 0
        assert repo.read(stack) == before


def test_promote_reports_the_change_and_the_next_step(repo):
    repo.set_release("production", live="blue", stage="quarter")
    before = repo.file("production").read_text()
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "stagewise:release.stage: quarter -> half" in result.stdout
    assert "traffic: blue 75 % -> 50 %, green 25 % -> 50 %" in result.stdout
    assert "pulumi preview --stack production" in result.stdout
    assert repo.file("production").read_text() == before.replace("    stage: quarter\n", "    stage: half\n")


def test_promote_parses_each_text_once(repo, monkeypatch):
    """Pulumi.yaml once; the stack file once as read and once as edited (the editor's round trip
    parses it with its own loader besides)."""
    repo.set_release("production", live="blue", stage="quarter")
    real_load, read = yamlv3.load, []
    monkeypatch.setattr(yamlv3, "load", lambda text: read.append(text) or real_load(text))
    assert repo.run("promote", "--stack", "production").exit_code == 0
    project, after = (repo.path / "Pulumi.yaml").read_text(), repo.file("production").read_text()
    assert sorted(read) == sorted([project, after.replace("stage: half", "stage: quarter"), after])


def test_production_refuses_to_skip_a_stage_without_force(repo):
    repo.set_release("production", stage="canary")
    error = refused(repo, "production", "promote", "--to", "full", "--stack", "production")
    assert "skips quarter, half" in error and "--force" in error
    forced = repo.run("promote", "--to", "full", "--force", "--stack", "production")
    assert forced.exit_code == 0, forced.output
    assert release(repo.file("production"))["stage"] == "full"
    assert "skipped: quarter, half" in forced.stdout


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_other_environments_may_skip_stages_by_naming_the_target(repo, stack):
    repo.set_release(stack, blue="1.0.0", green="2.0.0", stage="idle")
    result = repo.run("promote", "--to", "half", "--stack", stack)
    assert result.exit_code == 0, result.output
    assert release(repo.file(stack))["stage"] == "half"
    assert "skipped: canary, early" in result.stdout


def test_skipping_is_decided_by_the_environment_not_the_stack_name(repo):
    # A second production stack under another name gets the same protection.
    repo.file("production").rename(repo.file("prod-eu"))
    repo.set_release("prod-eu", stage="canary")
    assert "--force" in refused(repo, "prod-eu", "promote", "--to", "half", "--stack", "prod-eu")


def test_promote_does_not_move_backwards_or_past_the_end(repo):
    repo.set_release("production", stage="half")
    assert "use rollback" in refused(repo, "production", "promote", "--to", "canary", "--stack", "production")
    repo.set_release("production", stage="full")
    assert "run finish" in refused(repo, "production", "promote", "--stack", "production")


def test_deploy_sets_the_candidate_only_at_idle(repo):
    repo.set_release("staging", live="green", blue="1.4.2", green="1.5.0", stage="idle")
    result = repo.run("deploy", "1.6.0", "--stack", "staging")
    assert result.exit_code == 0, result.output
    assert "stagewise:release.blue: 1.4.2 -> 1.6.0" in result.stdout
    assert release(repo.file("staging")) == {
        "image": "stagewise/demo-app",
        "blue": "1.6.0",
        "green": "1.5.0",
        "live": "green",
        "stage": "idle",
    }
    assert repo.run("promote", "--stack", "staging").exit_code == 0
    assert "only at stage 'idle'" in refused(repo, "staging", "deploy", "1.7.0", "--stack", "staging")


def test_deploy_adds_a_missing_colour_and_quotes_numeric_tags(repo):
    repo.set_release("dev", live="blue", stage="idle")
    repo.file("dev").write_text(re.sub(r"(?m)^    green: .*\n", "", repo.file("dev").read_text()))
    assert "green" not in release(repo.file("dev"))
    result = repo.run("deploy", "2.0", "--stack", "dev")
    assert result.exit_code == 0, result.output
    assert release(repo.file("dev"))["green"] == "2.0"
    assert "    green: '2.0'\n" in repo.file("dev").read_text()


@pytest.mark.parametrize("tag", ["", "has space", "a:b", "-leading-dash", "x" * 129])
def test_deploy_refuses_what_is_not_an_image_tag(repo, tag):
    repo.set_release("dev", stage="idle")
    assert "not an image tag" in refused(repo, "dev", "deploy", "--stack", "dev", "--", tag)


def test_finish_swaps_the_live_colour_only_at_full(repo):
    repo.set_release("production", live="blue", stage="half")
    assert "only at 100 %" in refused(repo, "production", "finish", "--stack", "production")
    repo.set_release("production", stage="full")
    result = repo.run("finish", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert (release(repo.file("production"))["live"], release(repo.file("production"))["stage"]) == ("green", "idle")
    assert "stagewise:release.live: blue -> green" in result.stdout


def test_abort_returns_to_idle_and_refuses_at_idle(repo):
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="half")
    result = repo.run("abort", "--stack", "production")
    assert result.exit_code == 0
    assert release(repo.file("production"))["stage"] == "idle"
    # The aborted version runs nowhere: the candidate colour runs the live version again.
    assert release(repo.file("production"))["green"] == "1.4.2"
    assert "stagewise:release.green: 1.5.0 -> 1.4.2" in result.stdout
    assert "already at 'idle'" in refused(repo, "production", "abort", "--stack", "production")
    assert "nothing to roll back" in refused(repo, "production", "rollback", "--stack", "production")


def test_the_stack_file_keeps_its_mode_and_no_temporary_file_is_left(repo):
    repo.file("production").chmod(0o600)
    assert repo.run("promote", "--stack", "production").exit_code == 0
    assert stat.S_IMODE(repo.file("production").stat().st_mode) == 0o600
    assert not [p for p in os.listdir(repo.path) if p.endswith(".tmp")]


# Bad input: a clear error, exit 1, the file untouched.


def test_unknown_stack_suggests_the_closest(repo):
    error = refused(repo, "prodution", "promote", "--stack", "prodution")
    assert "unknown stack 'prodution'" in error and "did you mean 'production'?" in error
    assert "stacks here: dev, " in error and "production" in error.split("stacks here:")[1]


def test_missing_project_file(repo, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("empty"))
    result = repo.run("status", "--stack", "dev")
    assert result.exit_code == 1
    assert "no Pulumi.yaml found" in result.stderr


def test_malformed_yaml(repo):
    repo.file("production").write_text("config:\n  stagewise:release: [unclosed\n")
    assert "not valid YAML" in refused(repo, "production", "promote", "--stack", "production")


def test_unknown_stage_in_the_file(repo):
    repo.set_release("production", stage="quater")
    error = refused(repo, "production", "promote", "--stack", "production")
    assert "stagewise:release: unknown stage 'quater'" in error
    assert "idle, canary, quarter, half, full" in error


def test_a_stage_name_typo_on_to_suggests_the_closest(repo):
    repo.set_release("production", stage="canary")
    error = refused(repo, "production", "promote", "--to", "hlaf", "--stack", "production")
    assert "unknown stage 'hlaf'; did you mean 'half'?" in error
    assert "no-such" in refused(repo, "production", "promote", "--to", "no-such", "--stack", "production")


def test_config_errors_print_every_problem_line(repo):
    text = repo.file("production").read_text()
    broken = re.sub(r"jwt-secret:\n +secure: \S+", "jwt-secret: in-plain-text", text)
    broken = broken.replace("stagewise:costCentre: cc-4200", "stagewise:costCentre: ''")
    repo.file("production").write_text(broken)
    error = refused(repo, "production", "promote", "--stack", "production")
    problems = [line for line in error.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2, error
    assert any("stagewise:costCentre" in p for p in problems)
    assert any("jwt-secret" in p and "plain text" in p for p in problems)


def test_the_file_changed_between_read_and_write(repo, monkeypatch):
    real_edit = stackedit.edit
    someone_else = b"# someone else's edit\n"

    def edit_while_someone_else_writes(text, document, values):
        edited = real_edit(text, document, values)
        repo.file("production").write_bytes(repo.read("production") + someone_else)
        return edited

    monkeypatch.setattr(stackedit, "edit", edit_while_someone_else_writes)
    before = repo.read("production")
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 1
    assert "changed on disk" in result.stderr
    assert repo.read("production") == before + someone_else


def test_a_failed_write_leaves_the_file_and_no_temporary_file(repo, monkeypatch):
    def refuse(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(os, "replace", refuse)
    error = refused(repo, "production", "promote", "--stack", "production")
    assert error.startswith("error: Permission denied: ") and "Pulumi.production.yaml" in error
    assert sorted(p.name for p in repo.path.iterdir() if p.is_file()) == sorted(
        [".gitignore", "Pulumi.yaml", *(p.name for p in repo.path.glob("Pulumi.*.yaml"))]
    )


def test_a_result_the_program_would_refuse_is_never_written(repo, monkeypatch):
    # The rollout model never produces one; this guards against a model that someday does.
    monkeypatch.setattr(
        rollout,
        "rollback",
        lambda release, catalog: rollout.Release(release.image, release.blue, release.green, "purple", release.stage),
    )
    repo.set_release("production", stage="half")
    error = refused(repo, "production", "rollback", "--stack", "production")
    assert "config the program refuses; nothing was written" in error
    assert "stagewise:release.live" in error


def test_usage_errors_exit_1_so_that_2_only_means_changes(repo):
    result = repo.run("plan", "--stack", "production", "--no-such-option")
    assert result.exit_code == 1
    assert "choose one of --json and --markdown" in refused(
        repo, "production", "plan", "--json", "--markdown", "--stack", "production"
    )


# The default stack.


def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")


def test_default_stack_is_the_selected_pulumi_stack(repo, tmp_path_factory, monkeypatch):
    fake_pulumi(tmp_path_factory.mktemp("fake"), monkeypatch, 'echo "staging"')
    assert processes.default_stack(repo.path) == "staging"
    result = repo.run("status")
    assert result.exit_code == 0, result.output
    assert "staging (staging)" in result.stdout


@pytest.mark.parametrize(
    "script",
    [
        "exit 255",
        "echo 'no stack selected' >&2; exit 1",
        "echo 'two words'",
        "echo",
        "sleep 5",
        "sleep 5; echo staging",
    ],
)
def test_default_stack_falls_back_to_dev(repo, tmp_path_factory, monkeypatch, script):
    monkeypatch.setattr(processes, "PULUMI_LOOKUP_TIMEOUT_SECONDS", 0.5)
    fake_pulumi(tmp_path_factory.mktemp("fake"), monkeypatch, script)
    started = time.monotonic()
    assert processes.default_stack(repo.path) == "dev"
    assert time.monotonic() - started < 3


def test_default_stack_from_a_fully_qualified_name(repo, tmp_path_factory, monkeypatch):
    fake_pulumi(tmp_path_factory.mktemp("fake"), monkeypatch, 'echo "acme/stagewise/production"')
    assert processes.default_stack(repo.path) == "production"


def test_default_stack_without_pulumi_is_dev(repo, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("nothing")))
    assert processes.default_stack(repo.path) == "dev"
