"""A scratch copy of the project, deployed as the `local` stack in a namespace of its own.

Rollouts commit to git (a stage is a commit; the gate's verdict is a bot commit), so they are played
in a copy with a git repository and a Pulumi state of its own, never in the user's checkout. The
copy shares the checkout's virtualenv and local cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stagewise.formats import facts

STACK = "local"
PASSPHRASE = facts.LOCAL_PASSPHRASE
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
PEOPLE = ("Stagewise Demo", "demo@stagewise.invalid")
# The lines of Pulumi.local.yaml a copy rewrites: they must stay as written there.
KUBERNETES_KEY = "  stagewise:kubernetes:\n"
HOSTNAME_LINE = "    hostname: demo.stagewise.localhost\n"


def copy_project(root: Path, dest: Path) -> None:
    """The project's files as git sees them (tracked, and new ones not ignored) copied to `dest`; the
    virtualenv and the local cluster's state linked, as they are the checkout's own."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_symlink():  # stagewise/components -> ../components: the copy links its own folder
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).symlink_to(os.readlink(source))
        elif source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    share_checkout(root, dest)


def share_checkout(root: Path, dest: Path) -> None:
    """Link the checkout's virtualenv and local cluster state into the project copy at `dest`."""
    (dest / ".venv").symlink_to(root / ".venv")
    (dest / ".cluster").symlink_to(root / ".cluster")


class WorkspaceError(Exception):
    """A step of the rollout failed: the message names the command and its output."""


@dataclass
class Workspace:
    root: Path
    """The project this is a copy of (its .venv and .cluster are shared)."""
    path: Path
    namespace: str
    hostname: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls, root: Path, path: Path, *, namespace: str, hostname: str, analysis: dict[str, str] | None = None
    ) -> Workspace:
        """Copy the project's tracked files to `path`, point its local stack at `namespace` and `hostname`
        (plus `analysis` keys under stagewise:analysis), and commit it as the first commit."""
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        copy_project(root, path)
        stack_file = path / f"Pulumi.{STACK}.yaml"
        text = stack_file.read_text()
        if KUBERNETES_KEY not in text or HOSTNAME_LINE not in text:
            raise WorkspaceError(
                f"{stack_file.name} no longer has {KUBERNETES_KEY.strip()!r} and {HOSTNAME_LINE.strip()!r}"
            )
        extra = "".join(f"    {key}: {value}\n" for key, value in (analysis or {}).items())
        text = text.replace(HOSTNAME_LINE, f"    hostname: {hostname}\n").replace(
            KUBERNETES_KEY,
            (f"  stagewise:analysis:\n{extra}" if extra else "") + f"{KUBERNETES_KEY}    namespace: {namespace}\n",
        )
        stack_file.write_text(text)
        (path / ".state").mkdir()
        env = dict(os.environ) | {
            "PULUMI_BACKEND_URL": f"file://{path / '.state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PYTHONPATH": str(path),  # the copy's own code
            "GIT_AUTHOR_NAME": PEOPLE[0],
            "GIT_AUTHOR_EMAIL": PEOPLE[1],
            "GIT_COMMITTER_NAME": PEOPLE[0],
            "GIT_COMMITTER_EMAIL": PEOPLE[1],
        }
        workspace = cls(root, path, namespace, hostname, env)
        workspace.run("git", "init", "-q", "-b", "main")
        workspace.run("git", "add", "-A")
        workspace.run("git", "commit", "-qm", "Project as copied for the rollout")
        workspace.pulumi("stack", "init")
        return workspace

    @property
    def url(self) -> str:
        return f"http://{self.hostname}/"

    @property
    def stack_file(self) -> Path:
        return self.path / f"Pulumi.{STACK}.yaml"

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(args, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise WorkspaceError(f"{' '.join(args)} did not finish within {timeout:g} s") from None
        if check and result.returncode != 0:
            raise WorkspaceError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("pulumi", *args, "--stack", STACK, "--non-interactive", check=check)

    def stagewise(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.root / ".venv" / "bin" / "stagewise"), *args, "--stack", STACK, check=check)

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("bash", str(self.root / "scripts" / "cluster.sh"), "kubectl", "-n", self.namespace, *args)

    def commit(self, message: str, *, bot: bool = False) -> str:
        """Commit the stack file's change (as the gate's bot when `bot`); returns the commit id."""
        env = dict(self.env)
        if bot:
            env |= {
                "GIT_AUTHOR_NAME": BOT[0],
                "GIT_AUTHOR_EMAIL": BOT[1],
                "GIT_COMMITTER_NAME": BOT[0],
                "GIT_COMMITTER_EMAIL": BOT[1],
            }
        subprocess.run(["git", "commit", "-qam", message], cwd=self.path, env=env, check=True, capture_output=True)
        return self.run("git", "rev-parse", "HEAD").stdout.strip()

    def git_log_subject(self) -> str:
        return self.run("git", "log", "-1", "--format=%s").stdout.strip()

    def git_log_author(self) -> str:
        return self.run("git", "log", "-1", "--format=%an").stdout.strip()

    def up(self) -> float:
        """`pulumi up`; returns when it finished (epoch seconds)."""
        self.pulumi("up", "--yes", "--skip-preview")
        return time.time()

    def route_shares(self) -> dict[str, int]:
        """The HTTPRoute's backend weights, by Service name, as the cluster holds them."""
        route = json.loads(self.kubectl("get", "httproutes", "-o", "json").stdout)
        (item,) = route["items"]
        (rule,) = item["spec"]["rules"]
        return {ref["name"]: ref["weight"] for ref in rule["backendRefs"]}

    def wait_rolled_out(self, timeout: int = 180) -> None:
        """Both colours' Deployments have every pod updated and ready."""
        for deployment in self.outputs()["deployments"].values():
            self.kubectl("rollout", "status", f"deployment/{deployment}", f"--timeout={timeout}s")

    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.pulumi("stack", "output", "--json").stdout))

    def destroy(self) -> None:
        self.pulumi("destroy", "--yes", "--skip-preview", check=False)
