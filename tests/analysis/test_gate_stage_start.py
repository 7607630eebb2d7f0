"""When a stage began, read from git, and the refusals of `analyze` before any metric is read."""

from __future__ import annotations

import json

from scenarios import BASE, HOUR, SCENARIOS, STAGE, at, git, stack_text

from stagewise.tools.gate import analysis, commands, kept

CLOSED = "http://127.0.0.1:9"


def test_a_merged_pull_request_counts_from_its_merge(gate_repo):
    scenario = SCENARIOS["healthy"]
    path = gate_repo.path / "Pulumi.merged.yaml"
    path.write_text(stack_text(scenario.live_version, scenario.candidate_version, "idle", CLOSED))
    git(gate_repo.path, "add", path.name)
    git(gate_repo.path, "commit", "-q", "-m", "deploy", when=BASE)
    git(gate_repo.path, "switch", "-q", "-c", "promote")
    path.write_text(stack_text(scenario.live_version, scenario.candidate_version, "canary", CLOSED))
    git(gate_repo.path, "commit", "-q", "-am", "promote to canary", when=BASE + 60)  # authored early...
    git(gate_repo.path, "switch", "-q", "main")
    git(gate_repo.path, "merge", "-q", "--no-ff", "-m", "Merge pull request", "promote", when=STAGE)  # ...merged later
    result = gate_repo.run("analyze", "--stack", "merged", "--json", "--at", at(HOUR))
    report = json.loads(result.stdout)
    assert report["stage"]["since"] == at(0)
    assert report["stage"]["commit"] == git(gate_repo.path, "rev-parse", "HEAD").strip()


def test_a_replay_reads_the_release_the_stack_had_then(prometheus, gate_repo):
    stack = gate_repo.stack(SCENARIOS["healthy"], prometheus.url)
    # Before the promote to canary the stack was idle: nothing to judge then.
    result = gate_repo.run("analyze", "--stack", stack, "--at", at(-60))
    assert result.exit_code == 1 and "stage 'idle' sends no traffic to the candidate" in result.output


def test_an_uncommitted_stage_change_is_refused(gate_repo):
    stack = gate_repo.stack(SCENARIOS["healthy"], CLOSED)
    path = gate_repo.path / f"Pulumi.{stack}.yaml"
    path.write_text(path.read_text().replace("stage: canary", "stage: early"))
    result = gate_repo.run("analyze", "--stack", stack)
    assert result.exit_code == 1
    assert "uncommitted release change (stage canary committed, early in the working tree)" in result.output


def test_a_time_that_is_not_rfc3339_is_refused(gate_repo):
    stack = gate_repo.stack(SCENARIOS["healthy"], CLOSED)
    for bad, why in (("yesterday", "not an RFC 3339 time"), ("2026-11-22T10:00:00", "has no UTC offset")):
        result = gate_repo.run("analyze", "--stack", stack, "--at", bad)
        assert result.exit_code == 1 and why in result.output, result.output


def test_watch_refuses_a_bad_interval(gate_repo):
    stack = gate_repo.stack(SCENARIOS["healthy"], CLOSED)
    result = gate_repo.run("watch", "--stack", stack, "--interval", "often")
    assert result.exit_code == 1 and "'often' is not a duration" in result.output


def test_promote_at_the_last_stage_applies_finish(prometheus, gate_repo, monkeypatch):
    # "Now" is two hours into the stage, while the recorded traffic flows (--apply judges now).
    monkeypatch.setattr(commands, "_now", lambda: analysis.parse_time(at(2 * HOUR)))
    stack = gate_repo.stack(SCENARIOS["healthy"], prometheus.url, stage="full")
    result = gate_repo.run("analyze", "--stack", stack, "--json", "--apply")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["applied"] == {"command": "finish", "from": "full", "to": "idle", "live": "green"}
    assert "live: green" in (gate_repo.path / f"Pulumi.{stack}.yaml").read_text()


def test_a_gate_config_edited_mid_stage_applies_from_the_next_stage(prometheus, gate_repo):
    # An edit committed an hour into the stage raises the absolute error limit from 5 % to 50 %; the
    # stage is still judged by the limits it began with.
    scenario = SCENARIOS["errors"]
    stack = gate_repo.stack(scenario, prometheus.url)
    path = gate_repo.path / f"Pulumi.{stack}.yaml"
    loose = "    errorRateAbort: 50\n    errorRateWarning: 40\n"
    path.write_text(stack_text(scenario.live_version, scenario.candidate_version, "canary", prometheus.url, loose))
    git(gate_repo.path, "commit", "-q", "-am", "loosen the gate", when=STAGE + HOUR)
    result = gate_repo.run("analyze", "--stack", stack, "--json", "--at", at(2 * HOUR))
    assert result.exit_code == 4, result.output
    report = json.loads(result.stdout)
    assert {c["name"]: c["limit"] for c in report["checks"]}["error_rate"] == 5.0  # the stage commit's default


def test_a_moment_in_the_future_is_refused(gate_repo):
    stack = gate_repo.stack(SCENARIOS["healthy"], CLOSED)
    result = gate_repo.run("analyze", "--stack", stack, "--at", "2999-01-01T00:00:00Z")
    assert result.exit_code == 1 and "is in the future" in result.output, result.output


def test_a_second_process_goes_on_from_the_kept_judgement(prometheus, gate_repo, settled_cache):
    # The first analyze judges the stage and keeps its Judge on disk; a later process (memory
    # forgotten) reads it back and gives the same verdict from the same steps.
    stack = gate_repo.stack(SCENARIOS["healthy"], prometheus.url)
    first = gate_repo.run("analyze", "--stack", stack, "--json", "--at", at(HOUR))
    kept.forget()
    assert list((settled_cache / "judges").glob("judge-*.pickle")), "no judgement kept on disk"
    again = gate_repo.run("analyze", "--stack", stack, "--json", "--at", at(HOUR))
    assert json.loads(again.stdout)["checks"] == json.loads(first.stdout)["checks"]
    assert json.loads(again.stdout)["promoteEvidence"] == json.loads(first.stdout)["promoteEvidence"]


def test_a_metrics_source_moved_mid_stage_is_read_where_it_is_now(prometheus, gate_repo):
    # The stage began reading a Prometheus that is gone (nothing listens at CLOSED); the URL was
    # moved an hour in. Where to read is not what is judged: the new URL applies at once.
    scenario = SCENARIOS["errors"]
    stack = gate_repo.stack(scenario, CLOSED)
    path = gate_repo.path / f"Pulumi.{stack}.yaml"
    path.write_text(stack_text(scenario.live_version, scenario.candidate_version, "canary", prometheus.url))
    git(gate_repo.path, "commit", "-q", "-am", "prometheus moved", when=STAGE + HOUR)
    result = gate_repo.run("analyze", "--stack", stack, "--json", "--at", at(2 * HOUR))
    assert result.exit_code == 4, result.output
    assert json.loads(result.stdout)["provider"] == f"prometheus {prometheus.url}"
