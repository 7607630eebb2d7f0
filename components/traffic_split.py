"""TrafficSplit: the trafficManager edge (stagewise.core.edges), a weighted Traffic Manager profile with one Azure
endpoint per region.

Each endpoint targets that region's production site; the colours are split inside the site by its
slot traffic rule. One endpoint per region is all Traffic Manager allows: "Each Traffic Manager
profile can have at most one Web App endpoint from each Azure region"
(traffic-manager/traffic-manager-endpoint-types.md, Web Apps as endpoints).

The type token and the resource names are those the stacks deployed before Front Door carry (edges.LEGACY_TYPE,
`traffic-profile`, `traffic-<region>`): never rename them, or such a stack's profile, and its URL, is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import trafficmanager

from stagewise.core import edges, limits, rollout


@dataclass(kw_only=True)
class TrafficSplitArgs:
    resource_group_name: pulumi.Input[str]
    dns_label: str
    """<label>.trafficmanager.net; globally unique (see stagewise.core.naming.dns_label)."""
    targets: dict[str, pulumi.Input[str]]
    """Region -> resource id of that region's production site."""
    weights: dict[str, int]
    """Region -> Traffic Manager weight 0..1000; 0 drains the region (its endpoint is disabled)."""
    ttl: int
    """DNS TTL, seconds (stagewise:traffic.ttl)."""
    probe_protocol: str
    """Endpoint monitoring: stagewise:traffic.probe (protocol, port, path, interval, timeout,
    toleratedFailures); the interval is 10 or 30 s and the timeout must fit it (limits.PROBE_TIMEOUTS)."""
    probe_port: int
    probe_path: str
    probe_interval: int
    probe_timeout: int
    tolerated_failures: int
    tags: dict[str, str] = field(default_factory=dict)


class TrafficSplit(pulumi.ComponentResource):
    def __init__(self, name: str, args: TrafficSplitArgs, opts: pulumi.ResourceOptions | None = None):
        if set(args.weights) != set(args.targets):
            raise ValueError(
                f"weights {sorted(args.weights)} and targets {sorted(args.targets)} must name the same regions"
            )
        if not any(args.weights.values()) or any(not 0 <= w <= limits.TM_MAX_WEIGHT for w in args.weights.values()):
            raise ValueError(f"weights {args.weights} must be 0..{limits.TM_MAX_WEIGHT}, at least one above 0")
        if args.probe_protocol not in edges.PINNED_PROBE_PROTOCOLS:
            raise ValueError(f"probe_protocol must be one of {edges.PINNED_PROBE_PROTOCOLS}: a TCP probe is not pinned")
        if args.probe_interval not in limits.PROBE_INTERVALS:
            raise ValueError(f"probe_interval must be one of {limits.PROBE_INTERVALS}")
        low, high = limits.PROBE_TIMEOUTS[args.probe_interval]
        if not low <= args.probe_timeout <= high:
            raise ValueError(f"probe_timeout must be {low}..{high} s at interval {args.probe_interval} s")
        super().__init__(edges.LEGACY_TYPE, name, None, opts)

        profile = trafficmanager.Profile(
            f"{name}-profile",
            resource_group_name=args.resource_group_name,
            location="global",
            profile_status="Enabled",
            traffic_routing_method="Weighted",
            dns_config=trafficmanager.DnsConfigArgs(relative_name=args.dns_label, ttl=args.ttl),
            monitor_config=trafficmanager.MonitorConfigArgs(
                protocol=args.probe_protocol,
                port=args.probe_port,
                path=args.probe_path,
                interval_in_seconds=args.probe_interval,
                timeout_in_seconds=args.probe_timeout,
                tolerated_number_of_failures=args.tolerated_failures,
                # The probe carries the production slot's routing cookie, so the site's slot traffic rule never routes
                # it to the slot (deploy-staging-slots.md: "x-ms-routing-name=self" is the production slot): the
                # endpoint's health is the production site's, whatever the stage.
                custom_headers=[
                    trafficmanager.MonitorConfigCustomHeadersItemArgs(
                        name=edges.PROBE_PIN_HEADER[0], value=edges.PROBE_PIN_HEADER[1]
                    )
                ],
            ),
            tags=args.tags,
            # Endpoints are resources of their own; the profile must not fight over them.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["endpoints"]),
        )
        routing = rollout.region_endpoints(args.weights)
        self.endpoints: dict[str, trafficmanager.Endpoint] = {
            region: trafficmanager.Endpoint(
                f"{name}-{region}",
                endpoint_name=region,
                endpoint_type="AzureEndpoints",
                type="Microsoft.Network/trafficManagerProfiles/azureEndpoints",
                profile_name=profile.name,
                resource_group_name=args.resource_group_name,
                target_resource_id=target,
                weight=routing[region].weight,
                endpoint_status="Enabled" if routing[region].enabled else "Disabled",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for region, target in args.targets.items()
        }
        self.profile_id: pulumi.Output[str] = profile.id
        self.fqdn: pulumi.Output[str] = profile.dns_config.apply(lambda d: d.fqdn if d else "")
        self.register_outputs({"fqdn": self.fqdn})
