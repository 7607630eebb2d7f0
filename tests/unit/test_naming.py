import re

import pytest

from stagewise.core import limits, naming


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


@pytest.mark.parametrize("region", ["westeurope", "northeurope", "australiasoutheast", "southafricanorth"])
@pytest.mark.parametrize("stack", ["dev", "production", "a-rather-long-stack-name-for-a-team"])
def test_site_names_keep_slot_host_names_predictable(stack, region):
    name = naming.site_name("stagewise", stack, region)
    assert len(name) <= naming.SITE_NAME_MAX and re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", name)
    assert naming.slot_host_name(name, "green") == f"{name}-green.azurewebsites.net"


def test_site_names_differ_per_stack_and_region():
    names = {naming.site_name("stagewise", s, r) for s in ("dev", "production") for r in ("westeurope", "northeurope")}
    assert len(names) == 4


def test_a_slot_host_name_beyond_the_documented_lengths_is_refused():
    with pytest.raises(ValueError, match="too long"):
        naming.slot_host_name("x" * 41, "green")
    with pytest.raises(ValueError, match="too long"):
        naming.slot_host_name("site", "s" * 20)
