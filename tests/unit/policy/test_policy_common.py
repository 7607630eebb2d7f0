"""Shared mechanics of the rules: settings from stagewise.policy config, reading inputs, unknown values, tiers."""

import pytest
from pulumi_policy import proxy

from stagewise.core.tiers import ENVIRONMENTS
from stagewise.policy.inputs import MISSING, UNKNOWN_VALUES, as_int, dig, shown
from stagewise.policy.settings import Settings
from stagewise.policy.tier import Tier, azure_tier, kubernetes_tier


def test_default_settings_are_the_agreed_thresholds():
    assert Settings() == Settings(
        production_autoscale_minimum=3,
        production_max_ttl=60,
        health_path="/health",
        hpa_min_replicas=2,
        production_like=("staging", "production"),
        required_tags=("owner", "cost-centre"),
    )


def test_config_overrides_only_the_keys_it_sets():
    settings = Settings.from_config({"minimumInstances": 4.0, "productionLikeTiers": ["production"]})
    assert settings == Settings(production_autoscale_minimum=4, production_like=("production",))


def test_config_numbers_arrive_as_floats_and_become_ints():
    assert Settings.from_config({"maxTtlSeconds": 30.0}).production_max_ttl == 30
    assert isinstance(Settings.from_config({"minReplicas": 3.0}).hpa_min_replicas, int)


@pytest.mark.parametrize("config", [None, {}, {"enforcementLevel": "advisory", "somethingElse": 1}])
def test_absent_or_unrelated_config_gives_defaults(config):
    assert Settings.from_config(config) == Settings()


def test_unknown_sentinels_match_the_policy_sdk():
    sdk = {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
    assert UNKNOWN_VALUES == sdk


@pytest.mark.parametrize(
    ("props", "path", "expected"),
    [
        ({"a": {"b": 1}}, ("a", "b"), 1),
        ({"a": {"b": None}}, ("a", "b"), MISSING),
        ({"a": {}}, ("a", "b"), MISSING),
        ({"a": "text"}, ("a", "b"), MISSING),
        ({"a": [{"b": 2}]}, ("a", 0, "b"), 2),
        ({"a": [{"b": 2}]}, ("a", 1, "b"), MISSING),
        ({"a": {"b": 2}}, ("a", 0), MISSING),
        (
            {"a": UNKNOWN_VALUES and "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"},
            ("a", "b", "c"),
            "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
        ),
    ],
    ids=[
        "nested",
        "null",
        "absent",
        "not-a-mapping",
        "list",
        "index-out-of-range",
        "index-into-mapping",
        "unknown-on-the-way",
    ],
)
def test_dig(props, path, expected):
    assert dig(props, *path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), (3.0, 3), ("3", 3), (" 3 ", 3), (2.5, None), ("three", None), (True, None), (None, None)],
)
def test_as_int(value, expected):
    assert as_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(MISSING, "not set"), (300.0, "300"), (2.5, "2.5"), ("Allow", "'Allow'"), (False, "False")],
)
def test_shown(value, expected):
    assert shown(value) == expected


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_valid_environment_tag_names_the_tier(environment):
    assert azure_tier({"tags": {"environment": environment}}) == Tier(environment, environment)


@pytest.mark.parametrize("tags", [None, {}, {"environment": "Production"}, {"environment": 1}])
def test_missing_or_invalid_environment_tag_falls_back_to_production(tags):
    props = {} if tags is None else {"tags": tags}
    assert azure_tier(props).name == "production"


def test_unknown_environment_tag_gives_no_tier_yet():
    assert azure_tier({"tags": {"environment": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}}) is None


def test_kubernetes_tier_comes_from_the_label():
    props = {"metadata": {"labels": {"stagewise.dev/environment": "local"}}}
    assert kubernetes_tier(props) == Tier("local", "local")


def test_kubernetes_tier_ignores_the_azure_tag():
    assert kubernetes_tier({"tags": {"environment": "dev"}}).name == "production"
