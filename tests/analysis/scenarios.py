"""The stage-gate scenarios: traffic per version at fixed past times, and a git repository whose
stage commits carry those times."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import promdata
from typer.testing import CliRunner

from stagewise.tools import cli

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0

# All scenarios share one server; each uses its own version tags so that none sees another's series.
# Times: the live version serves from BASE; the stage commit (candidate gets traffic) is at STAGE.
BASE = (int(time.time()) // 3600) * 3600 - 5 * 3600
STAGE = BASE + 600
END = BASE + 4 * HOUR
FAST = ((0.04, 1.0),)


def at(seconds_after_stage: float) -> str:
    return datetime.fromtimestamp(STAGE + seconds_after_stage, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Scenario:
    name: str
    live: promdata.Traffic | None
    candidate: promdata.Traffic | None

    @property
    def live_version(self) -> str:
        return f"1.0.0-{self.name}"

    @property
    def candidate_version(self) -> str:
        return f"2.0.0-{self.name}"


def scenario(
    name: str,
    *,
    live_errors: float = 0.002,
    live_latencies=FAST,
    candidate_rps: float | None = 1.0,
    candidate_errors: float = 0.002,
    candidate_latencies=FAST,
    live_rps: float = 5.0,
) -> Scenario:
    live = promdata.Traffic(f"1.0.0-{name}", BASE, END, live_rps, live_errors, live_latencies)
    candidate = (
        None
        if candidate_rps is None
        else promdata.Traffic(f"2.0.0-{name}", STAGE, END, candidate_rps, candidate_errors, candidate_latencies)
    )
    return Scenario(name, live, candidate)


SCENARIOS = {
    s.name: s
    for s in [
        scenario("healthy"),
        scenario("errors", candidate_errors=0.10),
        scenario("slow", candidate_latencies=((0.04, 0.85), (3.0, 0.15))),
        scenario("worse", candidate_errors=0.03),
        scenario("worse-few", candidate_errors=0.04, candidate_rps=0.005),
        scenario("slower", candidate_latencies=((0.2, 1.0),)),
        scenario("silent", candidate_rps=None),
    ]
}


def git(cwd: Path, *args: str, when: float | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    if when is not None:
        stamp = f"@{int(when)} +0000"
        env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


def stack_text(live: str, candidate: str, stage: str, url: str, analysis: str = "") -> str:
    return (
        "config:\n"
        "  stagewise:environment: local\n"
        "  stagewise:owner: platform-team\n"
        "  stagewise:costCentre: cc-1\n"
        "  stagewise:release:\n"
        "    image: demo\n"
        f"    blue: {live}\n"
        f"    green: {candidate}\n"
        "    live: blue\n"
        f"    stage: {stage}\n"
        "  stagewise:analysis:\n"
        f"    url: {url}\n"
        "    errorRateRatio: 2\n"
        f"{analysis}"
    )


@dataclass
class Gate:
    path: Path

    def run(self, *args: str) -> Any:
        return CliRunner().invoke(cli.app, list(args), env={"COLUMNS": "200"})

    def stack(self, scenario: Scenario, url: str, analysis: str = "", stage: str = "canary") -> str:
        """A stack for the scenario: committed at idle at BASE, moved to `stage` at STAGE."""
        name = scenario.name
        path = self.path / f"Pulumi.{name}.yaml"
        path.write_text(stack_text(scenario.live_version, scenario.candidate_version, "idle", url, analysis))
        git(self.path, "add", path.name)
        git(self.path, "commit", "-q", "-m", f"{name}: deploy", when=BASE)
        path.write_text(stack_text(scenario.live_version, scenario.candidate_version, stage, url, analysis))
        git(self.path, "commit", "-q", "-am", f"{name}: promote to {stage}", when=STAGE)
        return name
