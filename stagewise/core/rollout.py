"""The rollout model: which colour holds which version and how traffic is shared.

Pure logic, no Pulumi import. The same state gives each colour's share of traffic (an integer
0..100), from which come the Front Door origin weights (Azure: every region's site and slot,
`origin_weights`, with the region's part of the traffic) and the HTTPRoute backend weights
(Kubernetes), so every platform agrees by construction. `slot_share` and `region_endpoints` serve
stacks that still carry a slot traffic rule or a Traffic Manager profile.

Resource inputs must depend only on per-colour facts (a colour's version, a colour's
share of traffic), never on which colour is called "live": that is what lets `finish`
swap the labels without changing a single resource.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from stagewise.core.limits import AFD_MAX_WEIGHT, AFD_MIN_WEIGHT, TM_MIN_WEIGHT

Colour = Literal["blue", "green"]
COLOURS: tuple[Colour, Colour] = ("blue", "green")

IDLE = "idle"


# Azure: blue is the production site, green its deployment slot, each a Front Door origin.
SLOT_COLOUR: Colour = "green"


class RolloutError(ValueError):
    """A transition that the rollout model refuses; the message says why and what is allowed."""


def other(colour: Colour) -> Colour:
    return "green" if colour == "blue" else "blue"


@dataclass(frozen=True)
class Stage:
    name: str
    share: int  # the candidate colour's share of traffic, 0..100


@dataclass(frozen=True)
class Catalog:
    """Ordered stages, `idle` (0 %) first. Construct with `Catalog.of`, which adds `idle`."""

    stages: tuple[Stage, ...]

    @classmethod
    def of(cls, stages: Sequence[Stage]) -> Catalog:
        rest = tuple(s for s in stages if s.name != IDLE)
        return cls((Stage(IDLE, 0),) + rest)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]

    def index(self, name: str) -> int:
        for i, stage in enumerate(self.stages):
            if stage.name == name:
                return i
        raise RolloutError(f"unknown stage {name!r}; the catalog has: {', '.join(self.names)}")

    def get(self, name: str) -> Stage:
        return self.stages[self.index(name)]

    @property
    def last(self) -> Stage:
        return self.stages[-1]


@dataclass(frozen=True)
class Release:
    """The rollout state kept in `stagewise:release` of a stack file."""

    image: str
    blue: str | None
    green: str | None
    live: Colour
    stage: str

    @property
    def candidate(self) -> Colour:
        return other(self.live)

    def version(self, colour: Colour) -> str | None:
        return self.blue if colour == "blue" else self.green


@dataclass(frozen=True)
class Endpoint:
    """A Traffic Manager endpoint's or a Front Door origin's routing: weight is always valid, even when disabled."""

    weight: int
    enabled: bool


def split(candidate: Colour, share: int) -> dict[Colour, int]:
    """Each colour's share of traffic, 0..100, summing to 100, when the candidate gets `share`."""
    return {candidate: share, other(candidate): 100 - share}


def traffic(release: Release, catalog: Catalog) -> dict[Colour, int]:
    """Each colour's share of traffic, 0..100, summing to 100."""
    return split(release.candidate, catalog.get(release.stage).share)


def slot_share(shares: dict[Colour, int]) -> int | None:
    """The slot traffic rule's percentage (its unit): the slot colour's share, whether it is live or the
    candidate (so `finish`, which only swaps the labels, changes no rule). None at 0 %: no rule
    at all, because a rule kept at an explicit 0 % still lets clients that carry the slot's
    routing name reach it (app-service/deploy-staging-slots.md: "When you explicitly set this
    value to 0% ... your users can access the staging slot manually")."""
    share = shares[SLOT_COLOUR]
    return share if share > 0 else None


def region_endpoints(weights: dict[str, int]) -> dict[str, Endpoint]:
    """Region -> its Traffic Manager endpoint. Weight 0 drains a region: the endpoint is disabled
    and keeps a valid weight, because Traffic Manager refuses weight 0."""
    return {
        region: Endpoint(weight=max(TM_MIN_WEIGHT, weight), enabled=weight > 0) for region, weight in weights.items()
    }


