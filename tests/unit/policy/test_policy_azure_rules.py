"""Azure platform rules across resources: each passes the documented shape and fails its counterexample."""

import pytest

from stagewise.core import alert_rules
from stagewise.policy.inputs import StackResource
from stagewise.policy.keyvault import (
    SECRETS_USER_ROLE,
    keyvault_firewall_allows_app_subnets,
    keyvault_reference_identity_granted_first,
)
from stagewise.policy.monitoring import (
    log_alert_excludes_health_probe,
    log_alert_min_requests,
    log_alert_split_by_version,
)
from stagewise.policy.settings import Settings
from stagewise.policy.traffic_manager import traffic_manager_one_web_app_per_region
from stagewise.policy.vnet_integration import (
    webapp_integration_subnet_delegated,
    webapp_integration_subnet_one_plan,
    webapp_integration_subnet_same_region,
)
from stagewise.policy.webapps import webapp_slot_rule_percentage, webapp_slot_rule_target

SETTINGS = Settings()
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-prod.vault.azure.net/secrets/jwt-secret/)"
TAGS = {"environment": "production"}


def res(type_: str, name: str, deps: dict | None = None, depends_on: tuple = (), **props) -> StackResource:
    return StackResource(
        urn=f"urn:pulumi:p::s::{type_}::{name}",
        type=type_,
        name=name,
        props=props,
        property_dependencies=deps or {},
        dependencies=depends_on,
    )


def urn(resource: StackResource) -> str:
    return resource.urn


# Traffic Manager: one Web App endpoint per region


PROFILE = res("azure-native:trafficmanager:Profile", "profile", tags=TAGS)


def site(name: str, location: str, slot: bool = False) -> StackResource:
    return res("azure-native:web:WebAppSlot" if slot else "azure-native:web:WebApp", name, location=location)


def endpoint(name: str, target: StackResource) -> StackResource:
    return res(
        "azure-native:trafficmanager:Endpoint",
        name,
        {"profileName": [urn(PROFILE)], "targetResourceId": [urn(target)]},
        profileName=UNKNOWN,
        targetResourceId=UNKNOWN,
        endpointType="AzureEndpoints",
    )


def test_one_web_app_endpoint_per_region_passes():
    we, ne = site("we", "westeurope"), site("ne", "northeurope")
    stack = [PROFILE, we, ne, endpoint("e-we", we), endpoint("e-ne", ne)]
    assert traffic_manager_one_web_app_per_region(stack) == []


def test_a_site_and_its_slot_in_one_profile_fail():
    app, slot = site("app", "westeurope"), site("slot", "West Europe", slot=True)
    stack = [PROFILE, app, slot, endpoint("blue", app), endpoint("green", slot)]
    [violation] = traffic_manager_one_web_app_per_region(stack)
    assert violation.urn == urn(PROFILE)
    assert "has 2 Web App endpoints in region 'westeurope' (blue, green)" in violation.message


def test_same_region_endpoints_in_different_profiles_pass():
    other = res("azure-native:trafficmanager:Profile", "other", tags=TAGS)
    a, b = site("a", "westeurope"), site("b", "westeurope")
    second = res(
        "azure-native:trafficmanager:Endpoint",
        "e-b",
        {"profileName": [urn(other)], "targetResourceId": [urn(b)]},
        profileName=UNKNOWN,
        targetResourceId=UNKNOWN,
    )
    assert traffic_manager_one_web_app_per_region([PROFILE, other, a, b, endpoint("e-a", a), second]) == []


def test_known_web_app_ids_with_endpoint_locations_are_checked_too():
    def known(name):
        return res(
            "azure-native:trafficmanager:Endpoint",
            name,
            {"profileName": [urn(PROFILE)]},
            profileName=UNKNOWN,
            targetResourceId=f"/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/{name}",
            endpointLocation="westeurope",
        )

    assert len(traffic_manager_one_web_app_per_region([PROFILE, known("a"), known("b")])) == 1


# Key Vault references: the firewall, the identity


def vault(default_action="Deny", rules=(), deps=(), name="kv-prod") -> StackResource:
    return res(
        "azure-native:keyvault:Vault",
        "vault",
        {"properties": list(deps)},
        vaultName=name,
        properties={"networkAcls": {"defaultAction": default_action, "virtualNetworkRules": list(rules)}},
    )


