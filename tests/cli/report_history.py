"""A scripted rollout history: real `stagewise` commands, each committed at a known time.

deploy 2.0.0, three promotes, an abort by the stage gate's bot, a re-deploy (2.0.1), four
promotes and a finish, on the local stack (whose first commit is itself a finished rollout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

# On the hour, a day ago: the whole history is in the past, and recent enough for a metrics store.
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=24)
STACK = "local"
GATE_BOT = "github-actions[bot]"
# The stage gate's bot commit, as its workflow writes it (.github/scripts/gate_report.py).
ABORT_MESSAGE = (
    "Stage gate: abort local at half -> idle (limit broken: error_rate 8 > 5)\n\n"
    "stagewise analyze: abort at 2026-11-22T02:45:00Z\n"
    "stage half (50 %) since 2026-11-22T01:30:00Z (commit 79ec132d4f1a), provider prometheus http://127.0.0.1:9090\n"
    "candidate 2.0.0 (blue): 9000 requests, error rate 8.00 %, p95 738 ms\n"
    "live 1.5.0 (green): 9000 requests, error rate 0.20 %, p95 49 ms\n"
    "fail: candidate error rate (HTTP 5xx), percent 8 (limit 5)"
)


@dataclass(frozen=True)
class Step:
    command: tuple[str, ...]
    after: timedelta
    """Time since the previous step."""
    message: str
    author: str = "Alice Example"


STEPS = (
    Step(("deploy", "2.0.0"), timedelta(hours=1), "local: deploy 2.0.0 (#41)"),
    Step(("promote",), timedelta(minutes=30), "local: promote to canary (#42)"),
    Step(("promote",), timedelta(hours=2), "local: promote to early (#43)", "Bob Example"),
    Step(("promote",), timedelta(hours=3), "local: promote to half (#44)"),
    Step(("abort",), timedelta(hours=1, minutes=15), ABORT_MESSAGE, GATE_BOT),
    Step(("deploy", "2.0.1"), timedelta(hours=2), "Merge pull request #46 from team/fix\n\nlocal: deploy 2.0.1"),
    Step(("promote",), timedelta(minutes=20), "local: promote to canary (#47)"),
    Step(("promote",), timedelta(hours=1), "local: promote to early (#48)", "Bob Example"),
    Step(("promote",), timedelta(hours=1, minutes=30), "local: promote to half (#49)"),
    Step(("promote",), timedelta(hours=2), "local: promote to full (#50)"),
    Step(("finish",), timedelta(minutes=45), "local: finish, 2.0.1 is live (#51)"),
)


def times() -> list[datetime]:
    """When each step was committed."""
    at, found = START, []
    for step in STEPS:
        at += step.after
        found.append(at)
    return found


def play(repo, monkeypatch: pytest.MonkeyPatch, steps=STEPS) -> list[str]:
    """Run each step's command and commit it at its time; the commits' shas."""
    # The shipped file is mid-rollout (1.5.0 at canary): end that rollout first, so 1.5.0 is live.
    _at(monkeypatch, START)
    repo.set_release(STACK, live="green", stage="idle")
    repo.commit("local: finish, 1.5.0 is live")
    shas = []
    for step, at in zip(steps, times()):
        result = repo.run(*step.command, "--stack", STACK)
        assert result.exit_code == 0, result.output
        _at(monkeypatch, at)
        shas.append(repo.commit(step.message, author=step.author))
    return shas


def _at(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    stamp = at.isoformat()
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)
