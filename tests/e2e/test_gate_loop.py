"""The stage gate's whole loop on the local stack, with the real engine and a real Prometheus:
the candidate fails, `stagewise analyze --apply` aborts, the bot commit lands in git, and
`pulumi up` puts the route's weights back to the live colour alone.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import E2E_NAMESPACE as NAMESPACE_K8S

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"
sys.path.insert(0, str(ANALYSIS))
import promdata  # noqa: E402
import promserver  # noqa: E402

ROUTE = "demo"
ROUTE_TYPE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
ROOT = Path(__file__).resolve().parents[2]
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


def gate_report():
    spec = importlib.util.spec_from_file_location("gate_report", ROOT / ".github" / "scripts" / "gate_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def route_weights(project) -> dict[str, int]:
    route = project.kube_json("-n", NAMESPACE_K8S, "get", "httproute", ROUTE)
    (rule,) = route["spec"]["rules"]
    return {ref["name"]: ref["weight"] for ref in rule["backendRefs"]}


def commit_at(project, message: str, when: float, author: tuple[str, str] | None = None) -> None:
    env = dict(project.env)
    stamp = f"@{int(when)} +0000"
    env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    if author:
        env |= {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
        }
    subprocess.run(["git", "commit", "-qam", message], cwd=project.path, env=env, check=True)


@pytest.fixture(scope="module")
def stage_began() -> float:
    """The promote to `early` landed half an hour ago; the metrics since then are in Prometheus."""
    return time.time() - 1800


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory, stage_began):
    work = tmp_path_factory.mktemp("gate-prometheus")
    bin_dir = promserver.binaries()
    now = time.time() - 30
    traffic = [
        promdata.Traffic("1.4.2", stage_began - 1800, now, rps=4.0, error_share=0.002),  # live, blue
        promdata.Traffic("1.5.0", stage_began, now, rps=1.0, error_share=0.20),  # candidate, green: failing
    ]
    promserver.backfill(bin_dir, promdata.openmetrics(traffic), work / "data")
    server = promserver.start(bin_dir, work / "data", work)
    yield server
    server.stop()


class TestGateLoop:
    def test_the_candidate_gets_traffic_at_the_stage(self, project, stage_began):
        project.pulumi("up", "--yes", "--skip-preview")
        project.stagewise("promote")
        commit_at(project, "local: promote to early", stage_began)
        project.pulumi("up", "--yes", "--skip-preview")
        assert route_weights(project) == {"demo-blue": 80, "demo-green": 20}

    def test_analyze_apply_aborts_and_the_bot_commit_lands(self, project, prometheus):
        # Point the stack at this Prometheus: a config change, not a stage change.
        text = project.stack_file.read_text()
        project.stack_file.write_text(
            text.replace(
                "  stagewise:kubernetes:\n",
                f"  stagewise:analysis:\n    url: {prometheus.url}\n  stagewise:kubernetes:\n",
            )
        )
        project.git("commit", "-qam", "local: the gate reads the test Prometheus")
        result = project.run(
            str(ROOT / ".venv" / "bin" / "stagewise"), "analyze", "--stack", "local", "--json", "--apply", check=False
        )
        assert result.returncode == 4, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["verdict"] == "abort" and report["applied"]["to"] == "idle"
        assert 18 < report["versions"]["candidate"]["errorRate"] < 22
        text = project.stack_file.read_text()
        assert "stage: idle" in text and "green: 1.4.2" in text
        # The workflow's commit: the bot's, with the numbers in its message.
        module = gate_report()
        commit_at(project, module.subject(report) + "\n\n" + module.body(report), time.time(), BOT)
        log = project.git("log", "-1", "--format=%an%n%B").stdout
        assert log.startswith("github-actions[bot]\nStage gate: abort local at early -> idle")
        assert "candidate 1.5.0 (green)" in log and "fail: candidate error rate (HTTP 5xx), percent" in log

    def test_up_after_the_abort_restores_the_route_to_the_live_colour(self, project):
        preview = json.loads(project.pulumi("preview", "--json").stdout)
        changes = sorted(
            (s["op"], s["urn"].split("::")[2].split("$")[-1], s["urn"].rsplit("::", 1)[-1])
            for s in preview.get("steps", [])
            if s["op"] != "same"
        )
        # The route, and the candidate colour back on the live version (the rollout model's abort).
        assert changes == [
            ("update", "kubernetes:apps/v1:Deployment", "demo-green"),
            ("update", ROUTE_TYPE, "demo-route"),
        ]
        project.pulumi("up", "--yes", "--skip-preview")
        assert route_weights(project) == {"demo-blue": 100, "demo-green": 0}
        green = project.kube_json("-n", NAMESPACE_K8S, "get", "deployment", "demo-green")
        (container,) = green["spec"]["template"]["spec"]["containers"]
        assert container["image"].endswith(":1.4.2")
        project.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")
