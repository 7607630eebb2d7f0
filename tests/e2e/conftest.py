"""End-to-end fixtures: the real Pulumi engine against the local Kubernetes control plane.

Nothing here is mocked. The project is copied into a temporary git repository so that stage
commits and reverts never touch the working tree; state lives in a temporary file backend.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stagewise.tools.demo.workspace import copy_project

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "stagewise-local"
STACK = "local"
E2E_NAMESPACE = "stagewise-e2e"


def _toolchain_env() -> dict[str, str]:
    """The environment scripts/env.sh sets up (PATH with the pinned pulumi, PULUMI_HOME, ...)."""
    dump = subprocess.run(
        ["bash", "-c", ". scripts/env.sh >/dev/null && env -0"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
    if not shutil.which("pulumi", path=env["PATH"]):
        pytest.fail("no pulumi CLI: run scripts/toolchain.sh (make test does)")
    return env


@dataclass
class Project:
    """A throwaway copy of the project, deployed as the `local` stack (or a program's folder and its stack)."""

    path: Path
    env: dict[str, str]
    stack: str = STACK
    transcript: list[str] = field(default_factory=list)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(args, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=900)
        self.transcript += [result.stdout, result.stderr]
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("pulumi", *args, "--stack", self.stack, "--non-interactive", check=check)

    def stagewise(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(str(ROOT / ".venv" / "bin" / "stagewise"), *args, "--stack", self.stack)

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("bash", str(ROOT / "scripts" / "cluster.sh"), "kubectl", *args, check=check)

    def kube_json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("git", *args)

    @property
    def stack_file(self) -> Path:
        return self.path / f"Pulumi.{self.stack}.yaml"


# These copies' pods run on kwok's fake nodes: the engine's behaviour is under test here, not the
# containers' (test_traffic.py runs real ones, on the node the stack file names).
FAKE_NODES = "    nodeSelector:\n      type: kwok\n"
REAL_NODE = "    nodeSelector:\n      stagewise.dev/data-plane: real\n"


def _copy_project(dest: Path, namespace: str) -> None:
    """Copy the project to `dest`, its local stack deploying into `namespace`: a developer's own
    `make local` deployment (namespace stagewise-local) is never touched."""
    copy_project(ROOT, dest)
    local_stack_in(dest, namespace)


def local_stack_in(dest: Path, namespace: str) -> None:
    """Point the local stack of the project at `dest` at `namespace`, its pods on kwok's fake nodes."""
    stack_file = dest / f"Pulumi.{STACK}.yaml"
    text = stack_file.read_text()
    assert "  stagewise:kubernetes:\n" in text
    assert REAL_NODE in text
    text = text.replace(REAL_NODE, FAKE_NODES)
    stack_file.write_text(
        text.replace("  stagewise:kubernetes:\n", f"  stagewise:kubernetes:\n    namespace: {namespace}\n")
    )


def _cluster(command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "cluster.sh"), command], check=check, capture_output=not check
    )


@pytest.fixture(scope="session")
def cluster():
    """The local cluster, left as it was found: stopped again only if these tests started it."""
    was_running = _cluster("status", check=False).returncode == 0
    _cluster("start")
    yield
    if not was_running:
        _cluster("stop")


def project_env(path: Path, state: Path) -> dict[str, str]:
    """The engine's environment for the project copy at `path`, its state in the folder `state`."""
    return _toolchain_env() | {
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        # The copy's own code, not the working tree's (the virtualenv installs the latter).
        "PYTHONPATH": str(path),
        "GIT_AUTHOR_NAME": "Stagewise Tests",
        "GIT_AUTHOR_EMAIL": "tests@stagewise.invalid",
        "GIT_COMMITTER_NAME": "Stagewise Tests",
        "GIT_COMMITTER_EMAIL": "tests@stagewise.invalid",
    }


@pytest.fixture(scope="module")
def project(cluster, tmp_path_factory) -> Project:
    path = tmp_path_factory.mktemp("project")
    state = tmp_path_factory.mktemp("state")
    _copy_project(path, E2E_NAMESPACE)
    project = Project(path, project_env(path, state))
    project.git("init", "-q", "-b", "main")
    project.git("add", "-A")
    project.git("commit", "-qm", "Project as tested")
    project.pulumi("stack", "init")
    yield project
    project.pulumi("destroy", "--yes", "--skip-preview", check=False)
