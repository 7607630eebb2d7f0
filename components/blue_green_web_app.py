"""BlueGreenWebApp: one region's stamp: a Linux App Service plan, the web app (colour blue) and its
deployment slot (colour green). Under the frontDoor edge, which share of traffic each colour gets is not the stamp's
business: the stack's Front Door holds both colours as weighted origins (components/front_door.py), so a stage change
changes no setting of a site and restarts nothing. Under the trafficManager edge (stagewise.core.edges) the site's
slot traffic rule splits the colours, and a stage change is a site configuration change, which restarts the site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import web

from stagewise.core import app_environment, edges, limits, naming, tiers
from stagewise.core.rollout import SLOT_COLOUR, Colour

GREEN_SLOT = SLOT_COLOUR
# Only the colour marker stays with its slot on a swap (deploy-staging-slots.md, "deployment slot
# setting"); the OpenTelemetry identity describes the image, which moves with the swap.
STICKY_SETTINGS = list(app_environment.STICKY)


@dataclass
class ImagePull:
    """How both colours sign in to pull their image (app-service/configure-custom-container.md)."""

    identity_client_id: pulumi.Input[str] | None = None
    """Azure Container Registry: the user-assigned identity's client ID ("acrUserManagedIdentityID"), which
    holds AcrPull on the registry before any site exists."""
    server_url: str | None = None
    """Any other registry: DOCKER_REGISTRY_SERVER_URL, signed in to with the two references below."""
    username_reference: str | None = None
    password_reference: str | None = None
    """@Microsoft.KeyVault(...) references to the user name and password (never the values)."""

    def __post_init__(self) -> None:
        credentials = (self.server_url, self.username_reference, self.password_reference)
        if self.identity_client_id is not None and any(credentials):
            raise ValueError("image pull: either the identity (Azure Container Registry) or credentials, not both")
        if any(credentials) and not all(credentials):
            raise ValueError("image pull: server_url needs username_reference and password_reference")
        if self.identity_client_id is None and not any(credentials):
            raise ValueError("image pull: give identity_client_id or server_url with its references")

    def app_settings(self) -> dict[str, str]:
        if self.server_url is None:
            return {}
        return {
            "DOCKER_REGISTRY_SERVER_URL": self.server_url,
            "DOCKER_REGISTRY_SERVER_USERNAME": self.username_reference or "",
            "DOCKER_REGISTRY_SERVER_PASSWORD": self.password_reference or "",
        }


@dataclass(kw_only=True)
class BlueGreenWebAppArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    site_name: str
    """Physical name of the web app (see stagewise.core.naming.site_name). The host names of the site and
    its slot are read back from Azure (default_host_name), never built from it: deploy-staging-slots.md
    says "the site name is truncated at 40 characters", and newer revisions are said to append random
    characters (an open question in docs/azure-request-path.md), so only Azure knows the slot's name."""
    sku: str
    """App Service plan SKU; Standard tier or higher, since slots need it."""
    instances: int
    """Plan capacity (the starting point when autoscale is on)."""
    image: str
    """Container image without tag, as pulled (with its registry host, stagewise.core.naming.pulled_image)."""
    image_tags: dict[Colour, str]
    """Image tag per colour; a colour with no version runs the other colour's tag, idle."""
    log_level: str
    port: int
    """The port the container listens on (WEBSITES_PORT; stagewise:port)."""
    image_pull: ImagePull | None = None
    """How the image is pulled with authentication; None: anonymously (a public image)."""
    autoscale: bool = False
    """Autoscale owns the plan's capacity; otherwise the program does."""
    identity_id: pulumi.Input[str] | None = None
    """User-assigned identity both colours resolve Key Vault references with (granted beforehand)."""
    grants: Sequence[pulumi.Resource] = field(default_factory=list)
    """The identity's role assignments (vault, registry) and the wait until they take effect
    (components/grant_propagation.py): every site and slot is created after them, so that no reference is
    resolved (and cached for up to 24 hours), and no image pulled, before the identity may."""
    edge: edges.Edge = edges.FRONT_DOOR
    """Which edge reaches the apps (stagewise:traffic.edge): who they admit follows it (edges.access)."""
    front_door_id: pulumi.Input[str] | None = None
    """frontDoor edge: the stack's Front Door profile's ID (its frontDoorId), the X-Azure-FDID value the only allowed
    clients send: site and slot answer nothing else (frontdoor/origin-security.md)."""
    slot_share: int | None = None
    """trafficManager edge: the percentage of the site's clients routed to the slot (edges.slot_percentage); None: no
    rule. Always None under Front Door."""
    parked: dict[Colour, bool] = field(default_factory=lambda: {"blue": False, "green": False})
    """Colour -> parked (stagewise.core.origins.parked): no share of traffic and no version of its own. A parked colour
    admits no request at all, Front Door's included, so its origin fails the health probes at every edge within a few
    probe intervals, whatever configuration that edge holds: the fast path of an abort."""
    scm_allowed_ips: Sequence[str] = ()
    """IPv4 addresses or CIDR ranges allowed to the SCM (Kudu) site of site and slot (stagewise:appService.scmAllowedIps);
    none: the SCM site denies everyone."""
    subnet_id: pulumi.Input[str] | None = None
    """Regional VNet integration subnet (delegated to Microsoft.Web/serverFarms); None: no integration."""
    service_name: str = "app"
    """OTEL_SERVICE_NAME of both colours."""
    feature_flags: dict[str, bool]
    """Become FEATURE_<NAME>=true|false app settings (stagewise:featureFlags)."""
    key_vault_references: dict[str, str] = field(default_factory=dict)
    """App-setting name -> @Microsoft.KeyVault(...) reference; never a secret value."""
    insights_connection_string: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)


