"""Stage-gate tests against a real Prometheus: Debian's server on loopback, metrics backfilled with
promtool at fixed past times, and the CLI run in a temporary git repository whose stage commits
carry those times."""

from __future__ import annotations

import shutil
from pathlib import Path

import promdata
import promserver
import pytest
from scenarios import BASE, ROOT, SCENARIOS, Gate, git


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus")
    bin_dir = promserver.binaries()
    traffics = [t for s in SCENARIOS.values() for t in (s.live, s.candidate) if t is not None]
    promserver.backfill(bin_dir, promdata.openmetrics(traffics), work / "data")
    server = promserver.start(bin_dir, work / "data", work)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def settled_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own cache of settled steps: none sees what another read."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("STAGEWISE_CACHE", str(folder))
    return folder / "gate"


@pytest.fixture
def gate_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gate:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "Pulumi.yaml")
    git(tmp_path, "commit", "-q", "-m", "project", when=BASE - 60)
    monkeypatch.chdir(tmp_path)
    return Gate(tmp_path)
