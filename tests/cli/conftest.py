"""A temporary git repository holding the project's Pulumi.yaml and stack files, and the CLI run in it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stagewise.formats import stackfile
from stagewise.formats.stackfile import StackText
from stagewise.tools import cli, evaluate, stackedit

ROOT = stackfile.project_root()
PROJECT_FILES = ["Pulumi.yaml", *sorted(p.name for p in ROOT.glob("Pulumi.*.yaml"))]
AZURE_STACKS = ["dev", "staging", "production"]


def git(cwd: Path, *args: str, author: str = "Test Author") -> str:
    result = subprocess.run(
        [
            "git",
            "-c",
            f"user.name={author}",
            "-c",
            "user.email=author@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@dataclass
class Repo:
    path: Path

    def run(self, *args: str) -> Any:
        return CliRunner().invoke(cli.app, list(args), env={"COLUMNS": "200"})

    def run_input(self, stdin: bytes, *args: str) -> Any:
        """The CLI run with `stdin` as its standard input."""
        return CliRunner().invoke(cli.app, list(args), input=stdin, env={"COLUMNS": "200"})

    def file(self, stack: str) -> Path:
        return self.path / f"Pulumi.{stack}.yaml"

    def read(self, stack: str) -> bytes:
        return self.file(stack).read_bytes()

    def commit(self, message: str, author: str = "Test Author") -> str:
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, author=author)
        return git(self.path, "rev-parse", "HEAD").strip()

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def set_release(self, stack: str, **values: str) -> None:
        """Put the stack's release in a known state (the shipped files move as rollouts go on)."""
        path = self.file(stack)
        path.write_text(stackedit.edit_release(path.read_text(), values))

    def plan(self, stack: str, *args: str) -> tuple[int, dict]:
        result = self.run("plan", "--stack", stack, "--json", *args)
        assert result.exit_code in (0, 2), result.output
        return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    # The local stack's program reads the local cluster's kubeconfig; under mocks any file will do.
    (tmp_path / ".cluster").mkdir()
    (tmp_path / ".cluster" / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    (tmp_path / ".gitignore").write_text(".cluster/\n")
    git(tmp_path, "init", "-q", "-b", "main")
    made = Repo(tmp_path)
    made.commit("Project and stack files")
    monkeypatch.chdir(tmp_path)
    return made


_EVALUATIONS: dict[tuple[str, str, str, str], evaluate.Evaluation] = {}


@pytest.fixture
def cached_evaluations(monkeypatch: pytest.MonkeyPatch) -> Callable[..., evaluate.Evaluation]:
    """Evaluate each distinct (project defaults, stack file) text once per session: an evaluation takes
    about a second and the stage walks meet the same files again and again. Returns the real, uncached
    evaluator of texts, for checks that two evaluations of the same text agree."""
    real = evaluate.evaluate_parsed

    def cached(
        project_defaults: Mapping[str, Any], parsed: StackText, stack: str, project: str = "stagewise"
    ) -> evaluate.Evaluation:
        key = (json.dumps(project_defaults, sort_keys=True, default=repr), parsed.text, stack, project)
        if key not in _EVALUATIONS:
            _EVALUATIONS[key] = real(project_defaults, parsed, stack, project)
        return _EVALUATIONS[key]

    monkeypatch.setattr(evaluate, "evaluate_parsed", cached)

    def uncached(project_text: str, stack_text: str, stack: str, project: str = "stagewise") -> evaluate.Evaluation:
        defaults = stackfile.project_defaults(project_text)
        return real(defaults, StackText.parse(stack_text, f"Pulumi.{stack}.yaml"), stack, project)

    return uncached