def app_settings(args: BlueGreenWebAppArgs, colour: Colour) -> list[web.NameValuePairArgs]:
    settings = {
        # Application Insights records service.version on every request (application_Version),
        # which the rollout alerts split by (stagewise.core.alert_rules).
        **app_environment.colour_environment(
            colour,
            args.image_tags[colour],
            service=args.service_name,
            log_level=args.log_level,
            feature_flags=args.feature_flags,
        ),
        "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "false",
        # The docs disagree on the default (80 or 8080): set it, the same port as on Kubernetes.
        "WEBSITES_PORT": str(args.port),
        **(args.image_pull.app_settings() if args.image_pull else {}),
        **args.key_vault_references,
    }
    pairs = [web.NameValuePairArgs(name=k, value=v) for k, v in settings.items()]
    if args.insights_connection_string is not None:
        pairs.append(
            web.NameValuePairArgs(name="APPLICATIONINSIGHTS_CONNECTION_STRING", value=args.insights_connection_string)
        )
    return pairs


def front_door_only(front_door_id: pulumi.Input[str]) -> list[web.IpSecurityRestrictionArgs]:
    """The one rule that lets requests in: from Front Door's backend addresses AND carrying this profile's ID.
    The service tag alone admits every Front Door profile, "other Azure customers use the same IP addresses"
    (frontdoor/origin-security.md); "Restrict access to a specific Azure Front Door instance with a service tag
    rule and X-Azure-FDID header restriction" (app-service/overview-access-restrictions.md)."""
    return [
        web.IpSecurityRestrictionArgs(
            name="front-door",
            action=limits.ACCESS_ALLOW,
            tag=limits.SERVICE_TAG,
            ip_address=limits.AFD_BACKEND_SERVICE_TAG,
            headers={limits.AFD_ID_HEADER: [front_door_id]},
            priority=100,
        )
    ]


def traffic_manager_probes() -> list[web.IpSecurityRestrictionArgs]:
    """Traffic Manager's probes by their service tag ("AzureTrafficManager | Azure Traffic Manager probe IP addresses",
    virtual-network/service-tags-overview.md). The default action stays Allow: Traffic Manager only answers DNS and
    "The client connects to the application service endpoint directly, not through Traffic Manager"
    (traffic-manager/traffic-manager-how-it-works.md), so the
    public must reach the site; the rule keeps the probes in if an operator narrows the default."""
    return [
        web.IpSecurityRestrictionArgs(
            name="traffic-manager-probes",
            action=limits.ACCESS_ALLOW,
            tag=limits.SERVICE_TAG,
            ip_address=edges.TM_SERVICE_TAG,
            priority=100,
        )
    ]


