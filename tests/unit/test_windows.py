"""Deploy windows and stage deadlines (stagewise.core.windows), and their config (stagewise.core.config_rollout)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from stagewise.core import config, windows
from stagewise.core.config_rollout import DeadlinesConfig, WindowsConfig
from stagewise.formats import stackfile


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


AMSTERDAM_WEEKDAYS = WindowsConfig.model_validate(
    {
        "timeZone": "Europe/Amsterdam",
        "allow": [{"days": ["mon", "tue", "wed", "thu"], "hours": "09:00-17:00"}, {"days": ["fri"], "hours": "09:00-12:00"}],
        "skipDates": ["2026-12-24", "2026-12-25"],
    }
).to_windows()  # fmt: skip


@pytest.mark.parametrize(
    ("at", "is_open", "next_open"),
    [
        # Winter (CET, UTC+1): 09:00-17:00 local is 08:00-16:00 UTC.
        ("2026-12-07T08:00:00", True, "2026-12-07T08:00:00"),  # Monday 09:00 local: opens, start included
        ("2026-12-07T07:59:00", False, "2026-12-07T08:00:00"),
        ("2026-12-07T16:00:00", False, "2026-12-08T08:00:00"),  # 17:00 local: end excluded
        ("2026-12-07T15:59:00", True, "2026-12-07T15:59:00"),
        # Friday afternoon is closed; the next window is Monday morning.
        ("2026-12-11T11:30:00", False, "2026-12-14T08:00:00"),  # Friday 12:30 local
        ("2026-12-11T10:59:00", True, "2026-12-11T10:59:00"),
        # Skipped dates: Thursday 24 and Friday 25 December; then the weekend.
        ("2026-12-23T16:30:00", False, "2026-12-28T08:00:00"),
        ("2026-12-24T10:00:00", False, "2026-12-28T08:00:00"),
        # A skipped date is a local date: 23 Dec 23:30 UTC is already the 24th in Amsterdam.
        ("2026-12-23T23:30:00", False, "2026-12-28T08:00:00"),
        # Summer (CEST, UTC+2): the window moves with the clock, 07:00-15:00 UTC.
        ("2026-07-06T07:00:00", True, "2026-07-06T07:00:00"),
        ("2026-07-06T06:59:00", False, "2026-07-06T07:00:00"),
        ("2026-07-06T15:00:00", False, "2026-07-07T07:00:00"),
        # The Monday after the spring change (Sunday 29 March 2026): opens at 07:00 UTC.
        ("2026-03-28T12:00:00", False, "2026-03-30T07:00:00"),
        # The Monday after the autumn change (Sunday 25 October 2026): opens at 08:00 UTC.
        ("2026-10-24T12:00:00", False, "2026-10-26T08:00:00"),
    ],
)
def test_amsterdam_weekdays(at, is_open, next_open):
    assert AMSTERDAM_WEEKDAYS.is_open(utc(at)) is is_open
    assert AMSTERDAM_WEEKDAYS.next_open(utc(at)) == utc(next_open)


def _windows(zone: str, hours: str, days: tuple[str, ...] = windows.WEEKDAYS, skip: tuple[str, ...] = ()):
    return windows.Windows(
        zone,
        (windows.Window(frozenset(windows.WEEKDAYS.index(d) for d in days), *windows.parse_hours(hours)),),
        frozenset(date.fromisoformat(d) for d in skip),
    )


@pytest.mark.parametrize(
    ("zone", "hours", "at", "next_open"),
    [
        # A start inside the spring-forward gap (02:00-03:00 local on 29 March 2026 in Amsterdam) opens at
        # the jump, 01:00 UTC (03:00 CEST), not half an hour later.
        ("Europe/Amsterdam", "02:30-04:00", "2026-03-29T00:00:00", "2026-03-29T01:00:00"),
        # Autumn: 02:30 happens twice on 25 October 2026; the window opens at the first, 00:30 UTC (CEST).
        ("Europe/Amsterdam", "02:30-04:00", "2026-10-24T23:00:00", "2026-10-25T00:30:00"),
        # New York: 09:00 EST (UTC-5) before 8 March 2026, 09:00 EDT (UTC-4) after.
        ("America/New_York", "09:00-17:00", "2026-03-07T23:00:00", "2026-03-08T13:00:00"),
        ("America/New_York", "09:00-17:00", "2026-03-06T23:00:00", "2026-03-07T14:00:00"),
        # A zone east of UTC on another date: Monday 08:00 in Tokyo is Sunday 23:00 UTC.
        ("Asia/Tokyo", "08:00-10:00", "2026-12-06T12:00:00", "2026-12-06T23:00:00"),
        # A whole day.
        ("UTC", "00:00-24:00", "2026-12-07T23:59:00", "2026-12-07T23:59:00"),
    ],
)
def test_time_zones_and_daylight_saving(zone, hours, at, next_open):
    assert _windows(zone, hours).next_open(utc(at)) == utc(next_open)


def test_autumn_repeated_hour_is_inside_the_window_both_times():
    spans = _windows("Europe/Amsterdam", "02:00-03:00")
    assert spans.is_open(utc("2026-10-25T00:30:00"))  # 02:30 CEST
    assert spans.is_open(utc("2026-10-25T01:30:00"))  # 02:30 CET, an hour later
    assert not spans.is_open(utc("2026-10-25T02:00:00"))  # 03:00 CET


def test_when_every_day_is_skipped_there_is_no_next_window():
    spans = _windows("UTC", "09:00-10:00", days=("mon",), skip=("2026-12-07",))
    assert spans.next_open(utc("2026-12-07T09:30:00")) == utc("2026-12-14T09:00:00")
    none = _windows("UTC", "09:00-10:00", days=("mon",))
    nothing = windows.Windows(
        "UTC", none.windows, frozenset(date(2026, 12, 7) + timedelta(days=7 * k) for k in range(60))
    )
    assert nothing.next_open(utc("2026-12-07T00:00:00")) is None


def test_the_refusal_says_when_the_next_window_opens():
    message = windows.closed_message(AMSTERDAM_WEEKDAYS, utc("2026-12-11T13:00:00"), "promote")
    assert message.startswith(
        "promote is not allowed now (Fri 2026-12-11 14:00 Europe/Amsterdam: outside the deploy windows;"
    )
    assert "the next window opens Mon 2026-12-14 09:00 Europe/Amsterdam (2026-12-14 08:00 UTC)" in message
    assert "abort and rollback are always allowed; --outside-window overrides" in message
    skipped = windows.closed_message(AMSTERDAM_WEEKDAYS, utc("2026-12-24T10:00:00"), "deploy")
    assert "a skipped date" in skipped


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        AMSTERDAM_WEEKDAYS.is_open(datetime(2026, 12, 7, 9))


# The config: one message per rule, at the key.


def _problems(rollout: dict) -> list[str]:
    raw = {
        "environment": "dev", "location": "westeurope", "owner": "o", "costCentre": "c",
        "release": {"image": "stagewise/demo-app", "blue": "1.0.0", "live": "blue", "stage": "idle"},
        "stages": [{"name": "idle", "weight": 0}, {"name": "canary", "weight": 10}, {"name": "full", "weight": 100}],
        "rollout": rollout,
    }  # fmt: skip
    with pytest.raises(config.ConfigError) as caught:
        config.parse(raw)
    return caught.value.problems


@pytest.mark.parametrize(
    ("windows_config", "problem"),
    [
        ({"timeZone": "Mars/Olympus", "allow": [{"days": ["mon"], "hours": "09:00-17:00"}]},
         "stagewise:rollout.windows.timeZone: 'Mars/Olympus' is not a known time zone"),
        ({"timeZone": "../etc/passwd", "allow": [{"days": ["mon"], "hours": "09:00-17:00"}]},
         "stagewise:rollout.windows.timeZone: '../etc/passwd' is not a time zone name"),
        ({"allow": []}, "stagewise:rollout.windows.allow: List should have at least 1 item"),
        ({"allow": [{"days": ["monday"], "hours": "09:00-17:00"}]},
         "stagewise:rollout.windows.allow[0].days[0]: 'monday' is not a weekday: use mon, tue, wed, thu, fri, sat, sun"),
        ({"allow": [{"days": ["mon", "mon"], "hours": "09:00-17:00"}]},
         "stagewise:rollout.windows.allow[0].days: 'mon' appears more than once"),
        ({"allow": [{"days": ["mon"], "hours": "9-17"}]},
         "stagewise:rollout.windows.allow[0].hours: '9-17': '9' is not a time of day (HH:MM)"),
        ({"allow": [{"days": ["mon"], "hours": "17:00-09:00"}]},
         "stagewise:rollout.windows.allow[0].hours: '17:00-09:00' ends before it starts"),
        ({"allow": [{"days": ["mon"], "hours": "09:00-24:30"}]},
         "stagewise:rollout.windows.allow[0].hours: '09:00-24:30': '24:30' is not a time of day (00:00 to 24:00)"),
        ({"allow": [{"days": ["mon"], "hours": "09:00-17:00"}], "skipDates": ["2026-02-30"]},
         "stagewise:rollout.windows.skipDates[0]: '2026-02-30' is not a date: write YYYY-MM-DD"),
        ({"allow": [{"days": ["mon"], "hours": "09:00-17:00"}], "weekends": False},
         "stagewise:rollout.windows.weekends: unknown key"),
    ],
)  # fmt: skip
def test_each_window_rule_has_its_own_message(windows_config, problem):
    found = _problems({"windows": windows_config})
    assert len(found) == 1 and found[0].startswith(problem), found


@pytest.mark.parametrize(
    ("deadlines", "problem"),
    [
        ({"noMetrics": "30s"}, "stagewise:rollout.deadlines.noMetrics: a deadline is at least 1m"),
        ({"onStuck": "panic"}, "stagewise:rollout.deadlines.onStuck: Input should be 'notify' or 'abort'"),
        ({"stages": {"canery": {"noMetrics": "5m"}}},
         "stagewise:rollout.deadlines.stages: 'canery' is not a stage (stages: idle, canary, full)"),
    ],
)  # fmt: skip
def test_each_deadline_rule_has_its_own_message(deadlines, problem):
    found = _problems({"deadlines": deadlines})
    assert len(found) == 1 and found[0].startswith(problem), found


def test_a_stage_deadline_overrides_the_default_one_key_at_a_time():
    settings = DeadlinesConfig.model_validate(
        {"noMetrics": "15m", "notEnoughEvidence": "4h", "stages": {"canary": {"notEnoughEvidence": "1h"}}}
    )
    assert settings.for_stage("canary") == windows.Deadlines(timedelta(minutes=15), None, timedelta(hours=1))
    assert settings.for_stage("half") == windows.Deadlines(timedelta(minutes=15), None, timedelta(hours=4))
    assert settings.on_stuck == "notify"


# Deadlines: how long a stage has held, per reason.

DEADLINES = windows.Deadlines(timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
STAGE_START = utc("2026-12-07T08:00:00")


def _looks(clock: windows.HoldClock, looks: list[tuple[str, str, str | None]]) -> list[windows.Stuck | None]:
    return [clock.look(stage, reason, utc(at), STAGE_START, DEADLINES) for at, stage, reason in looks]


def test_no_metrics_is_stuck_after_its_deadline_of_unbroken_looks():
    found = _looks(
        windows.HoldClock(),
        [
            ("2026-12-07T09:00:00", "canary", "no_metrics"),
            ("2026-12-07T09:09:59", "canary", "no_metrics"),
            ("2026-12-07T09:10:00", "canary", "no_metrics"),
        ],
    )
    assert found[:2] == [None, None]
    assert found[2] == windows.Stuck("no_metrics", timedelta(minutes=10), timedelta(minutes=10))
    assert found[2].message("canary") == (
        "stuck: stage canary has held on no metrics for 10m, past its deadline of 10m"
    )


def test_a_look_for_another_reason_or_a_new_stage_starts_the_clock_again():
    found = _looks(
        windows.HoldClock(),
        [
            ("2026-12-07T09:00:00", "canary", "no_metrics"),
            ("2026-12-07T09:08:00", "canary", "samples"),  # metrics came back
            ("2026-12-07T09:09:00", "canary", "no_metrics"),
            ("2026-12-07T09:15:00", "canary", "no_metrics"),  # 6 minutes of the new run
            ("2026-12-07T09:16:00", "half", "no_metrics"),
            ("2026-12-07T09:25:00", "half", "no_metrics"),
        ],
    )
    assert found == [None] * 6


def test_not_enough_evidence_counts_from_the_stage_start():
    found = _looks(
        windows.HoldClock(),
        [("2026-12-07T09:59:00", "canary", "significance"), ("2026-12-07T10:00:00", "canary", "bake")],
    )
    assert found[0] is None
    assert found[1] == windows.Stuck("not_enough_evidence", timedelta(hours=2), timedelta(hours=2))


def test_every_hold_reason_the_gate_documents_counts_against_a_deadline():
    schema = json.loads((stackfile.project_root() / "docs" / "analysis.schema.json").read_text())
    documented = [r for r in schema["properties"]["holdReason"]["enum"] if r is not None]
    assert {r: windows.deadline_reason(r) for r in documented if windows.deadline_reason(r) is None} == {}
    assert windows.deadline_reason("no_recent_traffic") == "no_candidate_traffic"
    assert windows.deadline_reason("bad_data") == "no_metrics"
    assert windows.deadline_reason("evidence") == "not_enough_evidence"


def test_a_hold_reason_without_a_deadline_and_an_unknown_one_are_never_stuck():
    clock = windows.HoldClock()
    no_limit = windows.Deadlines(None, None, None)
    assert clock.look("canary", "no_metrics", utc("2026-12-08T00:00:00"), STAGE_START, no_limit) is None
    assert clock.look("canary", "a_reason_added_later", utc("2026-12-09T00:00:00"), STAGE_START, DEADLINES) is None
    assert clock.look("canary", None, utc("2026-12-09T00:00:00"), STAGE_START, DEADLINES) is None
