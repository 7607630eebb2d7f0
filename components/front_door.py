"""FrontDoor: the stack's global entry, an Azure Front Door (Standard) whose origins are every region's site
(colour blue) and slot (colour green), each with its own weight.

A stage change moves origin weights and nothing else: no site setting changes, so nothing restarts. The
slot traffic rule would carry the stage inside the site's configuration, and "Any configuration change to
the app causes an app restart" (app-service/app-service-key-vault-references.md, "Understand rotation";
Azure/AppService "Web App (Windows) Restart Operations": "Configuration (general settings, application
settings, ...)"; Azure/azure-cli#29147: changing only the rule restarts the production slot). Microsoft
states nowhere that a rule change does not restart, so the stage lives here (docs/azure-request-path.md).

Front Door shares traffic "in the ratio of weights specified" among the enabled, healthy origins within
the origin group's latency sensitivity (frontdoor/routing-methods.md, "Overall decision flow"). Each
origin is its own host name (the site's or the slot's default host name, as Azure reports it), sent as
the Host header, so the health probe of a colour reaches that colour and no other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import cdn

from stagewise.core import limits
from stagewise.core.origins import Origin
from stagewise.core.rollout import COLOURS, Colour


@dataclass(kw_only=True)
class FrontDoorArgs:
    resource_group_name: pulumi.Input[str]
    profile_name: pulumi.Input[str]
    """The stack's Front Door profile (components/front_door_profile.py), created before the sites admit it."""
    endpoint_name: str
    """The endpoint's name; Front Door adds a hash to make its host name <name>-<hash>.z01.azurefd.net."""
    hosts: Mapping[str, Mapping[Colour, pulumi.Input[str]]]
    """Region -> colour -> the default host name of that region's site (blue) or slot (green)."""
    origins: dict[str, dict[Colour, Origin]]
    """Region -> colour -> weight, state and priority (stagewise.core.origins.origins)."""
    probe_path: str
    """The health probe's path (stagewise:traffic.probe.path)."""
    probe_interval: int
    """Seconds between health probes (stagewise:traffic.probe.interval)."""
    session_affinity: bool
    """Keep a client on the origin that served it first (stagewise:traffic.sessionAffinity)."""
    tags: dict[str, str] = field(default_factory=dict)