def origin_weights(region_weights: dict[str, int], shares: dict[Colour, int]) -> dict[str, dict[Colour, Endpoint]]:
    """Region -> colour -> its Front Door origin: the weight is the region's part of the traffic times the
    colour's share, scaled so that the heaviest region's colour at 100 % weighs AFD_MAX_WEIGHT (Front Door
    weights are 1..1000, frontdoor/routing-methods.md, "Weighted"). A colour at 0 % (or a region at 0) is
    a disabled origin, which Front Door never selects ("Select all origins that are enabled", same doc),
    with a valid weight.

    Each weight depends only on its region's weight and its colour's share, never on which colour is
    live, so `finish` changes no origin, and a stage change changes each region's two origins only."""
    heaviest = max(region_weights.values(), default=0)
    if heaviest <= 0:
        raise ValueError(f"region weights {region_weights}: at least one region must be above 0")
    origins: dict[str, dict[Colour, Endpoint]] = {}
    for region, weight in region_weights.items():
        origins[region] = {}
        for colour in COLOURS:
            exact = AFD_MAX_WEIGHT * weight * shares[colour] / (heaviest * 100)
            enabled = weight > 0 and shares[colour] > 0
            origins[region][colour] = Endpoint(weight=max(AFD_MIN_WEIGHT, round(exact)), enabled=enabled)
    return origins


def versions_by_colour(release: Release) -> dict[Colour, str]:
    """The version each colour runs. A colour with no version yet runs the live one, with no traffic."""
    live = release.version(release.live) or ""
    return {colour: release.version(colour) or live for colour in COLOURS}


def check(release: Release, catalog: Catalog) -> None:
    """Raise RolloutError when the state is inconsistent with the catalog."""
    stage = catalog.get(release.stage)
    if not release.version(release.live):
        raise RolloutError(f"live colour {release.live!r} has no version; set release.{release.live}")
    if stage.share > 0 and not release.version(release.candidate):
        raise RolloutError(
            f"stage {stage.name!r} sends {stage.share} % to {release.candidate!r}, which has no version; "
            f"set release.{release.candidate} or use stage {IDLE!r}"
        )


# Transitions. Each returns a new Release and refuses with RolloutError.


def deploy(release: Release, catalog: Catalog, tag: str) -> Release:
    if release.stage != IDLE:
        raise RolloutError(
            f"deploy is allowed only at stage {IDLE!r}; the stack is at {release.stage!r} "
            f"(finish or abort the current rollout first)"
        )
    if not tag.strip():
        raise RolloutError("deploy needs a non-empty image tag")
    return replace(release, blue=tag) if release.candidate == "blue" else replace(release, green=tag)


_VERSION = re.compile(r"^[vV]?(\d+(?:\.\d+)*)(?:[-+_.]?(.*))?$")


def older(tag: str | None, than: str | None) -> bool:
    """Whether `tag` is an older version than `than`, when both read as versions (1.4.2, v2.0,
    1.5.0-rc1 before 1.5.0); False when either does not, since then nobody can tell."""
    a, b = _VERSION.match(tag or ""), _VERSION.match(than or "")
    if a is None or b is None:
        return False
    x, y = [int(n) for n in a[1].split(".")], [int(n) for n in b[1].split(".")]
    width = max(len(x), len(y))
    x, y = x + [0] * (width - len(x)), y + [0] * (width - len(y))
    if x != y:
        return x < y
    return bool(a[2]) and not b[2]


def at_rest(release: Release) -> bool:
    """At idle with nothing new to roll out: the candidate has no version, the live one, or an older
    one (after `finish` the candidate keeps the previous version)."""
    candidate, live = release.version(release.candidate), release.version(release.live)
    return release.stage == IDLE and (not candidate or candidate == live or older(candidate, live))


