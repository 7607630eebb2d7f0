"""BlueGreenWebApp: a Linux App Service plan, the web app (colour blue) and its slot (colour green)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import web

from stagewise import limits, naming
from stagewise.rollout import COLOURS, Colour

GREEN_SLOT = "green"
# Settings that describe the colour itself must stay with their slot, never travel with a swap.
STICKY_SETTINGS = ["STAGEWISE_COLOUR"]


@dataclass
class BlueGreenWebAppArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    sku: str
    """App Service plan SKU; Standard tier or higher, since slots need it."""
    instances: int
    """Plan capacity (the starting point when autoscale is on)."""
    image: str
    """Container image without tag."""
    tags_by_colour: dict[Colour, str]
    """Image tag per colour; a colour with no version runs the other colour's tag, idle."""
    log_level: str
    feature_flags: dict[str, bool] = field(default_factory=dict)
    """Become FEATURE_<NAME>=true|false app settings."""
    key_vault_references: dict[str, str] = field(default_factory=dict)
    """App-setting name -> @Microsoft.KeyVault(...) reference; never a secret value."""
    insights_connection_string: pulumi.Input[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)


def app_settings(args: BlueGreenWebAppArgs, colour: Colour) -> list[web.NameValuePairArgs]:
    settings = {
        "STAGEWISE_COLOUR": colour,
        "LOG_LEVEL": args.log_level,
        "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "false",
        **{f"FEATURE_{naming.app_setting_name(flag)}": str(on).lower() for flag, on in sorted(args.feature_flags.items())},
        **args.key_vault_references,
    }
    pairs = [web.NameValuePairArgs(name=k, value=v) for k, v in settings.items()]
    if args.insights_connection_string is not None:
        pairs.append(web.NameValuePairArgs(
            name="APPLICATIONINSIGHTS_CONNECTION_STRING", value=args.insights_connection_string
        ))
    return pairs


def site_config(args: BlueGreenWebAppArgs, colour: Colour) -> web.SiteConfigArgs:
    return web.SiteConfigArgs(
        linux_fx_version=f"DOCKER|{naming.container_image(args.image, args.tags_by_colour[colour])}",
        min_tls_version="1.2",
        ftps_state="Disabled",
        always_on=True,
        health_check_path="/health",
        http20_enabled=True,
        app_settings=app_settings(args, colour),
    )


class BlueGreenWebApp(pulumi.ComponentResource):
    def __init__(self, name: str, args: BlueGreenWebAppArgs, opts: pulumi.ResourceOptions | None = None):
        tier = limits.PLAN_SKUS.get(args.sku)
        if tier is None or tier.slots == 0:
            raise ValueError(f"sku {args.sku!r} has no deployment slots; use Standard tier or higher")
        if args.instances > tier.max_instances:
            raise ValueError(f"instances ({args.instances}) above {tier.max_instances} for {args.sku}")
        for colour in COLOURS:
            if not args.tags_by_colour.get(colour):
                raise ValueError(f"tags_by_colour needs a tag for {colour!r}")
        super().__init__("stagewise:blue_green_web_app:BlueGreenWebApp", name, None, opts)

        plan = web.AppServicePlan(
            f"{name}-plan",
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="linux",
            reserved=True,
            sku=web.SkuDescriptionArgs(name=args.sku, tier=tier.name, capacity=args.instances),
            tags=args.tags,
            # Autoscale owns the capacity once the plan exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["sku.capacity"]),
        )
        # Blue is the web app itself, green its deployment slot: the same site, each colour its own config.
        site = dict(
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="app,linux,container",
            server_farm_id=plan.id,
            https_only=True,
            identity=web.ManagedServiceIdentityArgs(type=web.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        app = web.WebApp(f"{name}-app", site_config=site_config(args, "blue"), **site)
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
        self.site_ids: dict[Colour, pulumi.Output[str]] = {"blue": app.id, "green": slot.id}
        self.principal_ids: dict[Colour, pulumi.Output[str]] = {
            "blue": app.identity.apply(lambda i: i.principal_id if i else ""),
            "green": slot.identity.apply(lambda i: i.principal_id if i else ""),
        }
        self.hostnames: dict[Colour, pulumi.Output[str]] = {
            "blue": app.default_host_name,
            "green": slot.default_host_name,
        }
        self.register_outputs({"plan_id": self.plan_id, "site_ids": self.site_ids, "hostnames": self.hostnames})
