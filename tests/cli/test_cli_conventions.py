"""The command-line conventions every command follows: -h, --version, plain flags, an example and the
exit codes in each help, JSON where a person would script, typo suggestions, a next step that runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from stagewise.tools import cli, helptext

COMMANDS = sorted(typer.main.get_group(cli.app).commands)


def test_every_command_has_an_example_and_its_exit_codes():
    assert sorted(helptext.EPILOGS) == sorted(set(helptext.EPILOGS) | set(COMMANDS))
    missing = [c for c in COMMANDS if c not in helptext.EPILOGS]
    assert not missing, f"commands without an example and exit codes in stagewise/tools/helptext.py: {missing}"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_with_h_shows_the_example_and_exit_codes_and_no_bool(repo, command):
    result = repo.run(command, "-h")
    assert result.exit_code == 0, result.output
    assert f"stagewise {command}" in result.stdout
    assert "Example:" in result.stdout and "Exit codes:" in result.stdout
    assert "<bool>" not in result.stdout


def test_the_command_list_shows_each_commands_first_sentence_on_one_line():
    group = typer.main.get_group(cli.app)
    with group.make_context("stagewise", ["-h"], resilient_parsing=True) as ctx:
        short = {name: group.get_command(ctx, name).short_help for name in COMMANDS}
    assert short["promote"] == "Move the candidate to the next stage (or to --to)."
    assert all(text and "\n" not in text and len(text) < 240 for text in short.values()), short


def test_main_help_and_version(repo):
    result = repo.run("-h")
    assert result.exit_code == 0 and "<bool>" not in result.stdout and "--version" in result.stdout
    version = repo.run("--version")
    assert version.exit_code == 0
    assert version.stdout.startswith("stagewise ") and version.stdout.split()[1][0].isdigit()


def test_a_stack_typo_suggests_the_stack_it_begins(repo):
    result = repo.run("status", "-s", "prod")
    assert result.exit_code == 1
    assert "unknown stack 'prod'" in result.stderr and "did you mean 'production'?" in result.stderr


def test_a_stage_typo_suggests_the_closest(repo):
    result = repo.run("promote", "--to", "canery", "--stack", "production")
    assert result.exit_code == 1
    assert "unknown stage 'canery'; did you mean 'canary'?" in result.stderr


def test_a_stage_typo_in_replay_suggests_the_closest(repo, tmp_path):
    recording = tmp_path / "recorded.json"
    recording.write_text("{}")
    result = repo.run("replay", str(recording), "--stage", "canery", "--stack", "production")
    assert result.exit_code == 1
    assert "unknown stage 'canery'; did you mean 'canary'?" in result.stderr


# The next step, pasted into a shell.


def _shell(repo, line: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-c", line],
        cwd=repo.path,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _next_step(repo, stack: str) -> str:
    result = repo.run("status", "--offline", "--stack", stack)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("next step: ")]
    assert len(lines) == 1, result.stdout
    return lines[0].removeprefix("next step: ")


def test_the_next_step_runs_when_pasted(repo):
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="canary")
    promote = _next_step(repo, "production")
    ran = _shell(repo, promote)
    assert ran.returncode == 0, ran.stderr
    assert "promote canary -> quarter" in ran.stdout
    assert "stage: quarter" in repo.run("status", "--offline", "--stack", "production").stdout


def test_the_deploy_step_asks_for_the_tag_and_runs_with_it(repo):
    repo.set_release("production", blue="1.4.2", green="1.4.2", live="blue", stage="idle")
    deploy = _next_step(repo, "production")
    before = repo.read("production")
    unset = _shell(repo, deploy, TAG="")
    assert unset.returncode != 0 and "set TAG to the version to deploy" in unset.stderr
    assert repo.read("production") == before
    ran = _shell(repo, deploy, TAG="1.6.0")
    assert ran.returncode == 0, ran.stderr
    assert "stagewise:release.green: 1.4.2 -> 1.6.0" in ran.stdout


# JSON.


def test_status_json_offline_is_the_stack_file(repo):
    repo.set_release("production", blue="1.4.2", green="1.5.9", live="blue", stage="quarter")
    result = repo.run("status", "--offline", "--json", "--stack", "production")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "stagewise.status/v1"
    assert doc["stage"]["name"] == "quarter" and doc["stage"]["next"] == {"name": "half", "weight": 50}
    assert doc["colours"] == {
        "blue": {"role": "live", "version": "1.4.2", "traffic": 75},
        "green": {"role": "candidate", "version": "1.5.9", "traffic": 25},
    }
    assert doc["uncommitted"] == "modified"
    assert doc["applied"] is None and doc["gate"] is None
    assert doc["next"] == "stagewise promote --stack production  # to half, 50 %"


def _fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: dict | None, code: int = 0) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "export.json").write_text(json.dumps(export))
    exe = bin_dir / "pulumi"
    if code:
        exe.write_text(f"#!/bin/sh\necho 'error: no stack named local found' >&2\nexit {code}\n")
    else:
        exe.write_text(f"#!/bin/sh\ncat '{bin_dir / 'export.json'}'\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def _export(traffic: dict) -> dict:
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-12-07T10:00:00Z"},
            "resources": [
                {"urn": "urn:pulumi:local::stagewise::pulumi:pulumi:Stack::stagewise-local", "type": "pulumi:pulumi:Stack",
                 "outputs": {"traffic": traffic, "url": "http://demo.stagewise.localhost/"}},
            ],
        },
    }  # fmt: skip


def test_status_json_marks_applied_weights_that_differ_from_the_file(repo, tmp_path_factory, monkeypatch):
    # The stack file is at canary (10 %); the last `pulumi up` applied idle.
    _fake_pulumi(tmp_path_factory.mktemp("fake"), monkeypatch, _export({"blue": 100, "green": 0}))
    repo.set_release("local", blue="1.4.2", green="1.5.0", live="blue", stage="canary")
    repo.commit("local at canary")
    result = repo.run("status", "--json", "--stack", "local")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["applied"] == {
        "source": "pulumi stack export",
        "traffic": {"blue": 100, "green": 0},
        "at": "2026-12-07T10:00:00Z",
        "differs": True,
        "error": None,
    }
    shown = repo.run("status", "--stack", "local")
    assert "last pulumi up applied other weights" in shown.stdout
    assert "100 % *" in shown.stdout


def test_status_says_when_the_engine_state_cannot_be_read(repo, tmp_path_factory, monkeypatch):
    _fake_pulumi(tmp_path_factory.mktemp("fake"), monkeypatch, None, code=255)
    result = repo.run("status", "--json", "--stack", "local")
    assert result.exit_code == 0, result.output
    applied = json.loads(result.stdout)["applied"]
    assert applied["traffic"] is None
    assert applied["error"] == "pulumi stack export failed: error: no stack named local found"


def test_history_json(repo):
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="idle")
    repo.commit("deploy 1.5.0")
    assert repo.run("promote", "--stack", "production").exit_code == 0
    repo.commit("promote to canary")
    result = repo.run("history", "--json", "--stack", "production")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["stack"] == "production" and doc["file"] == "Pulumi.production.yaml"
    last = doc["steps"][-1]
    assert last["action"] == "promote"
    assert last["commit"]["subject"] == "promote to canary" and len(last["commit"]["sha"]) == 40
    assert (last["before"]["stage"], last["after"]["stage"], last["after"]["weight"]) == ("idle", "canary", 5)
    assert last["after"]["traffic"] == {"blue": 95, "green": 5}


# validate.


def test_validate_a_valid_file(repo):
    for stack in ("dev", "staging", "production", "local"):
        result = repo.run("validate", "--stack", stack)
        assert result.exit_code == 0, result.output
        assert result.stdout == f"Pulumi.{stack}.yaml: valid\n"


def test_validate_prints_every_problem(repo):
    path = repo.file("dev")
    text = path.read_text()
    extra = "stagewise:environment: dev\n  stagewise:logLevel: loud\n  stagewise:colour: teal"
    text = text.replace("stagewise:environment: dev", extra)
    path.write_text(text)
    result = CliRunner().invoke(cli.app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Pulumi.dev.yaml: 2 problem(s):" in result.stderr
    assert "stagewise:logLevel" in result.stderr and "stagewise:colour: unknown key" in result.stderr
    assert result.stdout == ""


def test_validate_refuses_what_it_cannot_read(repo):
    result = repo.run("validate", "Pulumi.nothing.yaml")
    assert result.exit_code == 1 and "Pulumi.nothing.yaml" in result.stderr and "Traceback" not in result.output
    (repo.path / "Pulumi.broken.yaml").write_text("config: [\n")
    broken = repo.run("validate", "Pulumi.broken.yaml")
    assert broken.exit_code == 1 and "Pulumi.broken.yaml: 1 problem(s):" in broken.stderr
    typo = repo.run("validate", "--stack", "stagin")
    assert typo.exit_code == 1 and "did you mean 'staging'?" in typo.stderr
