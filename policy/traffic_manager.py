"""Traffic Manager rules: the profile, its endpoints and their weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stagewise.core import config, rollout, tiers
from stagewise.core.edges import PROBE_PIN_HEADER
from stagewise.core.limits import TM_MAX_WEIGHT, TM_MIN_WEIGHT
from stagewise.core.tiers import PRODUCTION
from stagewise.policy.inputs import (
    MISSING,
    StackResource,
    StackViolation,
    as_int,
    by_urn,
    dig,
    is_unknown,
    known,
    shown,
    sources,
)
from stagewise.policy.record import OnStack, PolicyRecord, ResourcesOnly, Validation, each
from stagewise.policy.resource_types import TRAFFIC_MANAGER_ENDPOINT, TRAFFIC_MANAGER_PROFILE, WEB_APPS
from stagewise.policy.settings import HEALTH_PATH, MAX_TTL_SECONDS, Settings
from stagewise.policy.tier import azure_tier


def traffic_manager_health_path(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "monitorConfig", "path")
    if is_unknown(value) or value == settings.health_path:
        return []
    return [
        "Traffic Manager must probe the app's health endpoint: "
        f"set monitorConfig.path to {settings.health_path!r} (got {shown(value)})"
    ]


TRAFFIC_MANAGER_HEALTH_PATH = PolicyRecord(
    name="traffic-manager-health-path",
    description="Traffic Manager probes the app's health endpoint.",
    check=each(TRAFFIC_MANAGER_PROFILE, traffic_manager_health_path),
    rule="`monitorConfig.path` is the health path",
    config=(HEALTH_PATH,),
    twin=tiers.PROBE_PATH_RULE,
)


def traffic_manager_weighted(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """traffic-manager/traffic-manager-routing-methods.md, Weighted: "The probability of choosing an endpoint is based on
    the weights assigned to all available endpoints"; any other method ignores the region weights."""
    value = dig(props, "trafficRoutingMethod")
    if is_unknown(value) or value == "Weighted":
        return []
    return [
        "Traffic Manager must split the regions by their weights: set trafficRoutingMethod to 'Weighted' "
        f"(got {shown(value)})"
    ]


TRAFFIC_MANAGER_WEIGHTED = PolicyRecord(
    name="traffic-manager-weighted",
    description="A Traffic Manager profile routes by weight, so that the region weights count "
    "(traffic-manager/traffic-manager-routing-methods.md, 'Weighted').",
    check=each(TRAFFIC_MANAGER_PROFILE, traffic_manager_weighted),
    rule="`trafficRoutingMethod` is `Weighted`",
    twin=ResourcesOnly("no config key; components/traffic_split.py always builds a Weighted profile"),
)


def _pinned(header: Any) -> bool:
    name, value = dig(header, "name"), dig(header, "value")
    if is_unknown(name) or is_unknown(value):
        return True
    if not (isinstance(name, str) and isinstance(value, str) and name.lower() == PROBE_PIN_HEADER[0].lower()):
        return False
    cookies = {part.strip().lower() for part in value.split(";")}
    return PROBE_PIN_HEADER[1].lower() in cookies


