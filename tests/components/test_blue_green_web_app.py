import pytest

from components.blue_green_web_app import BlueGreenWebApp, BlueGreenWebAppArgs
from stagewise.core.stackfile import SECRET_PLACEHOLDER as SECRET
from tests.components.conftest import only, refused_before_any_resource

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/jwt-secret/)"


def app_args(**overrides) -> BlueGreenWebAppArgs:
    values = dict(
        resource_group_name="rg",
        location="westeurope",
        site_name="app-prod-westeurope",
        sku="P1v3",
        instances=3,
        image="demo",
        image_tags={"blue": "1.4.2", "green": "1.5.0"},
        log_level="warning",
        feature_flags={"new-checkout": True},
        key_vault_references={"JWT_SECRET": REFERENCE},
        insights_connection_string="InstrumentationKey=abc",
        identity_id="identity-id",
    )
    return BlueGreenWebAppArgs(**{**values, **overrides})


def settings(resource) -> dict:
    return {s["name"]: s["value"] for s in resource.inputs["siteConfig"]["appSettings"]}


def test_linux_plan_with_the_sku(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    plan = only(ev, "azure-native:web:AppServicePlan")
    assert plan.inputs["reserved"] is True and plan.inputs["kind"] == "linux"
    assert plan.inputs["sku"] == {"name": "P1v3", "tier": "PremiumV3", "capacity": 3}


@pytest.mark.parametrize(
    ("type_", "colour", "tag"),
    [
        ("azure-native:web:WebApp", "blue", "1.4.2"),
        ("azure-native:web:WebAppSlot", "green", "1.5.0"),
    ],
)
def test_each_colour_is_hardened_and_runs_its_own_tag(record, type_, colour, tag):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    site = only(ev, type_)
    config = site.inputs["siteConfig"]
    assert site.inputs["httpsOnly"] is True
    # Both colours read Key Vault with the stack's user-assigned identity.
    assert site.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": ["identity-id"]}
    assert site.inputs["keyVaultReferenceIdentity"] == "identity-id"
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
    assert values["OTEL_SERVICE_NAME"] == "app"
    assert values["OTEL_RESOURCE_ATTRIBUTES"] == f"service.version={tag}"


def test_green_is_a_slot_of_the_app(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    slot = only(ev, "azure-native:web:WebAppSlot")
    assert slot.inputs["slot"] == "green"
    assert slot.inputs["name"] == only(ev, "azure-native:web:WebApp").inputs["name"] == "app-prod-westeurope"


def test_no_setting_holds_a_secret_so_site_config_stays_diffable(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    for site in ev.of_type("azure-native:web:WebApp") + ev.of_type("azure-native:web:WebAppSlot"):
        assert site.inputs["siteConfig"] != SECRET
        assert settings(site)["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "InstrumentationKey=abc"


def test_colour_and_version_settings_are_slot_sticky(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    assert only(ev, "azure-native:web:WebAppSlotConfigurationNames").inputs["appSettingNames"] == [
        "STAGEWISE_COLOUR",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
    ]


@pytest.mark.parametrize(
    ("share", "rules"),
    [
        (None, []),
        (
            25,
            [
                {
                    "name": "green",
                    "actionHostName": "app-prod-westeurope-green.azurewebsites.net",
                    "reroutePercentage": 25,
                }
            ],
        ),
        (
            100,
            [
                {
                    "name": "green",
                    "actionHostName": "app-prod-westeurope-green.azurewebsites.net",
                    "reroutePercentage": 100,
                }
            ],
        ),
    ],
)
def test_the_site_routes_the_slot_share_to_the_slot_host_name(record, share, rules):
    ev = record(lambda: BlueGreenWebApp("web", app_args(slot_share=share)) and None)
    site = only(ev, "azure-native:web:WebApp")
    assert site.inputs["name"] == "app-prod-westeurope"
    assert site.inputs["siteConfig"]["experiments"] == {"rampUpRules": rules}
    # Only the production site routes; the slot has no rule of its own.
    assert "experiments" not in only(ev, "azure-native:web:WebAppSlot").inputs["siteConfig"]


def test_regional_vnet_integration_on_site_and_slot(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args(subnet_id="subnet-id")) and None)
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        site = only(ev, type_)
        assert site.inputs["virtualNetworkSubnetId"] == "subnet-id"
        assert site.inputs["siteConfig"]["vnetRouteAllEnabled"] is True
    without = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    assert "virtualNetworkSubnetId" not in only(without, "azure-native:web:WebApp").inputs


def test_sites_wait_for_the_grants(record):
    from pulumi_azure_native import resources

    def build():
        grant = resources.ResourceGroup("grant")
        BlueGreenWebApp("web", app_args(grants=[grant]))

    ev = record(build)
    grant_urn = ev.of_type("azure-native:resources:ResourceGroup")[0].urn
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        assert grant_urn in only(ev, type_).dependencies


@pytest.mark.parametrize(("autoscale", "ignored"), [(True, ["sku.capacity"]), (False, [])])
def test_capacity_is_left_to_autoscale_only_when_autoscale_is_on(record, monkeypatch, autoscale, ignored):
    # Without autoscale the stack owns the instance count: ignoring it would freeze dev and staging
    # at their first size.
    from stagewise.tools import evaluate

    requests = []

    class Recording(evaluate._RecordingMonitor):
        def RegisterResource(self, request):
            requests.append(request)
            return super().RegisterResource(request)

    monkeypatch.setattr(evaluate, "_RecordingMonitor", Recording)
    record(lambda: BlueGreenWebApp("web", app_args(autoscale=autoscale, sku="S1", instances=2)) and None)
    (plan,) = [r for r in requests if r.type == "azure-native:web:AppServicePlan"]
    assert list(plan.ignoreChanges) == ignored


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sku": "B1"}, "no deployment slots"),
        ({"sku": "S1", "instances": 11}, "instances \\(11\\) above 10"),
        ({"image_tags": {"blue": "1.0"}}, "needs a tag for 'green'"),
        ({"slot_share": 0}, "slot_share \\(0\\) must be 1..100, or None for no rule"),
        ({"slot_share": 101}, "slot_share \\(101\\) must be 1..100"),
        ({"identity_id": None}, "key_vault_references need identity_id"),
        ({"site_name": "x" * 41}, "longer than 40 characters"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: BlueGreenWebApp("web", app_args(**overrides)), message)
