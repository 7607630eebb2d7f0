"""A stack's rollout history, read from the successive versions of its stack file.

Pure: no Pulumi import, no git. Give it each version of the file (oldest first, with whatever
identifies the commit) and it returns the steps where the release changed, each named by the
command that makes such a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from stagewise.core import rollout
from stagewise.core.config import ConfigError, stage_entries
from stagewise.formats import stackfile
from stagewise.formats.keys import NAMESPACE, RELEASE_KEY

Meta = TypeVar("Meta")

STAGES = f"{NAMESPACE}:stages"


@dataclass(frozen=True)
class ReleaseView:
    """What one version of the file says about the release; lenient, since old files may be broken."""

    stage: str | None = None
    live: str | None = None
    blue: str | None = None
    green: str | None = None
    share: int | None = None
    """The candidate's share of traffic, 0..100, when the stage is in the catalog."""
    traffic: dict[rollout.Colour, int] | None = None
    """Each colour's share of traffic (`rollout.traffic`), when the stage is in the catalog and live is a colour."""
    position: int | None = None
    """The stage's place in the catalog (idle is 0), when it is in the catalog."""
    problem: str | None = None
    """Why this version could not be read, if it could not."""

    def key(self) -> tuple[Any, ...]:
        return (self.stage, self.live, self.blue, self.green, self.problem)

    def release(self) -> rollout.Release | None:
        """The rollout model's release, when live names a colour (the image is not part of the view)."""
        if self.live not in rollout.COLOURS:
            return None
        live: rollout.Colour = "blue" if self.live == "blue" else "green"
        return rollout.Release(image="", blue=self.blue, green=self.green, live=live, stage=self.stage or "")


@dataclass(frozen=True)
class Step(Generic[Meta]):
    meta: Meta
    before: ReleaseView | None
    after: ReleaseView | None

    @property
    def action(self) -> str:
        """The command that makes this change."""
        before, after = self.before, self.after
        if before is None:
            return "created"
        if after is None:
            return "removed"
        if before.problem or after.problem:
            return "edited"
        if before.live != after.live:
            return "finish" if after.stage == rollout.IDLE else "edited"
        if (before.blue, before.green) != (after.blue, after.green):
            if before.stage == after.stage == rollout.IDLE:
                return "deploy"
            # abort puts the live version back on the candidate as it goes to idle
            live = after.blue if after.live == "blue" else after.green
            aborted = before.stage != rollout.IDLE and after.stage == rollout.IDLE and after.blue == after.green == live
            return "abort" if aborted else "edited"
        if before.position is None or after.position is None:
            return "edited"
        if after.position > before.position:
            return "promote"
        if after.position == before.position - 1:
            return "rollback"
        return "abort" if after.stage == rollout.IDLE else "edited"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def release_view(text: str, default_catalog: rollout.Catalog | None = None) -> ReleaseView:
    """The release in one version of a stack file; its catalog is the file's own stages if it
    has them, else `default_catalog` (the project's)."""
    try:
        document = stackfile.load_yaml(text, "stack file")
    except stackfile.StackFileError as err:
        return ReleaseView(problem=str(err))
    config = document.get("config") if isinstance(document, dict) else None
    release = config.get(RELEASE_KEY) if isinstance(config, dict) else None
    if not isinstance(release, dict):
        return ReleaseView(problem=f"no {RELEASE_KEY} mapping")
    view = ReleaseView(
        stage=_text(release.get("stage")),
        live=_text(release.get("live")),
        blue=_text(release.get("blue")),
        green=_text(release.get("green")),
    )
    catalog = _catalog(config.get(STAGES) if isinstance(config, dict) else None) or default_catalog
    if catalog is not None and view.stage in catalog.names:
        found = view.release()
        return replace(
            view,
            share=catalog.get(view.stage).share,
            position=catalog.index(view.stage),
            traffic=None if found is None else rollout.traffic(found, catalog),
        )
    return view


def _catalog(stages: Any) -> rollout.Catalog | None:
    """The catalog of a `stagewise:stages` list, each stage checked as the config checks it; None if one is refused."""
    if not isinstance(stages, list):
        return None
    try:
        return stage_entries(stages)
    except ConfigError:
        return None


def steps(
    versions: Iterable[tuple[Meta, str | None]], default_catalog: rollout.Catalog | None = None
) -> list[Step[Meta]]:
    """The versions (oldest first; None where the file does not exist) where the release changed."""
    result: list[Step[Meta]] = []
    previous: ReleaseView | None = None
    for meta, text in versions:
        current = None if text is None else release_view(text, default_catalog)
        if (previous is None) != (current is None) or (
            previous is not None and current is not None and previous.key() != current.key()
        ):
            result.append(Step(meta, previous, current))
        previous = current
    return result


def default_catalog(project_text: str) -> rollout.Catalog | None:
    """The project-wide catalog from Pulumi.yaml's `stagewise:stages` default, if readable."""
    try:
        return _catalog(stackfile.project_defaults(project_text).get(STAGES))
    except stackfile.StackFileError:
        return None
