"""How good the stage gate's decisions are, with the tiers' default limits: simulated rollouts judged by
`stagewise replay`.

Run: .venv/bin/python bench/gate_quality.py [--runs 200] [--seed 1]

Each rollout: Poisson traffic at a total rate, 5 % of it to the candidate (a canary), binomial HTTP
5xx errors, log-normal latencies (median 60 ms, sigma 0.5: a p95 near 137 ms) counted in
OpenTelemetry's default buckets, one sample a minute for 2 hours from the stage's start. The
rollouts are written in replay's input format and judged by `stagewise replay --json` (a process of
its own, as a user runs it), with dev's canary (bake 30m, minRequests 50) or production's canary
(bake 48h: every one of the 120 looks can only abort, the longest watch for false aborts).

By default (`--source both`) each scenario also runs through PromQL, in the same table: each
rollout's pods scraped every 30 s off the evidence grid, backfilled into a real Prometheus
(Debian's, scripts/prometheus.sh) and read back by the gate's Prometheus provider, exact counts per
step, then judged by the same `stagewise replay` (bench/gate_quality_promql.py). `--promql-runs`
sets its rollouts per scenario (default 50: each scenario is a backfill of its own).

Prints, per scenario, the share aborted, promoted and still held after 2 hours, the median and
90th-percentile time to abort, and the target the issue sets; then how many looks per second
replay judges. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stagewise.tools import session  # noqa: E402
from stagewise.tools.gate import analysis  # noqa: E402
from stagewise.tools.gate import replay as replay_lib  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import gate_quality_promql  # noqa: E402

BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
MEDIAN, SIGMA = 0.060, 0.5
CANARY = 0.05
MINUTES = 120


@dataclass(frozen=True)
class Scenario:
    name: str
    rps: float
    live_errors: float
    error_factor: float = 1.0
    latency_factor: float = 1.0
    bad_from: int = 0  # the minute the candidate turns bad
    stops_at: int | None = None  # the minute after which the candidate gets no more traffic
    stack: str = "dev"
    target: str = ""


def scenarios() -> list[Scenario]:
    out = []
    for errors in (0.01, 0.025):
        for rps in (0.1, 1.0, 10.0, 1000.0):
            target = "false aborts <= 2 %" + (", promoted >= 90 % within 2 h" if rps == 10 else "")
            out.append(Scenario(f"equal, {errors:.1%} errors, {rps:g} req/s", rps, errors, target=target))
    for errors in (0.01, 0.025):
        for rps in (0.1, 10.0, 1000.0):
            out.append(
                Scenario(
                    f"equal, {errors:.1%} errors, {rps:g} req/s, 2 h watch",
                    rps,
                    errors,
                    stack="production",
                    target="false aborts <= 2 %",
                )
            )
    out += [
        Scenario("errors x1.1, 1000 req/s", 1000, 0.01, error_factor=1.1, stack="production", target="aborted <= 2 %"),
        Scenario(
            "latency x1.03, 1000 req/s", 1000, 0.01, latency_factor=1.03, stack="production", target="aborted <= 2 %"
        ),
        # The guarantee's own boundary: errors at exactly errorRateRatio x live's are within tolerance.
        Scenario(
            "errors x1.25 (the tolerance), 10 req/s",
            10,
            0.01,
            error_factor=1.25,
            stack="production",
            target="aborted <= falseAbortRate (2 %)",
        ),
        Scenario(
            "errors x1.25 (the tolerance), 1000 req/s",
            1000,
            0.01,
            error_factor=1.25,
            stack="production",
            target="aborted <= falseAbortRate (2 %)",
        ),
        Scenario("errors 20x, 10 req/s", 10, 0.01, error_factor=20, target="aborted >= 99 %, median <= 2 min"),
        Scenario("errors 5x, 10 req/s", 10, 0.01, error_factor=5, target="aborted >= 95 %, median <= 10 min"),
        Scenario("p95 +50 %, 10 req/s", 10, 0.01, latency_factor=1.5, target="aborted >= 95 %, median <= 10 min"),
        Scenario("errors 2x, 1000 req/s", 1000, 0.01, error_factor=2, target="aborted >= 99 %, median <= 5 min"),
        Scenario("errors 5x from minute 15, 10 req/s", 10, 0.01, error_factor=5, bad_from=15, target="aborted >= 65 %"),
        Scenario("errors 20x, 0.1 req/s", 0.1, 0.01, error_factor=20, target="aborted >= 60 % within 2 h"),
        # Promote needs evidence: regressions the aborts may miss are not promoted either.
        Scenario("errors 2x, 10 req/s", 10, 0.01, error_factor=2, target="promoted <= 5 %"),
        Scenario("errors 5x, 1 req/s", 1, 0.01, error_factor=5, target="promoted <= 5 %"),
        Scenario("traffic stops at minute 2, 10 req/s", 10, 0.01, stops_at=2, target="promoted never"),
    ]
    return out


def bucket_shares(factor: float) -> np.ndarray:
    """Share of requests in each bucket (the last one above the highest bound)."""
    cdf = stats.lognorm.cdf(np.asarray(BOUNDS), SIGMA, scale=MEDIAN * factor)
    return np.diff(np.concatenate([[0.0], cdf, [1.0]]))


def simulate(scenario: Scenario, runs: int, rng: np.random.Generator) -> list[dict]:
    """Cumulative counts per minute for live and candidate, in replay's format."""
    healthy, slow = bucket_shares(1.0), bucket_shares(scenario.latency_factor)
    bad_errors = min(scenario.live_errors * scenario.error_factor, 1.0)
    rollouts = []
    for run in range(runs):
        totals = {"live": np.zeros(len(BOUNDS) + 3), "candidate": np.zeros(len(BOUNDS) + 3)}
        samples = []
        for minute in range(1, MINUTES + 1):
            bad = minute > scenario.bad_from
            for role, share, errors, latency in (
                ("live", 1 - CANARY, scenario.live_errors, healthy),
                ("candidate", CANARY, bad_errors if bad else scenario.live_errors, slow if bad else healthy),
            ):
                stopped = role == "candidate" and scenario.stops_at is not None and minute > scenario.stops_at
                n = 0 if stopped else rng.poisson(scenario.rps * share * 60)
                failed = rng.binomial(n, errors)
                buckets = rng.multinomial(n, latency)
                totals[role] += np.concatenate([[n, failed], buckets])
            samples.append(
                {
                    "t": minute * 60,
                    **{
                        role: {
                            "requests": int(counts[0]),
                            "errors": int(counts[1]),
                            "buckets": [int(x) for x in np.cumsum(counts[2:])[: len(BOUNDS)]],
                        }
                        for role, counts in totals.items()
                    },
                }
            )
        rollouts.append({"name": f"{run}", "samples": samples})
    return rollouts


