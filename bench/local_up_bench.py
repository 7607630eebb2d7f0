"""Benchmark: `pulumi up` of the local stack with the real engine on the local cluster.

Prints the time of the first deploy, of a stage change and of a no-op `pulumi up`, and the ratio of a
stage change to the first deploy. A benchmark, not a test: it prints figures and asserts nothing on time.

Run with `make bench` (or `. scripts/env.sh && python bench/local_up_bench.py`); it starts the local
cluster if needed, works in a temporary copy of the project with its own state, and destroys what it made.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import PASSPHRASE, Project, _cluster, _copy_project, _toolchain_env  # noqa: E402


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    was_running = _cluster("status", check=False).returncode == 0
    _cluster("start")
    with tempfile.TemporaryDirectory() as work:
        path, state = Path(work) / "project", Path(work) / "state"
        path.mkdir()
        state.mkdir()
        _copy_project(path, "stagewise-bench")
        project = Project(
            path, _toolchain_env() | {"PULUMI_BACKEND_URL": f"file://{state}", "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
        )
        project.pulumi("stack", "init")
        up = ("up", "--yes", "--skip-preview")
        try:
            first = timed(lambda: project.pulumi(*up))
            project.stagewise("promote")
            stage = timed(lambda: project.pulumi(*up))
            noop = timed(lambda: project.pulumi(*up, "--expect-no-changes"))
        finally:
            project.pulumi("destroy", "--yes", "--skip-preview", check=False)
            if not was_running:
                _cluster("stop")
    print(f"first pulumi up (from scratch):   {first:7.1f} s")
    print(f"stage change pulumi up:           {stage:7.1f} s")
    print(f"no-op pulumi up:                  {noop:7.1f} s")
    print(f"stage change / first deploy:      {stage / first:7.2f}")


if __name__ == "__main__":
    main()