def traffic_manager_probe_pinned(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """app-service/deploy-staging-slots.md: a slot traffic rule routes a share of the site's clients to the slot, and
    "A request that's routed to the production slot has the cookie x-ms-routing-name=self". An endpoint is its
    region's production site: a probe without that cookie could be routed to the slot and judge the wrong colour."""
    headers = dig(props, "monitorConfig", "customHeaders")
    if is_unknown(headers):
        return []
    if isinstance(headers, list) and any(_pinned(h) for h in headers):
        return []
    return [
        "Traffic Manager's probe must stay on the production slot: add monitorConfig.customHeaders "
        f"{{name: '{PROBE_PIN_HEADER[0]}', value: '{PROBE_PIN_HEADER[1]}'}} (got {shown(headers)})"
    ]


TRAFFIC_MANAGER_PROBE_PINNED = PolicyRecord(
    name="traffic-manager-probe-pinned",
    description="Traffic Manager's probe carries the production slot's routing cookie (x-ms-routing-name=self), so a "
    "slot traffic rule never sends it to the slot (app-service/deploy-staging-slots.md, 'Route production traffic "
    "automatically').",
    check=each(TRAFFIC_MANAGER_PROFILE, traffic_manager_probe_pinned),
    rule="`monitorConfig.customHeaders` holds `Cookie: x-ms-routing-name=self`",
    twin=ResourcesOnly("no config key; components/traffic_split.py always sends edges.PROBE_PIN_HEADER"),
)


def traffic_manager_production_ttl(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = azure_tier(props)
    value = dig(props, "dnsConfig", "ttl")
    if tier is None or tier.name != PRODUCTION or is_unknown(value):
        return []
    ttl = as_int(value)
    if ttl is not None and 0 <= ttl <= settings.production_max_ttl:
        return []
    return [
        f"Traffic Manager in {tier.label} must let a rollback reach clients within "
        f"{settings.production_max_ttl} s: set dnsConfig.ttl to at most {settings.production_max_ttl} "
        f"(got {shown(value)})"
    ]


TRAFFIC_MANAGER_PRODUCTION_TTL = PolicyRecord(
    name="traffic-manager-production-ttl",
    description="Production Traffic Manager DNS TTL is short enough for a quick rollback.",
    check=each(TRAFFIC_MANAGER_PROFILE, traffic_manager_production_ttl),
    rule="`dnsConfig.ttl` is at most N s: a rollback reaches clients within it",
    tiers="production",
    config=(MAX_TTL_SECONDS,),
    twin=tiers.TTL_RULE,
)


def traffic_manager_endpoint_weight(props: Mapping[str, Any], settings: Settings) -> list[str]:
    # Checked on disabled endpoints too: Azure refuses a weight outside 1..1000 whatever the
    # status, and 0 % is expressed with endpointStatus Disabled (see stagewise.core.rollout).
    value = dig(props, "weight")
    if value is MISSING or is_unknown(value):
        return []  # Azure gives an endpoint without a weight the weight 1
    weight = as_int(value) if not isinstance(value, str) else None
    if weight is not None and TM_MIN_WEIGHT <= weight <= TM_MAX_WEIGHT:
        return []
    return [
        f"Traffic Manager endpoint weight must be an integer {TM_MIN_WEIGHT}..{TM_MAX_WEIGHT}; "
        f"to send no traffic set endpointStatus to 'Disabled' instead (got {shown(value)})"
    ]


TRAFFIC_MANAGER_ENDPOINT_WEIGHT = PolicyRecord(
    name="traffic-manager-endpoint-weight",
    description="Traffic Manager endpoint weights are integers 1..1000.",
    check=each(TRAFFIC_MANAGER_ENDPOINT, traffic_manager_endpoint_weight),
    rule="`weight`, when set, is an integer 1..1000",
    twin=Validation(
        "regions[].weight 0..limits.TM_MAX_WEIGHT; 0 becomes a disabled endpoint at weight limits.TM_MIN_WEIGHT (rollout.region_endpoints)",
        (config.RegionConfig.model_fields["weight"], rollout.region_endpoints),
    ),
)


def _endpoint_enabled(status: Any) -> bool:
    # Azure's default status is Enabled; an unknown status might be Enabled, so it counts as one
    # (the rule must not fail a stack on a value it cannot see).
    return status != "Disabled"


def _names_profile(endpoint: StackResource, profile: StackResource) -> bool | None:
    """Whether an endpoint belongs to a profile: True, False, or None when it cannot be told yet."""
    if profile.urn in endpoint.property_dependencies.get("profileName", ()):
        return True
    name = dig(endpoint.props, "profileName")
    if name is MISSING or is_unknown(name):
        return None
    profile_names = {dig(profile.props, "profileName"), dig(profile.props, "name")} - {MISSING}
    if not profile_names or any(is_unknown(n) for n in profile_names):
        return None  # an autonamed profile, before its name is known
    if name not in profile_names:
        return False
    groups = (dig(endpoint.props, "resourceGroupName"), dig(profile.props, "resourceGroupName"))
    if MISSING in groups or any(is_unknown(g) for g in groups):
        return True
    return groups[0] == groups[1]


def traffic_manager_enabled_endpoint(resources: Sequence[StackResource]) -> list[StackViolation]:
    """Every Traffic Manager profile has at least one enabled endpoint: a profile whose endpoints
    are all disabled answers DNS queries with nothing, which is an outage, not a rollback."""
    profiles = [r for r in resources if r.type in TRAFFIC_MANAGER_PROFILE]
    endpoints = [r for r in resources if r.type in TRAFFIC_MANAGER_ENDPOINT]
    violations = []
    for profile in profiles:
        inline = dig(profile.props, "endpoints")
        if is_unknown(inline):
            continue
        enabled = any(_endpoint_enabled(dig(e, "endpointStatus")) for e in (inline if isinstance(inline, list) else []))
        undecided = False
        for endpoint in endpoints:
            belongs = _names_profile(endpoint, profile)
            if not _endpoint_enabled(dig(endpoint.props, "endpointStatus")):
                continue
            if belongs:
                enabled = True
            elif belongs is None:
                undecided = True
        if not enabled and not undecided:
            violations.append(
                StackViolation(
                    f"Traffic Manager profile {profile.name!r} has no enabled endpoint, so it would answer "
                    "no DNS queries: keep at least one endpoint with endpointStatus 'Enabled' "
                    "(an abort sends all traffic to the live colour, it never disables both)",
                    profile.urn,
                )
            )
    return violations


TRAFFIC_MANAGER_ENABLED_ENDPOINT = PolicyRecord(
    name="traffic-manager-enabled-endpoint",
    description="Every Traffic Manager profile keeps at least one enabled endpoint.",
    check=OnStack(traffic_manager_enabled_endpoint),
    rule="every profile keeps at least one enabled endpoint",
    twin=Validation("at least one region with a weight above 0", (config.StackConfig._regions_distinct_and_serving,)),
)


def _web_app_region(endpoint: StackResource, index: Mapping[str, StackResource]) -> str | None:
    """The region of the Web App (or slot) an endpoint targets; None when it targets none or cannot be told."""
    targets = sources(endpoint, "targetResourceId", index, WEB_APPS)
    if targets:
        location = dig(targets[0].props, "location")
        return str(location).replace(" ", "").lower() if known(location) else None
    target = dig(endpoint.props, "targetResourceId")
    location = dig(endpoint.props, "endpointLocation")
    if isinstance(target, str) and "/providers/microsoft.web/sites/" in target.lower() and known(location):
        return str(location).replace(" ", "").lower()
    return None


def traffic_manager_one_web_app_per_region(resources: Sequence[StackResource]) -> list[StackViolation]:
    """Traffic Manager endpoints doc, Web Apps as endpoints: "Each Traffic Manager profile can have
    at most one Web App endpoint from each Azure region". A site and its slots share a region."""
    index = by_urn(resources)
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
                violations.append(
                    StackViolation(
                        f"Traffic Manager profile {profile.name!r} has {len(names)} Web App endpoints in region "
                        f"{region!r} ({', '.join(sorted(names))}); Azure allows at most one Web App endpoint per "
                        "region in a profile: target one site per region and split its traffic between the site "
                        "and its slots with the slot traffic rule (siteConfig.experiments.rampUpRules)",
                        profile.urn,
                    )
                )
    return violations


TRAFFIC_MANAGER_ONE_WEB_APP_PER_REGION = PolicyRecord(
    name="traffic-manager-one-web-app-per-region",
    description="A Traffic Manager profile has at most one Web App endpoint per Azure region "
    "(traffic-manager/traffic-manager-endpoint-types.md: 'at most one Web App endpoint from each Azure "
    "region').",
    check=OnStack(traffic_manager_one_web_app_per_region),
    rule="a profile has at most one Web App (site or slot) endpoint per Azure region",
    twin=Validation(
        "region names distinct; the program targets one site per region",
        (config.StackConfig._regions_distinct_and_serving,),
    ),
)


POLICIES: tuple[PolicyRecord, ...] = (
    TRAFFIC_MANAGER_WEIGHTED,
    TRAFFIC_MANAGER_PROBE_PINNED,
    TRAFFIC_MANAGER_HEALTH_PATH,
    TRAFFIC_MANAGER_PRODUCTION_TTL,
    TRAFFIC_MANAGER_ENDPOINT_WEIGHT,
    TRAFFIC_MANAGER_ENABLED_ENDPOINT,
    TRAFFIC_MANAGER_ONE_WEB_APP_PER_REGION,
)
