"""What one look of the gate costs against a real Prometheus, at minute 1 and at hour 48 of a stage,
with 1 and 100 series per version.

Run: .venv/bin/python bench/analyze_bench.py [--series 1,100] [--repeat 5]

For each count N, a fresh Prometheus (Debian's, scripts/prometheus.sh) holds request-duration
histograms for a live and a candidate version, each split into N series (an `instance` label, as N
pods report), every pod scraped every 15 s at an offset of its own, loaded with promtool's backfill.
The stage lasts 48 h; to keep the backfill small, the pods report during its first 15 minutes and
its last 15 minutes (Prometheus answers a look at hour 48 from the blocks of that hour either way;
`--full` backfills all 48 h instead, feasible for N = 1).

Looks (each `analysis.analyze` with the local stack's config, as `analyze` and `watch` run it: the
provider's read of the settled steps, the evidence, the Judge; the provider's own read is shown too):

- minute 1, first look: a new process, nothing cached; reads the baseline before the stage and step 1.
- minute 2, watch look: the provider and Judge kept from the look a minute earlier.
- hour 48, watch look: the same, 2,879 steps settled and kept; it reads one new step.
- hour 48, new process: a provider and Judge restored from the disk cache (settled steps, each
  series' last sample), as the next CI job starts; it reads one new step.
- provider read: `steps_for` alone (both versions, one request), a provider kept in memory.
- our side: the same read answered by a loopback fake that replays Prometheus's recorded answer at
  once, so the figure is the provider's own cost (HTTP on loopback, JSON, differencing), without
  Prometheus's.

Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "analysis"))

import offgrid  # noqa: E402
import promserver  # noqa: E402

from stagewise.core import stackconfig  # noqa: E402
from stagewise.tools.gate import analysis, prometheus  # noqa: E402
from stagewise.tools.gate.prometheus import PrometheusProvider  # noqa: E402
from stagewise.tools.gate.settled import SettledCache  # noqa: E402

HOUR = 3600.0
STAGE_HOURS = 48
REPORTED = 15 * 60.0  # seconds of samples at each end of the stage (unless --full)
CONFIG = stackconfig.config_from_texts(
    (ROOT / "Pulumi.yaml").read_text(), (ROOT / "Pulumi.local.yaml").read_text(), "Pulumi.local.yaml"
)
VERSIONS = {CONFIG.rollout_release.live: "1.0.0", CONFIG.rollout_release.candidate: "2.0.0"}
BOUNDS = tuple(b / 1000 for b in CONFIG.analysis.latency_bounds_ms)
STEP = CONFIG.analysis.step


def pods(series: int, start: float, full: bool, rng: np.random.Generator) -> list[offgrid.Scraped]:
    end = start + STAGE_HOURS * HOUR
    windows = (
        [(start - HOUR, end + 120)] if full else [(start - REPORTED, start + REPORTED), (end - REPORTED, end + 120)]
    )
    shares = tuple([0.0, 0.0, 0.0, 0.5, 0.3, 0.1] + [0.01] * 8)  # most requests between 25 and 100 ms
    out = []
    for version, rps, errors in (("1.0.0", 2.0, 0.002), ("2.0.0", 0.5, 0.003)):
        for i in range(series):
            offset = float(rng.uniform(0, 15))
            # A pod that stops reporting and reports again later restarted: its counters start over.
            for born, stop in windows:
                out.append(
                    offgrid.Scraped(
                        version, f"pod-{i}", born, stop, rps, 15.0, offset, errors, shares[: len(BOUNDS)], BOUNDS
                    )
                )
    return out


def replaying(body: bytes) -> HTTPServer:
    """A loopback server that answers every request with `body` (a recorded Prometheus answer)."""

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(look) -> float:
    began = time.perf_counter()
    look()
    return (time.perf_counter() - began) * 1000


def measure(series: int, repeat: int, full: bool, bin_dir: Path) -> dict[str, list[float]]:
    start = (time.time() // HOUR) * HOUR - (STAGE_HOURS + 2) * HOUR
    stage = analysis.StageStart(
        "bench", datetime.fromtimestamp(start, UTC), "bench", replace(CONFIG.rollout_release, **VERSIONS)
    )
    settle = prometheus.SETTLE.total_seconds()
    figures: dict[str, list[float]] = {}
    rng = np.random.default_rng(series)
    with tempfile.TemporaryDirectory(prefix="analyze-bench-") as folder:
        work = Path(folder)
        began = time.perf_counter()
        promserver.backfill(bin_dir, offgrid.scraped_openmetrics(pods(series, start, full, rng), rng), work / "data")
        figures["backfill s"] = [time.perf_counter() - began]
        server = promserver.start(bin_dir, work / "data", work)
        try:
            for run in range(repeat):
                cache = work / f"cache-{run}"

                def provider(now: float, disk: Path | None = cache) -> PrometheusProvider:
                    return PrometheusProvider(
                        server.url,
                        CONFIG.analysis.queries,
                        CONFIG.analysis.timeout,
                        bounds_ms=CONFIG.analysis.latency_bounds_ms,
                        cache=SettledCache(disk),
                        clock=lambda: now + settle,
                    )

                def look(source: PrometheusProvider, at: float, judges: Path) -> None:
                    source.clock = lambda: at + settle
                    analysis.analyze(CONFIG, "local", stage, source, datetime.fromtimestamp(at, UTC), cache=judges)

                judges = work / f"judges-{run}"
                minute1 = start + 60
                watching = provider(minute1)
                figures.setdefault("minute 1, first look", []).append(timed(lambda: look(watching, minute1, judges)))
                figures.setdefault("minute 2, watch look", []).append(
                    timed(lambda: look(watching, minute1 + 60, judges))
                )
                reader = provider(minute1 + 60, None)
                figures.setdefault("minute 2, provider read", []).append(
                    timed(lambda: reader.steps_for(("2.0.0", "1.0.0"), stage.at, 2, STEP))
                )
                hour48 = start + STAGE_HOURS * HOUR
                look(watching, hour48 - 60, judges)  # the watch so far: fills the caches up to the step before
                figures.setdefault("hour 48, watch look", []).append(timed(lambda: look(watching, hour48, judges)))
                steps = int(STAGE_HOURS * HOUR // STEP.total_seconds())
                kept = provider(hour48 - 60, None)  # its own memory only: the disk cache is ahead of it
                kept.steps_for(("2.0.0", "1.0.0"), stage.at, steps - 1, STEP)
                # The answer Prometheus gives that read, recorded, then replayed by a loopback fake.
                (selector,) = kept._selectors(("2.0.0", "1.0.0"))
                until = int(start * 1000) + steps * int(STEP.total_seconds() * 1000)
                recorded = requests.get(
                    f"{server.url}/api/v1/query",
                    params={
                        "query": f"{selector}[{int(STEP.total_seconds() * 1000)}ms]",
                        "time": f"{until / 1000:.3f}",
                    },
                    timeout=60,
                ).content
                ours = provider(hour48 - 60, None)
                ours.steps_for(("2.0.0", "1.0.0"), stage.at, steps - 1, STEP)
                fake = replaying(recorded)
                ours.url = f"http://127.0.0.1:{fake.server_port}"
                ours.clock = lambda: hour48 + settle
                figures.setdefault("hour 48, our side", []).append(
                    timed(lambda: ours.steps_for(("2.0.0", "1.0.0"), stage.at, steps, STEP))
                )
                fake.shutdown()
                fake.server_close()
                figures.setdefault("hour 48, provider read", []).append(
                    timed(
                        lambda: (
                            setattr(kept, "clock", lambda: hour48 + settle),
                            kept.steps_for(("2.0.0", "1.0.0"), stage.at, steps, STEP),
                        )
                    )
                )
                # A new process: provider and Judge restored from disk; the step after the kept ones is new.
                restarted = provider(hour48 + 60)
                figures.setdefault("hour 48, new process", []).append(
                    timed(lambda: look(restarted, hour48 + 60, judges))
                )
        finally:
            server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default="1,100")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="backfill all 48 h (large for 100 series)")
    args = parser.parse_args()
    bin_dir = promserver.binaries()
    print(
        f"one look of the gate against Prometheus ({'all 48 h of samples' if args.full else 'samples at both ends'} "
        f"of a 48 h stage, {STEP.total_seconds():g} s steps, scrapes every 15 s off the grid), "
        f"median of {args.repeat} runs, ms"
    )
    names: list[str] = []
    rows = []
    for count in (int(n) for n in args.series.split(",")):
        figures = measure(count, args.repeat, args.full, bin_dir)
        names = [n for n in figures if n != "backfill s"]
        rows.append((count, figures))
    print(f"{'series/version':>15} " + " ".join(f"{n:>24}" for n in names) + f" {'backfill s':>11}")
    for count, figures in rows:
        cells = " ".join(f"{statistics.median(figures[n]):>24.1f}" for n in names)
        print(f"{count:>15} {cells} {figures['backfill s'][0]:>11.1f}")
    print("a look: analysis.analyze (settled steps read, evidence, Judge); provider read: steps_for alone")


if __name__ == "__main__":
    main()
