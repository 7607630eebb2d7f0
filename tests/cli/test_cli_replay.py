"""`stagewise replay`: recorded rollouts judged with a stack's gate config through the gate's own Judge;
bad input named by rollout, sample and field, never a traceback."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from stagewise.tools.gate import analysis, evidence, judge, rules

BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
FAST = [0.0, 0.0, 0.01, 0.3, 0.6, 0.82, 0.98, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def counts(requests: int, errors: int, shares: list[float] = FAST) -> dict:
    return {"requests": requests, "errors": errors, "buckets": [int(requests * s) for s in shares]}


def rollout(name: str, minutes: int, candidate_errors: float, live_rpm: int = 570, candidate_rpm: int = 30) -> dict:
    samples = []
    for minute in range(1, minutes + 1):
        live, candidate = live_rpm * minute, candidate_rpm * minute
        samples.append(
            {
                "t": 60 * minute,
                "live": counts(live, int(live * 0.01)),
                "candidate": counts(candidate, int(candidate * candidate_errors)),
            }
        )
    return {"name": name, "samples": samples}


# The issue's own example, first sample as given.
EXAMPLE = {
    "step": 60,
    "bounds": BOUNDS,
    "rollouts": [
        {
            "name": "r1",
            "samples": [
                {
                    "t": 60,
                    "live": {
                        "requests": 570,
                        "errors": 6,
                        "buckets": [0, 3, 40, 290, 420, 480, 560, 568, 569, 570, 570, 570, 570, 570],
                    },
                    "candidate": {
                        "requests": 30,
                        "errors": 0,
                        "buckets": [0, 0, 2, 15, 22, 25, 29, 30, 30, 30, 30, 30, 30, 30],
                    },
                }
            ],
        }
    ],
}


def replay(repo, data: dict, *args: str):
    path = repo.path / "recorded.json"
    path.write_text(json.dumps(data))
    return repo.run("replay", str(path), "--stack", "dev", *args)


def test_the_issue_example_is_judged_with_the_first_stage_that_sends_traffic(repo):
    result = replay(repo, EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["stage"] == "canary"  # dev is idle: the first stage that sends traffic
    (only,) = report["rollouts"]
    assert (only["name"], only["verdict"], only["t"]) == ("r1", "hold", None)
    assert [c["name"] for c in only["checks"]] == list(rules.CHECKS)


def test_each_rollout_gets_its_first_decisive_look(repo):
    data = {
        "step": 60,
        "bounds": BOUNDS,
        "rollouts": [rollout("healthy", 45, 0.005), rollout("failing", 45, 0.5), rollout("short", 10, 0.005)],
    }
    report = json.loads(replay(repo, data, "--json").stdout)
    results = {r["name"]: r for r in report["rollouts"]}
    # dev's canary: bake 30m, 50 requests.
    assert (results["healthy"]["verdict"], results["healthy"]["t"]) == ("promote", 1800)
    assert results["failing"]["verdict"] == "abort" and results["failing"]["t"] <= 120
    assert (results["short"]["verdict"], results["short"]["t"]) == ("hold", None)
    assert results["short"]["holdReason"] == "bake"


def test_replay_decides_as_the_gate_does_at_the_same_moment(repo):
    data = {"step": 60, "bounds": BOUNDS, "rollouts": [rollout("slowly-worse", 90, 0.03)]}
    report = json.loads(replay(repo, data, "--json").stdout)
    (result,) = report["rollouts"]
    loaded_limits = analysis.limits(repo_config(repo), "canary")
    t = result["t"]
    samples = [
        evidence.Sample(
            s["t"],
            evidence.Counts(s["live"]["requests"], s["live"]["errors"], tuple(s["live"]["buckets"])),
            evidence.Counts(s["candidate"]["requests"], s["candidate"]["errors"], tuple(s["candidate"]["buckets"])),
        )
        for s in data["rollouts"][0]["samples"]
        if s["t"] <= t
    ]
    at_t = judge.judge(loaded_limits, BOUNDS, 60, samples, timedelta(seconds=t))
    before = judge.judge(loaded_limits, BOUNDS, 60, samples[:-1], timedelta(seconds=t - 60))
    assert result["verdict"] == at_t.verdict != "hold" and before.verdict == "hold"


def repo_config(repo):
    from stagewise.tools import session

    return session.load("dev").config


def test_the_stage_option_picks_the_limits(repo):
    data = {"step": 60, "bounds": BOUNDS, "rollouts": [rollout("healthy", 45, 0.005)]}
    report = json.loads(replay(repo, data, "--json", "--stage", "full").stdout)
    assert report["stage"] == "full" and report["rollouts"][0]["verdict"] == "promote"
    idle = replay(repo, data, "--stage", "idle")
    assert idle.exit_code == 1 and "stage 'idle' sends no traffic to the candidate" in idle.output
    unknown = replay(repo, data, "--stage", "canery")
    assert unknown.exit_code == 1 and "unknown stage 'canery'" in unknown.output


def test_the_human_output_is_a_table_of_verdicts(repo):
    data = {"step": 60, "bounds": BOUNDS, "rollouts": [rollout("failing", 5, 0.5)]}
    result = replay(repo, data)
    assert result.exit_code == 0
    for fragment in ("dev: 1 rollouts judged with stage canary's limits", "failing", "abort", "limit broken"):
        assert fragment in result.output


def _broken(path: list, value) -> dict:
    data = copy.deepcopy(EXAMPLE)
    data["rollouts"][0]["samples"].append(copy.deepcopy(data["rollouts"][0]["samples"][0]))
    data["rollouts"][0]["samples"][1]["t"] = 120
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


SAMPLE1 = ["rollouts", 0, "samples", 1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_broken(["step"], 0), "step: 0 must be above 0"),
        (_broken(["bounds", 3], 0.01), "bounds[3]: 0.01 must be above bounds[2] (0.025)"),
        (_broken(["rollouts", 0, "name"], ""), "rollout 0: name: must be a non-empty string"),
        (_broken([*SAMPLE1, "t"], 90), "rollout 'r1', sample 1: t: 90 is not a multiple of step (60)"),
        (_broken([*SAMPLE1, "t"], 60), "rollout 'r1', sample 1: t: 60 must be after the previous sample's 60"),
        (_broken([*SAMPLE1, "live"], {}), "rollout 'r1', sample 1 (t=120): live.requests: missing"),
        (
            _broken([*SAMPLE1, "candidate", "requests"], "30"),
            "rollout 'r1', sample 1 (t=120): candidate.requests: '30' is not a number",
        ),
        (
            _broken([*SAMPLE1, "live", "errors"], 5),
            "rollout 'r1', sample 1 (t=120): live.errors: 5 is below the previous sample's 6",
        ),
        (
            _broken([*SAMPLE1, "live", "errors"], 600),
            "rollout 'r1', sample 1 (t=120): live.errors: 600 is more than its requests (570)",
        ),
        (
            _broken([*SAMPLE1, "candidate", "buckets"], [0, 1]),
            "rollout 'r1', sample 1 (t=120): candidate.buckets: must be a list of 14 counts, one per bound",
        ),
        (
            _broken([*SAMPLE1, "candidate", "buckets", 5], 10),
            "rollout 'r1', sample 1 (t=120): candidate.buckets[5]: 10 is below buckets[4] (22)",
        ),
        (
            _broken([*SAMPLE1, "live", "latency"], 5),
            "rollout 'r1', sample 1 (t=120): live.latency: unknown field (fields: requests, errors, buckets)",
        ),
        (_broken(["rollouts"], KeyError), "rollouts: missing"),
    ],
    ids=[
        "step",
        "bounds-order",
        "name",
        "t-off-grid",
        "t-not-after",
        "counts-missing",
        "not-a-number",
        "not-cumulative",
        "errors-over-requests",
        "buckets-length",
        "buckets-order",
        "unknown-field",
        "rollouts-missing",
    ],
)
def test_bad_input_names_the_rollout_the_sample_and_the_field(repo, data, message):
    result = replay(repo, data)
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_a_file_that_is_not_json_is_a_message(repo):
    path = repo.path / "recorded.json"
    path.write_text('{"step": 60,')
    result = repo.run("replay", str(path), "--stack", "dev")
    assert result.exit_code == 1 and "not JSON" in result.output and "line 1" in result.output
    missing = repo.run("replay", str(repo.path / "nowhere.json"), "--stack", "dev")
    assert missing.exit_code == 1 and "cannot read" in missing.output
