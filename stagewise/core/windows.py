"""Deploy windows and stage deadlines: when a stack may move forward, and how long a stage may hold.

Pure: no Pulumi import, no clock (every function takes the moment it judges). The config models that
feed these values are stagewise.core.config_rollout's.

A window is a set of weekdays and a span of local wall-clock time [start, end) in one IANA time zone;
a stack may move forward when the local time of the moment is inside one of its windows and the
local date is not a skipped date. Local time is what an operator's calendar shows, so daylight saving
time moves the window with the clock: 09:00-17:00 Europe/Amsterdam is 08:00-16:00 UTC in winter and
07:00-15:00 UTC in summer. A start that does not exist on the day the clocks go forward (02:30 in a
02:00-03:00 gap) opens the window at the first minute that does; a wall time that happens twice when
the clocks go back is inside the window both times (Python's zoneinfo: PEP 495 `fold`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
SEARCH_DAYS = 400
"""How far ahead the next opening is looked for: a year of skipped dates, and a little more."""


def parse_hours(text: str) -> tuple[int, int]:
    """'HH:MM-HH:MM' -> (start, end) in minutes after local midnight; end may be 24:00, and must be after
    start. ValueError naming what is wrong."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a span of hours: write HH:MM-HH:MM, e.g. 09:00-17:00")
    start, end = (_minutes(p.strip(), text) for p in parts)
    if end <= start:
        raise ValueError(
            f"{text!r} ends before it starts: a window is within one day (use 00:00-24:00 for the whole day, "
            f"and two windows to span midnight)"
        )
    if start == MINUTES_PER_DAY:
        raise ValueError(f"{text!r} starts at 24:00: a window starts at 23:59 at the latest")
    return start, end


def _minutes(clock: str, text: str) -> int:
    hours, sep, minutes = clock.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) not in (1, 2):
        raise ValueError(f"{text!r}: {clock!r} is not a time of day (HH:MM)")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY:
        raise ValueError(f"{text!r}: {clock!r} is not a time of day (00:00 to 24:00)")
    return value


