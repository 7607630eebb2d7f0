"""CI's rollout report: written when a push holds a `finish`, and wired into every deployment job."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from tests.cli import report_history as scripted

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / ".github" / "actions" / "rollout-report" / "action.yml"


def _script():
    spec = importlib.util.spec_from_file_location(
        "finished_rollout", ROOT / ".github" / "scripts" / "finished_rollout.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


finished_rollout = _script()
NOTHING = {"sha": "", "version": "", "pull-request": ""}


@pytest.fixture
def played(repo, monkeypatch):
    return scripted.play(repo, monkeypatch)


def test_a_push_with_the_finish_gives_its_commit_version_and_pull_request(repo, played):
    assert finished_rollout.outputs(repo.path, "local", played[9], played[10]) == {
        "sha": played[10],
        "version": "2.0.1",
        "pull-request": "51",
    }
    # Several commits pushed at once, the finish among them.
    assert finished_rollout.outputs(repo.path, "local", played[6], played[10])["sha"] == played[10]


@pytest.mark.parametrize("base, head", [(3, 4), (4, 5), (8, 9)])  # the abort, the re-deploy, the promote to full
def test_a_push_without_a_finish_gives_nothing(repo, played, base, head):
    assert finished_rollout.outputs(repo.path, "local", played[base], played[head]) == NOTHING


def test_a_push_to_another_stack_gives_nothing(repo, played):
    assert finished_rollout.outputs(repo.path, "dev", played[9], played[10]) == NOTHING


@pytest.mark.parametrize("base", ["0" * 40, "f" * 40])  # a new branch; a base the clone does not have
def test_without_a_usable_base_only_the_head_counts(repo, played, base):
    assert finished_rollout.outputs(repo.path, "local", base, played[10])["sha"] == played[10]
    assert finished_rollout.outputs(repo.path, "local", base, played[9]) == NOTHING


def test_the_script_prints_github_outputs(repo, played, capsys, monkeypatch):
    monkeypatch.setattr(finished_rollout, "ROOT", repo.path)
    assert finished_rollout.main(["--stack", "local", "--base", played[9], "--head", played[10]]) == 0
    assert capsys.readouterr().out == f"sha={played[10]}\nversion=2.0.1\npull-request=51\n"


def test_every_deployment_job_reports_after_its_up():
    document = yaml.safe_load((ROOT / ".github" / "workflows" / "up.yml").read_text())
    deploying = [job for job in document["jobs"].values() if job.get("environment")]
    assert len(deploying) == 2
    for job in deploying:
        steps = job["steps"]
        up = next(i for i, s in enumerate(steps) if "pulumi up" in s.get("run", ""))
        (report,) = [i for i, s in enumerate(steps) if s.get("uses") == "./.github/actions/rollout-report"]
        assert report > up
        assert steps[report]["with"] == {
            "stack": "${{ matrix.stack }}",
            "base": "${{ github.event.before }}",
            "head": "${{ github.sha }}",
            "token": "${{ github.token }}",
        }
        assert job["permissions"]["pull-requests"] == "write"


def test_the_action_writes_the_summary_keeps_the_artifact_and_comments_only_after_a_finish():
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    assert ".github/scripts/finished_rollout.py" in steps[0]["run"]
    assert all(s["if"] == "steps.finished.outputs.sha != ''" for s in steps[1:])
    assert 'stagewise report --stack "$STACK" --rollout "$FINISH" --out "$dir"' in steps[1]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in steps[1]["run"]
    assert steps[2]["uses"].startswith("actions/upload-artifact@")
    assert 'gh pr comment "$pr"' in steps[3]["run"] and "$ARTIFACT_URL" in steps[3]["run"]


def test_a_finish_the_gate_pushes_itself_is_reported_too():
    document = yaml.safe_load((ROOT / ".github" / "workflows" / "gate.yml").read_text())
    steps = document["jobs"]["act"]["steps"]
    up = next(i for i, s in enumerate(steps) if "pulumi up" in s.get("run", ""))
    (report,) = [i for i, s in enumerate(steps) if s.get("uses") == "./.github/actions/rollout-report"]
    assert report > up
    assert steps[report]["if"] == "steps.act.outputs.done == 'direct' && steps.act.outputs.next == 'finish'"
    assert document["jobs"]["act"]["permissions"]["pull-requests"] == "write"


def test_a_revision_range_counts_as_pushed(repo, played):
    repo.git("checkout", "-q", played[10])
    assert finished_rollout.outputs(repo.path, "local", "HEAD~1", "HEAD")["sha"] == played[10]