def replay(path: Path, stack: str) -> dict:
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "stagewise"),
            "replay",
            str(path),
            "--stack",
            stack,
            "--stage",
            "canary",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"stagewise replay failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout)


def looks_per_second(path: Path, stack: str) -> tuple[float, float]:
    """Replay's own judging, in process, over a recording: looks per second and microseconds per look."""
    recording = replay_lib.load(path.read_text())
    limits = analysis.limits(session.load(stack).config, "canary")
    began, looks = time.perf_counter(), 0
    for rollout in recording.rollouts:
        looks += replay_lib.replay(limits, recording, rollout).looks
    spent = time.perf_counter() - began
    return looks / spent, spent / looks * 1e6


def minutes(values: list[float], q: float) -> str:
    return "-" if not values else f"{np.percentile(values, q) / 60:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="rollouts per scenario (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenario", default="", help="only the scenarios whose name contains this")
    parser.add_argument(
        "--source",
        choices=("replay", "promql", "both"),
        default="both",
        help="replay: exact per-minute counts; promql: the same through off-grid scrapes and Prometheus",
    )
    parser.add_argument("--promql-runs", type=int, default=50, help="rollouts per scenario through PromQL")
    args = parser.parse_args()
    sources = ("replay", "promql") if args.source == "both" else (args.source,)
    rng = np.random.default_rng(args.seed)
    print(f"gate quality: {args.runs} simulated rollouts per scenario, 1-minute samples over 2 h, 5 % canary,")
    print("judged by `stagewise replay` with the tiers' defaults (dev canary: bake 30m; production canary: 48h)")
    header = (
        f"{'scenario':<42} {'source':<7} {'stack':<10} {'aborted':>8} {'promoted':>9} {'held':>6} {'median':>7} {'p90':>5} "
        f"{'promoted at':>11}  target"
    )
    print(header)
    print("-" * len(header))
    speed: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory(prefix="gate-quality-") as folder:
        for scenario, source in ((s, k) for s in scenarios() if args.scenario in s.name for k in sources):
            path = Path(folder) / "recorded.json"
            if source == "replay":
                recorded = simulate(scenario, args.runs, rng)
            else:
                recorded = gate_quality_promql.rollouts(
                    scenario, args.promql_runs, rng, BOUNDS, bucket_shares, CANARY, MINUTES
                )
            path.write_text(json.dumps({"step": 60, "bounds": list(BOUNDS), "rollouts": recorded}))
            results = replay(path, scenario.stack)["rollouts"]
            verdicts = [r["verdict"] for r in results]
            aborts = [r["t"] for r in results if r["verdict"] == "abort"]
            promotes = [r["t"] for r in results if r["verdict"] == "promote"]
            share = {v: verdicts.count(v) / len(verdicts) for v in ("abort", "promote", "hold")}
            print(
                f"{scenario.name:<42} {source:<7} {scenario.stack:<10} {share['abort']:>8.1%} {share['promote']:>9.1%} "
                f"{share['hold']:>6.1%} {minutes(aborts, 50):>7} {minutes(aborts, 90):>5} "
                f"{minutes(promotes, 50):>11}  {scenario.target}"
            )
            if speed is None and scenario.rps >= 1000 and source == "replay":
                speed = looks_per_second(path, scenario.stack)
    if speed is not None:
        print(
            f"\nreplay judges {speed[0]:,.0f} looks/s ({speed[1]:.0f} us per look: four e-processes updated, verdict)"
        )
    print(
        "times to abort (median, p90) and to promote (median) in minutes from the stage's start; "
        "'held': neither promoted nor aborted within 2 h"
    )


if __name__ == "__main__":
    main()
