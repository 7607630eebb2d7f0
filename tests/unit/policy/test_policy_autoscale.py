"""Production autoscale keeps at least `minimumInstances` (default 3) instances in every profile."""

import pytest

from stagewise.policy.monitoring import autoscale_production_minimum
from stagewise.policy.settings import Settings

SETTINGS = Settings()
check = autoscale_production_minimum


def autoscale(*minimums, environment="production") -> dict:
    return {
        "enabled": True,
        "targetResourceUri": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/serverfarms/plan",
        "profiles": [
            {"name": f"p{i}", "capacity": {"minimum": m, "default": "3", "maximum": "10"}, "rules": []}
            for i, m in enumerate(minimums)
        ],
        "tags": {"environment": environment},
    }


@pytest.mark.parametrize("minimum", ["3", "4", "10"])
def test_production_minimum_at_or_above_threshold_passes(minimum):
    assert check(autoscale(minimum), SETTINGS) == []


def test_production_minimum_below_threshold_fails():
    assert check(autoscale("2"), SETTINGS) == [
        "autoscale in production must keep at least 3 instances: "
        "set profiles[0].capacity.minimum (profile 'p0') to '3' or more (got '2')"
    ]


def test_each_profile_below_threshold_is_reported():
    messages = check(autoscale("3", "1", "2"), SETTINGS)
    assert [m.split("set ")[1].split(".")[0] for m in messages] == ["profiles[1]", "profiles[2]"]


def test_minimum_that_is_not_an_integer_fails():
    [message] = check(autoscale("three"), SETTINGS)
    assert message.endswith("(got 'three')")


def test_minimum_not_set_fails():
    props = autoscale("3")
    del props["profiles"][0]["capacity"]["minimum"]
    [message] = check(props, SETTINGS)
    assert message.endswith("(got not set)")


def test_no_profiles_fails():
    props = autoscale()
    [message] = check(props, SETTINGS)
    assert "profiles[0].capacity.minimum" in message and message.endswith("(got not set)")


@pytest.mark.parametrize("environment", ["dev", "staging", "local"])
def test_other_tiers_may_scale_lower(environment):
    assert check(autoscale("1", environment=environment), SETTINGS) == []


def test_untagged_autoscale_is_held_to_production():
    props = autoscale("1")
    del props["tags"]
    [message] = check(props, SETTINGS)
    assert message.startswith("autoscale in production (no valid 'environment' tag")


def test_threshold_comes_from_config():
    settings = Settings.from_config({"minimumInstances": 5})
    [message] = check(autoscale("4"), settings)
    assert "must keep at least 5 instances" in message


def test_unknown_minimum_is_left_for_up():
    assert check(autoscale("3eeb2bf0-c639-47a8-9e75-3b44932eb421"), SETTINGS) == []
