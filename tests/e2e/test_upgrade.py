"""A stack deployed by an earlier release is previewed by this one: where code moved (the component,
policy and program sources into the `stagewise` package, issue 19), no resource may be replaced,
deleted or created anew, which is what a changed type token, parent or name would plan."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from stagewise.tools.demo.workspace import share_checkout
from tests.e2e.conftest import ROOT, Project, _copy_project, local_stack_in, project_env

# The last commit before the sources moved under the `stagewise` namespace.
BEFORE_THE_MOVE = "92a7c33f0dd0aa6a1a8e560d7af35af783278751"
NAMESPACE = "stagewise-upgrade"


def _export(commit: str, dest: Path) -> None:
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="tar")
    share_checkout(ROOT, dest)


@pytest.fixture(scope="module")
def steps(cluster, tmp_path_factory):
    state = tmp_path_factory.mktemp("upgrade-state")
    before = tmp_path_factory.mktemp("before")
    _export(BEFORE_THE_MOVE, before)
    local_stack_in(before, NAMESPACE)
    now = tmp_path_factory.mktemp("now")
    _copy_project(now, NAMESPACE)
    earlier = Project(before, project_env(before, state))
    current = Project(now, project_env(now, state))
    earlier.pulumi("stack", "init")
    earlier.pulumi("up", "--yes", "--skip-preview")
    preview = json.loads(current.pulumi("preview", "--json").stdout)
    yield [(s["op"], s["urn"]) for s in preview.get("steps", []) if s["op"] != "same"]
    current.pulumi("destroy", "--yes", "--skip-preview", check=False)


def test_no_resource_is_replaced_deleted_or_created(steps):
    assert [(op, urn) for op, urn in steps if op != "update"] == []


def test_no_resource_changes_at_all(steps):
    # Behaviour did not change either: the same stack file plans the same inputs.
    assert steps == []
