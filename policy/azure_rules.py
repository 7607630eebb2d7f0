"""Cross-resource rules of the Azure platform: what mocks accept and a real subscription refuses.

Plain functions like `policy.rules` (no Pulumi import), wired into policies by `policy.policies`.
Each names the Microsoft document it comes from; each reads resources as the engine sends them
(inputs, `dependencies` and `property_dependencies` by URN). A reference between resources is
followed through the property's dependencies first (what the engine knows during a preview, when
ids are still unknown) and through equal known values second. When neither can tell, the rule
does not guess: it stays silent, and `pulumi up` checks again with known values.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from policy.rules import (
    KEY_VAULT,
    MISSING,
    TRAFFIC_MANAGER_ENDPOINT,
    TRAFFIC_MANAGER_PROFILE,
    WEB_APPS,
    Settings,
    StackResource,
    StackViolation,
    _app_settings,
    _names_profile,
    dig,
    is_unknown,
    shown,
)
from stagewise.alert_rules import VERSION_COLUMN

WEB_APP = "azure-native:web:WebApp"
SUBNET = ("azure-native:network:Subnet",)
USER_ASSIGNED_IDENTITY = ("azure-native:managedidentity:UserAssignedIdentity",)
ROLE_ASSIGNMENT = ("azure-native:authorization:RoleAssignment",)
SCHEDULED_QUERY_RULE = ("azure-native:monitor:ScheduledQueryRule", "azure-native:insights:ScheduledQueryRule")

# Built-in role "Key Vault Secrets User".
SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"
APP_SERVICE_DELEGATION = "Microsoft.Web/serverFarms"
SITES_DNS_SUFFIX = "azurewebsites.net"

_VAULT_IN_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\((?:SecretUri=https://(?P<host>[^./\s()]+)\.vault\.azure\.net/|VaultName=(?P<name>[^;\s()]+);)",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Following references between resources


def _by_urn(resources: Sequence[StackResource]) -> dict[str, StackResource]:
    return {r.urn: r for r in resources}


def _sources(resource: StackResource, prop: str, index: Mapping[str, StackResource], types: Sequence[str]) -> list[StackResource]:
    """The resources of `types` that `resource`'s input `prop` came from."""
    return [index[u] for u in resource.property_dependencies.get(prop, ()) if u in index and index[u].type in types]


def _known(value: Any) -> bool:
    return value is not MISSING and not is_unknown(value)


def _vault_references(app: StackResource) -> set[str]:
    """Names of the vaults an app's settings reference (lower case, as DNS names compare)."""
    names = set()
    for _, value in _app_settings(app.type, app.props):
        if isinstance(value, str) and not is_unknown(value):
            for match in _VAULT_IN_REFERENCE.finditer(value):
                names.add((match.group("host") or match.group("name")).lower())
    return names


def _apps_reading(vault: StackResource, apps: Iterable[StackResource]) -> list[StackResource] | None:
    """The apps whose settings reference `vault`; None when the vault's name is not known yet."""
    name = dig(vault.props, "vaultName")
    if not _known(name) or not isinstance(name, str):
        return None
    return [app for app in apps if name.lower() in _vault_references(app)]


# ---------------------------------------------------------------------------------------------
# Traffic Manager: one Web App endpoint per region and profile


def _web_app_region(endpoint: StackResource, index: Mapping[str, StackResource]) -> str | None:
    """The region of the Web App (or slot) an endpoint targets; None when it targets none or cannot be told."""
    targets = _sources(endpoint, "targetResourceId", index, WEB_APPS)
    if targets:
        location = dig(targets[0].props, "location")
        return str(location).replace(" ", "").lower() if _known(location) else None
    target = dig(endpoint.props, "targetResourceId")
    location = dig(endpoint.props, "endpointLocation")
    if isinstance(target, str) and "/providers/microsoft.web/sites/" in target.lower() and _known(location):
        return str(location).replace(" ", "").lower()
    return None


