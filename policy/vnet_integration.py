"""Virtual network rules: App Service regional VNet integration, and the regions' address spaces."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from stagewise.core import config
from stagewise.core.limits import APP_SERVICE_DELEGATION
from stagewise.policy.inputs import (
    MISSING,
    StackResource,
    StackViolation,
    app_keys,
    by_urn,
    dig,
    is_unknown,
    known,
    sources,
)
from stagewise.policy.record import OnStack, PolicyRecord, ResourcesOnly, Validation
from stagewise.policy.resource_types import SUBNET, WEB_APPS


def webapp_integration_subnet_delegated(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/overview-vnet-integration.md: regional integration mounts the workers' interfaces
    "with addresses in the delegated subnet", delegated to Microsoft.Web/serverFarms."""
    index = by_urn(resources)
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        for subnet in sources(app, "virtualNetworkSubnetId", index, SUBNET):
            delegations = dig(subnet.props, "delegations")
            if is_unknown(delegations):
                continue
            services = {dig(d, "serviceName") for d in (delegations if isinstance(delegations, list) else [])}
            if APP_SERVICE_DELEGATION not in services:
                violations.append(
                    StackViolation(
                        f"web app {app.name!r} integrates with subnet {subnet.name!r}, which is not delegated to "
                        f"{APP_SERVICE_DELEGATION}: add delegations[].serviceName {APP_SERVICE_DELEGATION!r} to the subnet",
                        app.urn,
                    )
                )
    return violations


WEBAPP_INTEGRATION_SUBNET_DELEGATED = PolicyRecord(
    name="webapp-integration-subnet-delegated",
    description="A web app's VNet-integration subnet is delegated to Microsoft.Web/serverFarms "
    "(app-service/overview-vnet-integration.md: 'addresses in the delegated subnet').",
    check=OnStack(webapp_integration_subnet_delegated),
    rule="an app's integration subnet is delegated to `Microsoft.Web/serverFarms`",
    twin=ResourcesOnly("no config key; the program builds each region's subnet"),
)


def _plan_of(app: StackResource, index: Mapping[str, StackResource]) -> str | None:
    plans = sources(app, "serverFarmId", index, ("azure-native:web:AppServicePlan",))
    if plans:
        return plans[0].urn
    value = dig(app.props, "serverFarmId")
    return str(value).lower() if known(value) else None