SUBNET = res("azure-native:network:Subnet", "apps", delegations=[{"serviceName": "Microsoft.Web/serverFarms"}])
OTHER_SUBNET = res("azure-native:network:Subnet", "other", delegations=[{"serviceName": "Microsoft.Web/serverFarms"}])


def app(subnet: StackResource | None = SUBNET, reference=REFERENCE, **more) -> StackResource:
    props = {"siteConfig": {"appSettings": [{"name": "JWT_SECRET", "value": reference}]}, **more}
    deps = {}
    if subnet is not None:
        props["virtualNetworkSubnetId"] = UNKNOWN
        deps["virtualNetworkSubnetId"] = [urn(subnet)]
    return res("azure-native:web:WebApp", "app", deps, **props)


def test_a_deny_vault_that_allows_the_apps_subnet_passes():
    stack = [SUBNET, vault(rules=[{"id": UNKNOWN}], deps=[urn(SUBNET)]), app()]
    assert keyvault_firewall_allows_app_subnets(stack) == []


def test_a_deny_vault_whose_app_has_no_integrated_subnet_fails():
    stack = [SUBNET, vault(rules=[{"id": UNKNOWN}], deps=[urn(SUBNET)]), app(subnet=None)]
    [violation] = keyvault_firewall_allows_app_subnets(stack)
    assert (
        "web app 'app' reads Key Vault 'kv-prod'" in violation.message
        and "has no integrated subnet" in violation.message
    )


def test_a_deny_vault_that_allows_another_subnet_fails():
    stack = [SUBNET, OTHER_SUBNET, vault(rules=[{"id": UNKNOWN}], deps=[urn(OTHER_SUBNET)]), app()]
    [violation] = keyvault_firewall_allows_app_subnets(stack)
    assert "its integrated subnet is not allowed by the vault" in violation.message


def test_known_subnet_ids_are_compared_by_value():
    allowed = res(
        "azure-native:web:WebApp",
        "app",
        {},
        virtualNetworkSubnetId="/sub/apps",
        siteConfig={"appSettings": [{"name": "X", "value": REFERENCE}]},
    )
    assert keyvault_firewall_allows_app_subnets([vault(rules=[{"id": "/SUB/apps"}]), allowed]) == []
    assert len(keyvault_firewall_allows_app_subnets([vault(rules=[{"id": "/sub/x"}]), allowed])) == 1


@pytest.mark.parametrize(
    "the_vault, the_app",
    [
        (vault(default_action="Allow"), app(subnet=None)),  # not firewalled
        (vault(name="kv-other"), app(subnet=None)),  # the app references another vault
        (vault(name=UNKNOWN), app(subnet=None)),  # the vault's name is not known yet
        (vault(rules=[{"id": UNKNOWN}]), app()),  # neither dependencies nor values tell: no guess
    ],
)
def test_the_firewall_rule_stays_silent_when_it_does_not_apply_or_cannot_tell(the_vault, the_app):
    assert keyvault_firewall_allows_app_subnets([SUBNET, the_vault, the_app]) == []


IDENTITY = res("azure-native:managedidentity:UserAssignedIdentity", "app-id", tags=TAGS)
ROLE = f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER_ROLE}"


def grant(role=ROLE, identity=IDENTITY) -> StackResource:
    return res(
        "azure-native:authorization:RoleAssignment",
        "reader",
        {"principalId": [urn(identity)]},
        principalId=UNKNOWN,
        roleDefinitionId=role,
    )


def reader(depends_on=(), identity: StackResource | None = IDENTITY, **more) -> StackResource:
    props = {"siteConfig": {"appSettings": [{"name": "JWT_SECRET", "value": REFERENCE}]}, **more}
    deps = {}
    if identity is not None:
        props["keyVaultReferenceIdentity"] = UNKNOWN
        deps["keyVaultReferenceIdentity"] = [urn(identity)]
    return res("azure-native:web:WebApp", "site", deps, depends_on=depends_on, **props)


def test_references_read_by_an_identity_granted_first_pass():
    the_grant = grant()
    assert keyvault_reference_identity_granted_first([IDENTITY, the_grant, reader((urn(the_grant),))]) == []


