"""How long `stagewise analyze` takes against a real Prometheus, by the number of series per version.

Run: .venv/bin/python bench/analyze_bench.py [--series 1,100,1000] [--repeat 10]

For each count N, a fresh Prometheus (Debian's, scripts/prometheus.sh) holds one hour of
request-duration histograms for a live and a candidate version, each split into N series (an
extra `instance` label, as N pods would report), loaded with promtool's backfill. The analysis
then runs in process: the same provider queries and verdict as the CLI, over the whole hour.
"first look": a fresh provider reads all 60 evidence steps (range queries). "watch look": the
provider has looked 3 minutes earlier, as `watch` keeps it, and reads only the 3 new steps.
Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "analysis"))

import promdata  # noqa: E402
import promserver  # noqa: E402

from stagewise.core import stackconfig  # noqa: E402
from stagewise.tools.analysis import gate, verdict  # noqa: E402
from stagewise.tools.analysis.prometheus import PrometheusProvider  # noqa: E402
from stagewise.tools.analysis.provider import Window  # noqa: E402

STEP = 60.0
HOUR = 3600.0
CONFIG = stackconfig.config_from_texts(
    (ROOT / "Pulumi.yaml").read_text(), (ROOT / "Pulumi.local.yaml").read_text(), "Pulumi.local.yaml"
)
VERSIONS = {CONFIG.rollout_release.live: "1.0.0", CONFIG.rollout_release.candidate: "2.0.0"}


def traffics(series: int, start: float, end: float) -> list[promdata.Traffic]:
    out = []
    for version, errors in (("1.0.0", 0.002), ("2.0.0", 0.003)):
        for i in range(series):
            out.append(
                promdata.Traffic(
                    version,
                    start,
                    end,
                    rps=2.0,
                    error_share=errors,
                    latencies=((0.04, 0.9), (0.2, 0.1)),
                    step=STEP,
                    extra_labels=(("instance", f"pod-{i}"),),
                )
            )
    return out


def measure(series: int, repeat: int, bin_dir: Path) -> tuple[float, float, float, float, float, verdict.Verdict]:
    end = (time.time() // HOUR) * HOUR - HOUR
    start = end - HOUR
    with tempfile.TemporaryDirectory(prefix="analyze-bench-") as folder:
        work = Path(folder)
        began = time.perf_counter()
        promserver.backfill(bin_dir, promdata.openmetrics(traffics(series, start, end)), work / "data")
        load = time.perf_counter() - began
        server = promserver.start(bin_dir, work / "data", work)
        try:
            window = Window(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
            # The local stack's own config and tier limits, at a stage with candidate traffic: the same
            # queries and verdict `stagewise analyze` runs.
            stage = gate.StageStart("bench", window.start, "bench", replace(CONFIG.rollout_release, **VERSIONS))
            times, watch_looks, result = [], [], None
            earlier = window.end - timedelta(minutes=3)
            for _ in range(repeat):
                provider = PrometheusProvider(server.url)  # no cache carried over between runs
                began = time.perf_counter()
                result = gate.analyze(CONFIG, "local", stage, provider, window.end).result
                times.append(time.perf_counter() - began)
                watching = PrometheusProvider(server.url)
                gate.analyze(CONFIG, "local", stage, watching, earlier)
                began = time.perf_counter()
                gate.analyze(CONFIG, "local", stage, watching, window.end)
                watch_looks.append(time.perf_counter() - began)
        finally:
            server.stop()
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    assert result is not None
    return load, statistics.median(times), p95, max(times), statistics.median(watch_looks), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default="1,100,1000")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    bin_dir = promserver.binaries()
    print(f"analyze against Prometheus, one hour of data at {STEP:g} s steps, {args.repeat} runs each")
    print(
        f"{'series/version':>15} {'samples':>10} {'backfill s':>11} {'first look: median ms':>22} {'p95 ms':>8} "
        f"{'max ms':>8} {'watch look: median ms':>22}  verdict"
    )
    for count in (int(n) for n in args.series.split(",")):
        # Per series: 2 status codes x (15 buckets + count + sum) x 61 points.
        samples = 2 * count * 2 * 17 * int(HOUR / STEP + 1)
        load, median, p95, worst, watch_look, result = measure(count, args.repeat, bin_dir)
        print(
            f"{count:>15} {samples:>10} {load:>11.1f} {median * 1000:>22.1f} {p95 * 1000:>8.1f} {worst * 1000:>8.1f}"
            f" {watch_look * 1000:>22.1f}  {result.verdict}"
        )


if __name__ == "__main__":
    main()
