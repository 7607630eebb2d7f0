"""Rollouts rebuilt from a stack file's history.

Pure: it reads the steps `stagewise.tools.history` finds in the file's versions (each with its commit),
and no git, no clock (the caller says what time it is now).

A rollout starts with the `deploy` of a version to the candidate colour (or with a stack file that
is created in the middle of one) and ends with its `finish`, with the next version replacing it,
or not yet. An `abort` or a `rollback` is an incident, not the end: a rollout that is promoted
again after an abort goes on; one that stays at `idle` after its abort ends there, aborted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, TypeVar

from stagewise.core import rollout as model
from stagewise.tools.history import ReleaseView, Step

Outcome = Literal["finished", "aborted", "superseded", "in progress"]
OUTCOMES: tuple[Outcome, ...] = ("finished", "aborted", "superseded", "in progress")

# The forms a commit message names a pull request in: GitHub's squash subject "... (#12)", its merge
# subject "Merge pull request #12 from ...", a "PR #12" or "pull request #12" in the text, or its URL.
_PULL_REQUEST = re.compile(r"\(#(\d+)\)|Merge pull request #(\d+)|\b(?:PR|[Pp]ull request)\s*#(\d+)|/pull/(\d+)\b")


# How a stage gate's commit states its verdict: the gate workflow's bot commit opens its body
# with "stagewise analyze: abort at <time>" (.github/scripts/gate_report.py); "(analysis: promote)"
# is what `stagewise analyze --apply` prints; "verdict: abort" for hand-written ones.
_VERDICT = re.compile(r"\b(?:verdict|analysis|stagewise analyze)\s*:\s*(promote|hold|abort)\b", re.IGNORECASE)


class CommitLike(Protocol):
    """What the report needs of a commit (stagewise.tools.git.Commit has it)."""

    @property
    def sha(self) -> str: ...
    @property
    def author(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def committed(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...


C = TypeVar("C", bound=CommitLike)


@dataclass(frozen=True)
class Change:
    """One commit of the stack file, as the report shows it."""

    sha: str
    author: str
    at: datetime
    """When it landed: the committer date (a pull request's merge), in UTC."""
    subject: str
    body: str = ""
    pull_request: int | None = None

    @property
    def message(self) -> str:
        return f"{self.subject}\n\n{self.body}".strip()

    @property
    def by_bot(self) -> bool:
        return self.author.endswith("[bot]")

    @property
    def verdict(self) -> str | None:
        """The stage gate's verdict, when this commit carries one out."""
        match = _VERDICT.search(self.message)
        return match.group(1).lower() if match else None


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with its offset (as git prints it), in UTC."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def pull_request(message: str) -> int | None:
    """The pull request a commit message names, if it names one."""
    match = _PULL_REQUEST.search(message)
    return int(next(g for g in match.groups() if g)) if match else None


def change(commit: CommitLike) -> Change:
    subject, body = commit.subject, commit.body
    return Change(
        sha=commit.sha,
        author=commit.author,
        at=parse_time(commit.committed or commit.date),
        subject=subject,
        body=body,
        pull_request=pull_request(f"{subject}\n{body}"),
    )


@dataclass(frozen=True)
class StageSpan:
    """A stretch of the rollout at one stage, from the commit that set it to the next stage change."""

    stage: str
    share: int | None
    """The candidate colour's share of traffic, 0..100; None when the stage is not in the catalog."""
    traffic: dict[model.Colour, int] | None
    """Each colour's share of traffic, 0..100."""
    start: datetime
    end: datetime
    action: str
    """The command that set this stage: deploy, promote, rollback, abort, created or edited."""
    change: Change
    open: bool = False
    """Still the stage now: `end` is the moment the report was made."""
    ended_by: Change | None = None
    """The commit that moved the rollout on from this stage (None while it goes on)."""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Incident:
    """An abort or rollback: the candidate's share of traffic taken back."""

    kind: str
    """abort, rollback, or removed (the stack file was deleted)."""
    at: datetime
    from_stage: str | None
    to_stage: str | None
    from_share: int | None
    to_share: int | None
    change: Change

    @property
    def reason(self) -> str:
        """The commit message: a person's words, or the numbers a stage gate's bot commit carries."""
        return self.change.message


@dataclass(frozen=True)
class Rollout:
    version: str
    candidate: model.Colour
    baseline: str | None
    """The version of the live colour that the candidate is compared with."""
    live: model.Colour
    start: datetime
    end: datetime
    """When it ended, or the moment the report was made if it goes on."""
    outcome: Outcome
    stages: tuple[StageSpan, ...]
    incidents: tuple[Incident, ...]
    started_by: Change
    ended_by: Change | None
    """The finish, the last abort, or the commit that replaced the version; None while in progress."""
    notes: tuple[str, ...] = ()

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def changes(self) -> list[Change]:
        found = [self.started_by, *(s.change for s in self.stages), *(i.change for i in self.incidents)]
        if self.ended_by is not None:
            found.append(self.ended_by)
        return found

    def contains(self, sha: str) -> bool:
        return any(c.sha == sha for c in self.changes)


def _candidate(view: ReleaseView) -> tuple[model.Colour, str | None] | None:
    release = view.release()
    if release is None:
        return None
    return release.candidate, release.version(release.candidate)


@dataclass
class _Builder:
    version: str
    candidate: model.Colour
    baseline: str | None
    started_by: Change
    view: ReleaseView
    spans: list[StageSpan] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def live(self) -> model.Colour:
        return model.other(self.candidate)

    def close(self, change: Change) -> None:
        if self.spans:
            self.spans[-1] = replace(self.spans[-1], end=change.at, ended_by=change)

    def enter(self, view: ReleaseView, action: str, change: Change) -> None:
        self.close(change)
        self.spans.append(
            StageSpan(
                stage=view.stage or "(unknown)",
                share=view.share,
                traffic=view.traffic,
                start=change.at,
                end=change.at,
                action=action,
                change=change,
            )
        )
        self.view = view

    def build(self, outcome: Outcome, end: datetime, ended_by: Change | None, now: datetime) -> Rollout:
        spans = list(self.spans)
        if outcome == "in progress" and spans:
            spans[-1] = replace(spans[-1], end=max(now, spans[-1].start), open=True)
            end = spans[-1].end
        return Rollout(
            version=self.version,
            candidate=self.candidate,
            baseline=self.baseline,
            live=self.live,
            start=self.started_by.at,
            end=end,
            outcome=outcome,
            stages=tuple(spans),
            incidents=tuple(self.incidents),
            started_by=self.started_by,
            ended_by=ended_by,
            notes=tuple(self.notes),
        )

    def stopped(self, now: datetime, replaced_by: Change | None = None) -> Rollout:
        """The rollout as it stands when history ends or another version replaces it."""
        last = self.spans[-1]
        if last.share == 0 and self.incidents and self.incidents[-1].change is last.change:
            # Taken back to idle and never promoted again: it ended with that abort.
            return replace(self.build("aborted", last.start, last.change, now), stages=tuple(self.spans[:-1]))
        if replaced_by is not None:
            self.close(replaced_by)
            return self.build("superseded", replaced_by.at, replaced_by, now)
        return self.build("in progress", now, None, now)


def _starts(step: Step[Change], last: ReleaseView | None) -> bool:
    """Whether this step puts a new version on the candidate colour."""
    after = step.after
    if after is None or after.problem:
        return False
    found = _candidate(after)
    if found is None or not found[1]:
        return False
    if step.action == "deploy":
        return True
    if step.action == "created" or last is None:
        # A file that starts in the middle of a rollout: it is one, with no deploy to begin with.
        return (after.share or 0) > 0
    before = _candidate(last)
    return step.action == "edited" and after.live == last.live and before is not None and before[1] != found[1]


def rollouts(steps: Sequence[Step[C]], now: datetime) -> list[Rollout]:
    """Every rollout in the history, oldest first."""
    found: list[Rollout] = []
    current: _Builder | None = None
    last: ReleaseView | None = None  # the last readable version of the release
    for raw in steps:
        meta = change(raw.meta)
        after = raw.after
        if after is not None and after.problem:
            if current is not None:
                current.notes.append(f"{meta.sha[:8]} left the release unreadable: {after.problem}")
            continue
        step = Step(meta, last, after)
        if after is None:
            if current is not None:
                view = current.view
                current.incidents.append(Incident("removed", meta.at, view.stage, None, view.share, None, meta))
                current.enter(ReleaseView(stage=model.IDLE, share=0), "removed", meta)
                found.append(current.stopped(now))
                current = None
            last = None
            continue
        if _starts(step, last):
            if current is not None:
                found.append(current.stopped(now, replaced_by=meta))
            colour, version = _candidate(after)  # type: ignore[misc]
            baseline = after.green if colour == "blue" else after.blue
            current = _Builder(str(version), colour, baseline, meta, after)
            current.enter(after, step.action if step.action in ("deploy", "created") else "edited", meta)
        elif current is not None:
            _advance(current, step, meta)
            if current.view.live == current.candidate:
                found.append(current.build("finished", meta.at, meta, now))
                current = None
        last = after
    if current is not None:
        found.append(current.stopped(now))
    return found


def _advance(current: _Builder, step: Step[Change], meta: Change) -> None:
    before, after = current.view, step.after
    assert after is not None
    if after.live != before.live:
        if after.live == current.candidate:  # finish, or a hand edit that did the same
            current.close(meta)
            current.view = after
        else:
            current.notes.append(f"{meta.sha[:8]} set live to {after.live!r}")
        return
    if after.stage == before.stage:
        return
    action = step.action
    went_back = before.share is not None and after.share is not None and after.share < before.share
    if action in ("rollback", "abort") or (action == "edited" and went_back):
        kind = action if action in ("rollback", "abort") else "rollback"
        current.incidents.append(Incident(kind, meta.at, before.stage, after.stage, before.share, after.share, meta))
    current.enter(after, action, meta)


def select(found: Sequence[Rollout], sha: str, order: Sequence[str]) -> Rollout | None:
    """The rollout commit `sha` of the stack file belongs to: the one that holds it, else the last
    that began before it. `order` is the file's commits, oldest first."""
    for candidate in found:
        if candidate.contains(sha):
            return candidate
    if sha not in order:
        return None
    position = {c: i for i, c in enumerate(order)}
    began = [r for r in found if position.get(r.started_by.sha, len(order)) <= position[sha]]
    return began[-1] if began else None


def by_version(found: Sequence[Rollout], version: str) -> Rollout | None:
    """The latest rollout of `version`."""
    matching = [r for r in found if r.version == version]
    return matching[-1] if matching else None


def human_duration(value: timedelta) -> str:
    """'3 d 4 h', '2 h 15 min', '4 min 10 s', '12 s'."""
    seconds = round(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
