"""A whole rollout against real traffic on the local data plane, step by step, with its figures.

1. The local stack is deployed in a scratch copy (blue 1.4.2 live, green 1.5.0 at `canary`), and the
   load generator sends requests through the gateway.
2. `stagewise watch --apply` judges the candidate from the live metrics; each promote is committed
   as the gate's bot commit and applied with `pulumi up`, until `finish` makes 1.5.0 live.
3. A bad version is deployed on the candidate colour and promoted to the first stage. The gate aborts
   it; the bot commit records the abort; `pulumi up` restores the route, and the traffic is back on
   the live colour.
4. The timeline's figures, then `stagewise report`'s chart of the rollout.

The same steps, as functions, drive the data-plane tests and bench/canary_pull_bench.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from stagewise.tools.demo import traffic
from stagewise.tools.demo.workspace import Workspace, WorkspaceError

HEALTHY = "1.5.0"
# The gate on a demo stack: a short bake, and evidence read every 15 s (the data plane's Prometheus
# scrapes every 5 s), so that a whole rollout plays in minutes.
ANALYSIS = {"bake": "30s", "step": "15s"}
BAD = {"errors": "1.6.0", "latency": "1.6.1"}  # demo/images.tsv: the fault each image carries


class Timeline:
    """Lines stamped with the seconds since the demo began, printed as they happen."""

    def __init__(self) -> None:
        self.start = time.time()
        self.lines: list[str] = []

    def say(self, text: str, at: float | None = None) -> None:
        line = f"{(at or time.time()) - self.start:7.1f} s  {text}"
        self.lines.append(line)
        print(line, flush=True)


def gate_report(root: Path) -> ModuleType:
    """The gate workflow's own commit texts (.github/scripts/gate_report.py)."""
    spec = importlib.util.spec_from_file_location("gate_report", root / ".github" / "scripts" / "gate_report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_answering(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if subprocess.run(["curl", "-fsS", "-o", "/dev/null", url], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    raise WorkspaceError(f"the gateway did not answer {url} within {timeout:g} s")


def commit_and_up(ws: Workspace, message: str, *, bot: bool = False) -> float:
    """Commit the stack file's change and apply it; returns when `pulumi up` finished."""
    ws.commit(message, bot=bot)
    return ws.up()


def split_text(responses: list[traffic.Response]) -> str:
    counts = traffic.by_version(responses)
    total = sum(counts.values()) or 1
    failed = sum(r.failed for r in responses)
    shares = ", ".join(f"{v} {100 * n / total:.0f} %" for v, n in sorted(counts.items()))
    p95 = traffic.p95(responses)
    return f"{len(responses)} requests: {shares or 'none answered'}; {failed} failed; p95 {p95 or 0:.0f} ms"


@dataclass
class Verdict:
    report: dict[str, Any]
    at: float
    """When watch returned its verdict (epoch seconds)."""


def watch(ws: Workspace, interval: str = "10s", timeout: str = "15m") -> Verdict:
    """`stagewise watch --apply`: the verdict, carried out on the stack file (not yet committed)."""
    result = ws.stagewise("watch", "--interval", interval, "--timeout", timeout, "--json", "--apply", check=False)
    if result.returncode not in (0, 3, 4):
        raise WorkspaceError(f"stagewise watch exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return Verdict(json.loads(result.stdout), time.time())


def commit_verdict(ws: Workspace, verdict: Verdict) -> float:
    """The gate workflow's bot commit for an applied verdict, then `pulumi up`."""
    module = gate_report(ws.root)
    return commit_and_up(ws, module.subject(verdict.report) + "\n\n" + module.body(verdict.report), bot=True)


@dataclass
class Abort:
    """What a bad version cost, from the moment it got traffic to the last request it served."""

    version: str
    fault_on: float
    verdict: float
    applied: float
    last_served: float | None
    failed_during: int
    reason: str

    def figures(self) -> dict[str, float | int | None]:
        return {
            "fault on -> verdict (s)": round(self.verdict - self.fault_on, 1),
            "verdict -> weights applied (s)": round(self.applied - self.verdict, 1),
            "weights applied -> last request served by the candidate (s)": (
                None if self.last_served is None else round(max(self.last_served - self.applied, 0.0), 1)
            ),
            "total (s)": round(max(self.applied, self.last_served or 0.0) - self.fault_on, 1),
            "requests failed from fault on to weights applied": self.failed_during,
        }


def deploy_bad(ws: Workspace, tag: str, timeline: Timeline) -> float:
    """Deploy `tag` on the candidate colour and promote it to the first stage; returns when the route
    sends it traffic (the fault is on from then)."""
    ws.stagewise("deploy", tag)
    commit_and_up(ws, f"local: deploy {tag}")
    ws.wait_rolled_out()
    timeline.say(f"deployed {tag} on the candidate colour (no traffic yet)")
    ws.stagewise("promote")
    fault_on = commit_and_up(ws, "local: promote to canary")
    timeline.say(f"promoted {tag} to canary: the route sends it traffic; its fault is on", fault_on)
    return fault_on


def pull_bad(ws: Workspace, load: traffic.Load, tag: str, fault_on: float, timeline: Timeline) -> Abort:
    """The gate judges the bad candidate; its abort is committed and applied; then no request reaches it."""
    verdict = watch(ws)
    reason = verdict.report.get("reason", "")
    timeline.say(f"stagewise watch: {verdict.report['verdict']} ({reason})", verdict.at)
    if verdict.report["verdict"] != "abort":
        raise WorkspaceError(f"the gate did not abort {tag}: {verdict.report['verdict']} ({reason})")
    applied = commit_verdict(ws, verdict)
    timeline.say(f"bot commit + pulumi up: route back on the live colour {ws.route_shares()}", applied)
    load.wait(10)
    served = [r for r in load.responses(since=fault_on) if r.version == tag]
    last = max((r.t + r.ms / 1000 for r in served), default=None)
    failed = sum(r.failed for r in load.responses(since=fault_on, until=applied))
    return Abort(tag, fault_on, verdict.at, applied, last, failed, reason)


def healthy_rollout(ws: Workspace, load: traffic.Load, timeline: Timeline) -> None:
    """Watch, commit and apply each promote until `finish` makes the candidate live."""
    while True:
        verdict = watch(ws)
        applied = verdict.report.get("applied") or {}
        timeline.say(f"stagewise watch: {verdict.report['verdict']} ({verdict.report.get('reason', '')})", verdict.at)
        if verdict.report["verdict"] != "promote":
            raise WorkspaceError(f"the gate did not promote the healthy candidate: {verdict.report['verdict']}")
        done = commit_verdict(ws, verdict)
        timeline.say(f"bot commit + pulumi up: {applied.get('command')} -> {applied.get('to')}", done)
        if applied.get("command") == "finish":
            return
        load.wait(10)
        timeline.say(f"  at {applied.get('to')}: {split_text(load.responses(since=done))}")


def ensure_dataplane(root: Path) -> None:
    status = subprocess.run(["bash", "scripts/dataplane.sh", "status"], cwd=root, capture_output=True)
    if status.returncode != 0:
        subprocess.run(["bash", "scripts/dataplane.sh", "start"], cwd=root, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (default 20)")
    parser.add_argument("--bake", default=ANALYSIS["bake"], help="the demo stack's bake per stage (default 30s)")
    parser.add_argument("--fault", choices=sorted(BAD), default="errors", help="what the bad version does")
    parser.add_argument("--keep", action="store_true", help="leave the demo stack deployed")
    args = parser.parse_args(argv)
    root = Path.cwd()
    work = root / ".demo"
    ensure_dataplane(root)
    timeline = Timeline()
    ws = Workspace.create(
        root,
        work / "project",
        namespace="stagewise-demo",
        hostname="rollout.demo.stagewise.localhost",
        analysis=ANALYSIS | {"bake": args.bake},
    )
    try:
        ws.up()
        ws.wait_rolled_out()
        wait_answering(ws.url)
        timeline.say(f"deployed: {ws.url} (blue 1.4.2 live, green {HEALTHY} candidate at canary: {ws.route_shares()})")
        with traffic.Load(root, ws.url, args.rate, work / "responses.jsonl") as load:
            timeline.say(f"load generator: {args.rate:g} requests/s through the gateway")
            load.wait(10)
            timeline.say(f"  at canary: {split_text(load.responses(since=timeline.start))}")
            healthy_rollout(ws, load, timeline)
            timeline.say(f"{HEALTHY} is live: {split_text(load.responses(since=time.time() - 5))}")
            bad = BAD[args.fault]
            fault_on = deploy_bad(ws, bad, timeline)
            pulled = pull_bad(ws, load, bad, fault_on, timeline)
            timeline.say(f"after the abort: {split_text(load.responses(since=pulled.applied + 2))}")
        print("\nThe bad version, from fault on to the last request it served:")
        for name, value in pulled.figures().items():
            print(f"  {name:<62} {value}")
        print(f"\nload generator: {load.summary.strip()}\n")
        report_dir = work / "report"
        ws.stagewise("report", "--rollout", bad, "--out", str(report_dir))
        print((report_dir / "report.md").read_text())
        print(f"The chart: {report_dir / 'report.png'} (and .svg)")
    except WorkspaceError as error:
        print(f"make demo: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            ws.destroy()
    return 0
