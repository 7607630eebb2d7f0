import pulumi
import pytest

from stagewise.components.secret_vault import SECRETS_USER_ROLE, SecretVault, SecretVaultArgs
from stagewise.formats.stackfile import SECRET_PLACEHOLDER as SECRET
from tests.components.conftest import only, refused_before_any_resource


def vault_args(**overrides) -> SecretVaultArgs:
    values = dict(
        resource_group_name="rg",
        location="westeurope",
        vault_name="kv-prod-abc123",
        tenant_id="tenant",
        subscription_id="sub",
        retention_days=90,
        purge_protection=True,
        network_default_action="Deny",
        allowed_ips=["203.0.113.0/24"],
        secrets={"jwt-secret": pulumi.Output.secret("hunter2")},
        readers={"blue": "principal-blue", "green": "principal-green"},
        protect=False,
    )
    return SecretVaultArgs(**{**values, **overrides})


def test_vault_uses_rbac_soft_delete_purge_protection_and_default_deny(record):
    ev = record(lambda: SecretVault("kv", vault_args()) and None)
    props = only(ev, "azure-native:keyvault:Vault").inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == 90
    assert props["enablePurgeProtection"] is True
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert props["networkAcls"]["ipRules"] == [{"value": "203.0.113.0/24"}]


def test_purge_protection_left_unset_when_off(record):
    ev = record(lambda: SecretVault("kv", vault_args(purge_protection=False)) and None)
    assert "enablePurgeProtection" not in only(ev, "azure-native:keyvault:Vault").inputs["properties"]


def test_one_secret_per_entry_and_its_value_stays_secret(record):
    ev = record(lambda: SecretVault("kv", vault_args()) and None)
    secret = only(ev, "azure-native:keyvault:Secret")
    assert secret.inputs["secretName"] == "jwt-secret"
    assert secret.inputs["properties"] == SECRET
    assert "hunter2" not in repr(ev.resources)


def test_readers_get_key_vault_secrets_user(record):
    ev = record(lambda: SecretVault("kv", vault_args()) and None)
    grants = ev.of_type("azure-native:authorization:RoleAssignment")
    assert sorted(g.inputs["principalId"] for g in grants) == ["principal-blue", "principal-green"]
    for grant in grants:
        assert grant.inputs["roleDefinitionId"] == (
            f"/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER_ROLE}"
        )
        assert grant.inputs["scope"].endswith("-vault-id")


def test_protect_guards_the_vault(record):
    ev = record(lambda: SecretVault("kv", vault_args(protect=True)) and None)
    assert only(ev, "azure-native:keyvault:Vault").protect is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"retention_days": 6}, "retention_days \\(6\\) must be 7..90"),
        ({"vault_name": "1-bad"}, "vault_name '1-bad'"),
        ({"secrets": {"bad_name": "x"}}, "secret name 'bad_name'"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: SecretVault("kv", vault_args(**overrides)), message)


def test_a_secret_that_leaves_the_stack_stays_in_the_vault(record):
    # ARM cannot delete a secret and the data plane is closed to the deployer: removal drops it from the
    # stack only (retainOnDelete); the plan says so (tests/unit/test_plan.py).
    ev = record(lambda: SecretVault("kv", vault_args()) and None)
    assert only(ev, "azure-native:keyvault:Secret").retain_on_delete is True
    assert only(ev, "azure-native:keyvault:Vault").retain_on_delete is False
