"""Rollouts rebuilt from successive versions of a stack file (no git here: texts and commit records)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stagewise.core import rollout
from stagewise.tools import history
from stagewise.tools.git import Commit
from stagewise.tools.report import timeline

CATALOG = rollout.Catalog.of([rollout.Stage("canary", 10), rollout.Stage("half", 50), rollout.Stage("full", 100)])
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)


def text(stage: str, live: str = "blue", blue: str | None = "1.0", green: str | None = None) -> str:
    lines = ["config:", "  stagewise:release:", "    image: app", f"    live: {live}", f"    stage: {stage}"]
    lines += [f"    blue: {blue}"] if blue else []
    lines += [f"    green: {green}"] if green else []
    return "\n".join(lines) + "\n"


def play(*versions: tuple[float, str | None] | tuple[float, str | None, str] | tuple[float, str | None, str, str]):
    """(hours after T0, file text[, subject[, author]]) -> the rollouts found, as of NOW."""
    commits = []
    for number, version in enumerate(versions):
        hours, content = version[0], version[1]
        subject = version[2] if len(version) > 2 else f"change {number}"
        author = version[3] if len(version) > 3 else "Alice"
        at = (T0 + timedelta(hours=hours)).isoformat()
        commits.append((Commit(f"{number:040x}", author, at, subject, at), content))
    return timeline.rollouts(history.steps(commits, CATALOG), NOW)


def hours(value: timedelta) -> float:
    return value.total_seconds() / 3600


BASE = (0, text("idle"))  # 1.0 live on blue, nothing on green


def test_deploy_promotes_and_an_abort_that_stays_make_an_aborted_rollout():
    (found,) = play(
        BASE,
        (1, text("idle", green="2.0"), "deploy 2.0 (#7)"),
        (2, text("canary", green="2.0")),
        (5, text("half", green="2.0"), "promote", "Bob"),
        (6.5, text("idle", green="2.0"), "abort: error rate 7.5 % > 5 %", "gate[bot]"),
    )
    assert (found.version, found.candidate, found.baseline, found.outcome) == ("2.0", "green", "1.0", "aborted")
    assert [(s.stage, s.share, s.action, hours(s.duration)) for s in found.stages] == [
        ("idle", 0, "deploy", 1),
        ("canary", 10, "promote", 3),
        ("half", 50, "promote", 1.5),
    ]
    assert found.stages[1].traffic == {"green": 10, "blue": 90}
    assert found.stages[2].change.author == "Bob"
    assert (found.start, found.end) == (T0 + timedelta(hours=1), T0 + timedelta(hours=6.5))
    (incident,) = found.incidents
    assert (incident.kind, incident.from_stage, incident.to_stage, incident.from_share, incident.to_share) == (
        "abort",
        "half",
        "idle",
        50,
        0,
    )
    assert incident.reason == "abort: error rate 7.5 % > 5 %"
    assert incident.change.by_bot and found.ended_by == incident.change
    assert found.started_by.pull_request == 7


def test_promoted_again_after_an_abort_it_is_one_rollout_that_finishes():
    (found,) = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("canary", green="2.0")),
        (3, text("idle", green="2.0"), "rollback: canary looked slow"),
        (5, text("canary", green="2.0")),
        (6, text("half", green="2.0")),
        (7, text("full", green="2.0")),
        (9, text("idle", live="green", green="2.0"), "finish"),
    )
    assert found.outcome == "finished"
    assert [(s.stage, hours(s.duration)) for s in found.stages] == [
        ("idle", 1),
        ("canary", 1),
        ("idle", 2),
        ("canary", 1),
        ("half", 1),
        ("full", 2),
    ]
    assert [(i.kind, i.from_stage) for i in found.incidents] == [("rollback", "canary")]
    assert found.ended_by is not None and found.ended_by.subject == "finish"
    assert hours(found.duration) == 8


def test_a_rollout_that_goes_on_ends_now():
    (found,) = play(BASE, (1, text("idle", green="2.0")), (2, text("canary", green="2.0")))
    assert found.outcome == "in progress" and found.ended_by is None
    assert found.stages[-1].open and found.stages[-1].end == NOW == found.end
    assert not found.stages[0].open


def test_a_deploy_never_promoted_is_in_progress():
    (found,) = play(BASE, (1, text("idle", green="2.0")))
    assert (found.outcome, [s.stage for s in found.stages]) == ("in progress", ["idle"])


def test_a_rollback_step_is_an_incident_and_the_rollout_goes_on():
    (found,) = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("canary", green="2.0")),
        (3, text("half", green="2.0")),
        (4, text("canary", green="2.0"), "Revert promote to half"),
    )
    assert found.outcome == "in progress"
    assert [(i.kind, i.from_share, i.to_share) for i in found.incidents] == [("rollback", 50, 10)]


def test_a_second_deploy_starts_a_second_rollout_and_the_first_is_superseded():
    first, second = play(
        BASE, (1, text("idle", green="2.0")), (2, text("idle", green="2.1")), (3, text("canary", green="2.1"))
    )
    assert (first.version, first.outcome, second.version, second.outcome) == ("2.0", "superseded", "2.1", "in progress")
    assert first.end == second.start == T0 + timedelta(hours=2)


def test_abort_then_redeploy_gives_an_aborted_rollout_then_a_new_one():
    first, second = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("canary", green="2.0")),
        (3, text("idle", green="2.0")),
        (4, text("idle", green="2.0.1")),
        (5, text("canary", green="2.0.1")),
        (6, text("half", green="2.0.1")),
        (7, text("full", green="2.0.1")),
        (8, text("idle", live="green", green="2.0.1")),
    )
    assert (first.outcome, first.end) == ("aborted", T0 + timedelta(hours=3))
    assert [s.stage for s in first.stages] == ["idle", "canary"]
    assert (second.outcome, second.incidents) == ("finished", ())
    assert [s.stage for s in second.stages] == ["idle", "canary", "half", "full"]


def test_after_a_finish_the_next_deploy_goes_to_the_other_colour():
    rollouts = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("full", green="2.0")),
        (3, text("idle", live="green", green="2.0")),
        (4, text("idle", live="green", blue="3.0", green="2.0")),
    )
    assert [(r.version, r.candidate, r.baseline, r.outcome) for r in rollouts] == [
        ("2.0", "green", "1.0", "finished"),
        ("3.0", "blue", "2.0", "in progress"),
    ]


def test_a_file_created_in_the_middle_of_a_rollout_starts_one():
    (found,) = play((0, text("canary", green="2.0")), (1, text("idle", live="green", green="2.0")))
    assert (found.version, found.stages[0].action, found.outcome) == ("2.0", "created", "finished")


def test_a_file_created_at_idle_holds_no_rollout():
    assert play((0, text("idle", green="2.0"))) == []


def test_an_unreadable_version_is_a_note_and_the_rollout_goes_on():
    (found,) = play(BASE, (1, text("idle", green="2.0")), (2, "config: [broken\n"), (3, text("canary", green="2.0")))
    assert [s.stage for s in found.stages] == ["idle", "canary"]
    assert len(found.notes) == 1 and "unreadable" in found.notes[0]


def test_a_removed_file_ends_the_rollout_as_aborted():
    (found,) = play(BASE, (1, text("idle", green="2.0")), (2, text("canary", green="2.0")), (3, None))
    assert found.outcome == "aborted"
    assert [(i.kind, i.from_stage) for i in found.incidents] == [("removed", "canary")]


def test_times_are_when_the_commit_landed_not_when_it_was_written():
    merged = T0 + timedelta(hours=5)
    commits = [
        (Commit("a" * 40, "A", T0.isoformat(), "base", T0.isoformat()), text("idle")),
        (Commit("b" * 40, "A", T0.isoformat(), "deploy", merged.isoformat()), text("idle", green="2.0")),
    ]
    (found,) = timeline.rollouts(history.steps(commits, CATALOG), NOW)
    assert found.start == merged


def test_times_are_in_utc_whatever_the_committer_offset():
    assert timeline.parse_time("2026-03-01T10:00:00+02:00") == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "message, number",
    [
        ("local: promote to half (#44)", 44),
        ("Merge pull request #46 from team/fix\n\nlocal: deploy 2.0.1", 46),
        ("promote\n\nPR #12 approved by the team", 12),
        ("promote\n\nSee https://github.com/o/r/pull/301 for the analysis", 301),
        ("abort: error rate 7.5 % > 5 %", None),
        ("deploy build #12345", None),  # a number sign that names no pull request
    ],
)
def test_pull_request_named_in_a_commit_message(message, number):
    assert timeline.pull_request(message) == number


def test_select_finds_the_rollout_of_a_commit_or_the_one_in_effect_after_it():
    shas = [f"{n:040x}" for n in range(8)]
    first, second = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("canary", green="2.0")),
        (3, text("idle", green="2.0")),
        (4, text("idle", green="2.1")),
        (5, text("canary", green="2.1")),
    )
    order = shas[:6] + ["f" * 40]  # a later commit of the file that changed no release key
    assert timeline.select([first, second], shas[2], order) is first
    assert timeline.select([first, second], shas[3], order) is first  # the abort that ended it
    assert timeline.select([first, second], "f" * 40, order) is second
    assert timeline.select([first, second], shas[0], order) is None  # before any rollout
    assert timeline.by_version([first, second], "2.0") is first
    assert timeline.by_version([first, second], "9.9") is None


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (12, "12 s"),
        (250, "4 min 10 s"),
        (600, "10 min"),
        (8100, "2 h 15 min"),
        (7200, "2 h"),
        (3 * 86400 + 4 * 3600 + 59, "3 d 4 h"),
        (86400, "1 d"),
    ],
)
def test_human_duration(seconds, shown):
    assert timeline.human_duration(timedelta(seconds=seconds)) == shown


def test_each_stage_knows_the_commit_that_ended_it():
    (found,) = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("canary", green="2.0"), "promote (analysis: promote)"),
        (3, text("half", green="2.0"), "promote"),
        (4, text("idle", green="2.0"), "abort, verdict: abort"),
    )
    assert [(s.ended_by.subject, s.ended_by.verdict) for s in found.stages] == [
        ("promote (analysis: promote)", "promote"),
        ("promote", None),
        ("abort, verdict: abort", "abort"),
    ]
    (going_on,) = play(BASE, (1, text("idle", green="2.0")), (2, text("canary", green="2.0")))
    assert going_on.stages[-1].ended_by is None


@pytest.mark.parametrize(
    "message, verdict",
    [
        ("local: abort at half\n\nverdict: abort\nlimit broken: error_rate 7.5 > 5", "abort"),
        (
            "Stage gate: finish local at full -> idle (bake time over)\n\nstagewise analyze: promote at 2026-11-22T10:00:00Z",
            "promote",
        ),
        ("promote canary -> early (analysis: promote)", "promote"),
        ("Verdict: HOLD", "hold"),
        ("abort: error rate 7.5 % > 5 %", None),  # a person's abort
        ("docs: the analysis: it is fine", None),
    ],
)
def test_a_gate_commit_states_its_verdict(message, verdict):
    subject, _, body = message.partition("\n")
    assert timeline.Change("a" * 40, "x", T0, subject, body.strip()).verdict == verdict


def test_abort_puts_the_live_version_back_on_the_candidate_and_ends_the_rollout():
    # `stagewise abort` goes to idle and gives the candidate colour the live version again.
    first, second = play(
        BASE,
        (1, text("idle", green="2.0")),
        (2, text("half", green="2.0")),
        (3, text("idle", green="1.0"), "abort"),
        (4, text("idle", green="2.0.1")),
    )
    assert (first.version, first.outcome, [i.kind for i in first.incidents]) == ("2.0", "aborted", ["abort"])
    assert (second.version, second.baseline, second.outcome) == ("2.0.1", "1.0", "in progress")
