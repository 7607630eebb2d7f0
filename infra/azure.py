"""The Azure stacks (dev, staging, production): one environment, a stamp per region, one global entry.

Order matters on a real subscription: the identity first; then the vault and the registry with the
identity's grants (and, when the vault denies by default, the regions' integration subnets on its
allow-list); then the wait until those grants take effect; only then the sites; then the check that
their Key Vault references resolved; and the edge: the Front Door that weighs every region's two colours, or (with
stagewise:traffic.edge trafficManager) a weighted Traffic Manager profile over the regions' sites. A
request's path is in docs/azure-request-path.md.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

from stagewise.components.app_identity import AppIdentity, AppIdentityArgs
from stagewise.components.autoscale import Autoscale, AutoscaleArgs
from stagewise.components.blue_green_web_app import BlueGreenWebApp, BlueGreenWebAppArgs, ImagePull
from stagewise.components.container_registry import ContainerRegistry, ContainerRegistryArgs
from stagewise.components.environment import Environment, EnvironmentArgs
from stagewise.components.front_door import FrontDoor, FrontDoorArgs
from stagewise.components.front_door_profile import FrontDoorProfile, FrontDoorProfileArgs
from stagewise.components.grant_propagation import GrantPropagation, GrantPropagationArgs
from stagewise.components.reference_check import ReferenceCheck, ReferenceCheckArgs
from stagewise.components.region_network import RegionNetwork, RegionNetworkArgs
from stagewise.components.rollout_alerts import RolloutAlerts, RolloutAlertsArgs
from stagewise.components.rollout_workbook import RolloutWorkbook, RolloutWorkbookArgs
from stagewise.components.secret_vault import SecretVault, SecretVaultArgs
from stagewise.components.traffic_split import TrafficSplit, TrafficSplitArgs
from stagewise.core import alert_rules, edges, naming, origins, rollout, workbook
from stagewise.core.config import StackConfig, address_spaces, integration_subnet


def build(cfg: StackConfig, project: str, stack: str) -> dict[str, pulumi.Input]:
    tags = naming.resource_tags(
        environment=cfg.environment, project=project, stack=stack, owner=cfg.owner, cost_centre=cfg.cost_centre
    )
    client = authorization.get_client_config_output()
    release = cfg.rollout_release
    shares = rollout.traffic(release, cfg.catalog)
    seed = cfg.name_seed or ""  # never None on Azure: the validator refuses a stack without one
    vault_name = naming.vault_name(project, stack, "secrets", cfg.vault.name_suffix, seed=seed)
    firewalled = cfg.vault.network_default_action == "Deny"

    env = Environment("env", EnvironmentArgs(location=cfg.location, tags=tags, protect=cfg.protect))
    identity = AppIdentity(
        "app",
        AppIdentityArgs(
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            tags=tags,
        ),
    )
    spaces = address_spaces(cfg.regions)
    networks = (
        {
            # A firewalled vault is reached from each region's integration subnet, so each region has one.
            region.name: RegionNetwork(
                f"net-{region.name}",
                RegionNetworkArgs(
                    resource_group_name=env.resource_group_name,
                    location=region.name,
                    address_space=spaces[region.name],
                    subnet_prefix=integration_subnet(spaces[region.name]),
                    tags=tags,
                ),
            )
            for region in cfg.regions
        }
        if firewalled
        else {}
    )
    vault = SecretVault(
        "secrets",
        SecretVaultArgs(
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            vault_name=vault_name,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            retention_days=cfg.vault.retention_days,
            purge_protection=cfg.vault.purge_protection,
            network_default_action=cfg.vault.network_default_action,
            allowed_ips=cfg.vault.allowed_ips,
            allowed_subnet_ids=[n.subnet_id for n in networks.values()],
            secrets={name: pulumi.Output.secret(value.reveal()) for name, value in cfg.secrets.items()},
            readers={"app": identity.principal_id},
            tags=tags,
            protect=cfg.protect,
        ),
    )
    references = {
        naming.app_setting_name(secret): naming.key_vault_reference(vault_name, secret) for secret in cfg.secrets
    }
    grants = list(vault.grants)
    login_server = cfg.login_server(project, stack)
    image_pull: ImagePull | None = None
    if cfg.registry.pull == "identity":
        registry = ContainerRegistry(
            "registry",
            ContainerRegistryArgs(
                resource_group_name=env.resource_group_name,
                location=cfg.location,
                subscription_id=client.subscription_id,
                reader_principal_id=identity.principal_id,
                registry_id=cfg.registry.acr_id,
                name=None if cfg.registry.acr_id else naming.registry_name(project, stack, seed),
                tags=tags,
            ),
        )
        grants.append(registry.grant)
        image_pull = ImagePull(identity_client_id=identity.client_id)
    elif cfg.registry.pull == "credentials":
        assert cfg.registry.server and cfg.registry.username_secret and cfg.registry.password_secret
        image_pull = ImagePull(
            server_url=f"https://{cfg.registry.server}",
            username_reference=naming.key_vault_reference(vault_name, cfg.registry.username_secret),
            password_reference=naming.key_vault_reference(vault_name, cfg.registry.password_secret),
        )
    # Sites are created only once the grants are effective, not merely created.
    propagation = GrantPropagation("grants", GrantPropagationArgs(grants=grants))
    edge = cfg.traffic.edge
    # Front Door: the profile before the sites, which admit only requests that carry its ID (X-Azure-FDID).
    profile = (
        FrontDoorProfile("edge", FrontDoorProfileArgs(resource_group_name=env.resource_group_name, tags=tags))
        if edge == edges.FRONT_DOOR
        else None
    )
    parked = origins.parked(release, cfg.catalog)
    stamps: dict[str, BlueGreenWebApp] = {}
    for region in cfg.regions:
        stamps[region.name] = BlueGreenWebApp(
            f"web-{region.name}",
            BlueGreenWebAppArgs(
                resource_group_name=env.resource_group_name,
                location=region.name,
                site_name=naming.site_name(project, stack, region.name, seed=seed),
                sku=cfg.app_service.sku,
                instances=cfg.autoscale.default if cfg.autoscale.enabled else cfg.app_service.instances,
                autoscale=cfg.autoscale.enabled,
                image=naming.pulled_image(cfg.release.image, login_server),
                image_tags=rollout.versions_by_colour(release),
                log_level=cfg.log_level,
                port=cfg.port,
                image_pull=image_pull,
                service_name=cfg.release.image.rsplit("/", 1)[-1],
                feature_flags=cfg.feature_flags,
                key_vault_references=references,
                identity_id=identity.id,
                # The secrets too: a reference to a secret not created yet does not resolve, and App Service keeps
                # "the reference string" until it refetches, "every 24 hours" (app-service-key-vault-references.md).
                grants=[*grants, propagation.wait, *vault.secrets],
                subnet_id=networks[region.name].subnet_id if firewalled else None,
                edge=edge,
                front_door_id=profile.front_door_id if profile else None,
                slot_share=edges.slot_percentage(edge, shares),
                parked=parked,
                scm_allowed_ips=cfg.app_service.scm_allowed_ips,
                insights_connection_string=env.insights_connection_string,
                tags=tags,
            ),
        )
        if cfg.autoscale.enabled:
            Autoscale(
                f"scale-{region.name}",
                AutoscaleArgs(
                    resource_group_name=env.resource_group_name,
                    location=region.name,
                    target_resource_id=stamps[region.name].plan_id,
                    minimum=cfg.autoscale.minimum,
                    default=cfg.autoscale.default,
                    maximum=cfg.autoscale.maximum,
                    cpu_scale_out=cfg.autoscale.cpu_scale_out,
                    cpu_scale_in=cfg.autoscale.cpu_scale_in,
                    cooldown_minutes=cfg.autoscale.cooldown_minutes,
                    tags=tags,
                ),
            )
    reference_settings = sorted(references) + (
        ["DOCKER_REGISTRY_SERVER_USERNAME", "DOCKER_REGISTRY_SERVER_PASSWORD"]
        if cfg.registry.pull == "credentials"
        else []
    )
    if reference_settings:
        ReferenceCheck(
            "references",
            ReferenceCheckArgs(
                site_ids=[site_id for stamp in stamps.values() for site_id in stamp.site_ids.values()],
                settings=reference_settings,
                after=propagation.wait.id,
            ),
        )
    probe = cfg.traffic.probe
    entry: pulumi.Output[str]
    edge_id: pulumi.Output[str]
    if profile is not None:
        edge_id = profile.profile_id
        entry = FrontDoor(
            "edge",
            FrontDoorArgs(
                resource_group_name=env.resource_group_name,
                profile_name=profile.profile_name,
                endpoint_name=naming.dns_label(project, stack, "edge", seed=seed),
                hosts={name: stamp.hostnames for name, stamp in stamps.items()},
                origins=origins.origins({region.name: region.weight for region in cfg.regions}, release, cfg.catalog),
                probe_path=probe.path,
                probe_interval=probe.interval,
                session_affinity=cfg.traffic.session_affinity,
                tags=tags,
            ),
        ).host_name
    else:
        # The name, label and type of the Traffic Manager the stacks before Front Door deployed (edges.LEGACY_*), so
        # such a stack keeps its profile and URL. A stack deployed before nameSeed has the seed '' (section 6 of
        # docs/azure-request-path.md), which gives that label exactly.
        split = TrafficSplit(
            edges.LEGACY_NAME,
            TrafficSplitArgs(
                resource_group_name=env.resource_group_name,
                dns_label=naming.dns_label(project, stack, edges.LEGACY_DNS_COMPONENT, seed=seed),
                targets={name: stamp.site_id for name, stamp in stamps.items()},
                weights={region.name: region.weight for region in cfg.regions},
                ttl=cfg.traffic.ttl,
                probe_protocol=probe.protocol,
                probe_port=probe.port,
                probe_path=probe.path,
                probe_interval=probe.interval,
                probe_timeout=probe.timeout,
                tolerated_failures=probe.tolerated_failures,
                tags=tags,
            ),
        )
        edge_id, entry = split.profile_id, split.fqdn
    RolloutAlerts(
        "alerts",
        RolloutAlertsArgs(
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            short_name=alert_rules.action_group_short_name(stack),
            insights_id=env.insights_id,
            site_ids={
                f"{name}-{colour}": site_id
                for name, stamp in stamps.items()
                for colour, site_id in stamp.site_ids.items()
            },
            rules=alert_rules.rollout_log_rules(
                error_rate_warning=cfg.alerts.error_rate_warning,
                error_rate_critical=cfg.alerts.error_rate_critical,
                p95_warning_ms=cfg.alerts.latency_p95_warning_ms,
                p95_critical_ms=cfg.alerts.latency_p95_critical_ms,
                min_requests=cfg.alert_min_requests,
                health_path=probe.path,
            ),
            health_check_min_percent=cfg.alerts.health_check_min_percent,
            emails=cfg.alerts.emails,
            webhooks=cfg.alerts.webhooks,
            tags=tags,
        ),
    )
    # The stage is not in the workbook's text: a stage change stays a change of traffic weights only
    # (stagewise.core.workbook says why); the workbook shows it from the requests served per version.
    RolloutWorkbook(
        "dashboard",
        RolloutWorkbookArgs(
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            workbook_name=workbook.workbook_name(project, stack),
            display_name=f"{project} {stack}: rollout",
            stack=stack,
            insights_id=env.insights_id,
            stages=[(stage.name, stage.share) for stage in cfg.catalog.stages],
            links={
                "Front Door" if profile is not None else "Traffic Manager": edge_id,
                **{
                    f"site {name} ({colour})": site_id
                    for name, stamp in stamps.items()
                    for colour, site_id in stamp.site_ids.items()
                },
            },
            health_path=probe.path,
            tags=tags,
        ),
    )
    return {
        "resource_group": env.resource_group_name,
        # Where `stagewise analyze` reads the stage gate's metrics (provider appinsights).
        "insights_id": env.insights_id,
        # Front Door's endpoint host name (or the Traffic Manager profile's): what clients reach over https
        # (docs/azure-request-path.md).
        "url": pulumi.Output.concat("https://", entry),
        "vault_uri": vault.vault_uri,
        # No site's or slot's own host name: they answer only Front Door (docs/azure-request-path.md, section 7).
        "traffic": shares,
    }
