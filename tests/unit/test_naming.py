import pytest

from stagewise import limits, naming


@pytest.mark.parametrize("stack", ["dev", "staging", "production", "a-very-long-stack-name-indeed"])
def test_vault_name_fits_key_vault_rules(stack):
    name = naming.vault_name("stagewise", stack, "secrets")
    assert 3 <= len(name) <= 24
    assert limits.VAULT_NAME.match(name)


def test_vault_names_differ_per_stack_and_component():
    names = {naming.vault_name("stagewise", s, c) for s in ("dev", "prod") for c in ("a", "b")}
    assert len(names) == 4


def test_key_vault_reference_points_at_the_secret():
    assert naming.key_vault_reference("kv-prod-1a2b3c", "jwt-secret") == (
        "@Microsoft.KeyVault(SecretUri=https://kv-prod-1a2b3c.vault.azure.net/secrets/jwt-secret/)"
    )


def test_app_setting_name():
    assert naming.app_setting_name("database-connection-string") == "DATABASE_CONNECTION_STRING"


def test_tags_carry_owner_and_cost_centre():
    tags = naming.resource_tags(environment="dev", project="p", stack="s", owner="o", cost_centre="c")
    assert tags == {"environment": "dev", "project": "p", "stack": "s", "owner": "o", "cost-centre": "c"}