def ramp_up_rules(args: BlueGreenWebAppArgs) -> list[web.RampUpRuleArgs]:
    """The production site's slot traffic rule ("Traffic %", deploy-staging-slots.md, "Route production traffic
    automatically"): the percentage of clients routed to the slot, whose host name is `<site>-<slot>.azurewebsites.net`
    (edges.slot_host_name). None at 0 %: a rule kept at an explicit 0 % still routes clients pinned to the slot."""
    if args.slot_share is None:
        return []
    return [
        web.RampUpRuleArgs(
            name=GREEN_SLOT,
            action_host_name=edges.slot_host_name(args.site_name, GREEN_SLOT),
            reroute_percentage=args.slot_share,
        )
    ]


def _admits(args: BlueGreenWebAppArgs, colour: Colour) -> tuple[list[web.IpSecurityRestrictionArgs], str]:
    """The access restriction rules and default action of a colour (edges.access)."""
    who = edges.access(args.edge, colour, args.parked[colour])
    if who == "closed":
        return [], limits.ACCESS_DENY
    if who == "public":
        return traffic_manager_probes(), limits.ACCESS_ALLOW
    assert args.front_door_id is not None
    return front_door_only(args.front_door_id), limits.ACCESS_DENY


def scm_rules(addresses: Sequence[str]) -> list[web.IpSecurityRestrictionArgs]:
    """The deployers' addresses, one allow rule each; anything else meets the SCM site's default action (Deny)."""
    return [
        web.IpSecurityRestrictionArgs(
            name=f"deployer-{index}", action=limits.ACCESS_ALLOW, ip_address=naming.cidr(address), priority=100 + index
        )
        for index, address in enumerate(addresses)
    ]


def site_config(args: BlueGreenWebAppArgs, colour: Colour) -> web.SiteConfigArgs:
    pull_identity = args.image_pull.identity_client_id if args.image_pull else None
    rules, default_action = _admits(args, colour)
    return web.SiteConfigArgs(
        # Only Front Door reaches the app (default action Deny), and the SCM site has rules of its own: "The advanced
        # tools site, which is also known as scm or kudu, has an individual rules collection", unless it "use[s] the
        # rules configured for the main site" (app-service/overview-access-restrictions.md), which we never do: Front
        # Door has no business on it.
        # Under Traffic Manager the site and slot are public instead (edges.access), probes admitted by their tag.
        ip_security_restrictions=rules,
        ip_security_restrictions_default_action=default_action,
        scm_ip_security_restrictions=scm_rules(args.scm_allowed_ips),
        scm_ip_security_restrictions_default_action=limits.ACCESS_DENY,
        scm_ip_security_restrictions_use_main=False,
        linux_fx_version=f"DOCKER|{naming.container_image(args.image, args.image_tags[colour])}",
        min_tls_version=tiers.MIN_TLS_VERSION,
        ftps_state="Disabled",
        always_on=True,
        health_check_path=tiers.HEALTH_PATH,
        http20_enabled=True,
        # configure-custom-container.md, "Use managed identity to pull an image from Azure Container Registry".
        acr_use_managed_identity_creds=True if pull_identity else None,
        acr_user_managed_identity_id=pull_identity,
        app_settings=app_settings(args, colour),
        # Front Door: no slot traffic rule, ever: the production site sends an empty list, constant, so that a rule
        # left from an earlier version of the stack is removed once and no stage change touches the site. Traffic
        # Manager: the rule carries the colour split (a configuration change: the site restarts on each stage change).
        experiments=web.ExperimentsArgs(ramp_up_rules=ramp_up_rules(args)) if colour != GREEN_SLOT else None,
    )


