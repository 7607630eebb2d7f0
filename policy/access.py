"""Who may reach a web app or slot: only this stack's Front Door on the site (the frontDoor edge; on the trafficManager
edge the public and Traffic Manager's probes), only the deployers on the SCM site, and no basic
(publishing-credential) authentication, for SCM or FTP."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from stagewise.core import config, edges, limits
from stagewise.policy.inputs import (
    MISSING,
    StackResource,
    StackViolation,
    app_keys,
    dig,
    is_unknown,
    known,
    shown,
    stack_edge,
)
from stagewise.policy.record import OnStack, PolicyRecord, ResourcesOnly, Validation, each
from stagewise.policy.resource_types import FRONT_DOOR_PROFILE, PUBLISHING_POLICIES, WEB_APP, WEB_APPS
from stagewise.policy.settings import Settings


def _rules(props: Mapping[str, Any], key: str) -> list[Any] | None:
    """The access restriction rules at siteConfig.<key>; None when not known yet."""
    rules = dig(props, "siteConfig", key)
    if is_unknown(rules):
        return None
    return rules if isinstance(rules, list) else []


def _allows(rule: Any) -> bool:
    """An access restriction rule's action defaults to Allow (Microsoft.Web IpSecurityRestriction)."""
    action = dig(rule, "action")
    return action is MISSING or (known(action) and str(action).lower() == limits.ACCESS_ALLOW.lower())


def _front_door_rule(rule: Any) -> bool:
    """The service tag AND a non-empty X-Azure-FDID (header names are case-insensitive)."""
    tag, address = dig(rule, "tag"), dig(rule, "ipAddress")
    if not (known(tag) and str(tag) == limits.SERVICE_TAG):
        return False
    if not (known(address) and str(address).lower() == limits.AFD_BACKEND_SERVICE_TAG.lower()):
        return False
    headers = dig(rule, "headers")
    if is_unknown(headers):
        return True
    ids = (
        {str(k).lower(): v for k, v in headers.items()}.get(limits.AFD_ID_HEADER)
        if isinstance(headers, Mapping)
        else None
    )
    if is_unknown(ids):
        return True
    return isinstance(ids, list) and bool(ids) and all(is_unknown(i) or (isinstance(i, str) and i.strip()) for i in ids)


def _deny_by_default(props: Mapping[str, Any], key: str) -> bool:
    value = dig(props, "siteConfig", key)
    return is_unknown(value) or (known(value) and str(value) == limits.ACCESS_DENY)


