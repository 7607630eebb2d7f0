import pytest

from components.blue_green_web_app import BlueGreenWebApp, BlueGreenWebAppArgs
from stagewise.evaluate import SECRET
from tests.components.conftest import only, refused_before_any_resource

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/jwt-secret/)"


def app_args(**overrides) -> BlueGreenWebAppArgs:
    values = dict(
        resource_group_name="rg",
        location="westeurope",
        sku="P1v3",
        instances=3,
        image="demo",
        tags_by_colour={"blue": "1.4.2", "green": "1.5.0"},
        log_level="warning",
        feature_flags={"new-checkout": True},
        key_vault_references={"JWT_SECRET": REFERENCE},
        insights_connection_string="InstrumentationKey=abc",
    )
    return BlueGreenWebAppArgs(**{**values, **overrides})


def settings(resource) -> dict:
    return {s["name"]: s["value"] for s in resource.inputs["siteConfig"]["appSettings"]}


def test_linux_plan_with_the_sku(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    plan = only(ev, "azure-native:web:AppServicePlan")
    assert plan.inputs["reserved"] is True and plan.inputs["kind"] == "linux"
    assert plan.inputs["sku"] == {"name": "P1v3", "tier": "PremiumV3", "capacity": 3}


@pytest.mark.parametrize(("type_", "colour", "tag"), [
    ("azure-native:web:WebApp", "blue", "1.4.2"),
    ("azure-native:web:WebAppSlot", "green", "1.5.0"),
])
def test_each_colour_is_hardened_and_runs_its_own_tag(record, type_, colour, tag):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    site = only(ev, type_)
    config = site.inputs["siteConfig"]
    assert site.inputs["httpsOnly"] is True
    assert site.inputs["identity"] == {"type": "SystemAssigned"}
    assert config["minTlsVersion"] == "1.2"
    assert config["ftpsState"] == "Disabled"
    assert config["alwaysOn"] is True
    assert config["healthCheckPath"] == "/health"
    assert config["linuxFxVersion"] == f"DOCKER|demo:{tag}"
    values = settings(site)
    assert values["STAGEWISE_COLOUR"] == colour
    assert values["LOG_LEVEL"] == "warning"
    assert values["FEATURE_NEW_CHECKOUT"] == "true"
    assert values["JWT_SECRET"] == REFERENCE


def test_green_is_a_slot_of_the_app(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    slot = only(ev, "azure-native:web:WebAppSlot")
    assert slot.inputs["slot"] == "green"
    assert slot.inputs["name"] == only(ev, "azure-native:web:WebApp").name


def test_no_setting_holds_a_secret_so_site_config_stays_diffable(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    for site in ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot"):
        assert site.inputs["siteConfig"] != SECRET
        assert settings(site)["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "InstrumentationKey=abc"


def test_colour_setting_is_slot_sticky(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    assert only(ev, "azure-native:web:WebAppSlotConfigurationNames").inputs["appSettingNames"] == ["STAGEWISE_COLOUR"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sku": "B1"}, "no deployment slots"),
    ({"sku": "S1", "instances": 11}, "instances \\(11\\) above 10"),
    ({"tags_by_colour": {"blue": "1.0"}}, "needs a tag for 'green'"),
])
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: BlueGreenWebApp("web", app_args(**overrides)), message)