def promote(
    release: Release, catalog: Catalog, to: str | None = None, *, skip_stages: bool = False, allow_older: bool = False
) -> Release:
    current = catalog.index(release.stage)
    if current == len(catalog.stages) - 1:
        raise RolloutError(f"stage {release.stage!r} is the last stage; run finish")
    target = current + 1 if to is None else catalog.index(to)
    if target <= current:
        raise RolloutError(
            f"promote moves forward; {catalog.stages[target].name!r} is not after {release.stage!r} (use rollback)"
        )
    if target > current + 1 and not skip_stages:
        raise RolloutError(
            f"promote to {catalog.stages[target].name!r} skips "
            f"{', '.join(s.name for s in catalog.stages[current + 1 : target])}; pass --force to skip stages"
        )
    if not release.version(release.candidate):
        raise RolloutError(f"candidate colour {release.candidate!r} has no version; run deploy first")
    candidate, live = release.version(release.candidate), release.version(release.live)
    if candidate == live:
        # After abort the candidate runs the live version again: a stage would compare it with itself.
        raise RolloutError(
            f"the candidate {release.candidate} runs {candidate}, the version {release.live} runs live: a stage would "
            f"compare a version with itself; run `stagewise deploy <new version>` first"
        )
    if release.stage == IDLE and older(candidate, live) and not allow_older:
        raise RolloutError(
            f"the candidate {release.candidate} runs {candidate}, older than the live {live} (after finish the "
            f"candidate keeps the previous version): deploy a new version first, or pass --older to move "
            f"traffic towards {candidate} on purpose"
        )
    return replace(release, stage=catalog.stages[target].name)


def committed_step(committed: str | None, after: Release, catalog: Catalog) -> None:
    """A guarded stack moves at most one stage past its committed stage (`committed`, the stage in the
    stack file at git HEAD; None when there is none), however the edits before the commit are split:
    two promotes in a row must not land `quarter` to `full` in one reviewed change."""
    if committed is None or committed not in catalog.names:
        return
    start, end = catalog.index(committed), catalog.index(after.stage)
    if end > start + 1:
        skipped = ", ".join(s.name for s in catalog.stages[start + 1 : end])
        raise RolloutError(
            f"the committed stage is {committed!r} (git HEAD) and {after.stage!r} would skip {skipped} in one "
            f"commit: commit the promote to {catalog.stages[start + 1].name!r} first, or pass --force to skip stages"
        )


def rollback(release: Release, catalog: Catalog) -> Release:
    current = catalog.index(release.stage)
    if current == 0:
        raise RolloutError(f"stage {IDLE!r} is the first stage; nothing to roll back")
    return replace(release, stage=catalog.stages[current - 1].name)


def abort(release: Release, catalog: Catalog) -> Release:
    """All traffic to the live colour, and the candidate colour runs the live version again.

    Moving the traffic alone is not enough on Azure: App Service pins a routed client to the
    colour it got "for one hour or until the cookies are deleted" (app-service/deploy-staging-slots.md,
    x-ms-routing-name), so a pinned client would keep the aborted version for up to an hour.
    Once the candidate runs the live version, no client, pinned or not, is served the aborted one.
    """
    catalog.index(release.stage)
    if release.stage == IDLE:
        raise RolloutError(f"the stack is already at {IDLE!r}; nothing to abort")
    live_version = release.version(release.live)
    if release.candidate == "blue":
        return replace(release, stage=IDLE, blue=live_version)
    return replace(release, stage=IDLE, green=live_version)


def finish(release: Release, catalog: Catalog) -> Release:
    stage = catalog.get(release.stage)
    if stage.share != 100:
        raise RolloutError(
            f"finish is allowed only at 100 %; stage {stage.name!r} sends {stage.share} % to the candidate"
        )
    return replace(release, live=release.candidate, stage=IDLE)


def next_stage(release: Release, catalog: Catalog) -> Stage | None:
    current = catalog.index(release.stage)
    return catalog.stages[current + 1] if current + 1 < len(catalog.stages) else None