class FrontDoor(pulumi.ComponentResource):
    def __init__(self, name: str, args: FrontDoorArgs, opts: pulumi.ResourceOptions | None = None):
        if set(args.hosts) != set(args.origins):
            raise ValueError(
                f"hosts {sorted(args.hosts)} and origins {sorted(args.origins)} must name the same regions"
            )
        weights = [o for by_colour in args.origins.values() for o in by_colour.values()]
        if not any(o.enabled for o in weights):
            raise ValueError("origins: at least one must be enabled, or the endpoint serves nothing")
        if any(not limits.AFD_MIN_WEIGHT <= o.weight <= limits.AFD_MAX_WEIGHT for o in weights):
            raise ValueError(f"origin weights must be {limits.AFD_MIN_WEIGHT}..{limits.AFD_MAX_WEIGHT}")
        if any(not limits.AFD_MIN_PRIORITY <= o.priority <= limits.AFD_MAX_PRIORITY for o in weights):
            raise ValueError(f"origin priorities must be {limits.AFD_MIN_PRIORITY}..{limits.AFD_MAX_PRIORITY}")
        if not 1 <= args.probe_interval <= 255:
            raise ValueError(f"probe_interval ({args.probe_interval}) must be 1..255 seconds")
        super().__init__("stagewise:front_door:FrontDoor", name, None, opts)

        endpoint = cdn.AFDEndpoint(
            f"{name}-endpoint",
            endpoint_name=args.endpoint_name,
            profile_name=args.profile_name,
            resource_group_name=args.resource_group_name,
            location="global",
            enabled_state="Enabled",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        group = cdn.AFDOriginGroup(
            f"{name}-origins",
            origin_group_name="app",
            profile_name=args.profile_name,
            resource_group_name=args.resource_group_name,
            load_balancing_settings=cdn.LoadBalancingSettingsParametersArgs(
                # frontdoor/blue-green-deployment.md's values: sample size 4, 3 successful, and "Set the latency
                # sensitivity to 500 milliseconds (half a second) or higher to ensure both origins are used".
                sample_size=limits.AFD_SAMPLE_SIZE,
                successful_samples_required=limits.AFD_SUCCESSFUL_SAMPLES,
                additional_latency_in_milliseconds=limits.AFD_LATENCY_SENSITIVITY_MS,
            ),
            health_probe_settings=cdn.HealthProbeParametersArgs(
                probe_path=args.probe_path,
                # Always HTTPS: every site is httpsOnly, and "A 200 OK status code indicates the origin is
                # healthy. Any other status code is considered a failure" (frontdoor/health-probes.md), so an
                # HTTP probe, answered with a redirect, would take every origin out.
                probe_protocol="Https",
                # HEAD: "To lower the load and cost to your origins, use HEAD requests for health probes"
                # (frontdoor/health-probes.md, "Supported HTTP methods for health probes"); each edge probes on its
                # own, so the volume is many requests per interval. The app answers HEAD on its health path as GET.
                probe_request_type="HEAD",
                probe_interval_in_seconds=args.probe_interval,
            ),
            # blue-green-deployment.md: "When in doubt, have session affinity enabled": a client stays on the origin
            # (region and colour) that served its first request, so a stage is a share of users and one page load
            # does not mix two versions. Front Door keeps affinity with a cookie; a client without it (and every
            # first request) is shared by weight (frontdoor/routing-methods.md, "Session affinity").
            session_affinity_state="Enabled" if args.session_affinity else "Disabled",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.origins: dict[str, dict[Colour, cdn.AFDOrigin]] = {}
        for region, by_colour in args.origins.items():
            self.origins[region] = {}
            for colour in COLOURS:
                host = args.hosts[region][colour]
                self.origins[region][colour] = cdn.AFDOrigin(
                    f"{name}-{region}-{colour}",
                    origin_name=f"{region}-{colour}",
                    origin_group_name=group.name,
                    profile_name=args.profile_name,
                    resource_group_name=args.resource_group_name,
                    # App Service picks the app by the Host header; the origin's own host name, with a
                    # certificate that matches it ("a subject name matching the origin hostname",
                    # frontdoor/end-to-end-tls.md).
                    host_name=host,
                    origin_host_header=host,
                    http_port=80,
                    https_port=443,
                    # A colour at 0 % with a version of its own is a fallback at a lower priority, never disabled
                    # (stagewise.core.origins): Front Door fails over to it when the primaries fail their probes.
                    priority=by_colour[colour].priority,
                    weight=by_colour[colour].weight,
                    enabled_state="Enabled" if by_colour[colour].enabled else "Disabled",
                    enforce_certificate_name_check=True,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        all_origins = [o for by_colour in self.origins.values() for o in by_colour.values()]
        route = cdn.Route(
            f"{name}-route",
            route_name="app",
            endpoint_name=endpoint.name,
            profile_name=args.profile_name,
            resource_group_name=args.resource_group_name,
            origin_group=cdn.ResourceReferenceArgs(id=group.id),
            supported_protocols=["Http", "Https"],
            https_redirect="Enabled",
            forwarding_protocol="HttpsOnly",
            link_to_default_domain="Enabled",
            patterns_to_match=["/*"],
            # An origin group without origins cannot take a route.
            opts=pulumi.ResourceOptions(parent=self, depends_on=all_origins),
        )
        self.host_name: pulumi.Output[str] = endpoint.host_name
        self.route_id: pulumi.Output[str] = route.id
        self.register_outputs({"host_name": self.host_name})
