"""BlueGreenWebApp: one region's stamp: a Linux App Service plan, the web app (colour blue), its
deployment slot (colour green) and the slot traffic rule that carries the rollout stage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import web

from stagewise.core import app_environment, limits, naming, tiers
from stagewise.core.rollout import SLOT_COLOUR, Colour

GREEN_SLOT = SLOT_COLOUR
# Settings that describe the colour itself must stay with their slot, never travel with a swap
# (deploy-staging-slots.md, "deployment slot setting").
STICKY_SETTINGS = list(app_environment.PER_COLOUR)


@dataclass
class BlueGreenWebAppArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    site_name: str
    """Physical name of the web app (see stagewise.core.naming.site_name): its slot's host name, the
    traffic rule's target, is derived from it."""
    sku: str
    """App Service plan SKU; Standard tier or higher, since slots need it."""
    instances: int
    """Plan capacity (the starting point when autoscale is on)."""
    image: str
    """Container image without tag."""
    image_tags: dict[Colour, str]
    """Image tag per colour; a colour with no version runs the other colour's tag, idle."""
    log_level: str
    slot_share: int | None = None
    """The green slot's share of the site's traffic, 1..100 (rollout.slot_share); None: no rule."""
    autoscale: bool = False
    """Autoscale owns the plan's capacity; otherwise the program does."""
    identity_id: pulumi.Input[str] | None = None
    """User-assigned identity both colours resolve Key Vault references with (granted beforehand)."""
    grants: Sequence[pulumi.Resource] = field(default_factory=list)
    """The identity's role assignments on the vault: every site and slot waits for them, so that
    no reference is resolved (and cached for up to 24 hours) before the identity may read it."""
    subnet_id: pulumi.Input[str] | None = None
    """Regional VNet integration subnet (delegated to Microsoft.Web/serverFarms); None: no integration."""
    service_name: str = "app"
    """OTEL_SERVICE_NAME of both colours."""
    feature_flags: dict[str, bool] = field(default_factory=dict)
    """Become FEATURE_<NAME>=true|false app settings."""
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
        **args.key_vault_references,
    }
    pairs = [web.NameValuePairArgs(name=k, value=v) for k, v in settings.items()]
    if args.insights_connection_string is not None:
        pairs.append(
            web.NameValuePairArgs(name="APPLICATIONINSIGHTS_CONNECTION_STRING", value=args.insights_connection_string)
        )
    return pairs


def ramp_up_rules(args: BlueGreenWebAppArgs) -> list[web.RampUpRuleArgs]:
    """The production site's slot traffic rule ("Traffic %"): none at 0 %, never an explicit 0 %."""
    if args.slot_share is None:
        return []
    return [
        web.RampUpRuleArgs(
            name=GREEN_SLOT,
            action_host_name=naming.slot_host_name(args.site_name, GREEN_SLOT),
            reroute_percentage=args.slot_share,
        )
    ]


def site_config(args: BlueGreenWebAppArgs, colour: Colour) -> web.SiteConfigArgs:
    return web.SiteConfigArgs(
        linux_fx_version=f"DOCKER|{naming.container_image(args.image, args.image_tags[colour])}",
        min_tls_version=tiers.MIN_TLS_VERSION,
        ftps_state="Disabled",
        always_on=True,
        health_check_path=tiers.HEALTH_PATH,
        http20_enabled=True,
        # app-service-key-vault-references.md: Linux apps reaching a vault through the network
        # "require that the app be explicitly configured to have all traffic route through the
        # virtual network".
        vnet_route_all_enabled=True if args.subnet_id is not None else None,
        app_settings=app_settings(args, colour),
        # Only the production site routes: it always sends the rule list, empty at 0 %, so that
        # removing the rule removes it in Azure too.
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
        if args.slot_share is not None and not 1 <= args.slot_share <= 100:
            raise ValueError(f"slot_share ({args.slot_share}) must be 1..100, or None for no rule")
        if len(args.site_name) > naming.SITE_NAME_MAX:
            raise ValueError(f"site_name {args.site_name!r} is longer than {naming.SITE_NAME_MAX} characters")
        if args.key_vault_references and args.identity_id is None:
            raise ValueError("key_vault_references need identity_id: the identity granted on the vault")
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
            virtual_network_subnet_id=args.subnet_id,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.grants)),
        )
        app = web.WebApp(f"{name}-app", name=args.site_name, site_config=site_config(args, "blue"), **site)
        slot = web.WebAppSlot(
            f"{name}-{GREEN_SLOT}", name=app.name, slot=GREEN_SLOT, site_config=site_config(args, "green"), **site
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