@dataclass(frozen=True)
class Window:
    """Weekdays (0 = Monday) and [start, end) minutes after local midnight."""

    days: frozenset[int]
    start: int
    end: int

    def holds(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and self.start <= minute < self.end

    def describe(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in sorted(self.days))
        return f"{days} {_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Windows:
    """When a stack may move forward (deploy, promote, finish): the windows, in one time zone, less the
    skipped local dates."""

    zone: str
    windows: tuple[Window, ...]
    skip: frozenset[date] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_open(self, at: datetime) -> bool:
        local = _aware(at).astimezone(self.tz)
        return local.date() not in self.skip and any(w.holds(local) for w in self.windows)

    def next_open(self, at: datetime) -> datetime | None:
        """The first moment at or after `at` when a window is open (UTC, whole minutes), None when
        there is none within SEARCH_DAYS (every day skipped, say)."""
        at = _aware(at).astimezone(UTC)
        if self.is_open(at):
            return at
        tz = self.tz
        first = at.astimezone(tz).date()
        candidates: list[datetime] = []
        for offset in range(SEARCH_DAYS + 1):
            day = first + timedelta(days=offset)
            if day in self.skip:
                continue
            for window in self.windows:
                if day.weekday() not in window.days:
                    continue
                wall = datetime.combine(day, time(window.start // 60, window.start % 60))
                for fold in (0, 1):
                    moment = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
                    if moment > at and self.is_open(moment):
                        candidates.append(moment)
            if candidates:
                break
        if not candidates:
            return None
        opening = min(candidates)
        # A start inside the spring-forward gap reads as a moment after the jump; the window opened
        # at the jump, which is at most the length of the gap (an hour, in practice) earlier.
        for _ in range(180):
            earlier = opening - timedelta(minutes=1)
            if earlier <= at or not self.is_open(earlier):
                break
            opening = earlier
        return opening

    def describe(self) -> str:
        spans = "; ".join(w.describe() for w in self.windows)
        skipped = f", except {len(self.skip)} skipped date(s)" if self.skip else ""
        return f"{spans} ({self.zone}){skipped}"


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a moment needs a time zone")
    return at


def closed_message(windows: Windows, at: datetime, action: str) -> str:
    """Why `action` is refused at `at`, and when it may run."""
    local = _aware(at).astimezone(windows.tz)
    why = "a skipped date" if local.date() in windows.skip else "outside the deploy windows"
    opens = windows.next_open(at)
    when = (
        f"the next window opens {opens.astimezone(windows.tz):%a %Y-%m-%d %H:%M} {windows.zone} "
        f"({opens:%Y-%m-%d %H:%M} UTC)"
        if opens is not None
        else f"no window opens in the next {SEARCH_DAYS} days"
    )
    return (
        f"{action} is not allowed now ({local:%a %Y-%m-%d %H:%M} {windows.zone}: {why}; windows: "
        f"{windows.describe()}); {when}. abort and rollback are always allowed; --outside-window overrides"
    )


# Deadlines.

HOLD_REASONS = ("no_metrics", "no_candidate_traffic", "not_enough_evidence")
"""What a deadline can be set for. not_enough_evidence covers the gate's holds for bake, samples and
significance: the stage has traffic and metrics, and the evidence is not yet conclusive."""

# The gate's hold reasons (docs/analysis.schema.json, holdReason) by the deadline they count against.
_GATE_HOLDS = {
    "no_metrics": "no_metrics",
    "bad_data": "no_metrics",  # metrics read, but not usable as counts
    "no_candidate_traffic": "no_candidate_traffic",
    "no_recent_traffic": "no_candidate_traffic",
    "traffic_share": "no_candidate_traffic",  # the candidate does not get its stage's share
    "shared_outage": "not_enough_evidence",  # both versions fail alike: nothing tells them apart
    "bake": "not_enough_evidence",
    "samples": "not_enough_evidence",
    "significance": "not_enough_evidence",
    "evidence": "not_enough_evidence",
}


def deadline_reason(hold_reason: str | None) -> str | None:
    """The deadline a gate hold (docs/analysis.schema.json `holdReason`) counts against; None for one
    no deadline covers (a hold reason the gate adds later, or no hold)."""
    return None if hold_reason is None else _GATE_HOLDS.get(hold_reason)


@dataclass(frozen=True)
class Deadlines:
    """How long a stage may hold for each reason before the rollout is stuck (None: no deadline)."""

    no_metrics: timedelta | None = None
    no_candidate_traffic: timedelta | None = None
    not_enough_evidence: timedelta | None = None

    def limit(self, reason: str) -> timedelta | None:
        value: timedelta | None = getattr(self, reason)
        return value


@dataclass(frozen=True)
class Stuck:
    reason: str
    held: timedelta
    limit: timedelta

    def message(self, stage: str) -> str:
        return (
            f"stuck: stage {stage} has held on {self.reason.replace('_', ' ')} for {_span(self.held)}, "
            f"past its deadline of {_span(self.limit)}"
        )


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"


@dataclass
class HoldClock:
    """Since when a stage has held, per deadline reason.

    not_enough_evidence counts from the stage's start: the evidence has accumulated since then, and a stage
    that still cannot decide after its deadline will not decide soon. no_metrics and no_candidate_traffic
    count from the first look that held for that reason in an unbroken run of such looks (metrics that
    were read an hour ago and are missing now have been missing since the first look that missed them).
    A look that holds for another reason, or does not hold, ends the run; a new stage starts again."""

    stage: str | None = None
    reason: str | None = None
    since: datetime | None = None

    def look(
        self, stage: str, hold_reason: str | None, at: datetime, stage_since: datetime, deadlines: Deadlines
    ) -> Stuck | None:
        reason = deadline_reason(hold_reason)
        if stage != self.stage or reason != self.reason:
            self.stage, self.reason = stage, reason
            self.since = stage_since if reason == "not_enough_evidence" else at
        if reason is None or self.since is None:
            return None
        limit = deadlines.limit(reason)
        held = at - self.since
        return Stuck(reason, held, limit) if limit is not None and held >= limit else None