def traffic_manager_one_web_app_per_region(resources: Sequence[StackResource]) -> list[StackViolation]:
    """Traffic Manager endpoints doc, Web Apps as endpoints: "Each Traffic Manager profile can have
    at most one Web App endpoint from each Azure region". A site and its slots share a region."""
    index = _by_urn(resources)
    endpoints = [r for r in resources if r.type in TRAFFIC_MANAGER_ENDPOINT]
    violations = []
    for profile in (r for r in resources if r.type in TRAFFIC_MANAGER_PROFILE):
        by_region: dict[str, list[str]] = {}
        for endpoint in endpoints:
            if _names_profile(endpoint, profile) is not True:
                continue
            region = _web_app_region(endpoint, index)
            if region is not None:
                by_region.setdefault(region, []).append(endpoint.name)
        for region, names in sorted(by_region.items()):
            if len(names) > 1:
                violations.append(StackViolation(
                    f"Traffic Manager profile {profile.name!r} has {len(names)} Web App endpoints in region "
                    f"{region!r} ({', '.join(sorted(names))}); Azure allows at most one Web App endpoint per "
                    "region in a profile: target one site per region and split its traffic between the site "
                    "and its slots with the slot traffic rule (siteConfig.experiments.rampUpRules)",
                    profile.urn,
                ))
    return violations


# ---------------------------------------------------------------------------------------------
# Key Vault references: the network path and the identity


def keyvault_firewall_allows_app_subnets(resources: Sequence[StackResource]) -> list[StackViolation]:
    """App Service Key Vault references doc, network-restricted vaults: App Service resolves a
    reference from the app's own network, so a vault that denies by default must allow the app's
    VNet-integration subnet ("Make sure that the vault's configuration accounts for the network or
    subnet through which your app will access it"); otherwise the app gets the literal reference."""
    index = _by_urn(resources)
    apps = [r for r in resources if r.type in WEB_APPS]
    violations = []
    for vault in (r for r in resources if r.type in KEY_VAULT):
        if dig(vault.props, "properties", "networkAcls", "defaultAction") != "Deny":
            continue
        readers = _apps_reading(vault, apps)
        if readers is None:
            continue
        rules = dig(vault.props, "properties", "networkAcls", "virtualNetworkRules")
        if is_unknown(rules):
            continue
        allowed_values = [dig(rule, "id") for rule in (rules if isinstance(rules, list) else [])]
        allowed_deps = {d.urn for d in _sources(vault, "properties", index, SUBNET)}
        for app in readers:
            subnet = dig(app.props, "virtualNetworkSubnetId")
            app_deps = {d.urn for d in _sources(app, "virtualNetworkSubnetId", index, SUBNET)}
            allowed: bool | None
            if subnet is MISSING:
                allowed = False
            elif app_deps and allowed_deps:
                allowed = bool(app_deps & allowed_deps)
            elif _known(subnet) and all(_known(v) for v in allowed_values):
                allowed = str(subnet).lower() in {str(v).lower() for v in allowed_values}
            else:
                allowed = None
            if allowed is False:
                violations.append(StackViolation(
                    f"web app {app.name!r} reads Key Vault {dig(vault.props, 'vaultName')!r}, which denies network "
                    f"access by default, but {'has no integrated subnet' if subnet is MISSING else 'its integrated subnet is not allowed by the vault'}: "
                    "integrate the app with a subnet (virtualNetworkSubnetId) and allow that subnet in the vault's "
                    "properties.networkAcls.virtualNetworkRules, or the app gets the literal @Microsoft.KeyVault(...) strings",
                    app.urn,
                ))
    return violations


def keyvault_reference_identity_granted_first(resources: Sequence[StackResource]) -> list[StackViolation]:
    """App Service Key Vault references doc, user-assigned identity: a system-assigned identity is
    not available when the site is created with its references ("a user-assigned identity can be
    created and given access to the vault in advance"), and a resolved (or failed) reference is
    cached for up to 24 hours. So an app that holds references reads them with a user-assigned
    identity (keyVaultReferenceIdentity) and depends on that identity's Key Vault Secrets User grant."""
    index = _by_urn(resources)
    apps = [r for r in resources if r.type in WEB_APPS and _vault_references(r)]
    grants = [r for r in resources if r.type in ROLE_ASSIGNMENT]
    violations = []
    for app in apps:
        reference_identity = dig(app.props, "keyVaultReferenceIdentity")
        identities = _sources(app, "keyVaultReferenceIdentity", index, USER_ASSIGNED_IDENTITY)
        if reference_identity is MISSING or (_known(reference_identity) and str(reference_identity).lower() == "systemassigned"):
            violations.append(StackViolation(
                f"web app {app.name!r} resolves Key Vault references with its system-assigned identity "
                f"(keyVaultReferenceIdentity {shown(reference_identity)}), which exists only once the site does: "
                "set keyVaultReferenceIdentity to a user-assigned identity granted Key Vault Secrets User beforehand",
                app.urn,
            ))
            continue
        if not identities:
            continue  # an identity defined outside the stack
        granted = {g.urn for g in grants if _grants_secrets_user(g, {i.urn for i in identities})}
        if not granted & set(app.dependencies):
            violations.append(StackViolation(
                f"web app {app.name!r} reads Key Vault references with identity "
                f"{', '.join(sorted(i.name for i in identities))!r} before that identity is granted: make the app "
                "depend on (dependsOn) the role assignment of Key Vault Secrets User to that identity, so that no "
                "reference is resolved, and cached for up to 24 hours, before the grant exists",
                app.urn,
            ))
    return violations


