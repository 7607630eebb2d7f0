"""Front Door origins per rollout state: primaries, fallbacks, parked colours, drained regions."""

import itertools

import pytest

from stagewise.core import origins, rollout
from stagewise.core.origins import FALLBACK, PRIMARY, Origin
from stagewise.core.rollout import Release, Stage

CATALOG = rollout.Catalog.of([Stage("canary", 5), Stage("quarter", 25), Stage("half", 50), Stage("full", 100)])
REGIONS = {"westeurope": 60, "northeurope": 40}


def release(stage: str = "idle", blue: str | None = "1.4.2", green: str | None = "1.5.0", live="blue") -> Release:
    return Release(image="app", blue=blue, green=green, live=live, stage=stage)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        # Mid-rollout: both colours carry traffic, both primaries.
        (release("quarter"), {"blue": Origin(750, True, PRIMARY), "green": Origin(250, True, PRIMARY)}),
        # At 100 %: the old colour, still on its version, is the fallback Front Door fails over to.
        (release("full"), {"blue": Origin(1000, True, FALLBACK), "green": Origin(1000, True, PRIMARY)}),
        # Deployed, not yet promoted: the candidate is a fallback with a version of its own.
        (release("idle"), {"blue": Origin(1000, True, PRIMARY), "green": Origin(1000, True, FALLBACK)}),
        # After an abort the candidate runs the live version: parked (its slot admits nothing), its origin an
        # enabled fallback, so that no mix of old and new configurations leaves an edge without an enabled origin.
        (release("idle", green="1.4.2"), {"blue": Origin(1000, True, PRIMARY), "green": Origin(1000, True, FALLBACK)}),
        # A colour that never had a version: a disabled origin.
        (release("idle", green=None), {"blue": Origin(1000, True, PRIMARY), "green": Origin(1000, False, FALLBACK)}),
        # After finish (green live, blue keeps 1.4.2): blue is the fallback, nothing parked.
        (release("idle", live="green"), {"blue": Origin(1000, True, FALLBACK), "green": Origin(1000, True, PRIMARY)}),
    ],
)
def test_each_colour_is_primary_fallback_or_parked(state, expected):
    assert origins.origins({"westeurope": 100}, state, CATALOG)["westeurope"] == expected


def test_a_drained_region_has_both_origins_disabled_and_the_others_keep_their_parts():
    found = origins.origins({"westeurope": 60, "northeurope": 0}, release("full"), CATALOG)
    assert not any(o.enabled for o in found["northeurope"].values())
    assert found["westeurope"] == {"blue": Origin(1000, True, FALLBACK), "green": Origin(1000, True, PRIMARY)}
    # Fallbacks keep the regions' parts of the traffic between them.
    found = origins.origins(REGIONS, release("full"), CATALOG)
    assert (found["westeurope"]["blue"].weight, found["northeurope"]["blue"].weight) == (1000, 667)


def test_parked_is_only_the_colour_with_no_traffic_and_no_version_of_its_own():
    assert origins.parked(release("idle", green="1.4.2"), CATALOG) == {"blue": False, "green": True}
    assert origins.parked(release("canary", green="1.4.2"), CATALOG) == {"blue": False, "green": False}
    # Which colour is live does not matter: a colour at 0 % on the other's version is parked either way.
    assert origins.parked(release("idle", blue="1.5.0", live="green"), CATALOG) == {"blue": True, "green": False}
    assert origins.parked(release("full", green="1.4.2"), CATALOG) == {"blue": True, "green": False}


def states() -> list[Release]:
    """Every reachable kind of state: each stage, with the candidate on its own version, the live one, or none."""
    found = []
    for stage in CATALOG.names:
        for live in ("blue", "green"):
            for candidate in ("1.5.0", "1.4.2", None):
                versions = {live: "1.4.2", rollout.other(live): candidate}
                state = release(stage, blue=versions["blue"], green=versions["green"], live=live)
                try:
                    rollout.check(state, CATALOG)
                except rollout.RolloutError:
                    continue
                found.append(state)
    return found


def transitions() -> list[tuple[str, Release, Release]]:
    """Every transition the CLI makes from every state: promote, rollback, abort, finish, deploy; and a revert
    (any of them backwards)."""
    found = []
    for state in states():
        moves = {
            "promote": lambda s: rollout.promote(s, CATALOG, allow_older=True),
            "rollback": lambda s: rollout.rollback(s, CATALOG),
            "abort": lambda s: rollout.abort(s, CATALOG),
            "finish": lambda s: rollout.finish(s, CATALOG),
            "deploy": lambda s: rollout.deploy(s, CATALOG, "1.6.0"),
        }
        for name, move in moves.items():
            try:
                after = move(state)
            except rollout.RolloutError:
                continue
            found += [(name, state, after), (f"revert {name}", after, state)]
    return found


TRANSITIONS = transitions()


def test_the_transitions_cover_every_command():
    assert {name for name, _, _ in TRANSITIONS} >= {"promote", "rollback", "abort", "finish", "deploy"}


@pytest.mark.parametrize("regions", [{"westeurope": 100}, REGIONS, {"westeurope": 60, "northeurope": 0}])
@pytest.mark.parametrize(("name", "before", "after"), TRANSITIONS, ids=[f"{n}:{b.stage}" for n, b, _ in TRANSITIONS])
def test_no_edge_is_ever_left_without_an_enabled_origin(regions, name, before, after):
    # Each origin's update propagates to each edge on its own (frontdoor FAQ: every update is a global operation,
    # queued), so an edge can hold any mix of the two configurations, origin by origin.
    old = origins.origins(regions, before, CATALOG)
    new = origins.origins(regions, after, CATALOG)
    keys = [(r, c) for r in regions for c in ("blue", "green")]
    for mix in itertools.product((old, new), repeat=len(keys)):
        assert any(state[r][c].enabled for state, (r, c) in zip(mix, keys, strict=True)), (name, before, after)


@pytest.mark.parametrize(("name", "before", "after"), TRANSITIONS, ids=[f"{n}:{b.stage}" for n, b, _ in TRANSITIONS])
def test_every_state_has_an_enabled_primary_and_valid_weights_and_priorities(name, before, after):
    for state in (before, after):
        found = origins.origins(REGIONS, state, CATALOG)
        assert any(o.enabled and o.priority == PRIMARY for by in found.values() for o in by.values())
        for by_colour in found.values():
            for origin in by_colour.values():
                assert 1 <= origin.weight <= 1000 and 1 <= origin.priority <= 5


def test_a_stage_change_touches_no_parked_state_and_finish_changes_no_origin():
    for name, before, after in TRANSITIONS:
        # A stage change never parks or unparks a colour (so it changes no site), except when both colours run one
        # version (only after an aborted candidate is promoted again): then the colour at 0 % is parked.
        if name in ("promote", "rollback") and before.blue != before.green:
            assert origins.parked(before, CATALOG) == origins.parked(after, CATALOG), (name, before)
        if name == "finish":
            assert origins.origins(REGIONS, before, CATALOG) == origins.origins(REGIONS, after, CATALOG)


def test_a_region_whose_smallest_stage_weight_falls_below_one_is_found():
    # 1000 x 10/1000 x 5 % = 0.5: Front Door's minimum of 1 would give that region's candidate twice its share.
    assert origins.below_one({"westeurope": 1000, "northeurope": 10}, CATALOG) == ("northeurope", 5, 0.5)
    assert origins.below_one({"westeurope": 1000, "northeurope": 20}, CATALOG) is None
    assert origins.below_one({"westeurope": 1000, "northeurope": 0}, CATALOG) is None