def webapp_front_door_only(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """frontdoor/origin-security.md: block traffic that hasn't come through your Front Door, with the
    AzureFrontDoor.Backend service tag and the X-Azure-FDID header together (the tag alone admits every profile:
    "other Azure customers use the same IP addresses")."""
    found = []
    if not _deny_by_default(props, "ipSecurityRestrictionsDefaultAction"):
        found.append(
            "web app must answer only Front Door: set siteConfig.ipSecurityRestrictionsDefaultAction to 'Deny' "
            f"(got {shown(dig(props, 'siteConfig', 'ipSecurityRestrictionsDefaultAction'))})"
        )
    rules = _rules(props, "ipSecurityRestrictions")
    for rule in rules or []:
        if _allows(rule) and not _front_door_rule(rule):
            found.append(
                f"web app must answer only this stack's Front Door: access restriction {shown(dig(rule, 'name'))} "
                f"allows {shown(dig(rule, 'ipAddress'))}; the only allow rule is tag 'ServiceTag', ipAddress "
                f"'{limits.AFD_BACKEND_SERVICE_TAG}' with headers['{limits.AFD_ID_HEADER}'] = [the profile's frontDoorId]"
            )
    return found


def webapp_front_door_only_on_stack(resources: Sequence[StackResource]) -> list[StackViolation]:
    """webapp_front_door_only on every web app and slot of a stack on the frontDoor edge (stack_edge). Under Traffic
    Manager the apps are public by design: it answers DNS only, and "The client connects to the application service
    endpoint directly, not through Traffic Manager" (traffic-manager/traffic-manager-how-it-works.md)."""
    if stack_edge(resources) != edges.FRONT_DOOR:
        return []
    return [
        StackViolation(f"web app {app.name!r}: {message}", app.urn)
        for app in resources
        if app.type in WEB_APPS
        for message in webapp_front_door_only(app.props, Settings())
    ]


WEBAPP_FRONT_DOOR_ONLY = PolicyRecord(
    name="webapp-front-door-only",
    description="On the frontDoor edge, web apps and slots answer only the stack's Front Door: default action Deny, and "
    "the only allow rule is the AzureFrontDoor.Backend service tag with an X-Azure-FDID header "
    "(frontdoor/origin-security.md: use the service tag and the header together; "
    "app-service/overview-access-restrictions.md: 'Restrict access to a specific Azure Front Door instance with a "
    "service tag rule and X-Azure-FDID header restriction').",
    check=OnStack(webapp_front_door_only_on_stack),
    rule="on a stack with a Front Door profile (or no Traffic Manager profile): "
    "`siteConfig.ipSecurityRestrictionsDefaultAction` is `Deny`; every allow rule is the `AzureFrontDoor.Backend` "
    "service tag with a non-empty `x-azure-fdid` header",
    twin=Validation(
        "traffic.edge frontDoor (the default): edges.access admits only the profile's ID",
        (config.TrafficConfig.model_fields["edge"], edges.access),
    ),
)


def _traffic_manager_rule(rule: Any) -> bool:
    tag, address = dig(rule, "tag"), dig(rule, "ipAddress")
    return (
        known(tag)
        and str(tag) == limits.SERVICE_TAG
        and known(address)
        and str(address).lower() == edges.TM_SERVICE_TAG.lower()
    )


def webapp_traffic_manager_probes(resources: Sequence[StackResource]) -> list[StackViolation]:
    """traffic-manager/traffic-manager-monitoring.md: an endpoint whose probe fails is Degraded and leaves DNS. Each
    region's endpoint is its production site, so on the trafficManager edge the site admits the probes: an allow rule
    on the `AzureTrafficManager` service tag ("Azure Traffic Manager probe IP addresses",
    virtual-network/service-tags-overview.md), and, since "The client connects to the application service endpoint directly, not through Traffic Manager"
    (traffic-manager/traffic-manager-how-it-works.md), the public (default action Allow)."""
    if stack_edge(resources) != edges.TRAFFIC_MANAGER:
        return []
    violations = []
    for site in (r for r in resources if r.type == WEB_APP):
        rules = _rules(site.props, "ipSecurityRestrictions")
        default = dig(site.props, "siteConfig", "ipSecurityRestrictionsDefaultAction")
        if rules is None or is_unknown(default):
            continue
        if not any(_allows(rule) and _traffic_manager_rule(rule) for rule in rules):
            violations.append(
                StackViolation(
                    f"web app {site.name!r} is a Traffic Manager endpoint but has no allow rule for its probes: add tag "
                    f"'{limits.SERVICE_TAG}', ipAddress '{edges.TM_SERVICE_TAG}'",
                    site.urn,
                )
            )
        if default is not MISSING and str(default) != limits.ACCESS_ALLOW:
            violations.append(
                StackViolation(
                    f"web app {site.name!r} is a Traffic Manager endpoint, and Traffic Manager only answers DNS: the "
                    f"clients connect to the site itself, so set ipSecurityRestrictionsDefaultAction to "
                    f"'{limits.ACCESS_ALLOW}' (got {shown(default)})",
                    site.urn,
                )
            )
    return violations


WEBAPP_TRAFFIC_MANAGER_PROBES = PolicyRecord(
    name="webapp-traffic-manager-probes",
    description="On the trafficManager edge, every production site admits Traffic Manager's probes by the "
    "AzureTrafficManager service tag (virtual-network/service-tags-overview.md) and the public, since Traffic Manager "
    "answers DNS only and 'The client connects to the application service endpoint directly, not through Traffic Manager' "
    "(traffic-manager/traffic-manager-how-it-works.md).",
    check=OnStack(webapp_traffic_manager_probes),
    rule="on a stack with a Traffic Manager profile and no Front Door profile: each site has an allow rule on the "
    "`AzureTrafficManager` service tag and `ipSecurityRestrictionsDefaultAction` `Allow`",
    twin=Validation(
        "traffic.edge trafficManager: edges.access makes the sites public, the probes admitted by tag",
        (config.TrafficConfig.model_fields["edge"], edges.access),
    ),
)


def webapp_front_door_id_from_profile(resources: Sequence[StackResource]) -> list[StackViolation]:
    """frontdoor/origin-security.md: the origin rejects requests whose X-Azure-FDID is not its own profile's ID. An
    app that admits Front Door takes the ID from this stack's profile (its frontDoorId output), never a typed value
    that another profile, or none, could carry."""
    profiles = {r.urn for r in resources if r.type in FRONT_DOOR_PROFILE}
    if not profiles:
        return []
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        rules = _rules(app.props, "ipSecurityRestrictions") or []
        if not any(_allows(rule) and _front_door_rule(rule) for rule in rules):
            continue
        if not profiles & set(app.property_dependencies.get("siteConfig", ())):
            violations.append(
                StackViolation(
                    f"web app {app.name!r} admits an X-Azure-FDID that does not come from this stack's Front Door "
                    "profile: set headers['x-azure-fdid'] to the profile's frontDoorId output",
                    app.urn,
                )
            )
    return violations


WEBAPP_FRONT_DOOR_ID_FROM_PROFILE = PolicyRecord(
    name="webapp-front-door-id-from-profile",
    description="A web app's X-Azure-FDID rule takes its value from the stack's own Front Door profile "
    "(frontdoor/origin-security.md: the origin rejects requests whose X-Azure-FDID is not its profile's identifier).",
    check=OnStack(webapp_front_door_id_from_profile),
    rule="an app that admits Front Door reads `x-azure-fdid` from the stack's `cdn:Profile` (`frontDoorId`)",
    twin=ResourcesOnly("a reference between resources; components/blue_green_web_app.py takes the profile's output"),
)


def _deployer_rule(rule: Any) -> bool:
    """An IPv4 address range of someone's own, neither a service tag (shared by every Azure customer) nor everyone."""
    tag, address = dig(rule, "tag"), dig(rule, "ipAddress")
    if known(tag) and str(tag) == limits.SERVICE_TAG:
        return False
    if is_unknown(address):
        return True
    try:
        network = ipaddress.IPv4Network(str(address), strict=False)
    except ValueError:
        return False
    return network.prefixlen > 0


def webapp_scm_restricted(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """app-service/overview-access-restrictions.md: "The advanced tools site, which is also known as scm or kudu, has
    an individual rules collection that you can configure", with its own unmatched rule: deny, except the deployers."""
    found = []
    use_main = dig(props, "siteConfig", "scmIpSecurityRestrictionsUseMain")
    if known(use_main) and use_main is not False:
        found.append(
            "web app's SCM site must have rules of its own: set siteConfig.scmIpSecurityRestrictionsUseMain to false "
            f"(got {shown(use_main)})"
        )
    if not _deny_by_default(props, "scmIpSecurityRestrictionsDefaultAction"):
        found.append(
            "web app's SCM site must deny by default: set siteConfig.scmIpSecurityRestrictionsDefaultAction to 'Deny' "
            f"(got {shown(dig(props, 'siteConfig', 'scmIpSecurityRestrictionsDefaultAction'))})"
        )
    for rule in _rules(props, "scmIpSecurityRestrictions") or []:
        if _allows(rule) and not _deployer_rule(rule):
            found.append(
                f"web app's SCM site must admit only the deployers' addresses: rule {shown(dig(rule, 'name'))} allows "
                f"{shown(dig(rule, 'ipAddress'))}; list IPv4 addresses or ranges in stagewise:appService.scmAllowedIps"
            )
    return found


WEBAPP_SCM_RESTRICTED = PolicyRecord(
    name="webapp-scm-restricted",
    description="The SCM (Kudu) site of web apps and slots has rules of its own, denies by default and admits only IPv4 "
    "addresses or ranges (app-service/overview-access-restrictions.md: the advanced tools site 'has an individual "
    "rules collection').",
    check=each(WEB_APPS, webapp_scm_restricted),
    rule="`scmIpSecurityRestrictionsUseMain` is not true, `scmIpSecurityRestrictionsDefaultAction` is `Deny`, every SCM "
    "allow rule is an IPv4 address or range (no service tag, not everyone)",
    twin=Validation(
        "appService.scmAllowedIps are IPv4 addresses or CIDR ranges; the SCM site denies everything else",
        (config.AppServiceConfig.model_fields["scm_allowed_ips"],),
    ),
)


def webapp_basic_auth_off(resources: Sequence[StackResource]) -> list[StackViolation]:
    """app-service/configure-basic-auth-disable.md: basic authentication "is controlled by the
    basicPublishingCredentialsPolicies/ftp flag" for FTP and "by the basicPublishingCredentialsPolicies/scm flag" for
    the other methods: each flag, for each site and slot, is declared with allow false."""
    off: dict[str, set[tuple[str, str]]] = {kind: set() for kind in limits.PUBLISHING_POLICIES}
    violations = []
    for resource in resources:
        for kind, types in PUBLISHING_POLICIES.items():
            if resource.type not in types:
                continue
            slot = dig(resource.props, "slot") if resource.type == types[1] else MISSING
            allow = dig(resource.props, "allow")
            if is_unknown(allow) or allow is False:
                off[kind] |= app_keys(resource, slot)
            else:
                violations.append(
                    StackViolation(
                        f"{kind.upper()} basic authentication must be off: set allow to false on {resource.name!r} "
                        f"(got {shown(allow)})",
                        resource.urn,
                    )
                )
    for app in (r for r in resources if r.type in WEB_APPS):
        slot = dig(app.props, "slot") if app.type == "azure-native:web:WebAppSlot" else MISSING
        keys = app_keys(app, slot)
        for kind in limits.PUBLISHING_POLICIES:
            if not keys & off[kind]:
                kinds = PUBLISHING_POLICIES[kind]
                violations.append(
                    StackViolation(
                        f"web app {app.name!r} leaves {kind.upper()} basic authentication on (the platform's default): "
                        f"declare a {(kinds[1] if slot is not MISSING else kinds[0]).split(':')[-1]} with allow false",
                        app.urn,
                    )
                )
    return violations


WEBAPP_BASIC_AUTH_OFF = PolicyRecord(
    name="webapp-basic-auth-off",
    description="Basic (publishing-credential) authentication is off for SCM and FTP on every web app and slot "
    "(app-service/configure-basic-auth-disable.md: the basicPublishingCredentialsPolicies/scm and /ftp flags).",
    check=OnStack(webapp_basic_auth_off),
    rule="every site and slot has `WebAppScmAllowed(Slot)` and `WebAppFtpAllowed(Slot)` with `allow` false",
    twin=ResourcesOnly("no config key; components/blue_green_web_app.py always turns both off"),
)


POLICIES: tuple[PolicyRecord, ...] = (
    WEBAPP_FRONT_DOOR_ONLY,
    WEBAPP_FRONT_DOOR_ID_FROM_PROFILE,
    WEBAPP_TRAFFIC_MANAGER_PROBES,
    WEBAPP_SCM_RESTRICTED,
    WEBAPP_BASIC_AUTH_OFF,
)
