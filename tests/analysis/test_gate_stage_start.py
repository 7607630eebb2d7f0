"""When a stage began, read from git, and the refusals of `analyze` before any metric is read."""

from __future__ import annotations

import json

from scenarios import BASE, HOUR, SCENARIOS, STAGE, at, git, stack_text

from stagewise.tools.analysis import commands, gate

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
    monkeypatch.setattr(commands, "_now", lambda: gate.parse_time(at(2 * HOUR)))
    stack = gate_repo.stack(SCENARIOS["healthy"], prometheus.url, stage="full")
    result = gate_repo.run("analyze", "--stack", stack, "--json", "--apply")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["applied"] == {"command": "finish", "from": "full", "to": "idle", "live": "green"}
    assert "live: green" in (gate_repo.path / f"Pulumi.{stack}.yaml").read_text()
