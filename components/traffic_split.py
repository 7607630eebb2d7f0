"""TrafficSplit: a weighted Traffic Manager profile with one Azure endpoint per colour."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import trafficmanager

from stagewise import limits, rollout
from stagewise.rollout import Colour


@dataclass
class TrafficSplitArgs:
    resource_group_name: pulumi.Input[str]
    dns_label: str
    """<label>.trafficmanager.net; globally unique (see stagewise.naming.dns_label)."""
    targets: dict[Colour, pulumi.Input[str]]
    """Azure resource id per colour (the web app and its green slot)."""
    percent: dict[Colour, int]
    """Share of traffic per colour, from the rollout model; sums to 100."""
    ttl: int = 30
    probe_protocol: str = "HTTPS"
    probe_port: int = 443
    probe_path: str = "/health"
    probe_interval: int = 30
    probe_timeout: int = 10
    tolerated_failures: int = 3
    tags: dict[str, str] = field(default_factory=dict)


class TrafficSplit(pulumi.ComponentResource):
    def __init__(self, name: str, args: TrafficSplitArgs, opts: pulumi.ResourceOptions | None = None):
        if set(args.percent) != set(args.targets) or sum(args.percent.values()) != 100:
            raise ValueError(f"percent {args.percent} must give every target a share, summing to 100")
        if args.probe_interval not in limits.PROBE_INTERVALS:
            raise ValueError(f"probe_interval must be one of {limits.PROBE_INTERVALS}")
        low, high = limits.PROBE_TIMEOUTS[args.probe_interval]
        if not low <= args.probe_timeout <= high:
            raise ValueError(f"probe_timeout must be {low}..{high} s at interval {args.probe_interval} s")
        super().__init__("stagewise:traffic_split:TrafficSplit", name, None, opts)

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
            ),
            tags=args.tags,
            # Endpoints are resources of their own; the profile must not fight over them.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["endpoints"]),
        )
        routing = rollout.traffic_manager_endpoints(args.percent)
        self.endpoints: dict[Colour, trafficmanager.Endpoint] = {
            colour: trafficmanager.Endpoint(
                f"{name}-{colour}",
                endpoint_name=colour,
                endpoint_type="AzureEndpoints",
                type="Microsoft.Network/trafficManagerProfiles/azureEndpoints",
                profile_name=profile.name,
                resource_group_name=args.resource_group_name,
                target_resource_id=target,
                weight=routing[colour].weight,
                endpoint_status="Enabled" if routing[colour].enabled else "Disabled",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for colour, target in args.targets.items()
        }
        self.fqdn: pulumi.Output[str] = profile.dns_config.apply(lambda d: d.fqdn if d else "")
        self.register_outputs({"fqdn": self.fqdn})
