"""Deploy windows on the command line: deploy, promote and finish refuse outside them with the next
opening; abort and rollback always run; --outside-window overrides and the commit message records it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from stagewise.tools import session, window_guard
from stagewise.tools.gate import commands

WINDOWS = """config:
  stagewise:rollout:
    windows:
      timeZone: Europe/Amsterdam
      allow:
        - {days: [mon, tue, wed, thu], hours: "09:00-17:00"}
        - {days: [fri], hours: "09:00-12:00"}
      skipDates: ["2026-12-24"]
"""

FRIDAY_AFTERNOON = datetime(2026, 12, 11, 14, 0, tzinfo=UTC)  # 15:00 in Amsterdam
MONDAY_MORNING = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam


@pytest.fixture
def windowed(repo, monkeypatch):
    def at(moment: datetime) -> None:
        monkeypatch.setattr(window_guard, "now", lambda: moment)

    path = repo.file("production")
    path.write_text(path.read_text().replace("config:\n", WINDOWS, 1))
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="canary")
    repo.commit("production with deploy windows, at canary")
    return at


def test_a_promote_at_a_blocked_hour_is_refused_with_the_next_window(repo, windowed):
    windowed(FRIDAY_AFTERNOON)
    before = repo.read("production")
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: promote is not allowed now (Fri 2026-12-11 15:00 Europe/Amsterdam: outside the deploy windows;"
    )
    assert "the next window opens Mon 2026-12-14 09:00 Europe/Amsterdam (2026-12-14 08:00 UTC)" in result.stderr
    assert repo.read("production") == before


def test_an_abort_and_a_rollback_at_the_same_hour_go_through(repo, windowed):
    windowed(FRIDAY_AFTERNOON)
    assert repo.run("rollback", "--stack", "production").exit_code == 0
    repo.set_release("production", stage="canary")
    result = repo.run("abort", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "abort canary -> idle" in result.stdout


def test_deploy_and_finish_are_refused_too(repo, windowed):
    windowed(FRIDAY_AFTERNOON)
    repo.set_release("production", stage="full")
    assert "finish is not allowed now" in repo.run("finish", "--stack", "production").stderr
    repo.set_release("production", blue="1.4.2", green="1.4.2", stage="idle")
    assert "deploy is not allowed now" in repo.run("deploy", "1.6.0", "--stack", "production").stderr


def test_inside_a_window_nothing_changes(repo, windowed):
    windowed(MONDAY_MORNING)
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "outside" not in result.stdout


def test_outside_window_overrides_and_the_commit_message_records_it(repo, windowed):
    windowed(FRIDAY_AFTERNOON)
    result = repo.run("promote", "--outside-window", "--stack", "production")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "git commit" in line)
    assert line.strip() == (
        'the commit records it: git commit -m "production: promote canary -> quarter (outside the deploy window '
        '(Fri 2026-12-11 15:00 Europe/Amsterdam), --outside-window)" -- Pulumi.production.yaml'
    )


def test_status_shows_the_window(repo, windowed):
    windowed(FRIDAY_AFTERNOON)
    result = repo.run("status", "--offline", "--json", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["window"] == {
        "open": False,
        "nextOpen": "2026-12-14T08:00:00Z",
        "windows": "mon,tue,wed,thu 09:00-17:00; fri 09:00-12:00 (Europe/Amsterdam), except 1 skipped date(s)",
    }
    shown = repo.run("status", "--offline", "--stack", "production").stdout
    assert "deploy window: closed; the next opens 2026-12-14T08:00:00Z" in shown


def _verdict(verdict: str) -> SimpleNamespace:
    return SimpleNamespace(verdict=verdict, result=SimpleNamespace(reason=f"the gate's reason to {verdict}"))


def test_the_gates_automatic_promote_waits_for_a_window_and_its_abort_does_not(repo, windowed, capsys):
    windowed(FRIDAY_AFTERNOON)
    before = repo.read("production")
    loaded = session.load("production")
    assert commands.carry_out(loaded, _verdict("promote")) is None  # type: ignore[arg-type]
    assert repo.read("production") == before
    assert "analysis: promote, not applied: promote is not allowed now" in capsys.readouterr().err
    applied = commands.carry_out(session.load("production"), _verdict("abort"))  # type: ignore[arg-type]
    assert applied == {"command": "abort", "from": "canary", "to": "idle", "live": "blue"}
    windowed(MONDAY_MORNING)
    repo.set_release("production", stage="canary", green="1.5.0")  # abort left green on the live version
    promoted = commands.carry_out(session.load("production"), _verdict("promote"))  # type: ignore[arg-type]
    assert promoted == {"command": "promote", "from": "canary", "to": "quarter", "live": "blue"}