def test_references_read_before_the_grant_fail():
    [violation] = keyvault_reference_identity_granted_first([IDENTITY, grant(), reader()])
    assert (
        "web app 'site' reads Key Vault references with identity 'app-id' before that identity is granted"
        in violation.message
    )


def test_a_grant_of_another_role_does_not_count():
    other = grant(
        role="/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    )
    assert len(keyvault_reference_identity_granted_first([IDENTITY, other, reader((urn(other),))])) == 1


def test_a_grant_to_another_identity_does_not_count():
    someone = res("azure-native:managedidentity:UserAssignedIdentity", "someone")
    theirs = grant(identity=someone)
    assert len(keyvault_reference_identity_granted_first([IDENTITY, someone, theirs, reader((urn(theirs),))])) == 1


@pytest.mark.parametrize("identity_setting", [None, "SystemAssigned"])
def test_references_read_with_the_system_assigned_identity_fail(identity_setting):
    more = {} if identity_setting is None else {"keyVaultReferenceIdentity": identity_setting}
    [violation] = keyvault_reference_identity_granted_first([reader(identity=None, **more)])
    assert "resolves Key Vault references with its system-assigned identity" in violation.message


def test_an_app_without_references_needs_no_identity():
    plain = res("azure-native:web:WebApp", "site", siteConfig={"appSettings": [{"name": "LOG_LEVEL", "value": "info"}]})
    assert keyvault_reference_identity_granted_first([plain]) == []


# Regional VNet integration


def test_an_integration_subnet_not_delegated_to_app_service_fails():
    bare = res("azure-native:network:Subnet", "apps", delegations=[])
    [violation] = webapp_integration_subnet_delegated([bare, app(subnet=bare)])
    assert "not delegated to Microsoft.Web/serverFarms" in violation.message
    assert webapp_integration_subnet_delegated([SUBNET, app()]) == []


# The slot traffic rule


def with_rules(*rules, name="site") -> dict:
    return {"name": name, "siteConfig": {"experiments": {"rampUpRules": list(rules)}}}


@pytest.mark.parametrize("percentage", [1, 25, 100, 25.0])
def test_a_slot_rule_of_1_to_100_percent_passes(percentage):
    assert webapp_slot_rule_percentage(with_rules({"reroutePercentage": percentage}), SETTINGS) == []


@pytest.mark.parametrize("percentage", [0, 0.0, 101, -5, None])
def test_a_slot_rule_at_0_percent_or_out_of_range_fails(percentage):
    rule = {} if percentage is None else {"reroutePercentage": percentage}
    [message] = webapp_slot_rule_percentage(with_rules(rule), SETTINGS)
    assert message.startswith("slot traffic rule 0 must route 1..100 %")


def test_no_rule_at_all_passes():
    assert webapp_slot_rule_percentage(with_rules(), SETTINGS) == []


def test_a_slot_rule_targets_a_slot_of_its_own_site():
    good = with_rules({"actionHostName": "site-green.azurewebsites.net", "reroutePercentage": 5})
    assert webapp_slot_rule_target(good, SETTINGS) == []
    [message] = webapp_slot_rule_target(with_rules({"actionHostName": "elsewhere-green.azurewebsites.net"}), SETTINGS)
    assert message == (
        "slot traffic rule 0 must route to a slot of this site, 'site-<slot>.azurewebsites.net' "
        "(got 'elsewhere-green.azurewebsites.net')"
    )
    assert webapp_slot_rule_target(with_rules({"actionHostName": UNKNOWN}), SETTINGS) == []


# Log alerts per version


def alert(query: str, dimensions: list | None) -> dict:
    condition = {"query": query}
    if dimensions is not None:
        condition["dimensions"] = dimensions
    return {"criteria": {"allOf": [condition]}, "tags": TAGS}


SPLIT = [{"name": "application_Version", "operator": "Include", "values": ["*"]}]


@pytest.mark.parametrize(
    "rule",
    alert_rules.rollout_log_rules(
        error_rate_warning=1, error_rate_critical=5, p95_warning_ms=500, p95_critical_ms=2000, min_requests=50
    ),
)
def test_the_rollout_rules_pass_both_alert_policies(rule):
    props = alert(rule.query, SPLIT)
    assert log_alert_split_by_version(props, SETTINGS) == []
    assert log_alert_excludes_health_probe(props, SETTINGS) == []


@pytest.mark.parametrize(
    "query, dimensions",
    [
        ("requests | summarize error_share = 100.0 * countif(toint(resultCode) >= 500) / count()", SPLIT),  # blended
        (alert_rules.ERROR_SHARE_QUERY, None),  # per version in the query, one time series in the alert
        (alert_rules.ERROR_SHARE_QUERY, [{"name": "application_Version", "operator": "Exclude", "values": ["*"]}]),
        (alert_rules.ERROR_SHARE_QUERY, [{"name": "cloud_RoleName", "operator": "Include", "values": ["*"]}]),
    ],
)
def test_a_log_alert_not_split_by_version_fails(query, dimensions):
    [message] = log_alert_split_by_version(alert(query, dimensions), SETTINGS)
    assert message.startswith("log alert condition 0 must fire per version")


def test_a_log_alert_counting_health_probes_fails():
    query = "requests | summarize p95_ms = percentile(duration, 95), requests = count() by application_Version"
    [message] = log_alert_excludes_health_probe(alert(query, SPLIT), SETTINGS)
    assert message.startswith("log alert condition 0 reads requests including the health probes")
    assert (
        log_alert_excludes_health_probe(
            alert(alert_rules.per_version_query("p95_ms", "/healthz"), SPLIT),
            Settings.from_config({"healthPath": "/healthz"}),
        )
        == []
    )


def plan(name: str) -> StackResource:
    return res("azure-native:web:AppServicePlan", name, location="westeurope")


def planned_app(name: str, the_plan: StackResource, subnet: StackResource, location="westeurope") -> StackResource:
    return res(
        "azure-native:web:WebApp",
        name,
        {"serverFarmId": [urn(the_plan)], "virtualNetworkSubnetId": [urn(subnet)]},
        serverFarmId=UNKNOWN,
        virtualNetworkSubnetId=UNKNOWN,
        location=location,
    )


def test_one_integration_subnet_per_plan():
    one, two = plan("one"), plan("two")
    site_and_slot = [planned_app("site", one, SUBNET), planned_app("slot", one, SUBNET)]
    assert webapp_integration_subnet_one_plan([one, SUBNET, *site_and_slot]) == []
    [violation] = webapp_integration_subnet_one_plan(
        [one, two, SUBNET, planned_app("a", one, SUBNET), planned_app("b", two, SUBNET)]
    )
    assert violation.message.startswith("subnet 'apps' is the integration subnet of 2 App Service plans (apps a, b)")


def test_the_integration_network_is_in_the_apps_region():
    vnet = res("azure-native:network:VirtualNetwork", "net", location="northeurope")
    subnet = res("azure-native:network:Subnet", "apps", {"virtualNetworkName": [urn(vnet)]}, virtualNetworkName=UNKNOWN)
    the_plan = plan("p")
    [violation] = webapp_integration_subnet_same_region([vnet, subnet, the_plan, planned_app("a", the_plan, subnet)])
    assert "regional VNet integration needs both in the same region" in violation.message
    assert (
        webapp_integration_subnet_same_region(
            [vnet, subnet, the_plan, planned_app("a", the_plan, subnet, location="North Europe")]
        )
        == []
    )


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        (alert_rules.with_min_requests(alert_rules.ERROR_SHARE_QUERY, 10), True),
        (alert_rules.with_min_requests(alert_rules.P95_QUERY, 250), True),
        (alert_rules.ERROR_SHARE_QUERY, False),
        (alert_rules.ERROR_SHARE_QUERY + " | where requests >= 3", False),
        ("traces | summarize n = count()", True),
    ],
    ids=["floor-10", "floor-250", "no-floor", "floor-3", "not-over-requests"],
)
def test_a_log_alert_judges_a_version_only_on_enough_requests(query, ok):
    found = log_alert_min_requests(alert(query, SPLIT), SETTINGS)
    assert (found == []) is ok, found
    if not ok:
        assert "'| where requests >= N', N at least 10" in found[0]
