"""`stagewise:rollout` (deploy windows, stage deadlines) and `stagewise:notify` (webhooks), one model each.

Pure: no Pulumi import. Read by the CLI and the stage gate's watch, never by the program's resources:
they steer when and how a rollout moves, not what is deployed. The logic is stagewise.core.windows's.

    stagewise:rollout:
      windows:
        timeZone: Europe/Amsterdam
        allow:
          - {days: [mon, tue, wed, thu], hours: "09:00-17:00"}
          - {days: [fri], hours: "09:00-12:00"}
        skipDates: ["2026-12-24", "2026-12-25"]
      deadlines:
        noMetrics: 15m
        noCandidateTraffic: 30m
        notEnoughEvidence: 4h
        onStuck: notify            # or abort
        stages: {canary: {notEnoughEvidence: 1h}}
    stagewise:notify:
      targets:
        - {name: ops, format: slack, url: {secure: ...}}
      retries: 3
      timeout: 5s
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, field_validator

from stagewise.core import windows as windows_lib
from stagewise.core.config_types import Model
from stagewise.core.gate_config import Duration


def _time_zone(name: str) -> str:
    # zoneinfo also accepts a path-like key; an IANA name is letters, digits, '/', '_', '+', '-'.
    if not re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", name):
        raise ValueError(f"{name!r} is not a time zone name: use an IANA name such as Europe/Amsterdam or UTC")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a known time zone: use an IANA name such as Europe/Amsterdam or UTC"
        ) from None
    return name


def _hours(text: str) -> str:
    windows_lib.parse_hours(text)
    return text


def _weekday(name: str) -> str:
    if name not in windows_lib.WEEKDAYS:
        raise ValueError(f"{name!r} is not a weekday: use {', '.join(windows_lib.WEEKDAYS)}")
    return name


def _day(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD (quoted, so YAML keeps it text)") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD")
    return text


TimeZone = Annotated[str, AfterValidator(_time_zone)]
Hours = Annotated[str, AfterValidator(_hours)]
Weekday = Annotated[str, AfterValidator(_weekday)]
Day = Annotated[str, AfterValidator(_day)]


class WindowConfig(Model):
    """One entry of `rollout.windows.allow`: weekdays and a span of local time."""

    days: list[Weekday] = Field(min_length=1, description="mon..sun")
    hours: Hours = Field(description="HH:MM-HH:MM local time, end excluded; 00:00-24:00 is the whole day")

    @field_validator("days")
    @classmethod
    def _distinct(cls, days: list[str]) -> list[str]:
        for dup in sorted({d for d in days if days.count(d) > 1}):
            raise ValueError(f"{dup!r} appears more than once")
        return days


class WindowsConfig(Model):
    """`rollout.windows`: when deploy, promote, finish and the gate's automatic promote may run."""

    time_zone: TimeZone = Field("UTC", description="IANA time zone the hours and dates are read in")
    allow: list[WindowConfig] = Field(min_length=1, description="the windows; outside all of them, refused")
    skip_dates: list[Day] = Field(default_factory=list, description="local dates with no window (holidays)")

    def to_windows(self) -> windows_lib.Windows:
        spans = []
        for entry in self.allow:
            start, end = windows_lib.parse_hours(entry.hours)
            spans.append(windows_lib.Window(frozenset(windows_lib.WEEKDAYS.index(d) for d in entry.days), start, end))
        return windows_lib.Windows(
            self.time_zone, tuple(spans), frozenset(date.fromisoformat(d) for d in self.skip_dates)
        )


class StageDeadlines(Model):
    """How long a stage may hold for each reason before the rollout is stuck; unset: no deadline."""

    no_metrics: Duration | None = Field(None, description="the gate cannot read the metrics")
    no_candidate_traffic: Duration | None = Field(None, description="the candidate serves no requests")
    not_enough_evidence: Duration | None = Field(
        None, description="counted from the stage's start: bake, samples or significance still hold"
    )

    @field_validator("no_metrics", "no_candidate_traffic", "not_enough_evidence")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise ValueError("a deadline is at least 1m")
        return value


class DeadlinesConfig(StageDeadlines):
    """`rollout.deadlines`: the deadlines of every stage, a stage's own under `stages`, and what stuck does."""

    on_stuck: Literal["notify", "abort"] = Field(
        "notify", description="notify: report and stop watching (exit 6); abort: also abort the rollout"
    )
    stages: dict[str, StageDeadlines] = Field(default_factory=dict, description="per stage name, overrides")

    def for_stage(self, stage: str) -> windows_lib.Deadlines:
        own = self.stages.get(stage)

        def pick(field: str) -> timedelta | None:
            value: timedelta | None = getattr(own, field) if own is not None else None
            return value if value is not None else getattr(self, field)

        return windows_lib.Deadlines(pick("no_metrics"), pick("no_candidate_traffic"), pick("not_enough_evidence"))


class RolloutConfig(Model):
    """`stagewise:rollout`: deploy windows and stage deadlines (both optional)."""

    windows: WindowsConfig | None = None
    deadlines: DeadlinesConfig = DeadlinesConfig()


NOTIFY_EVENTS = ("stage", "promote", "abort", "stuck", "no_metrics", "up")


def _event(name: str) -> str:
    if name not in NOTIFY_EVENTS:
        raise ValueError(f"{name!r} is not an event: use {', '.join(NOTIFY_EVENTS)}")
    return name


Event = Annotated[str, AfterValidator(_event)]


class NotifyTarget(Model):
    """One webhook. Its URL must be stored encrypted (the CLI checks the stack file: `stagewise validate`)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="shown in reports instead of the URL")
    format: Literal["json", "slack", "teams"] = Field("json", description="the body's shape")
    url: str = Field(min_length=1, description="encrypted: pulumi config set --secret --path ...")
    events: list[Event] = Field(default_factory=lambda: list(NOTIFY_EVENTS), description="what is sent")


class NotifyConfig(Model):
    """`stagewise:notify`: who is told about stage changes and verdicts."""

    targets: list[NotifyTarget] = Field(default_factory=list)
    retries: int = Field(2, ge=0, le=5, description="attempts after the first, with 1 s, 2 s, 4 s... between")
    timeout: Duration = Field(timedelta(seconds=5), description="per attempt")

    @field_validator("targets")
    @classmethod
    def _names_distinct(cls, targets: list[NotifyTarget]) -> list[NotifyTarget]:
        names = [t.name for t in targets]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"target name {dup!r} appears more than once")
        return targets

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(seconds=60):
            raise ValueError("timeout must be from 1s to 60s")
        return value
