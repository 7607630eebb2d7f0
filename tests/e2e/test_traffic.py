"""The local stack carrying real requests: pods on a real kubelet (containerd, runc), Traefik as the
Gateway API data plane, Prometheus scraping the pods, and the stage gate judging live traffic.

Nothing here is scripted: every figure is a response the load generator got through the gateway.
The steps build on each other (one rollout, walked through its life), so they run in order; the last
one stops the data plane and compares the host with what it was before the data plane started.
"""

from __future__ import annotations

import difflib
import subprocess
import time
from pathlib import Path

import pytest

from stagewise.tools.demo import play, traffic
from stagewise.tools.demo.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "stagewise-e2e-traffic"
HOSTNAME = "traffic.e2e.stagewise.localhost"
SPLIT_REQUESTS = 400
SPLIT_RATE = 100.0  # requests per second while measuring a split
WATCH_RATE = 20.0  # the steady load the gate judges
# After `pulumi up` returns, the gateway takes the route's new weights within seconds (the benchmark
# measures it): a split is measured again until it is within its tolerance, for at most this long.
SPLIT_TIMEOUT_S = 60.0
# Requests still in flight when an abort's weights are applied end within this long.
SETTLE_S = 5.0


def dataplane(command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "dataplane.sh"), command], capture_output=True, text=True, check=check
    )


@pytest.fixture(scope="module")
def host_before(cluster) -> str:
    """What the host looked like before this module started the data plane (stopped first if a
    developer's was running; started again at the end)."""
    was_running = dataplane("status", check=False).returncode == 0
    if was_running:
        dataplane("stop")
    before = dataplane("host-state").stdout
    dataplane("start")
    yield before
    dataplane("stop", check=False)
    if was_running:
        dataplane("start", check=False)


@pytest.fixture(scope="module")
def ws(host_before, tmp_path_factory) -> Workspace:
    path = tmp_path_factory.mktemp("traffic") / "project"
    workspace = Workspace.create(ROOT, path, namespace=NAMESPACE, hostname=HOSTNAME, analysis=play.ANALYSIS)
    workspace.up()
    workspace.wait_rolled_out()
    play.wait_answering(workspace.url)
    yield workspace
    workspace.destroy()


def measure_split(ws: Workspace, out: Path) -> dict[str, int]:
    with traffic.Load(ROOT, ws.url, SPLIT_RATE, out) as load:
        load.wait(SPLIT_REQUESTS / SPLIT_RATE)
    responses = traffic.read(out)
    assert all(r.status == 200 for r in responses), [r for r in responses if r.status != 200][:5]
    return dict(traffic.by_version(responses))


def split_off(counts: dict[str, int], candidate: str, share: int) -> str | None:
    """Why `counts` are not `share` % to `candidate` within the binomial tolerance; None when they are."""
    n = sum(counts.values())
    if n < SPLIT_REQUESTS * 0.9:
        return f"only {n} answers: {counts}"
    expected = n * share / 100
    tolerance = traffic.binomial_tolerance(n, share / 100)
    got = counts.get(candidate, 0)
    if abs(got - expected) > tolerance:
        return f"{got} of {n} to {candidate}, expected {expected:.0f} ± {tolerance:.0f}"
    return None


def assert_split_in_effect(ws: Workspace, out: Path, candidate: str, share: int) -> dict[str, int]:
    """Measure the split until it is within its tolerance of `share` (the gateway has taken the new
    weights), for at most SPLIT_TIMEOUT_S; fail with the last measurement otherwise."""
    deadline = time.monotonic() + SPLIT_TIMEOUT_S
    attempt = 0
    while True:
        counts = measure_split(ws, out.with_name(f"{out.stem}-{attempt}{out.suffix}"))
        off = split_off(counts, candidate, share)
        if off is None:
            return counts
        assert time.monotonic() < deadline, f"after {SPLIT_TIMEOUT_S:g} s: {off}"
        attempt += 1


class TestRealTraffic:
    def test_each_stage_splits_real_requests_in_its_shares(self, ws, tmp_path):
        # Pulumi.local.yaml: blue 1.4.2 live, green 1.5.0 the candidate, at canary (10 %).
        for stage, share in (("canary", 10), ("early", 20), ("half", 50), ("full", 100)):
            if stage != "canary":
                ws.stagewise("promote")
                ws.commit(f"local: promote to {stage}")
                ws.up()
            counts = assert_split_in_effect(ws, tmp_path / f"{stage}.jsonl", "1.5.0", share)
            assert set(counts) <= {"1.4.2", "1.5.0"}, counts
        ws.stagewise("finish")
        ws.commit("local: finish, 1.5.0 is live")
        ws.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")

    def test_the_gate_promotes_a_healthy_candidate_and_the_split_follows(self, ws, tmp_path):
        ws.stagewise("deploy", "1.5.1")
        ws.commit("local: deploy 1.5.1")
        ws.up()
        ws.wait_rolled_out()
        ws.stagewise("promote")
        ws.commit("local: promote to canary")
        ws.up()
        with traffic.Load(ROOT, ws.url, WATCH_RATE, tmp_path / "watch.jsonl") as load:
            verdict = play.watch(ws)
            assert verdict.report["verdict"] == "promote", verdict.report
            assert verdict.report["applied"] == {"command": "promote", "from": "canary", "to": "early", "live": "green"}
            play.commit_verdict(ws, verdict)
            assert ws.git_log_subject().startswith("Stage gate: promote local at canary -> early")
            served = load.responses()
            assert served and all(r.status == 200 for r in served)
        assert_split_in_effect(ws, tmp_path / "early.jsonl", "1.5.1", 20)
        # Back to idle for the next candidate: the operator's own abort (1.5.0 on blue again).
        ws.stagewise("abort")
        ws.commit("local: abort 1.5.1")
        ws.up()
        ws.wait_rolled_out()

    @pytest.mark.parametrize("fault", ["errors", "latency"])
    def test_the_gate_aborts_a_bad_candidate_and_no_request_reaches_it_after(self, ws, tmp_path, fault):
        bad = play.BAD[fault]
        timeline = play.Timeline()
        with traffic.Load(ROOT, ws.url, WATCH_RATE, tmp_path / "load.jsonl") as load:
            fault_on = play.deploy_bad(ws, bad, timeline)
            pulled = play.pull_bad(ws, load, bad, fault_on, timeline)
            assert ws.git_log_subject().startswith("Stage gate: abort local at canary -> idle")
            assert ws.git_log_author() == "github-actions[bot]"
            shares = ws.route_shares()
            assert shares == {"demo-green": 100, "demo-blue": 0}, shares
            ws.wait_rolled_out()
            load.wait(5)
            got_traffic = [r for r in load.responses(since=fault_on, until=pulled.applied) if r.version == bad]
            assert got_traffic, f"{bad} never served a request: the gate judged nothing"
            after = [r for r in load.responses(since=pulled.applied + SETTLE_S) if r.version == bad]
            assert after == [], f"{len(after)} requests reached {bad} after the abort was applied"
            assert all(r.status == 200 for r in load.responses(since=pulled.applied + SETTLE_S))

    def test_stopping_the_data_plane_leaves_the_host_as_it_was(self, ws, host_before):
        ws.destroy()
        dataplane("stop")
        assert_same_host(host_before, dataplane("host-state").stdout)
        dataplane("stop")  # twice is safe
        assert_same_host(host_before, dataplane("host-state").stdout)


def assert_same_host(before: str, after: str) -> None:
    changed = list(
        difflib.unified_diff(before.splitlines(), after.splitlines(), "before start", "after stop", lineterm="")
    )
    assert not changed, "\n".join(changed)