class BlueGreenWebApp(pulumi.ComponentResource):
    def __init__(self, name: str, args: BlueGreenWebAppArgs, opts: pulumi.ResourceOptions | None = None):
        tier = limits.PLAN_SKUS.get(args.sku)
        if tier is None or tier.slots == 0:
            raise ValueError(f"sku {args.sku!r} has no deployment slots; use Standard tier or higher")
        if args.instances > tier.max_instances:
            raise ValueError(f"instances ({args.instances}) above {tier.max_instances} for {args.sku}")
        app_environment.check_image_tags(args.image_tags)
        if not 1 <= args.port <= 65535:
            raise ValueError(f"port ({args.port}) must be 1..65535")
        if args.image_pull and args.image_pull.identity_client_id is not None and args.identity_id is None:
            raise ValueError("image_pull with an identity needs identity_id: the identity granted AcrPull")
        if len(args.site_name) > naming.SITE_NAME_MAX:
            raise ValueError(f"site_name {args.site_name!r} is longer than {naming.SITE_NAME_MAX} characters")
        if args.key_vault_references and args.identity_id is None:
            raise ValueError("key_vault_references need identity_id: the identity granted on the vault")
        if args.edge == edges.FRONT_DOOR and args.front_door_id is None:
            raise ValueError("the frontDoor edge needs front_door_id: the profile whose requests the apps admit")
        if args.edge == edges.FRONT_DOOR and args.slot_share is not None:
            raise ValueError("slot_share is the trafficManager edge's: under Front Door the origins carry the stage")
        if args.slot_share is not None and not 1 <= args.slot_share <= 100:
            raise ValueError(f"slot_share ({args.slot_share}) must be 1..100, or None for no rule")
        super().__init__("stagewise:blue_green_web_app:BlueGreenWebApp", name, None, opts)

        plan = web.AppServicePlan(
            f"{name}-plan",
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="linux",
            reserved=True,
            sku=web.SkuDescriptionArgs(name=args.sku, tier=tier.name, capacity=args.instances),
            tags=args.tags,
            # Autoscale owns the capacity once the plan exists; without autoscale the stack does.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["sku.capacity"] if args.autoscale else None),
        )
        # Blue is the web app itself, green its deployment slot: the same site, each colour its own config.
        identity = (
            web.ManagedServiceIdentityArgs(
                type=web.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[args.identity_id],
            )
            if args.identity_id is not None
            else web.ManagedServiceIdentityArgs(type=web.ManagedServiceIdentityType.SYSTEM_ASSIGNED)
        )
        site = dict(
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="app,linux,container",
            server_farm_id=plan.id,
            https_only=True,
            identity=identity,
            key_vault_reference_identity=args.identity_id,
            # The one integration mechanism: the inline property, never also a WebAppSwiftVirtualNetworkConnection.
            # pulumi-azure-native reads the integration the inline property already made before creating the
            # connection and refuses it ("cannot create already existing resource", pulumi-azure-native#866), and
            # Microsoft says the two "cannot" be used together (terraform-provider-azurerm#17930). Policy
            # webapp-one-vnet-integration.
            virtual_network_subnet_id=args.subnet_id,
            # configure-vnet-integration-routing.md: "Application traffic only
            # (`outboundVnetRouting.applicationTraffic`)", so the vault is reached over the subnet, while
            # "configuration traffic continues to use the public route" (image pulls need no NAT).
            outbound_vnet_routing=web.OutboundVnetRoutingArgs(application_traffic=True)
            if args.subnet_id is not None
            else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.grants)),
        )
        app = web.WebApp(f"{name}-app", name=args.site_name, site_config=site_config(args, "blue"), **site)
        slot = web.WebAppSlot(
            f"{name}-{GREEN_SLOT}", name=app.name, slot=GREEN_SLOT, site_config=site_config(args, "green"), **site
        )
        # Basic (publishing-credential) authentication off, for SCM and FTP, on site and slot: each flag is its own
        # resource (app-service/configure-basic-auth-disable.md: "basicPublishingCredentialsPolicies/ftp" and
        # ".../scm"). Deployments sign in with Microsoft Entra ID instead.
        for policy, site_resource, slot_resource in (
            ("scm", web.WebAppScmAllowed, web.WebAppScmAllowedSlot),
            ("ftp", web.WebAppFtpAllowed, web.WebAppFtpAllowedSlot),
        ):
            site_resource(
                f"{name}-{policy}-basic-auth",
                name=app.name,
                resource_group_name=args.resource_group_name,
                allow=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            slot_resource(
                f"{name}-{GREEN_SLOT}-{policy}-basic-auth",
                name=app.name,
                slot=GREEN_SLOT,
                resource_group_name=args.resource_group_name,
                allow=False,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[slot]),
            )
        web.WebAppSlotConfigurationNames(
            f"{name}-sticky",
            name=app.name,
            resource_group_name=args.resource_group_name,
            app_setting_names=STICKY_SETTINGS,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.plan_id: pulumi.Output[str] = plan.id
        self.site_id: pulumi.Output[str] = app.id
        self.site_ids: dict[Colour, pulumi.Output[str]] = {"blue": app.id, "green": slot.id}
        self.hostnames: dict[Colour, pulumi.Output[str]] = {
            "blue": app.default_host_name,
            "green": slot.default_host_name,
        }
        self.register_outputs({"plan_id": self.plan_id, "site_ids": self.site_ids, "hostnames": self.hostnames})
