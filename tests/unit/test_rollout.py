"""The rollout model: traffic per stage, the slot traffic rule, region weights and the transitions."""

import pytest

from stagewise.core import rollout
from stagewise.core.rollout import Catalog, Release, RolloutError, Stage

DEFAULT = Catalog.of([Stage("canary", 10), Stage("early", 20), Stage("half", 50), Stage("full", 100)])
PRODUCTION = Catalog.of([Stage("canary", 5), Stage("quarter", 25), Stage("half", 50), Stage("full", 100)])


def release(stage="idle", live="blue", blue="1.0", green="2.0") -> Release:
    return Release("demo", blue, green, live, stage)


def test_idle_is_always_first_and_zero():
    assert DEFAULT.stages[0] == Stage("idle", 0)
    assert Catalog.of([Stage("idle", 0), Stage("a", 50)]).names == ["idle", "a"]


# The slot traffic rule per stage, written out by hand: green's share whichever colour is live,
# no rule at all at 0 %.
@pytest.mark.parametrize(
    ("catalog", "stage", "live", "rule"),
    [
        (DEFAULT, "idle", "blue", None),
        (DEFAULT, "canary", "blue", 10),
        (DEFAULT, "early", "blue", 20),
        (DEFAULT, "half", "blue", 50),
        (DEFAULT, "full", "blue", 100),
        (PRODUCTION, "idle", "blue", None),
        (PRODUCTION, "canary", "blue", 5),
        (PRODUCTION, "quarter", "blue", 25),
        (PRODUCTION, "full", "blue", 100),
        (PRODUCTION, "idle", "green", 100),
        (PRODUCTION, "canary", "green", 95),
        (PRODUCTION, "quarter", "green", 75),
        (PRODUCTION, "full", "green", None),
    ],
)
def test_slot_traffic_rule_for_every_stage(catalog, stage, live, rule):
    assert rollout.slot_share(rollout.traffic(release(stage, live=live), catalog)) == rule


@pytest.mark.parametrize("catalog", [DEFAULT, PRODUCTION])
def test_finish_keeps_the_slot_traffic_rule(catalog):
    full = release(catalog.last.name)
    done = rollout.finish(full, catalog)
    assert (
        rollout.slot_share(rollout.traffic(done, catalog)) == rollout.slot_share(rollout.traffic(full, catalog)) == 100
    )


@pytest.mark.parametrize(
    ("weights", "endpoints"),
    [
        ({"westeurope": 100}, {"westeurope": rollout.Endpoint(100, True)}),
        (
            {"westeurope": 60, "northeurope": 40},
            {"westeurope": rollout.Endpoint(60, True), "northeurope": rollout.Endpoint(40, True)},
        ),
        (
            {"westeurope": 1000, "northeurope": 0},
            {"westeurope": rollout.Endpoint(1000, True), "northeurope": rollout.Endpoint(1, False)},
        ),
    ],
)
def test_region_endpoints_drain_with_a_disabled_endpoint_never_weight_0(weights, endpoints):
    assert rollout.region_endpoints(weights) == endpoints


def test_traffic_follows_the_live_colour():
    assert rollout.traffic(release("canary", live="green"), DEFAULT) == {"blue": 10, "green": 90}


def test_deploy_puts_the_tag_on_the_candidate():
    assert rollout.deploy(release(green=None), DEFAULT, "3.0").green == "3.0"


def test_deploy_refused_outside_idle():
    with pytest.raises(RolloutError, match="deploy is allowed only at stage 'idle'"):
        rollout.deploy(release("canary"), DEFAULT, "3.0")


def test_promote_walks_the_catalog_in_order():
    state = release()
    seen = []
    while rollout.next_stage(state, DEFAULT):
        state = rollout.promote(state, DEFAULT)
        seen.append(state.stage)
    assert seen == ["canary", "early", "half", "full"]


def test_promote_refuses_to_skip_without_force():
    with pytest.raises(RolloutError, match="skips canary, early; pass --force"):
        rollout.promote(release(), DEFAULT, to="half")
    assert rollout.promote(release(), DEFAULT, to="half", skip_stages=True).stage == "half"


