"""Per-tier requirements (stagewise.core.tiers): the validator refuses what the policy pack would refuse,
with a message naming the key, the value and what is allowed; the pack's defaults are the same rules."""

import copy

import pytest
from pulumi_policy import EnforcementLevel

from stagewise.core import tiers
from stagewise.core.config import ConfigError, SecretValue, parse
from stagewise.policy.policies import VALIDATOR_TWINS, policies
from stagewise.policy.settings import Settings


def valid(environment: str) -> dict:
    return {
        "environment": environment,
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


def test_every_policy_has_a_validator_twin_or_a_reason():
    names = {p.name for p in policies()}
    assert set(VALIDATOR_TWINS) == names
    for name, twin in VALIDATOR_TWINS.items():
        kind, _, detail = twin.partition(": ")
        assert kind in ("tier rule", "validator", "resources only") and detail.strip(), name
        if kind == "tier rule":
            assert any(r.key == detail and r.policy == name for r in tiers.RULES), name
    # and every tier rule names a policy that says it is its twin
    for rule in tiers.RULES:
        assert VALIDATOR_TWINS[rule.policy].startswith("tier rule: "), rule.key


def test_every_tier_rule_guards_a_mandatory_policy():
    mandatory = {p.name for p in policies() if p.enforcement_level == EnforcementLevel.MANDATORY}
    assert {r.policy for r in tiers.RULES} <= mandatory
