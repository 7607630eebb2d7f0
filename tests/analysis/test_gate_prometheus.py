"""`stagewise analyze` against a real Prometheus: every verdict, from metrics that went through
promtool's backfill and PromQL, and the git history of a stack file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import promdata
import pytest
import requests
from scenarios import SCENARIOS, STAGE, Gate, at

from stagewise.core.gate_config import PROMETHEUS_DURATION_BUCKETS
from stagewise.tools.gate import analysis, commands
from stagewise.tools.gate.prometheus import PrometheusProvider
from stagewise.tools.gate.provider import Window
from stagewise.tools.gate.settled import SettledCache

TWO_HOURS = 2 * 3600


SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "analysis.schema.json").read_text())


def analyze(repo: Gate, stack: str, when: float = TWO_HOURS) -> tuple[int, dict]:
    result = repo.run("analyze", "--stack", stack, "--json", "--at", at(when))
    assert result.exit_code in (*analysis.EXIT_CODES.values(), analysis.EXIT_STUCK), result.output
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)  # the documented schema
    assert (analysis.EXIT_STUCK if report["stuck"] else analysis.EXIT_CODES[report["verdict"]]) == result.exit_code
    return result.exit_code, report


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def test_healthy_candidate_is_promoted(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["healthy"], prometheus.url)
    code, report = analyze(gate_repo, stack)
    assert (code, report["verdict"]) == (0, "promote"), report["reason"]
    candidate = report["versions"]["candidate"]
    # 1 request/s for two hours, counted exactly from the samples.
    assert candidate["version"] == "2.0.0-healthy" and candidate["requests"] == 7200
    assert report["versions"]["live"]["requests"] > 5 * candidate["requests"] * 0.9
    assert {c["status"] for c in report["checks"]} == {"pass"}
    assert report["stage"]["since"] == at(0) and report["window"]["end"] == at(TWO_HOURS)


def test_error_rate_over_the_absolute_limit_aborts(prometheus, gate_repo):
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["errors"], prometheus.url))
    assert (code, report["verdict"]) == (4, "abort")
    error_rate = check(report, "error_rate")
    assert error_rate["status"] == "fail" and 9.5 < error_rate["value"] < 10.5 and error_rate["limit"] == 5.0


def test_p95_over_the_absolute_limit_aborts(prometheus, gate_repo):
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["slow"], prometheus.url))
    assert (code, report["verdict"]) == (4, "abort")
    p95 = check(report, "p95")
    # 15 % of requests take 3 s: the p95 lies in the 2.5..5 s bucket.
    assert p95["status"] == "fail" and 2500 < p95["value"] <= 5000
    assert check(report, "error_rate")["status"] == "pass"


def test_worse_than_live_beyond_the_relative_limit_aborts(prometheus, gate_repo):
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["worse"], prometheus.url))
    assert (code, report["verdict"]) == (4, "abort")
    assert check(report, "error_rate")["status"] == "warn"  # 3 %: over the warning, under the absolute limit
    relative = check(report, "error_rate_vs_live")
    assert relative["status"] == "fail" and relative["value"] > 2 and relative["pValue"] < 0.001


def test_worse_than_live_with_too_few_requests_holds(prometheus, gate_repo):
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["worse-few"], prometheus.url))
    # 0.005 req/s against live's 5 is 0.1 % of the requests where the stage sends 10 %: the hold
    # names the share first (is the stage applied?), before the missing requests it causes.
    assert (code, report["verdict"], report["holdReason"]) == (3, "hold", "traffic_share")
    assert report["versions"]["candidate"]["requests"] < 50
    # Over its tolerance as measured, but 36 requests are no evidence yet: no abort, and the check
    # says which regression they could show.
    relative = check(report, "error_rate_vs_live")
    assert relative["status"] == "warn" and relative["value"] > 2
    assert relative["eValue"] < relative["threshold"] and relative["detectable"] > relative["value"]


def test_slower_than_live_beyond_the_ratio_aborts_on_exact_counts_at_a_bucket_bound(prometheus, gate_repo):
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["slower"], prometheus.url))
    assert (code, report["verdict"]) == (4, "abort")
    assert check(report, "p95")["status"] == "pass"  # 200 ms: under the absolute limits
    relative = check(report, "p95_vs_live")
    # Live answers in 40 ms: its slow bound is 50 ms, which no live request exceeds and every
    # candidate request does (a ratio without bound, so no value).
    assert relative["description"] == "candidate share of requests slower than 50 ms / live's"
    assert relative["status"] == "fail" and relative["value"] is None and relative["pValue"] < 1e-6


def test_bake_not_over_holds_even_when_healthy(prometheus, gate_repo):
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["healthy"], prometheus.url), when=180)
    assert (code, report["verdict"], report["holdReason"]) == (3, "hold", "bake")
    assert "3m00s of 0h05m" in report["reason"] or "of 5m" in report["reason"], report["reason"]


def test_prometheus_down_holds_with_a_clear_message(prometheus, gate_repo):
    import promserver

    closed = f"http://127.0.0.1:{promserver.free_port()}"
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["healthy"], closed))
    assert (code, report["verdict"], report["holdReason"]) == (3, "hold", "no_metrics")
    assert f"Prometheus at {closed} is unreachable: connection refused" in report["reason"]


def test_a_query_prometheus_refuses_holds_and_names_the_query(prometheus, gate_repo):
    # A plain counter selector passes the validator; its lookahead is a regex Python reads and
    # Prometheus (RE2) does not.
    broken = (
        "    queries:\n      requests: 'http_server_request_duration_seconds_count{service_version=$version,"
        'http_response_status_code=~"(?=2).."}\'\n'
    )
    code, report = analyze(gate_repo, gate_repo.stack(SCENARIOS["healthy"], prometheus.url, broken))
    assert (code, report["holdReason"]) == (3, "no_metrics")
    assert "Prometheus refused the query (bad_data" in report["reason"]


def test_no_candidate_traffic_holds_and_is_stuck_past_its_deadline(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["silent"], prometheus.url)
    code, report = analyze(gate_repo, stack, 20 * 60)
    assert (code, report["verdict"], report["holdReason"], report["stuck"]) == (
        3,
        "hold",
        "no_candidate_traffic",
        False,
    )
    assert "2.0.0-silent served no requests" in report["reason"]
    # noTrafficDeadline (30m by default) passed: still a hold, never a promote, and reported as stuck.
    code, report = analyze(gate_repo, stack)
    assert (code, report["verdict"], report["holdReason"], report["stuck"]) == (5, "hold", "no_candidate_traffic", True)
    assert "stuck: no candidate traffic for 2h00m" in report["reason"]


def test_human_output_shows_the_evidence(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["errors"], prometheus.url)
    result = gate_repo.run("analyze", "--stack", stack, "--at", at(TWO_HOURS))
    assert result.exit_code == 4
    for fragment in ("2.0.0-errors", "1.0.0-errors", "candidate error rate", "fail", "verdict: abort", "limit broken"):
        assert fragment in result.output


def test_p95_matches_promql_histogram_quantile(prometheus):
    # The provider reads the p95 from the buckets itself (it needs them for the slow-request count);
    # it must agree with what PromQL computes from the same buckets.
    provider = PrometheusProvider(prometheus.url)
    window = Window(*(analysis.parse_time(at(x)) for x in (0, TWO_HOURS)))
    for name in ("healthy", "slow", "slower"):
        version = SCENARIOS[name].candidate_version
        ours = provider.version_metrics(version, window).p95_ms
        selector = PROMETHEUS_DURATION_BUCKETS.replace("$version", f'"{version}"')
        promql = f"histogram_quantile(0.95, sum by (le) (increase({selector}[{TWO_HOURS}s])))"
        answer = requests.get(
            f"{prometheus.url}/api/v1/query", params={"query": promql, "time": STAGE + TWO_HOURS}, timeout=10
        ).json()
        theirs = float(answer["data"]["result"][0]["value"][1]) * 1000
        assert ours == pytest.approx(theirs, rel=1e-9), name


def test_apply_carries_out_the_verdict_on_the_stack_file(prometheus, gate_repo):
    # Replays never write; analysing now, the "errors" candidate is aborted through the rollout model.
    stack = gate_repo.stack(SCENARIOS["errors"], prometheus.url)
    refused = gate_repo.run("analyze", "--stack", stack, "--apply", "--at", at(TWO_HOURS))
    assert refused.exit_code == 1 and "--at is for replays" in refused.output
    result = gate_repo.run("analyze", "--stack", stack, "--apply", "--json")
    assert result.exit_code == 4, result.output
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["applied"] == {"command": "abort", "from": "canary", "to": "idle", "live": "blue"}
    text = (gate_repo.path / f"Pulumi.{stack}.yaml").read_text()
    # The rollout model's abort: all traffic to blue, and green runs the live version again.
    assert "stage: idle" in text and "blue: 1.0.0-errors" in text and "green: 1.0.0-errors" in text


def test_hold_changes_nothing(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["silent"], prometheus.url)
    before = (gate_repo.path / f"Pulumi.{stack}.yaml").read_bytes()
    result = gate_repo.run("analyze", "--stack", stack, "--apply")
    assert (
        result.exit_code == analysis.EXIT_STUCK and "no candidate traffic" in result.output and "STUCK" in result.output
    )
    assert (gate_repo.path / f"Pulumi.{stack}.yaml").read_bytes() == before


def test_watch_stops_at_the_first_verdict_other_than_hold(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["errors"], prometheus.url)
    result = gate_repo.run("watch", "--stack", stack, "--interval", "1s", "--timeout", "30s", "--json")
    assert result.exit_code == 4 and json.loads(result.stdout)["verdict"] == "abort"


def test_watch_gives_up_at_its_timeout_with_hold(prometheus, gate_repo, monkeypatch):
    # As of two hours into the stage (while the recorded traffic flows), the few candidate requests hold.
    monkeypatch.setattr(commands, "_now", lambda: analysis.parse_time(at(TWO_HOURS)))
    stack = gate_repo.stack(SCENARIOS["worse-few"], prometheus.url)
    result = gate_repo.run("watch", "--stack", stack, "--interval", "1s", "--timeout", "3s")
    assert result.exit_code == 3 and "timeout 3s reached" in result.output


def test_watch_stops_at_once_when_the_rollout_is_stuck(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["silent"], prometheus.url)
    result = gate_repo.run("watch", "--stack", stack, "--interval", "1s", "--timeout", "1m", "--json")
    assert result.exit_code == analysis.EXIT_STUCK and json.loads(result.stdout)["stuck"] is True


def test_the_evidence_grid_adds_up_to_the_window_and_counts_at_the_histograms_bounds(prometheus):
    # Raw samples differenced per series, each step's events in the step of the sample that shows them.
    provider = PrometheusProvider(prometheus.url)
    start = analysis.parse_time(at(0))
    steps = provider.steps(SCENARIOS["slow"].candidate_version, start, 120, timedelta(minutes=1))
    assert len(steps.counts) == 120 and steps.bounds == promdata.BUCKETS and steps.problems == ()
    assert steps.counts[-1].requests == 7200  # 1 request/s for two hours, exactly
    requests_so_far = [c.requests for c in steps.counts]
    assert requests_so_far == [60.0 * (i + 1) for i in range(120)]
    # 15 % of requests take 3 s: exactly those are above the 2.5 s bound, none is interpolated.
    last = steps.counts[-1]
    above = last.requests - last.buckets[promdata.BUCKETS.index(2.5)]
    assert above / last.requests == pytest.approx(0.15, abs=0.01)


def test_a_watch_reads_only_the_steps_it_has_not_read_and_judges_the_same_counts(prometheus):
    provider = PrometheusProvider(prometheus.url, cache=SettledCache(None))
    start, version = analysis.parse_time(at(0)), SCENARIOS["healthy"].candidate_version
    provider.steps(version, start, 60, timedelta(minutes=1))
    asked = provider.requests_made
    later = provider.steps(version, start, 62, timedelta(minutes=1))
    # One request per 30 minutes (CHUNK) for the first 60 steps (requests, errors and buckets together),
    # then one for the 2 new ones.
    assert asked == 2 and provider.requests_made == 3
    assert later == PrometheusProvider(prometheus.url, cache=SettledCache(None)).steps(
        version, start, 62, timedelta(minutes=1)
    )


@pytest.mark.parametrize("name", ["errors", "slower", "healthy"])
def test_replay_of_the_recorded_grid_decides_when_and_as_analyze_does(prometheus, gate_repo, name):
    # The evidence analyze reads, written in replay's format: the first decisive look of the replay
    # is the first moment analyze --at decides, with the same verdict.
    stack = gate_repo.stack(SCENARIOS[name], prometheus.url)
    provider, start, minute = PrometheusProvider(prometheus.url), analysis.parse_time(at(0)), timedelta(minutes=1)
    live = provider.steps(SCENARIOS[name].live_version, start, 20, minute)
    candidate = provider.steps(SCENARIOS[name].candidate_version, start, 20, minute)
    bounds, samples = analysis.evidence(live, candidate, minute)

    def counts(c):
        return {"requests": c.requests, "errors": c.errors, "buckets": list(c.buckets)}

    recording = {
        "step": 60,
        "bounds": list(bounds),
        "rollouts": [
            {
                "name": name,
                "samples": [{"t": s.t, "live": counts(s.live), "candidate": counts(s.candidate)} for s in samples],
            }
        ],
    }
    path = gate_repo.path / "recorded.json"
    path.write_text(json.dumps(recording))
    result = gate_repo.run("replay", str(path), "--stack", stack, "--json")
    assert result.exit_code == 0, result.output
    (replayed,) = json.loads(result.stdout)["rollouts"]
    assert replayed["verdict"] != "hold" and replayed["t"] is not None
    code, report = analyze(gate_repo, stack, when=replayed["t"])
    assert report["verdict"] == replayed["verdict"] and report["checks"] == replayed["checks"]
    _, before = analyze(gate_repo, stack, when=replayed["t"] - 60)
    assert before["verdict"] == "hold"


def test_a_long_stage_is_read_in_parts_and_the_parts_add_up(prometheus, monkeypatch):
    # A first look far into a stage reads the raw samples in parts (CHUNK each), keeping each.
    from stagewise.tools.gate import prometheus as module

    start, version = analysis.parse_time(at(0)), SCENARIOS["errors"].candidate_version
    whole = PrometheusProvider(prometheus.url).steps(version, start, 20, timedelta(minutes=1))
    monkeypatch.setattr(module, "CHUNK", timedelta(minutes=7))
    parts = PrometheusProvider(prometheus.url, cache=SettledCache(None))
    assert parts.steps(version, start, 20, timedelta(minutes=1)) == whole and parts.requests_made == 3


def test_a_step_shorter_than_the_scrape_interval_still_counts_every_request(prometheus):
    # The test data is scraped every 15 s: a 10 s step holds one sample or none, and each request is
    # counted once, in the step of the first sample that shows it (increase() read nothing here).
    provider = PrometheusProvider(prometheus.url)
    start = analysis.parse_time(at(0))
    short = provider.steps(SCENARIOS["errors"].candidate_version, start, 30, timedelta(seconds=10))
    assert short.counts[-1].requests == 300 and short.problems == ()
    assert {c.requests for c in short.counts} <= {15.0 * i for i in range(21)}
    silent = provider.steps(SCENARIOS["silent"].candidate_version, start, 30, timedelta(seconds=10))
    assert silent.counts[-1].requests == 0 and [p.series for p in silent.problems] == ["requests"]
