"""`stagewise report` against a real Prometheus holding the traffic of a scripted rollout history.

The history (tests/cli/report_history.py) is played with the real commands and committed at known
times; for the same span, each version's requests, as the stage of the moment shares them out, are
backfilled into Prometheus with promtool (the stage gates' fixture). The report must give back, per
stage and per version, what was loaded.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
import requests
from PIL import Image

from stagewise.tools.report import chart
from tests.analysis import promdata, promserver
from tests.cli import report_history as scripted
from tests.cli.conftest import repo  # noqa: F401 - the fixture: a temporary git repository with the project

RPS = 4.0  # all requests per second, shared between the colours by the stage
LIVE = "1.5.0"


@dataclass(frozen=True)
class Profile:
    error_share: float
    latency: float  # seconds, every request


# 2.0.0 gets worse as it gets more traffic (the gate aborts it at half); 2.0.1 is healthy.
PROFILES = {
    (LIVE, None): Profile(0.002, 0.04),
    ("2.0.0", "canary"): Profile(0.01, 0.2),
    ("2.0.0", "early"): Profile(0.03, 0.2),
    ("2.0.0", "half"): Profile(0.08, 0.6),
    ("2.0.1", None): Profile(0.005, 0.04),
}
SHARES = {"idle": 0, "canary": 10, "early": 20, "half": 50, "full": 100}
# The stage after each scripted step, and the candidate version then.
AFTER = [
    ("idle", "2.0.0"),
    ("canary", "2.0.0"),
    ("early", "2.0.0"),
    ("half", "2.0.0"),
    ("idle", "2.0.0"),
    ("idle", "2.0.1"),
    ("canary", "2.0.1"),
    ("early", "2.0.1"),
    ("half", "2.0.1"),
    ("full", "2.0.1"),
    (None, "2.0.1"),
]  # finished: 2.0.1 is live


def profile(version: str, stage: str | None) -> Profile:
    return PROFILES.get((version, stage)) or PROFILES[(version, None)]


def segments() -> list[tuple[datetime, datetime, dict[str, tuple[float, Profile]]]]:
    """(start, end, version -> (requests per second, profile)) from the first commit to an hour after the finish."""
    times = [scripted.START, *scripted.times(), scripted.times()[-1] + timedelta(hours=1)]
    found = []
    for index, (start, end) in enumerate(itertools.pairwise(times)):
        if index == 0:
            rates = {LIVE: (RPS, profile(LIVE, None))}
        else:
            stage, candidate = AFTER[index - 1]
            if stage is None:
                rates = {candidate: (RPS, profile(candidate, None))}
            else:
                share = SHARES[stage] / 100
                rates = {LIVE: (RPS * (1 - share), profile(LIVE, None))} if share < 1 else {}
                if share > 0:
                    rates[candidate] = (RPS * share, profile(candidate, stage))
        found.append((start, end, rates))
    return found


def traffics() -> list[promdata.Traffic]:
    result = []
    for number, (start, end, rates) in enumerate(segments()):
        for version, (rps, shape) in rates.items():
            # One series set per segment, as a pod of that version serving that share would export.
            result.append(
                promdata.Traffic(
                    version,
                    start.timestamp(),
                    end.timestamp(),
                    rps,
                    shape.error_share,
                    ((shape.latency, 1.0),),
                    extra_labels=(("instance", f"segment-{number}"),),
                )
            )
    return result


def loaded(version: str, start: datetime, end: datetime) -> tuple[int, int]:
    """The requests and errors of `version` from `start` to `end` (a segment's bounds), as backfilled."""
    for a, b, rates in segments():
        if (a, b) == (start, end):
            if version not in rates:
                return 0, 0
            rps, shape = rates[version]
            total = math.floor((b - a).total_seconds() * rps)
            return total, math.floor(total * shape.error_share)
    raise AssertionError(f"no segment {start}..{end}")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus")
    bin_dir = promserver.binaries()
    promserver.backfill(bin_dir, promdata.openmetrics(traffics()), work / "data")
    server = promserver.start(bin_dir, work / "data", work)
    yield server
    server.stop()


def with_analysis(repo, url: str) -> None:  # noqa: F811 - repo is the fixture's value
    """Point the local stack's stage gates (and so its report) at `url`."""
    path = repo.file(scripted.STACK)
    text = path.read_text()
    anchor = "  stagewise:costCentre: cc-4200\n"
    assert anchor in text
    path.write_text(text.replace(anchor, f"{anchor}  stagewise:analysis:\n    url: {url}\n"))


@pytest.fixture
def played(repo, prometheus, monkeypatch):  # noqa: F811
    with_analysis(repo, prometheus.url)
    return scripted.play(repo, monkeypatch)


def report_json(repo, *args: str) -> dict:  # noqa: F811
    result = repo.run("report", "--stack", scripted.STACK, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def prometheus_p95(url: str, version: str, start: datetime, end: datetime) -> float | None:
    """Prometheus's own histogram_quantile over the window: the oracle for the p95."""
    seconds = int((end - start).total_seconds())
    query = (
        f"histogram_quantile(0.95, sum by (le) (increase(http_server_request_duration_seconds_bucket"
        f'{{service_version="{version}"}}[{seconds}s])))'
    )
    body = requests.get(f"{url}/api/v1/query", params={"query": query, "time": end.timestamp()}, timeout=10).json()
    result = body["data"]["result"]
    value = float(result[0]["value"][1]) if result else math.nan
    return None if math.isnan(value) else value * 1000


@pytest.mark.parametrize("which, steps", [("latest", range(5, 10)), ("2.0.0", range(4))])
def test_per_stage_numbers_are_what_was_loaded(repo, played, prometheus, which, steps):  # noqa: F811
    report = report_json(repo, "--rollout", which)
    assert report["metrics"]["available"] is True, report["metrics"]["missing"]
    assert report["metrics"]["source"] == f"prometheus {prometheus.url}"
    times = scripted.times()
    assert len(report["stages"]) == len(steps)
    for stage, step in zip(report["stages"], steps):
        start, end = times[step], times[step + 1]
        assert (stage["start"], stage["end"]) == (
            start.isoformat().replace("+00:00", "Z"),
            end.isoformat().replace("+00:00", "Z"),
        )
        for role, version in (("candidate", report["rollout"]["version"]), ("live", LIVE)):
            measured = stage["metrics"][role]
            requests_, errors = loaded(version, start, end)
            assert (measured["requests"], measured["errors"]) == (requests_, errors), (stage["stage"], role)
            if requests_:
                assert measured["errorRate"] == pytest.approx(100 * errors / requests_)
                assert measured["p95Ms"] == pytest.approx(prometheus_p95(prometheus.url, version, start, end))
            else:
                assert measured["errorRate"] is None and measured["p95Ms"] is None
        difference = stage["metrics"]["difference"]
        candidate, live = stage["metrics"]["candidate"], stage["metrics"]["live"]
        if candidate["requests"] and live["requests"]:
            assert difference["errorRatePoints"] == pytest.approx(candidate["errorRate"] - live["errorRate"])
            assert difference["p95Ratio"] == pytest.approx(candidate["p95Ms"] / live["p95Ms"])


def test_the_aborted_stage_shows_why_the_gate_aborted(repo, played):  # noqa: F811
    report = report_json(repo, "--rollout", "2.0.0")
    half = report["stages"][-1]
    assert half["stage"] == "half"
    assert half["metrics"]["candidate"]["errorRate"] == pytest.approx(8.0, abs=0.01)
    assert half["metrics"]["difference"]["errorRatePoints"] > 7.5
    (incident,) = report["incidents"]
    assert "limit broken" in incident["reason"]
    assert half["gateVerdict"] == incident["gateVerdict"] == "abort"
    markdown = repo.run("report", "--stack", scripted.STACK, "--rollout", "2.0.0").stdout
    (row,) = [line for line in markdown.splitlines() if line.startswith("| half |") and "points" in line]
    assert row.endswith("| **abort** |") and "8.00 % / 0.20 %" in row


def test_chart_series_cover_the_rollout_for_both_versions(repo, played, tmp_path):  # noqa: F811
    report = report_json(repo, "--out", str(tmp_path))
    series = report["metrics"]["series"]
    assert set(series) == {"2.0.1", LIVE}
    total = sum(p["requests"] for p in series[LIVE])
    # The live version's requests over the rollout: what each stage gave it (windows that straddle a
    # stage change are extrapolated by PromQL's increase(), so within a few per cent).
    expected = sum(loaded(LIVE, s, e)[0] for s, e, _ in segments()[6:11])
    assert total == pytest.approx(expected, rel=0.05)
    with Image.open(tmp_path / "report.png") as image:
        image.load()
        assert image.size == chart.SIZE
    assert ElementTree.parse(tmp_path / "report.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    markdown = (tmp_path / "report.md").read_text()
    assert f"From prometheus {report['metrics']['source'].split(' ', 1)[1]}." in markdown


def test_prometheus_down_gives_the_timeline_and_says_why(repo, monkeypatch):  # noqa: F811
    with_analysis(repo, f"http://127.0.0.1:{promserver.free_port()}")
    scripted.play(repo, monkeypatch)
    report = report_json(repo)
    assert [s["stage"] for s in report["stages"]] == ["idle", "canary", "early", "half", "full"]
    assert report["metrics"]["available"] is False
    assert "is unreachable: connection refused" in report["metrics"]["missing"]
    markdown = repo.run("report", "--stack", scripted.STACK).stdout
    assert "No metrics: prometheus http://127.0.0.1:" in markdown