def webapp_integration_subnet_one_plan(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/overview-vnet-integration.md, limitations: "The integration subnet can be used by
    only one App Service plan." A site and its slots share their plan, so they may share the subnet."""
    index = by_urn(resources)
    plans_by_subnet: dict[str, dict[str, list[str]]] = {}
    for app in (r for r in resources if r.type in WEB_APPS):
        plan = _plan_of(app, index)
        if plan is None:
            continue
        for subnet in sources(app, "virtualNetworkSubnetId", index, SUBNET):
            plans_by_subnet.setdefault(subnet.urn, {}).setdefault(plan, []).append(app.name)
    violations = []
    for subnet_urn, plans in sorted(plans_by_subnet.items()):
        if len(plans) > 1:
            apps = sorted(name for names in plans.values() for name in names)
            violations.append(
                StackViolation(
                    f"subnet {index[subnet_urn].name!r} is the integration subnet of {len(plans)} App Service plans "
                    f"(apps {', '.join(apps)}); a subnet serves one plan: give each plan its own subnet",
                    subnet_urn,
                )
            )
    return violations


WEBAPP_INTEGRATION_SUBNET_ONE_PLAN = PolicyRecord(
    name="webapp-integration-subnet-one-plan",
    description="An integration subnet serves one App Service plan (app-service/overview-vnet-integration.md: 'The "
    "integration subnet can be used by only one App Service plan').",
    check=OnStack(webapp_integration_subnet_one_plan),
    rule="an integration subnet serves one App Service plan (a site and its slots share theirs)",
    twin=ResourcesOnly("no config key; the program builds one subnet per plan"),
)


def webapp_integration_subnet_same_region(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/overview-vnet-integration.md, limitations: "The app and the virtual network must be
    in the same region." (Regional integration; a gateway is the only way across regions.)"""
    index = by_urn(resources)
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        location = dig(app.props, "location")
        if not known(location):
            continue
        for subnet in sources(app, "virtualNetworkSubnetId", index, SUBNET):
            for vnet in sources(subnet, "virtualNetworkName", index, ("azure-native:network:VirtualNetwork",)):
                vnet_location = dig(vnet.props, "location")
                if known(vnet_location) and _region(vnet_location) != _region(location):
                    violations.append(
                        StackViolation(
                            f"web app {app.name!r} in {location!r} integrates with subnet {subnet.name!r} of virtual "
                            f"network {vnet.name!r} in {vnet_location!r}; regional VNet integration needs both in the "
                            "same region: give each region its own network",
                            app.urn,
                        )
                    )
    return violations


WEBAPP_INTEGRATION_SUBNET_SAME_REGION = PolicyRecord(
    name="webapp-integration-subnet-same-region",
    description="A web app integrates with a virtual network of its own region "
    "(app-service/overview-vnet-integration.md: 'The app and the virtual network must be in the same "
    "region').",
    check=OnStack(webapp_integration_subnet_same_region),
    rule="an app's integration network is in the app's region",
    twin=ResourcesOnly("no config key; the program builds each region's network"),
)


def _region(location: Any) -> str:
    return str(location).replace(" ", "").lower()


CONNECTIONS = (
    "azure-native:web:WebAppSwiftVirtualNetworkConnection",
    "azure-native:web:WebAppSwiftVirtualNetworkConnectionSlot",
)


def webapp_one_vnet_integration(resources: Sequence[StackResource]) -> list[StackViolation]:
    """One VNet integration mechanism per site or slot: `virtualNetworkSubnetId`, never also a
    WebAppSwiftVirtualNetworkConnection(Slot). pulumi-azure-native reads the `networkConfig/virtualNetwork`
    the inline property made and creates the connection only over the default body
    (provider/pkg/openapi/defaults/defaultResourcesState.go), so the create fails "cannot create already
    existing resource" (pulumi-azure-native#866); Microsoft, on terraform-provider-azurerm#17930: "You cannot
    use both methods" together."""
    integrated: dict[tuple[str, str], StackResource] = {}
    for app in (r for r in resources if r.type in WEB_APPS):
        if known(dig(app.props, "virtualNetworkSubnetId")) or app.property_dependencies.get("virtualNetworkSubnetId"):
            slot = dig(app.props, "slot") if app.type == "azure-native:web:WebAppSlot" else MISSING
            for key in app_keys(app, slot):
                integrated[key] = app
    violations = []
    for connection in sorted((r for r in resources if r.type in CONNECTIONS), key=lambda r: r.name):
        slot = dig(connection.props, "slot") if connection.type == CONNECTIONS[1] else MISSING
        apps = {integrated[k].urn: integrated[k] for k in app_keys(connection, slot) if k in integrated}
        for app in apps.values():
            violations.append(
                StackViolation(
                    f"web app {app.name!r} sets virtualNetworkSubnetId and also has the VNet connection resource "
                    f"{connection.name!r}; the provider cannot create the connection over the integration the "
                    "property made (pulumi-azure-native#866): keep virtualNetworkSubnetId and remove the connection",
                    connection.urn,
                )
            )
    return violations


WEBAPP_ONE_VNET_INTEGRATION = PolicyRecord(
    name="webapp-one-vnet-integration",
    description="A site or slot integrates with its subnet by virtualNetworkSubnetId alone, never also by a "
    "WebAppSwiftVirtualNetworkConnection(Slot): the provider refuses to create the connection over the existing "
    "integration (pulumi-azure-native#866, provider/pkg/openapi/defaults/defaultResourcesState.go) and Microsoft "
    "says the two cannot be used together (terraform-provider-azurerm#17930).",
    check=OnStack(webapp_one_vnet_integration),
    rule="no VNet connection resource names a site or slot that sets `virtualNetworkSubnetId`",
    twin=ResourcesOnly("no config key; components/blue_green_web_app.py integrates by the inline property only"),
)


def _prefixes(vnet: StackResource) -> list[Any] | None:
    prefixes = dig(vnet.props, "addressSpace", "addressPrefixes")
    if is_unknown(prefixes) or not isinstance(prefixes, list) or any(not known(p) for p in prefixes):
        return None
    return prefixes


def network_address_spaces_apart(resources: Sequence[StackResource]) -> list[StackViolation]:
    """Networks meant to be peered cannot overlap (Cloud Adoption Framework, plan-for-ip-addressing.md: "two or
    more spoke virtual networks can't have overlapping IP address spaces"): each region has a range of its own."""
    # By name: the engine registers resources in no fixed order, and the message must not depend on it.
    found = sorted((r for r in resources if r.type == "azure-native:network:VirtualNetwork"), key=lambda r: r.name)
    vnets = [(r, _prefixes(r)) for r in found]
    seen: list[tuple[StackResource, ipaddress.IPv4Network]] = []
    violations = []
    for vnet, prefixes in vnets:
        for prefix in prefixes or []:
            try:
                network = ipaddress.IPv4Network(str(prefix), strict=False)
            except ValueError:
                continue
            for other, other_network in seen:
                if other.urn != vnet.urn and network.overlaps(other_network):
                    violations.append(
                        StackViolation(
                            f"virtual networks {other.name!r} ({other_network}) and {vnet.name!r} ({network}) overlap "
                            "and cannot be peered: give each region an address space of its own",
                            vnet.urn,
                        )
                    )
            seen.append((vnet, network))
    return violations


NETWORK_ADDRESS_SPACES_APART = PolicyRecord(
    name="network-address-spaces-apart",
    description="The regions' virtual networks do not overlap, so that they can be peered (Cloud Adoption Framework, "
    "ready/azure-best-practices/plan-for-ip-addressing.md: 'two or more spoke virtual networks can't have "
    "overlapping IP address spaces').",
    check=OnStack(network_address_spaces_apart),
    rule="no two virtual networks overlap",
    twin=Validation(
        "regions[].addressSpace (default 10.<index>.0.0/16) do not overlap",
        (config.StackConfig._address_spaces_apart,),
    ),
)


POLICIES: tuple[PolicyRecord, ...] = (
    WEBAPP_INTEGRATION_SUBNET_DELEGATED,
    WEBAPP_INTEGRATION_SUBNET_ONE_PLAN,
    WEBAPP_INTEGRATION_SUBNET_SAME_REGION,
    WEBAPP_ONE_VNET_INTEGRATION,
    NETWORK_ADDRESS_SPACES_APART,
)
