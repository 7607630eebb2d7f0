"""The rollout model: traffic per stage, Traffic Manager weights and the transitions."""

import pytest

from stagewise import rollout
from stagewise.rollout import Catalog, Release, RolloutError, Stage

DEFAULT = Catalog.of([Stage("canary", 10), Stage("early", 20), Stage("half", 50), Stage("full", 100)])
PRODUCTION = Catalog.of([Stage("canary", 5), Stage("quarter", 25), Stage("half", 50), Stage("full", 100)])


def release(stage="idle", live="blue", blue="1.0", green="2.0") -> Release:
    return Release("demo", blue, green, live, stage)


def test_idle_is_always_first_and_zero():
    assert DEFAULT.stages[0] == Stage("idle", 0)
    assert Catalog.of([Stage("idle", 0), Stage("a", 50)]).names == ["idle", "a"]


# Expected weights written out by hand from the rule: p % -> p * 10, 0 % -> disabled (weight kept valid).
@pytest.mark.parametrize(
    ("catalog", "stage", "candidate_weight", "candidate_enabled", "live_weight", "live_enabled"),
    [
        (DEFAULT, "idle", 1, False, 1000, True),
        (DEFAULT, "canary", 100, True, 900, True),
        (DEFAULT, "early", 200, True, 800, True),
        (DEFAULT, "half", 500, True, 500, True),
        (DEFAULT, "full", 1000, True, 1, False),
        (PRODUCTION, "idle", 1, False, 1000, True),
        (PRODUCTION, "canary", 50, True, 950, True),
        (PRODUCTION, "quarter", 250, True, 750, True),
        (PRODUCTION, "half", 500, True, 500, True),
        (PRODUCTION, "full", 1000, True, 1, False),
    ],
)
def test_traffic_manager_weights_for_every_stage(
    catalog, stage, candidate_weight, candidate_enabled, live_weight, live_enabled
):
    endpoints = rollout.traffic_manager_endpoints(rollout.traffic(release(stage), catalog))
    assert endpoints["green"] == rollout.Endpoint(candidate_weight, candidate_enabled)
    assert endpoints["blue"] == rollout.Endpoint(live_weight, live_enabled)


@pytest.mark.parametrize("catalog", [DEFAULT, PRODUCTION])
def test_every_stage_has_valid_weights(catalog):
    for stage in catalog.names:
        percent = rollout.traffic(release(stage), catalog)
        endpoints = rollout.traffic_manager_endpoints(percent).values()
        assert sum(percent.values()) == 100
        assert all(1 <= e.weight <= 1000 for e in endpoints)
        assert any(e.enabled for e in endpoints)


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
    assert rollout.promote(release(), DEFAULT, to="half", force=True).stage == "half"


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
