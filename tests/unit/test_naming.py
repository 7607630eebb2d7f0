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
def test_site_names_are_valid_and_within_the_documented_length(stack, region):
    name = naming.site_name("stagewise", stack, region)
    assert len(name) <= naming.SITE_NAME_MAX and re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", name)


def test_site_names_differ_per_stack_and_region():
    names = {naming.site_name("stagewise", s, r) for s in ("dev", "production") for r in ("westeurope", "northeurope")}
    assert len(names) == 4


def test_globally_unique_names_differ_per_installation_and_an_empty_seed_keeps_the_old_names():
    # Two installations (another subscription or tenant) with the same project and stack names.
    one, other = naming.installation_seed("v1:AA5QBio2lkE="), naming.installation_seed("v1:LTIf4L2UFSE=")
    assert one != other and re.fullmatch(r"[a-z0-9]{8}", one)
    for name in (
        lambda seed: naming.vault_name("stagewise", "production", "secrets", seed=seed),
        lambda seed: naming.site_name("stagewise", "production", "westeurope", seed=seed),
        lambda seed: naming.dns_label("stagewise", "production", "edge", seed=seed),
        lambda seed: naming.registry_name("stagewise", "production", seed),
    ):
        assert len({name(one), name(other), name("")}) == 3
    assert naming.vault_name("stagewise", "production", "secrets", seed="") == naming.vault_name(
        "stagewise", "production", "secrets"
    )
    assert naming.site_name(
        "stagewise", "dev", "westeurope", seed=""
    ) == "stagewise-dev-westeurope-" + naming.short_hash("stagewise", "dev", "westeurope")
