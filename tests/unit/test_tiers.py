"""Per-tier requirements (stagewise.core.tiers): the validator refuses what the policy pack would refuse,
with a message naming the key, the value and what is allowed; the pack's defaults are the same rules."""

import copy

import pytest
from pulumi_policy import EnforcementLevel
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stagewise.core import config, tiers
from stagewise.core.config import ConfigError, SecretValue, parse
from stagewise.policy.catalogue import RECORDS
from stagewise.policy.policies import VALIDATOR_TWINS, policies
from stagewise.policy.record import ResourcesOnly, Validation
from stagewise.policy.settings import Settings


def valid(environment: str) -> dict:
    return {
        "environment": environment,
        "nameSeed": "t3stseed",
        "owner": "platform-team",
        "costCentre": "cc-1",
        "release": {"image": "demo", "blue": "1.4.2", "green": "1.5.0", "live": "blue", "stage": "quarter"},
        "stages": [{"name": "canary", "weight": 5}, {"name": "quarter", "weight": 25}, {"name": "full", "weight": 100}],
        "secrets": {"jwt-secret": SecretValue("s3cr3t")},
    }


def with_values(environment: str, **sections) -> dict:
    raw = copy.deepcopy(valid(environment))
    raw.update(sections)
    return raw


def refused(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(raw)
    return err.value.problems


@pytest.mark.parametrize(
    ("environment", "sections", "expected"),
    [
        (
            "production",
            {"traffic": {"ttl": 61}},
            "stagewise:traffic.ttl: must be at most 60 s in production: a rollback must reach clients within the DNS TTL (got 61)",
        ),
        (
            "dev",
            {"traffic": {"ttl": 30, "probe": {"path": "/healthz"}}},
            "stagewise:traffic.probe.path: must be '/health' in dev: the app's health endpoint, which the health check and "
            "the alerts use too (got '/healthz')",
        ),
        (
            "production",
            {"autoscale": {"enabled": True, "minimum": 2, "default": 3, "maximum": 10}},
            "stagewise:autoscale.minimum: must be at least 3 in production: production keeps serving while instances fail (got 2)",
        ),
        (
            "production",
            {
                "autoscale": {"enabled": False, "minimum": 1, "default": 1, "maximum": 1},
                "appService": {"sku": "P1v3", "instances": 2},
            },
            "stagewise:appService.instances: must be at least 3 in production: production keeps serving while instances "
            "fail (got 2)",
        ),
        (
            "staging",
            {"vault": {"retentionDays": 30, "purgeProtection": False, "networkDefaultAction": "Allow"}},
            "stagewise:vault.purgeProtection: must be true in staging: a deleted vault or secret must stay recoverable "
            "(got False)",
        ),
        (
            "production",
            {"vault": {"retentionDays": 90, "purgeProtection": True, "networkDefaultAction": "Allow"}},
            "stagewise:vault.networkDefaultAction: must be 'Deny' in production: only the allowed addresses and the "
            "regions' subnets reach the vault (got 'Allow')",
        ),
        (
            "staging",
            {"kubernetes": {"minReplicas": 1, "maxReplicas": 4}},
            "stagewise:kubernetes.minReplicas: must be at least 2 in staging: one pod failing must not stop the app (got 1)",
        ),
    ],
)
def test_a_tier_rule_refuses_its_counterexample(environment, sections, expected):
    assert refused(with_values(environment, **sections)) == [expected]


@pytest.mark.parametrize(
    ("environment", "sections"),
    [
        ("production", {"traffic": {"ttl": 60}}),
        ("staging", {"traffic": {"ttl": 3600}}),
        ("dev", {"vault": {"retentionDays": 7, "purgeProtection": False, "networkDefaultAction": "Allow"}}),
        ("staging", {"vault": {"retentionDays": 30, "purgeProtection": True, "networkDefaultAction": "Allow"}}),
        (
            "production",
            {
                "autoscale": {"enabled": False, "minimum": 1, "default": 1, "maximum": 1},
                "appService": {"sku": "P1v3", "instances": 3},
            },
        ),
        ("staging", {"appService": {"sku": "S1", "instances": 1}}),
        ("local", {"kubernetes": {"minReplicas": 1, "maxReplicas": 3}}),
    ],
)
def test_what_a_tier_allows_is_accepted(environment, sections):
    assert parse(with_values(environment, **sections)).environment == environment


def test_every_broken_tier_rule_is_reported_at_once():
    raw = with_values(
        "production",
        traffic={"ttl": 300},
        vault={"retentionDays": 90, "purgeProtection": False, "networkDefaultAction": "Allow"},
    )
    assert [p.split(":")[1] for p in refused(raw)] == [
        "traffic.ttl",
        "vault.purgeProtection",
        "vault.networkDefaultAction",
    ]


def test_the_pack_defaults_are_the_core_rules():
    defaults = Settings()
    assert (
        defaults.production_autoscale_minimum,
        defaults.production_max_ttl,
        defaults.health_path,
        defaults.hpa_min_replicas,
        defaults.production_like,
        defaults.required_tags,
    ) == (
        tiers.PRODUCTION_MIN_INSTANCES,
        tiers.PRODUCTION_MAX_TTL,
        tiers.HEALTH_PATH,
        tiers.MIN_REPLICAS,
        tiers.PRODUCTION_LIKE,
        tiers.REQUIRED_TAGS,
    )


def of_the_core(refused: object) -> bool:
    """A validator, field or function defined in stagewise.core (a field: of one of the config's models)."""
    if isinstance(refused, FieldInfo):
        models = [m for m in vars(config).values() if isinstance(m, type) and issubclass(m, BaseModel)]
        return any(refused is f for m in models for f in m.model_fields.values())
    function = getattr(refused, "__func__", refused)
    return callable(function) and function.__module__.startswith("stagewise.core.")


def test_every_policy_has_a_validator_twin_or_a_reason():
    names = {p.name for p in policies()}
    assert set(VALIDATOR_TWINS) == names
    for name, twin in VALIDATOR_TWINS.items():
        if isinstance(twin, ResourcesOnly):
            assert twin.why.strip(), name
        elif isinstance(twin, Validation):
            assert twin.what.strip() and twin.refuses, name
            assert all(of_the_core(r) for r in twin.refuses), name
        else:
            rules = (twin,) if isinstance(twin, tiers.TierRule) else twin
            assert rules and all(any(r is rule for rule in tiers.RULES) for r in rules), name
    # and every tier rule is the twin of exactly one policy
    for rule in tiers.RULES:
        assert len([r for r in RECORDS if any(t is rule for t in r.tier_rules)]) == 1, rule.key


def test_every_tier_rule_guards_a_mandatory_policy():
    mandatory = {p.name for p in policies() if p.enforcement_level == EnforcementLevel.MANDATORY}
    assert {r.name for r in RECORDS if r.tier_rules} <= mandatory
    assert {t for r in RECORDS for t in r.tier_rules} == set(tiers.RULES)
