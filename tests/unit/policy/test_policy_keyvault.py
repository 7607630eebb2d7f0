"""Key Vault rules: RBAC, soft delete, purge protection (production-like), default-deny ACLs (production)."""

import pytest

from stagewise.policy.keyvault import (
    keyvault_network_default_deny,
    keyvault_purge_protection,
    keyvault_rbac_authorization,
    keyvault_soft_delete,
)
from stagewise.policy.settings import Settings

SETTINGS = Settings()
UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def vault(environment="production", **properties) -> dict:
    base = {
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
        "enablePurgeProtection": True,
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
    }
    base.update(properties)
    props = {"vaultName": "kv-stagewise", "properties": {k: v for k, v in base.items() if v is not None}}
    if environment is not None:
        props["tags"] = {"environment": environment, "owner": "platform-team", "cost-centre": "cc-1"}
    return props


ALL_RULES = [
    keyvault_rbac_authorization,
    keyvault_soft_delete,
    keyvault_purge_protection,
    keyvault_network_default_deny,
]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.__name__)
@pytest.mark.parametrize("environment", ["dev", "staging", "production"])
def test_compliant_vault_passes_every_rule(rule, environment):
    assert rule(vault(environment), SETTINGS) == []


def test_rbac_authorization_off_fails():
    assert keyvault_rbac_authorization(vault(enableRbacAuthorization=False), SETTINGS) == [
        "Key Vault must use Azure RBAC for data access, not access policies: "
        "set properties.enableRbacAuthorization to true (got False)"
    ]


def test_rbac_authorization_not_set_fails():
    [message] = keyvault_rbac_authorization(vault(enableRbacAuthorization=None), SETTINGS)
    assert message.endswith("set properties.enableRbacAuthorization to true (got not set)")


def test_vault_without_properties_fails_rbac_rather_than_crashing():
    [message] = keyvault_rbac_authorization({"tags": {"environment": "dev"}}, SETTINGS)
    assert "(got not set)" in message


def test_soft_delete_off_fails():
    assert keyvault_soft_delete(vault(enableSoftDelete=False), SETTINGS) == [
        "Key Vault must keep deleted secrets recoverable: set properties.enableSoftDelete to true (got False)"
    ]


def test_soft_delete_not_set_fails():
    [message] = keyvault_soft_delete(vault(enableSoftDelete=None), SETTINGS)
    assert message.endswith("(got not set)")


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_purge_protection_missing_in_production_like_tier_fails(environment):
    assert keyvault_purge_protection(vault(environment, enablePurgeProtection=None), SETTINGS) == [
        f"Key Vault in {environment} must have purge protection (required in staging, production): "
        "set properties.enablePurgeProtection to true (got not set)"
    ]


def test_purge_protection_false_in_production_fails():
    [message] = keyvault_purge_protection(vault("production", enablePurgeProtection=False), SETTINGS)
    assert message.endswith("(got False)")


@pytest.mark.parametrize("environment", ["dev", "local"])
def test_purge_protection_not_required_outside_production_like_tiers(environment):
    # The vault component leaves it unset in dev: Azure refuses an explicit false.
    assert keyvault_purge_protection(vault(environment, enablePurgeProtection=None), SETTINGS) == []


def test_purge_protection_follows_configured_tiers():
    settings = Settings(production_like=("production",))
    assert keyvault_purge_protection(vault("staging", enablePurgeProtection=None), settings) == []


def test_network_acls_allow_in_production_fails():
    assert keyvault_network_default_deny(vault(networkAcls={"defaultAction": "Allow"}), SETTINGS) == [
        "Key Vault in production must deny network access by default: set "
        "properties.networkAcls.defaultAction to 'Deny' and allow what needs access with ipRules "
        "or virtualNetworkRules (got 'Allow')"
    ]


def test_network_acls_not_set_in_production_fails():
    [message] = keyvault_network_default_deny(vault(networkAcls=None), SETTINGS)
    assert message.endswith("(got not set)")


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_network_acls_may_allow_outside_production(environment):
    assert keyvault_network_default_deny(vault(environment, networkAcls={"defaultAction": "Allow"}), SETTINGS) == []


@pytest.mark.parametrize("tags", [None, {}, {"environment": "prod"}], ids=["no-tags", "no-env-tag", "bad-env-tag"])
def test_vault_without_valid_environment_is_held_to_production_rules(tags):
    props = vault(environment=None, enablePurgeProtection=None, networkAcls={"defaultAction": "Allow"})
    if tags is not None:
        props["tags"] = tags
    [purge] = keyvault_purge_protection(props, SETTINGS)
    [acls] = keyvault_network_default_deny(props, SETTINGS)
    for message in (purge, acls):
        assert message.startswith(
            "Key Vault in production (no valid 'environment' tag, so production rules apply) must"
        )


def test_values_unknown_during_preview_are_left_for_up():
    props = vault(
        enableRbacAuthorization=UNKNOWN_BOOL,
        enableSoftDelete=UNKNOWN_BOOL,
        enablePurgeProtection=UNKNOWN_BOOL,
        networkAcls={"defaultAction": UNKNOWN_STRING},
    )
    assert [rule(props, SETTINGS) for rule in ALL_RULES] == [[], [], [], []]


def test_unknown_environment_tag_skips_tier_rules_until_up():
    props = vault(enablePurgeProtection=None, networkAcls={"defaultAction": "Allow"})
    props["tags"]["environment"] = UNKNOWN_STRING
    assert keyvault_purge_protection(props, SETTINGS) == []
    assert keyvault_network_default_deny(props, SETTINGS) == []