def test_promote_refuses_without_candidate_version():
    with pytest.raises(RolloutError, match="candidate colour 'green' has no version"):
        rollout.promote(release(green=None), DEFAULT)


def test_promote_refuses_past_the_last_stage():
    with pytest.raises(RolloutError, match="last stage; run finish"):
        rollout.promote(release("full"), DEFAULT)


def test_promote_to_an_earlier_stage_is_refused():
    with pytest.raises(RolloutError, match="promote moves forward"):
        rollout.promote(release("half"), DEFAULT, to="canary")


def test_promote_to_unknown_stage_names_the_catalog():
    with pytest.raises(RolloutError, match="unknown stage 'hlf'; the catalog has: idle, canary, early, half, full"):
        rollout.promote(release(), DEFAULT, to="hlf")


def test_rollback_goes_one_stage_back_and_stops_at_idle():
    assert rollout.rollback(release("half"), DEFAULT).stage == "early"
    with pytest.raises(RolloutError, match="nothing to roll back"):
        rollout.rollback(release("idle"), DEFAULT)


def test_abort_goes_straight_to_idle():
    assert rollout.abort(release("half"), DEFAULT).stage == "idle"
    with pytest.raises(RolloutError, match="already at 'idle'"):
        rollout.abort(release(), DEFAULT)


@pytest.mark.parametrize("live", ["blue", "green"])
def test_abort_puts_the_live_version_back_on_the_candidate(live):
    aborted = rollout.abort(release("half", live=live, blue="1.0", green="2.0"), DEFAULT)
    assert (aborted.live, aborted.blue, aborted.green) == (
        live,
        *(("1.0", "1.0") if live == "blue" else ("2.0", "2.0")),
    )
    assert rollout.versions_by_colour(aborted) == {"blue": aborted.version(live), "green": aborted.version(live)}


def test_finish_swaps_live_and_keeps_traffic():
    before = release("full")
    after = rollout.finish(before, DEFAULT)
    assert (after.live, after.stage) == ("green", "idle")
    assert rollout.traffic(after, DEFAULT) == rollout.traffic(before, DEFAULT)


def test_finish_only_at_100_percent():
    with pytest.raises(RolloutError, match="finish is allowed only at 100 %"):
        rollout.finish(release("half"), DEFAULT)


def test_check_refuses_a_live_colour_without_version():
    with pytest.raises(RolloutError, match="live colour 'blue' has no version"):
        rollout.check(release(blue=None), DEFAULT)


def test_origin_weights_are_region_part_times_colour_share_within_front_door_limits():
    origins = rollout.origin_weights({"westeurope": 60, "northeurope": 40}, {"blue": 75, "green": 25})
    assert {(r, c): (o.weight, o.enabled) for r, by in origins.items() for c, o in by.items()} == {
        ("westeurope", "blue"): (750, True),
        ("westeurope", "green"): (250, True),
        ("northeurope", "blue"): (500, True),
        ("northeurope", "green"): (167, True),
    }


def test_a_colour_at_zero_or_a_drained_region_is_a_disabled_origin_with_a_valid_weight():
    origins = rollout.origin_weights({"westeurope": 1000, "northeurope": 0}, {"blue": 100, "green": 0})
    assert origins["westeurope"]["blue"] == rollout.Endpoint(1000, True)
    assert origins["westeurope"]["green"] == rollout.Endpoint(1, False)
    assert origins["northeurope"]["blue"] == rollout.Endpoint(1, False)


@pytest.mark.parametrize("share", range(0, 101))
def test_origin_weights_never_depend_on_which_colour_is_live(share):
    # finish swaps the labels only: the shares per colour are the same, so the origins are too.
    weights = {"a": 7, "b": 3}
    assert rollout.origin_weights(weights, {"blue": 100 - share, "green": share}) == rollout.origin_weights(
        weights, {"green": share, "blue": 100 - share}
    )
    for by_colour in rollout.origin_weights(weights, {"blue": 100 - share, "green": share}).values():
        assert all(1 <= o.weight <= 1000 for o in by_colour.values())
