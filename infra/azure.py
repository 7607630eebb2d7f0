"""The Azure stacks (dev, staging, production): one environment, built from the components."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

from components.autoscale import Autoscale, AutoscaleArgs
from components.blue_green_web_app import BlueGreenWebApp, BlueGreenWebAppArgs
from components.environment import Environment, EnvironmentArgs
from components.rollout_alerts import RolloutAlerts, RolloutAlertsArgs
from components.secret_vault import SecretVault, SecretVaultArgs
from components.traffic_split import TrafficSplit, TrafficSplitArgs
from stagewise import alert_rules, naming, rollout
from stagewise.config import StackConfig


def build(cfg: StackConfig, project: str, stack: str) -> dict[str, pulumi.Input]:
    tags = naming.resource_tags(
        environment=cfg.environment, project=project, stack=stack, owner=cfg.owner, cost_centre=cfg.cost_centre
    )
    client = authorization.get_client_config_output()
    release = cfg.release.to_release()
    vault_name = naming.vault_name(project, stack, "secrets")

    env = Environment("env", EnvironmentArgs(location=cfg.location, tags=tags, protect=cfg.protect))
    app = BlueGreenWebApp("web", BlueGreenWebAppArgs(
        resource_group_name=env.resource_group_name,
        location=cfg.location,
        sku=cfg.app_service.sku,
        instances=cfg.autoscale.default if cfg.autoscale.enabled else cfg.app_service.instances,
        image=cfg.release.image,
        tags_by_colour=rollout.versions_by_colour(release),
        log_level=cfg.log_level,
        feature_flags=cfg.feature_flags,
        key_vault_references={
            naming.app_setting_name(secret): naming.key_vault_reference(vault_name, secret) for secret in cfg.secrets
        },
        insights_connection_string=env.insights_connection_string,
        tags=tags,
    ))
    vault = SecretVault("secrets", SecretVaultArgs(
        resource_group_name=env.resource_group_name,
        location=cfg.location,
        vault_name=vault_name,
        tenant_id=client.tenant_id,
        subscription_id=client.subscription_id,
        retention_days=cfg.vault.retention_days,
        purge_protection=cfg.vault.purge_protection,
        network_default_action=cfg.vault.network_default_action,
        allowed_ips=cfg.vault.allowed_ips,
        secrets={name: pulumi.Output.secret(value.reveal()) for name, value in cfg.secrets.items()},
        readers=dict(app.principal_ids),
        tags=tags,
        protect=cfg.protect,
    ))
    if cfg.autoscale.enabled:
        Autoscale("scale", AutoscaleArgs(
            resource_group_name=env.resource_group_name,
            location=cfg.location,
            target_resource_id=app.plan_id,
            minimum=cfg.autoscale.minimum,
            default=cfg.autoscale.default,
            maximum=cfg.autoscale.maximum,
            cpu_scale_out=cfg.autoscale.cpu_scale_out,
            cpu_scale_in=cfg.autoscale.cpu_scale_in,
            cooldown_minutes=cfg.autoscale.cooldown_minutes,
            tags=tags,
        ))
    probe = cfg.traffic.probe
    split = TrafficSplit("traffic", TrafficSplitArgs(
        resource_group_name=env.resource_group_name,
        dns_label=naming.dns_label(project, stack, "traffic"),
        targets=dict(app.site_ids),
        percent=rollout.traffic(release, cfg.catalog),
        ttl=cfg.traffic.ttl,
        probe_protocol=probe.protocol,
        probe_port=probe.port,
        probe_path=probe.path,
        probe_interval=probe.interval,
        probe_timeout=probe.timeout,
        tolerated_failures=probe.tolerated_failures,
        tags=tags,
    ))
    RolloutAlerts("alerts", RolloutAlertsArgs(
        resource_group_name=env.resource_group_name,
        location=cfg.location,
        short_name=alert_rules.action_group_short_name(stack),
        insights_id=env.insights_id,
        site_ids=dict(app.site_ids),
        rules=alert_rules.rollout_log_rules(
            error_rate_warning=cfg.alerts.error_rate_warning,
            error_rate_critical=cfg.alerts.error_rate_critical,
            p95_warning_ms=cfg.alerts.latency_p95_warning_ms,
            p95_critical_ms=cfg.alerts.latency_p95_critical_ms,
        ),
        health_check_min_percent=cfg.alerts.health_check_min_percent,
        emails=cfg.alerts.emails,
        webhooks=cfg.alerts.webhooks,
        tags=tags,
    ))
    return {
        "resource_group": env.resource_group_name,
        "url": pulumi.Output.concat("https://", split.fqdn),
        "vault_uri": vault.vault_uri,
        "hostnames": app.hostnames,
        "traffic": rollout.traffic(release, cfg.catalog),
    }
