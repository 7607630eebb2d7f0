import pytest

from stagewise.components.blue_green_web_app import BlueGreenWebApp, BlueGreenWebAppArgs, ImagePull
from stagewise.formats.stackfile import SECRET_PLACEHOLDER as SECRET
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
        port=8080,
        feature_flags={"new-checkout": True},
        key_vault_references={"JWT_SECRET": REFERENCE},
        insights_connection_string="InstrumentationKey=abc",
        identity_id="identity-id",
        front_door_id="fdid-1",
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


def test_only_the_colour_marker_is_slot_sticky(record):
    # The OpenTelemetry identity describes the image, which moves with a swap: it must move with it.
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    assert only(ev, "azure-native:web:WebAppSlotConfigurationNames").inputs["appSettingNames"] == ["STAGEWISE_COLOUR"]


def test_the_container_port_is_set_explicitly(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args(port=3000)) and None)
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        assert settings(only(ev, type_))["WEBSITES_PORT"] == "3000"
    assert (
        settings(only(record(lambda: BlueGreenWebApp("web", app_args()) and None), "azure-native:web:WebApp"))[
            "WEBSITES_PORT"
        ]
        == "8080"
    )


def test_an_acr_image_is_pulled_with_the_user_assigned_identity(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args(image_pull=ImagePull(identity_client_id="client-id"))) and None)
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        config = only(ev, type_).inputs["siteConfig"]
        assert config["acrUseManagedIdentityCreds"] is True
        assert config["acrUserManagedIdentityID"] == "client-id"
        assert "DOCKER_REGISTRY_SERVER_URL" not in settings(only(ev, type_))


def test_another_registry_is_signed_in_to_with_key_vault_references(record):
    pull = ImagePull(server_url="https://ghcr.io", username_reference=REFERENCE, password_reference=REFERENCE)
    ev = record(lambda: BlueGreenWebApp("web", app_args(image_pull=pull)) and None)
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        values = settings(only(ev, type_))
        assert values["DOCKER_REGISTRY_SERVER_URL"] == "https://ghcr.io"
        assert values["DOCKER_REGISTRY_SERVER_USERNAME"] == values["DOCKER_REGISTRY_SERVER_PASSWORD"] == REFERENCE
        assert "acrUseManagedIdentityCreds" not in only(ev, type_).inputs["siteConfig"]


def test_the_site_carries_no_slot_traffic_rule(record):
    # A rule lives in siteConfig, and a configuration change restarts the app: the stage is carried by
    # Front Door's origin weights instead. The empty list removes a rule left by an earlier version.
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    assert only(ev, "azure-native:web:WebApp").inputs["siteConfig"]["experiments"] == {"rampUpRules": []}
    assert "experiments" not in only(ev, "azure-native:web:WebAppSlot").inputs["siteConfig"]


def test_regional_vnet_integration_on_site_and_slot(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args(subnet_id="subnet-id")) and None)
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        site = only(ev, type_)
        assert site.inputs["virtualNetworkSubnetId"] == "subnet-id"
        # Application traffic only: the image pull keeps the public route, so no NAT is needed.
        assert site.inputs["outboundVnetRouting"] == {"applicationTraffic": True}
        assert "vnetRouteAllEnabled" not in site.inputs["siteConfig"]
    without = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    assert "virtualNetworkSubnetId" not in only(without, "azure-native:web:WebApp").inputs


FRONT_DOOR_RULE = {
    "name": "front-door",
    "action": "Allow",
    "tag": "ServiceTag",
    "ipAddress": "AzureFrontDoor.Backend",
    "headers": {"x-azure-fdid": ["fdid-1"]},
    "priority": 100,
}


@pytest.mark.parametrize("type_", ["azure-native:web:WebApp", "azure-native:web:WebAppSlot"])
def test_only_this_front_door_reaches_site_and_slot(record, type_):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    config = only(ev, type_).inputs["siteConfig"]
    # The service tag AND this profile's ID (frontdoor/origin-security.md), everything else denied.
    assert config["ipSecurityRestrictions"] == [FRONT_DOOR_RULE]
    assert config["ipSecurityRestrictionsDefaultAction"] == "Deny"