def _grants_secrets_user(grant: StackResource, identity_urns: set[str]) -> bool:
    """A role assignment of Key Vault Secrets User (or a role not known yet) to one of the identities."""
    role = dig(grant.props, "roleDefinitionId")
    if _known(role) and SECRETS_USER_ROLE not in str(role).lower():
        return False
    return bool(identity_urns & set(grant.property_dependencies.get("principalId", ())))


# ---------------------------------------------------------------------------------------------
# Regional VNet integration


def webapp_integration_subnet_delegated(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/overview-vnet-integration.md: regional integration mounts the workers' interfaces
    "with addresses in the delegated subnet", delegated to Microsoft.Web/serverFarms."""
    index = _by_urn(resources)
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        for subnet in _sources(app, "virtualNetworkSubnetId", index, SUBNET):
            delegations = dig(subnet.props, "delegations")
            if is_unknown(delegations):
                continue
            services = {dig(d, "serviceName") for d in (delegations if isinstance(delegations, list) else [])}
            if APP_SERVICE_DELEGATION not in services:
                violations.append(StackViolation(
                    f"web app {app.name!r} integrates with subnet {subnet.name!r}, which is not delegated to "
                    f"{APP_SERVICE_DELEGATION}: add delegations[].serviceName {APP_SERVICE_DELEGATION!r} to the subnet",
                    app.urn,
                ))
    return violations


def _plan_of(app: StackResource, index: Mapping[str, StackResource]) -> str | None:
    plans = _sources(app, "serverFarmId", index, ("azure-native:web:AppServicePlan",))
    if plans:
        return plans[0].urn
    value = dig(app.props, "serverFarmId")
    return str(value).lower() if _known(value) else None


def webapp_integration_subnet_one_plan(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/overview-vnet-integration.md, limitations: "The integration subnet can be used by
    only one App Service plan." A site and its slots share their plan, so they may share the subnet."""
    index = _by_urn(resources)
    plans_by_subnet: dict[str, dict[str, list[str]]] = {}
    for app in (r for r in resources if r.type in WEB_APPS):
        plan = _plan_of(app, index)
        if plan is None:
            continue
        for subnet in _sources(app, "virtualNetworkSubnetId", index, SUBNET):
            plans_by_subnet.setdefault(subnet.urn, {}).setdefault(plan, []).append(app.name)
    violations = []
    for subnet_urn, plans in sorted(plans_by_subnet.items()):
        if len(plans) > 1:
            apps = sorted(name for names in plans.values() for name in names)
            violations.append(StackViolation(
                f"subnet {index[subnet_urn].name!r} is the integration subnet of {len(plans)} App Service plans "
                f"(apps {', '.join(apps)}); a subnet serves one plan: give each plan its own subnet",
                subnet_urn,
            ))
    return violations


def webapp_integration_subnet_same_region(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/overview-vnet-integration.md, limitations: "The app and the virtual network must be
    in the same region." (Regional integration; a gateway is the only way across regions.)"""
    index = _by_urn(resources)
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        location = dig(app.props, "location")
        if not _known(location):
            continue
        for subnet in _sources(app, "virtualNetworkSubnetId", index, SUBNET):
            for vnet in _sources(subnet, "virtualNetworkName", index, ("azure-native:network:VirtualNetwork",)):
                vnet_location = dig(vnet.props, "location")
                if _known(vnet_location) and _region(vnet_location) != _region(location):
                    violations.append(StackViolation(
                        f"web app {app.name!r} in {location!r} integrates with subnet {subnet.name!r} of virtual "
                        f"network {vnet.name!r} in {vnet_location!r}; regional VNet integration needs both in the "
                        "same region: give each region its own network",
                        app.urn,
                    ))
    return violations


def _region(location: Any) -> str:
    return str(location).replace(" ", "").lower()


# ---------------------------------------------------------------------------------------------
# Resource rules: the slot traffic rule and per-version log alerts


def _ramp_up_rules(props: Mapping[str, Any]) -> list[tuple[int, Any]]:
    rules = dig(props, "siteConfig", "experiments", "rampUpRules")
    return list(enumerate(rules)) if isinstance(rules, list) else []


def webapp_slot_rule_percentage(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """deploy-staging-slots.md: a slot routing rule kept at an explicit 0 % still lets clients that
    carry the slot's routing name (the x-ms-routing-name cookie) reach the slot."""
    messages = []
    for i, rule in _ramp_up_rules(props):
        value = dig(rule, "reroutePercentage")
        if is_unknown(value) or (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 100):
            continue
        messages.append(
            f"slot traffic rule {i} must route 1..100 % (got {shown(value)}): to send nothing to a slot, remove "
            "its rule from siteConfig.experiments.rampUpRules; a rule at 0 % keeps routing clients pinned to the slot"
        )
    return messages


def webapp_slot_rule_target(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """deploy-staging-slots.md: the rule routes to a slot's host name, sitename-slotname.azurewebsites.net."""
    site = dig(props, "name")
    if not isinstance(site, str) or is_unknown(site):
        return []
    messages = []
    for i, rule in _ramp_up_rules(props):
        host = dig(rule, "actionHostName")
        if is_unknown(host):
            continue
        if isinstance(host, str) and re.fullmatch(
            rf"{re.escape(site.lower())}-[a-z0-9-]{{1,19}}\.{re.escape(SITES_DNS_SUFFIX)}", host.lower()
        ):
            continue
        messages.append(
            f"slot traffic rule {i} must route to a slot of this site, "
            f"'{site}-<slot>.{SITES_DNS_SUFFIX}' (got {shown(host)})"
        )
    return messages


def _conditions(props: Mapping[str, Any]) -> list[tuple[int, Any]]:
    conditions = dig(props, "criteria", "allOf")
    return list(enumerate(conditions)) if isinstance(conditions, list) else [(0, MISSING)]


def log_alert_split_by_version(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """A log alert over the blended colours cannot see the candidate: at a 5 % canary, a candidate
    failing every request moves the blended error share to about 5 %. Each condition is split by
    the version dimension, and its query keeps that column (stagewise.alert_rules)."""
    messages = []
    for i, condition in _conditions(props):
        dimensions, query = dig(condition, "dimensions"), dig(condition, "query")
        if is_unknown(dimensions) or is_unknown(query):
            continue
        split = any(
            dig(d, "name") == VERSION_COLUMN and dig(d, "operator") == "Include"
            for d in (dimensions if isinstance(dimensions, list) else [])
        )
        keeps = isinstance(query, str) and re.search(rf"\bby\b[^|]*\b{VERSION_COLUMN}\b", query) is not None
        if split and keeps:
            continue
        messages.append(
            f"log alert condition {i} must fire per version: split criteria.allOf[{i}].dimensions by "
            f"{{name: {VERSION_COLUMN!r}, operator: 'Include', values: ['*']}} and summarize its query "
            f"by {VERSION_COLUMN}, or a failing candidate is averaged away by the live colour"
        )
    return messages


def log_alert_excludes_health_probe(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """Health probes hit every instance of both colours at a steady rate (App Service's health check
    "pings this path on all instances ... at 1-minute intervals", app-service/monitor-instances-health-check.md,
    and Traffic Manager probes too); counted as requests, they dilute a candidate's error share and latency."""
    path = re.escape(settings.health_path)
    excluded = re.compile(rf'(!=|!has|!contains|!endswith|!startswith|!in)\s*\(?\s*"{path}"')
    messages = []
    for i, condition in _conditions(props):
        query = dig(condition, "query")
        if is_unknown(query) or not (isinstance(query, str) and re.match(r"\s*requests\b", query)):
            continue
        if not excluded.search(query):
            messages.append(
                f"log alert condition {i} reads requests including the health probes: leave out "
                f'{settings.health_path!r} in criteria.allOf[{i}].query (e.g. | where tostring(parse_url(url).Path) != "{settings.health_path}")'
            )
    return messages
