"""RegionNetwork: a region's virtual network and the subnet its App Service plan integrates with."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network

from stagewise.core import limits

# app-service/overview-vnet-integration.md: regional integration gives the plan's workers "addresses
# in the delegated subnet" (delegated to App Service), a subnet "used by only one App Service plan",
# in the app's own region ("The app and the virtual network must be in the same region").
APP_SERVICE_DELEGATION = limits.APP_SERVICE_DELEGATION
# Same doc, service endpoints: to reach a service secured with service endpoints, "configure service
# endpoints against the integration subnet"; the vault's network rules then allow that subnet.
KEY_VAULT_SERVICE_ENDPOINT = "Microsoft.KeyVault"


@dataclass(kw_only=True)
class RegionNetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    address_space: str
    """The virtual network's range (stagewise.core.config.address_spaces)."""
    subnet_prefix: str
    """The integration subnet: one address per plan instance, twice that during a scale operation,
    and its size cannot change once assigned (the doc recommends at least a /26)."""
    tags: dict[str, str] = field(default_factory=dict)


class RegionNetwork(pulumi.ComponentResource):
    def __init__(self, name: str, args: RegionNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        space, subnet = ipaddress.ip_network(args.address_space), ipaddress.ip_network(args.subnet_prefix)
        if not subnet.subnet_of(space):  # type: ignore[arg-type]
            raise ValueError(f"subnet_prefix {args.subnet_prefix} is not inside address_space {args.address_space}")
        super().__init__("stagewise:region_network:RegionNetwork", name, None, opts)
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=args.resource_group_name,
            location=args.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            tags=args.tags,
            # The subnet is a resource of its own; the network must not fight over it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
        )
        integration = network.Subnet(
            f"{name}-apps",
            resource_group_name=args.resource_group_name,
            virtual_network_name=vnet.name,
            subnet_name="apps",
            address_prefix=args.subnet_prefix,
            delegations=[network.DelegationArgs(name="app-service", service_name=APP_SERVICE_DELEGATION)],
            service_endpoints=[network.ServiceEndpointPropertiesFormatArgs(service=KEY_VAULT_SERVICE_ENDPOINT)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.subnet_id: pulumi.Output[str] = integration.id
        self.register_outputs({"subnet_id": self.subnet_id})