@pytest.mark.parametrize(
    ("addresses", "rules"), [((), []), (("203.0.113.7", "198.51.100.0/24"), ["203.0.113.7/32", "198.51.100.0/24"])]
)
def test_the_scm_site_admits_only_the_deployers(record, addresses, rules):
    ev = record(lambda: BlueGreenWebApp("web", app_args(scm_allowed_ips=addresses)) and None)
    for type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        config = only(ev, type_).inputs["siteConfig"]
        assert config["scmIpSecurityRestrictionsUseMain"] is False
        assert config["scmIpSecurityRestrictionsDefaultAction"] == "Deny"
        assert [r["ipAddress"] for r in config["scmIpSecurityRestrictions"]] == rules
        assert all(r["action"] == "Allow" and "tag" not in r for r in config["scmIpSecurityRestrictions"])


def test_basic_publishing_credentials_are_off_for_scm_and_ftp_on_site_and_slot(record):
    ev = record(lambda: BlueGreenWebApp("web", app_args()) and None)
    for kind in ("WebAppScmAllowed", "WebAppFtpAllowed"):
        site = only(ev, f"azure-native:web:{kind}")
        slot = only(ev, f"azure-native:web:{kind}Slot")
        assert site.inputs == {"name": "app-prod-westeurope", "resourceGroupName": "rg", "allow": False}
        assert slot.inputs == {**site.inputs, "slot": "green"}


def test_a_parked_colour_admits_no_request_at_all(record):
    # The abort's fast path: the parked colour's probes fail at every edge, whatever configuration it holds.
    ev = record(lambda: BlueGreenWebApp("web", app_args(parked={"blue": False, "green": True})) and None)
    assert only(ev, "azure-native:web:WebApp").inputs["siteConfig"]["ipSecurityRestrictions"] == [FRONT_DOOR_RULE]
    slot = only(ev, "azure-native:web:WebAppSlot").inputs["siteConfig"]
    assert slot["ipSecurityRestrictions"] == [] and slot["ipSecurityRestrictionsDefaultAction"] == "Deny"


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
        ({"port": 0}, "port \\(0\\) must be 1..65535"),
        (
            {"image_pull": ImagePull(identity_client_id="c"), "identity_id": None, "key_vault_references": {}},
            "needs identity_id",
        ),
        ({"identity_id": None}, "key_vault_references need identity_id"),
        ({"site_name": "x" * 41}, "longer than 40 characters"),
        ({"front_door_id": None}, "the frontDoor edge needs front_door_id"),
        ({"slot_share": 25}, "slot_share is the trafficManager edge's"),
        ({"edge": "trafficManager", "slot_share": 0}, "slot_share \\(0\\) must be 1..100"),
        ({"edge": "trafficManager", "slot_share": 101}, "slot_share \\(101\\) must be 1..100"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, message):
    refused_before_any_resource(lambda: BlueGreenWebApp("web", app_args(**overrides)), message)


def test_on_the_traffic_manager_edge_the_site_routes_the_slot_share_and_both_are_public(record):
    ev = record(
        lambda: BlueGreenWebApp("web", app_args(edge="trafficManager", front_door_id=None, slot_share=25)) and None
    )
    site = only(ev, "azure-native:web:WebApp")
    slot = only(ev, "azure-native:web:WebAppSlot")
    assert site.inputs["siteConfig"]["experiments"]["rampUpRules"] == [
        {"name": "green", "reroutePercentage": 25, "actionHostName": "app-prod-westeurope-green.azurewebsites.net"}
    ]
    for app in (site, slot):
        config = app.inputs["siteConfig"]
        assert config["ipSecurityRestrictionsDefaultAction"] == "Allow"
        assert [(r["tag"], r["ipAddress"]) for r in config["ipSecurityRestrictions"]] == [
            ("ServiceTag", "AzureTrafficManager")
        ]


def test_on_the_traffic_manager_edge_a_parked_slot_is_closed_and_the_site_never(record):
    parked = {"blue": True, "green": True}
    ev = record(
        lambda: BlueGreenWebApp("web", app_args(edge="trafficManager", front_door_id=None, parked=parked)) and None
    )
    site = only(ev, "azure-native:web:WebApp").inputs["siteConfig"]
    slot = only(ev, "azure-native:web:WebAppSlot").inputs["siteConfig"]
    assert site["ipSecurityRestrictionsDefaultAction"] == "Allow" and site["experiments"]["rampUpRules"] == []
    assert slot["ipSecurityRestrictionsDefaultAction"] == "Deny" and slot["ipSecurityRestrictions"] == []
