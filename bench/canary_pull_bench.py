"""How fast a bad canary is pulled on the local data plane, from real requests (prints; asserts nothing).

On a scratch copy of the local stack (real pods, Traefik, Prometheus; the gate polling every 10 s):
- a weight change: from `pulumi up` returning to the first request the gateway sends by the new weights;
- rolling updates of either colour under load: requests that failed or got no answer;
- a bad version (errors, then latency): fault on -> verdict -> weights applied -> last request served
  by the candidate, the total (target: under 2 minutes), and the requests that failed meanwhile.

Run with the data plane's prerequisites built (`make bench` does): python bench/canary_pull_bench.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

from stagewise.tools.demo import play, traffic
from stagewise.tools.demo.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def first_served_by(load: traffic.Load, version: str, since: float, timeout: float = 60) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        served = [r.t for r in load.responses(since=since) if r.version == version]
        if served:
            return min(served)
        time.sleep(0.5)
    return None


# A rolling update's window: from the restart until the new pods serve and the old ones have drained
# (the app drains 5 s after SIGTERM), at least this long.
ROLLING_WINDOW_S = 20.0


def route_updated_at(ws: Workspace) -> float | None:
    """When the HTTPRoute's spec was last written (its managed fields' time, whole seconds)."""
    route = json.loads(ws.kubectl("get", "httproutes", "-o", "json", "--show-managed-fields").stdout)["items"][0]
    times = [f["time"] for f in route["metadata"].get("managedFields", []) if f.get("operation") == "Update"]
    if not times:
        return None
    return max(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in times)


def rolling_update(ws: Workspace, load: traffic.Load, deployment: str) -> tuple[int, int, float]:
    """Restart one colour's pods under load: (requests sent in the window, failed, seconds to roll out)."""
    start = time.time()
    ws.kubectl("rollout", "restart", f"deployment/{deployment}")
    ws.kubectl("rollout", "status", f"deployment/{deployment}", "--timeout=180s")
    rolled = time.time() - start
    end = max(time.time(), start + ROLLING_WINDOW_S)
    load.wait(max(end - time.time(), 0.0) + 2)
    sent = load.responses(since=start, until=end)
    return len(sent), sum(r.failed for r in sent), rolled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (default 50)")
    args = parser.parse_args()
    play.ensure_dataplane(ROOT)
    timeline = play.Timeline()
    with tempfile.TemporaryDirectory(prefix="canary-pull-") as scratch:
        ws = Workspace.create(
            ROOT,
            Path(scratch) / "project",
            namespace="stagewise-bench",
            hostname="bench.stagewise.localhost",
            analysis=play.ANALYSIS,
        )
        try:
            ws.up()
            ws.wait_rolled_out()
            play.wait_answering(ws.url)
            rows: list[tuple[str, object]] = []
            with traffic.Load(ROOT, ws.url, args.rate, Path(scratch) / "load.jsonl") as load:
                load.wait(3)
                # A weight change: idle (no traffic to the candidate) -> canary.
                ws.stagewise("rollback")
                play.commit_and_up(ws, "local: rollback to idle")
                load.wait(5)
                ws.stagewise("promote")
                started = time.time()
                applied = play.commit_and_up(ws, "local: promote to canary")
                route_written = route_updated_at(ws)
                first = first_served_by(load, play.HEALTHY, since=started)
                rows.append(("weight change: pulumi up (commit to done), s", round(applied - started, 1)))
                rows.append(
                    (
                        "weight change: route written to the API -> first request by the new weights (s)",
                        None if first is None or route_written is None else round(first - route_written, 2),
                    )
                )
                for stage in ("early", "half"):
                    ws.stagewise("promote")
                    play.commit_and_up(ws, f"local: promote to {stage}")
                for colour in ("blue", "green"):
                    sent, failed, took = rolling_update(ws, load, f"demo-{colour}")
                    rows.append((f"rolling update of {colour} at half: requests sent / failed", f"{sent} / {failed}"))
                    rows.append((f"rolling update of {colour}: seconds", round(took, 1)))
                ws.stagewise("abort")
                play.commit_and_up(ws, "local: abort, back to idle")
                ws.wait_rolled_out()
                for fault, tag in play.BAD.items():
                    fault_on = play.deploy_bad(ws, tag, timeline)
                    pulled = play.pull_bad(ws, load, tag, fault_on, timeline)
                    for name, figure in pulled.figures().items():
                        rows.append((f"bad version ({fault}, {tag}): {name}", figure))
                    ws.wait_rolled_out()
            print(f"\ncanary pull on the local data plane: {args.rate:g} requests/s, gate polling every 10 s")
            for name, value in rows:
                print(f"  {name:<92} {value}")
            print(f"  load generator: {load.summary.strip()}")
        finally:
            ws.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
