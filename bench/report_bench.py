"""How long `stagewise report` takes: rebuilding rollouts from history, reading the metrics, drawing.

Run: .venv/bin/python bench/report_bench.py [--steps 100,1000,10000] [--series 1,10,100] [--repeat 3]

1. Rollouts rebuilt from N stage changes of a stack file (deploy, promotes, finish, over and
   over; in process, no git): the pure reconstruction.
2. Against a real Prometheus (Debian's, scripts/prometheus.sh) holding the traffic of the tests'
   scripted rollout history (about 17 hours), each version's requests split into S series (an
   `instance` label, as S pods would report): reading every stage's numbers and the chart's 60
   windows per version through the stage gates' provider, then drawing the chart (PNG and SVG).
Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stagewise.core import rollout  # noqa: E402
from stagewise.tools import history  # noqa: E402
from stagewise.tools.gate.prometheus import PrometheusProvider  # noqa: E402
from stagewise.tools.report import chart, data, markdown, metrics, timeline  # noqa: E402
from tests.analysis import promdata, promserver  # noqa: E402
from tests.report import test_report_prometheus as scripted_traffic  # noqa: E402

CATALOG = rollout.Catalog.of([rollout.Stage("canary", 10), rollout.Stage("half", 50), rollout.Stage("full", 100)])
CYCLE = ("idle-deploy", "canary", "half", "full", "finish")


class Commit:
    def __init__(self, number: int, at: datetime):
        self.sha, self.author, self.subject, self.body = f"{number:040x}", "bench", f"step {number} (#{number})", ""
        self.date = self.committed = at.isoformat()


def text(stage: str, live: str, blue: str, green: str) -> str:
    return (
        f"config:\n  stagewise:release:\n    image: app\n    blue: {blue}\n    green: {green}\n"
        f"    live: {live}\n    stage: {stage}\n"
    )


def versions(steps: int) -> list[tuple[Commit, str]]:
    """`steps` stage changes: rollout after rollout, each deploy, three promotes and a finish."""
    found, live, blue, green = [], "blue", "1", "0"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(steps):
        phase = CYCLE[number % len(CYCLE)]
        if phase == "idle-deploy":
            tag = str(number)
            blue, green = (blue, tag) if live == "blue" else (tag, green)
            stage = "idle"
        elif phase == "finish":
            live, stage = ("green" if live == "blue" else "blue"), "idle"
        else:
            stage = phase
        found.append((Commit(number, start + timedelta(minutes=10 * number)), text(stage, live, blue, green)))
    return found


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def bench_history(counts: list[int], repeat: int) -> None:
    print(f"rollouts rebuilt from N stage changes (median of {repeat})")
    print(f"{'changes':>8} {'rollouts':>9} {'ms':>9} {'us/change':>10}")
    now = datetime(2027, 1, 1, tzinfo=UTC)
    for count in counts:
        texts = versions(count)
        seconds, found = timed(lambda: timeline.rollouts(history.steps(texts, CATALOG), now), repeat)
        print(f"{count:>8} {len(found):>9} {seconds * 1000:>9.1f} {seconds / count * 1e6:>10.1f}")


def traffics(series: int) -> list[promdata.Traffic]:
    replicated = []
    for traffic in scripted_traffic.traffics():
        for pod in range(series):
            replicated.append(
                promdata.Traffic(
                    traffic.version,
                    traffic.start,
                    traffic.end,
                    traffic.rps / series,
                    traffic.error_share,
                    traffic.latencies,
                    step=60.0,
                    extra_labels=(*traffic.extra_labels, ("pod", f"pod-{pod}")),
                )
            )
    return replicated


def scripted_rollout() -> timeline.Rollout:
    """The tests' scripted history, rebuilt without git: the finished re-deploy of 2.0.1."""
    times, live = scripted_traffic.scripted.times(), scripted_traffic.LIVE
    states = [("idle", "2.0.0"), *scripted_traffic.AFTER]
    texts = [(Commit(0, scripted_traffic.scripted.START), text("idle", "green", "1.4.2", live))]
    for number, (at, (stage, candidate)) in enumerate(zip(times, states[1:]), 1):
        if stage is None:
            texts.append((Commit(number, at), text("idle", "blue", candidate, live)))
        else:
            texts.append((Commit(number, at), text(stage, "green", candidate, live)))
    catalog = rollout.Catalog.of([rollout.Stage(n, w) for n, w in scripted_traffic.SHARES.items() if n != "idle"])
    return timeline.rollouts(history.steps(texts, catalog), datetime.now(UTC))[-1]


def bench_metrics(counts: list[int], repeat: int) -> None:
    bin_dir = promserver.binaries()
    found = scripted_rollout()
    print(
        f"\nreport of the scripted rollout ({len(found.stages)} stages, {timeline.human_duration(found.duration)}) "
        f"against Prometheus (median of {repeat})"
    )
    print(
        f"{'series/version':>15} {'backfill s':>11} {'metrics ms':>11} {'queries':>8} {'chart ms':>9} {'markdown ms':>12}"
    )
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="report-bench-") as folder:
            work = Path(folder)
            began = time.perf_counter()
            promserver.backfill(bin_dir, promdata.openmetrics(traffics(count)), work / "data")
            load = time.perf_counter() - began
            server = promserver.start(bin_dir, work / "data", work)
            try:
                provider = PrometheusProvider(server.url)
                asked = 0
                real = provider.query

                def counted(*args: Any, **kwargs: Any) -> Any:
                    nonlocal asked
                    asked += 1
                    return real(*args, **kwargs)

                provider.query = counted  # type: ignore[method-assign]
                seconds, numbers = timed(lambda: metrics.collect(found, provider), repeat)
                assert numbers.missing is None, numbers.missing
                report = data.Report("bench", "Pulumi.bench.yaml", datetime.now(UTC), found, numbers)
                drawing, _ = timed(lambda: chart.render(report), repeat)
                writing, _ = timed(lambda: markdown.render(report), repeat)
            finally:
                server.stop()
        print(
            f"{count:>15} {load:>11.1f} {seconds * 1000:>11.0f} {asked // repeat:>8} {drawing * 1000:>9.0f} "
            f"{writing * 1000:>12.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="100,1000,10000")
    parser.add_argument("--series", default="1,10,100")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_history([int(n) for n in args.steps.split(",")], args.repeat)
    bench_metrics([int(n) for n in args.series.split(",")], args.repeat)


if __name__ == "__main__":
    main()
