"""The pack's policies: each rule of the family modules as a pulumi_policy policy.

Importing this module builds Policy objects only; the PolicyPack (which starts the analyzer
server) is constructed in `policy/__main__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from stagewise.core import tiers
from stagewise.policy import (
    frontdoor,
    inputs,
    keyvault,
    kubernetes,
    monitoring,
    resource_types,
    tags,
    traffic_manager,
    webapps,
)
from stagewise.policy.settings import Settings

PACK_NAME = "stagewise"

_DEFAULTS = Settings()
_ENVIRONMENTS = list(tiers.ENVIRONMENTS)

# One JSON schema per config key, defaults taken from Settings so the two cannot drift.
CONFIG_SCHEMA: dict[str, dict[str, Any]] = {
    "minimumInstances": {
        "type": "integer",
        "minimum": 1,
        "default": _DEFAULTS.production_autoscale_minimum,
        "description": "Fewest instances an autoscale profile may keep in production.",
    },
    "maxTtlSeconds": {
        "type": "integer",
        "minimum": 0,
        "default": _DEFAULTS.production_max_ttl,
        "description": "Longest Traffic Manager DNS TTL in production, seconds.",
    },
    "healthPath": {
        "type": "string",
        "pattern": "^/",
        "default": _DEFAULTS.health_path,
        "description": "The path Traffic Manager must probe.",
    },
    "minReplicas": {
        "type": "integer",
        "minimum": 1,
        "default": _DEFAULTS.hpa_min_replicas,
        "description": "Fewest replicas an HPA may keep in production-like tiers.",
    },
    "productionLikeTiers": {
        "type": "array",
        "items": {"type": "string", "enum": _ENVIRONMENTS},
        "default": list(_DEFAULTS.production_like),
        "description": "Environments held to production-grade durability.",
    },
    "alertMinRequests": {
        "type": "integer",
        "minimum": 1,
        "default": _DEFAULTS.alert_min_requests,
        "description": "Fewest requests of a version a log alert may judge in its window.",
    },
    "requiredTags": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": list(_DEFAULTS.required_tags),
        "description": "Tags every taggable Azure resource should carry.",
    },
}


def _schema(keys: Sequence[str]) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k: CONFIG_SCHEMA[k] for k in keys}) if keys else None


def plain(value: Any) -> Any:
    """Resource inputs as plain dicts and lists, with unknown values left as the engine's sentinels.

    The policy SDK wraps inputs in a proxy that raises on any unknown value it hands out, which
    would end the whole policy at the first one; the rules decide per value instead. The proxy
    gives its raw contents under the key "__target" (the SDK's own serializer unwraps it so).
    """
    if isinstance(value, str):
        return value
    try:
        raw = value["__target"]
    except (KeyError, IndexError, TypeError):
        raw = value
    if isinstance(raw, Mapping):
        return {key: plain(item) for key, item in raw.items()}
    if isinstance(raw, (list, tuple)):
        return [plain(item) for item in raw]
    return raw


def resource_policy(
    name: str,
    description: str,
    validators: Mapping[str, inputs.Validator],
    config_keys: Sequence[str] = (),
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> ResourceValidationPolicy:
    """A policy that runs `validators[type]` on each resource of those types."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        validator = validators.get(args.resource_type)
        if validator is None:
            return
        settings = Settings.from_config(args.get_config())
        for message in validator(plain(args.props), settings):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=_schema(config_keys),
    )


def _for(types: Sequence[str], validator: inputs.Validator) -> dict[str, inputs.Validator]:
    return {t: validator for t in types}


def _required_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    settings = Settings.from_config(args.get_config())
    for message in tags.required_tags(args.resource_type, plain(args.props), settings):
        report_violation(message, None)


def stack_resources(args: StackValidationArgs) -> list[inputs.StackResource]:
    return [
        inputs.StackResource(
            urn=r.urn,
            type=r.resource_type,
            name=r.name,
            props=plain(r.props),
            property_dependencies={k: [d.urn for d in deps] for k, deps in r.property_dependencies.items()},
            dependencies=[d.urn for d in r.dependencies],
        )
        for r in args.resources
    ]


StackRule = Callable[[Sequence[inputs.StackResource]], list[inputs.StackViolation]]


def stack_policy(name: str, description: str, rule: StackRule) -> StackValidationPolicy:
    """A mandatory policy that runs `rule` over the whole stack."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for violation in rule(stack_resources(args)):
            report_violation(violation.message, violation.urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


# The stack rules, by policy name: `policies()` wires them, and anything that checks a whole stack
# outside the engine (the shipped-stacks test) runs the same list.
STACK_RULES: dict[str, StackRule] = {
    "traffic-manager-enabled-endpoint": traffic_manager.traffic_manager_enabled_endpoint,
    "traffic-manager-one-web-app-per-region": traffic_manager.traffic_manager_one_web_app_per_region,
    "keyvault-firewall-allows-app-subnets": keyvault.keyvault_firewall_allows_app_subnets,
    "keyvault-reference-identity-granted-first": keyvault.keyvault_reference_identity_granted_first,
    "webapp-integration-subnet-delegated": webapps.webapp_integration_subnet_delegated,
    "webapp-integration-subnet-one-plan": webapps.webapp_integration_subnet_one_plan,
    "webapp-integration-subnet-same-region": webapps.webapp_integration_subnet_same_region,
    "webapp-waits-for-effective-grants": webapps.webapp_waits_for_effective_grants,
    "webapp-references-checked": webapps.webapp_references_checked,
    "webapp-integration-disconnected-first": webapps.webapp_integration_disconnected_first,
    "network-address-spaces-apart": webapps.network_address_spaces_apart,
}


# Each policy's twin in the config validator, so that a stack `stagewise` accepts passes it:
# "tier rule: <key>" (stagewise.core.tiers.RULES), "validator: <what>" (stagewise.core.config), or
# "resources only: <why>" when no config key can break it and only the declared resources show it.
VALIDATOR_TWINS: dict[str, str] = {
    "keyvault-rbac-authorization": "resources only: no config key; components/secret_vault.py always sets it",
    "keyvault-soft-delete": "resources only: no config key; components/secret_vault.py always sets it",
    "keyvault-purge-protection": "tier rule: vault.purgeProtection",
    "keyvault-network-default-deny": "tier rule: vault.networkDefaultAction",
    "webapp-https-only": "resources only: no config key; components/blue_green_web_app.py always sets it",
    "webapp-min-tls": "resources only: no config key; components/blue_green_web_app.py always sets it",
    "webapp-ftps-disabled": "resources only: no config key; components/blue_green_web_app.py always sets it",
    "webapp-managed-identity": "resources only: no config key; components/blue_green_web_app.py always sets it",
    "webapp-no-plaintext-secrets": "validator: secrets only encrypted (stagewise:secrets); every other app "
    "setting is built by the program from non-secret keys",
    "autoscale-production-minimum": "tier rule: autoscale.minimum",
    "traffic-manager-health-path": "tier rule: traffic.probe.path",
    "traffic-manager-production-ttl": "tier rule: traffic.ttl",
    "traffic-manager-endpoint-weight": "validator: regions[].weight 0..limits.TM_MAX_WEIGHT; 0 becomes a "
    "disabled endpoint at weight limits.TM_MIN_WEIGHT (rollout.region_endpoints)",
    "traffic-manager-enabled-endpoint": "validator: at least one region with a weight above 0",
    "traffic-manager-one-web-app-per-region": "validator: region names distinct; the program targets one site per region",
    "keyvault-firewall-allows-app-subnets": "resources only: no config key names a subnet; the program allows "
    "each region's integration subnet",
    "keyvault-reference-identity-granted-first": "resources only: an ordering between resources (dependsOn)",
    "webapp-integration-subnet-delegated": "resources only: no config key; the program builds each region's subnet",
    "webapp-integration-subnet-one-plan": "resources only: no config key; the program builds one subnet per plan",
    "webapp-integration-subnet-same-region": "resources only: no config key; the program builds each region's network",
    "webapp-slot-rule-percentage": "validator: stages[].weight 0..100, and 0 % becomes no rule (rollout)",
    "webapp-slot-rule-target": "resources only: the host name is derived from the site's name",
    "webapp-image-pull-path": "tier rule: registry.pull",
    "webapp-no-slot-traffic-rule": "resources only: no config key; components/blue_green_web_app.py always sends "
    "an empty rule list (the stage is carried by Front Door origin weights)",
    "webapp-waits-for-effective-grants": "resources only: an ordering between resources (dependsOn)",
    "webapp-references-checked": "resources only: a resource after the sites (components/reference_check.py)",
    "webapp-integration-disconnected-first": "resources only: an ordering between resources (dependencies)",
    "network-address-spaces-apart": "validator: regions[].addressSpace (default 10.<index>.0.0/16) do not overlap",
    "frontdoor-origin-weight": "validator: regions[].weight 0..limits.TM_MAX_WEIGHT and stages[].weight 0..100; "
    "rollout.origin_weights scales them to 1..1000 and disables an origin at 0",
    "frontdoor-weights-take-effect": "resources only: no config key; components/front_door.py always sets it",
    "frontdoor-origin-host-header": "resources only: no config key; components/front_door.py sends each origin's own host",
    "log-alert-min-requests": "validator: alerts.minRequests (default analysis.minRequests) at least "
    "tiers.ALERT_MIN_REQUESTS",
    "log-alert-split-by-version": "resources only: the queries are built by stagewise.core.alert_rules",
    "log-alert-excludes-health-probe": "resources only: the queries are built by stagewise.core.alert_rules, on the "
    "path of tier rule traffic.probe.path",
    "kubernetes-readiness-probe": "resources only: no config key; components/blue_green_deployment.py always sets it",
    "kubernetes-resource-requests": "validator: kubernetes.cpuRequest and kubernetes.memoryRequest always have a value",
    "kubernetes-hpa-min-replicas": "tier rule: kubernetes.minReplicas",
    "required-tags": "validator: owner and costCentre are required, non-empty",
}


def policies() -> list[Policy]:
    secrets = {
        t: webapps.app_settings_without_secrets(t)
        for t in (*resource_types.WEB_APPS, *resource_types.APP_SETTINGS_RESOURCES)
    }
    pull = {t: webapps.webapp_image_pull_path(t) for t in resource_types.WEB_APPS}
    return [
        resource_policy(
            "keyvault-rbac-authorization",
            "Key Vaults authorize data access with Azure RBAC.",
            _for(resource_types.KEY_VAULT, keyvault.keyvault_rbac_authorization),
        ),
        resource_policy(
            "keyvault-soft-delete",
            "Key Vaults keep deleted secrets recoverable (soft delete).",
            _for(resource_types.KEY_VAULT, keyvault.keyvault_soft_delete),
        ),
        resource_policy(
            "keyvault-purge-protection",
            "Key Vaults in production-like tiers have purge protection.",
            _for(resource_types.KEY_VAULT, keyvault.keyvault_purge_protection),
            ["productionLikeTiers"],
        ),
        resource_policy(
            "keyvault-network-default-deny",
            "Key Vaults in production deny network access by default.",
            _for(resource_types.KEY_VAULT, keyvault.keyvault_network_default_deny),
        ),
        resource_policy(
            "webapp-https-only",
            "Web apps and slots serve HTTPS only.",
            _for(resource_types.WEB_APPS, webapps.webapp_https_only),
        ),
        resource_policy(
            "webapp-min-tls",
            "Web apps and slots refuse TLS below 1.2.",
            _for(resource_types.WEB_APPS, webapps.webapp_min_tls),
        ),
        resource_policy(
            "webapp-ftps-disabled",
            "Web apps and slots do not accept FTP/FTPS deployments.",
            _for(resource_types.WEB_APPS, webapps.webapp_ftps_disabled),
        ),
        resource_policy(
            "webapp-managed-identity",
            "Web apps and slots have a managed identity.",
            _for(resource_types.WEB_APPS, webapps.webapp_managed_identity),
        ),
        resource_policy(
            "webapp-no-plaintext-secrets",
            "App settings hold Key Vault references, never secret values.",
            secrets,
        ),
        resource_policy(
            "autoscale-production-minimum",
            "Production autoscale keeps a minimum number of instances.",
            _for(resource_types.AUTOSCALE_SETTING, monitoring.autoscale_production_minimum),
            ["minimumInstances"],
        ),
        resource_policy(
            "traffic-manager-health-path",
            "Traffic Manager probes the app's health endpoint.",
            _for(resource_types.TRAFFIC_MANAGER_PROFILE, traffic_manager.traffic_manager_health_path),
            ["healthPath"],
        ),
        resource_policy(
            "traffic-manager-production-ttl",
            "Production Traffic Manager DNS TTL is short enough for a quick rollback.",
            _for(resource_types.TRAFFIC_MANAGER_PROFILE, traffic_manager.traffic_manager_production_ttl),
            ["maxTtlSeconds"],
        ),
        resource_policy(
            "traffic-manager-endpoint-weight",
            "Traffic Manager endpoint weights are integers 1..1000.",
            _for(resource_types.TRAFFIC_MANAGER_ENDPOINT, traffic_manager.traffic_manager_endpoint_weight),
        ),
        stack_policy(
            "traffic-manager-enabled-endpoint",
            "Every Traffic Manager profile keeps at least one enabled endpoint.",
            STACK_RULES["traffic-manager-enabled-endpoint"],
        ),
        stack_policy(
            "traffic-manager-one-web-app-per-region",
            "A Traffic Manager profile has at most one Web App endpoint per Azure region "
            "(traffic-manager/traffic-manager-endpoint-types.md: 'at most one Web App endpoint from each Azure region').",
            STACK_RULES["traffic-manager-one-web-app-per-region"],
        ),
        stack_policy(
            "keyvault-firewall-allows-app-subnets",
            "A vault that denies network access by default allows the VNet-integration subnet of every app that "
            "references it (app-service/app-service-key-vault-references.md, 'Access network-restricted vaults').",
            STACK_RULES["keyvault-firewall-allows-app-subnets"],
        ),
        stack_policy(
            "keyvault-reference-identity-granted-first",
            "Apps resolve Key Vault references with a user-assigned identity whose Key Vault Secrets User grant "
            "they depend on (app-service/app-service-key-vault-references.md, 'Access vaults with a user-assigned "
            "identity': 'given access to the vault in advance').",
            STACK_RULES["keyvault-reference-identity-granted-first"],
        ),
        stack_policy(
            "webapp-integration-subnet-delegated",
            "A web app's VNet-integration subnet is delegated to Microsoft.Web/serverFarms "
            "(app-service/overview-vnet-integration.md: 'addresses in the delegated subnet').",
            STACK_RULES["webapp-integration-subnet-delegated"],
        ),
        stack_policy(
            "webapp-integration-subnet-one-plan",
            "An integration subnet serves one App Service plan "
            "(app-service/overview-vnet-integration.md: 'The integration subnet can be used by only one App Service plan').",
            STACK_RULES["webapp-integration-subnet-one-plan"],
        ),
        stack_policy(
            "webapp-integration-subnet-same-region",
            "A web app integrates with a virtual network of its own region "
            "(app-service/overview-vnet-integration.md: 'The app and the virtual network must be in the same region').",
            STACK_RULES["webapp-integration-subnet-same-region"],
        ),
        resource_policy(
            "webapp-slot-rule-percentage",
            "A slot traffic rule routes 1..100 %; 0 % is no rule, since a rule at an explicit 0 % still routes "
            "clients pinned by x-ms-routing-name (app-service/deploy-staging-slots.md, 'Route production traffic manually').",
            {resource_types.WEB_APP: webapps.webapp_slot_rule_percentage},
        ),
        resource_policy(
            "webapp-slot-rule-target",
            "A slot traffic rule routes to a slot of its own site, <site>-<slot>.azurewebsites.net "
            "(app-service/deploy-staging-slots.md, 'Route production traffic automatically').",
            {resource_types.WEB_APP: webapps.webapp_slot_rule_target},
        ),
        resource_policy(
            "webapp-image-pull-path",
            "A web app's image has a pull path: the managed identity for Azure Container Registry, credentials for "
            "any other registry, and authentication for every image in production "
            "(app-service/configure-custom-container.md: 'Each time the app restarts, App Service performs the "
            "`docker pull` command').",
            pull,
        ),
        resource_policy(
            "webapp-no-slot-traffic-rule",
            "A site holds no slot traffic rule: it lives in siteConfig, and 'Any configuration change to the app "
            "causes an app restart' (app-service/app-service-key-vault-references.md); the stage is carried by "
            "Front Door origin weights.",
            {resource_types.WEB_APP: webapps.webapp_no_slot_traffic_rule},
        ),
        stack_policy(
            "webapp-waits-for-effective-grants",
            "Apps that read Key Vault references or pull with their identity are created after a wait that follows "
            "the grant: a grant exists before it takes effect (key-vault/general/rbac-guide.md), and an unresolved "
            "reference is refetched only 'every 24 hours' (app-service/app-service-key-vault-references.md).",
            STACK_RULES["webapp-waits-for-effective-grants"],
        ),
        stack_policy(
            "webapp-references-checked",
            "Every app's Key Vault references are checked after the app exists: 'If a reference isn't resolved "
            "properly, the reference string is used instead' (app-service/app-service-key-vault-references.md).",
            STACK_RULES["webapp-references-checked"],
        ),
        stack_policy(
            "webapp-integration-disconnected-first",
            "An integrated web app is disconnected before it is deleted (app-service/overview-vnet-integration.md: "
            "'If you deleted the app or the App Service plan without disconnecting the virtual network integration "
            "first, you aren't able to do any update/delete operations on the virtual network or subnet').",
            STACK_RULES["webapp-integration-disconnected-first"],
        ),
        stack_policy(
            "network-address-spaces-apart",
            "The regions' virtual networks do not overlap, so that they can be peered (Cloud Adoption Framework, "
            "ready/azure-best-practices/plan-for-ip-addressing.md: 'two or more spoke virtual networks can't have "
            "overlapping IP address spaces').",
            STACK_RULES["network-address-spaces-apart"],
        ),
        resource_policy(
            "frontdoor-origin-weight",
            "Front Door origin weights are integers 1..1000 (frontdoor/routing-methods.md: 'The weight is an "
            "integer ranging from 1 to 1000').",
            _for(resource_types.FRONT_DOOR_ORIGIN, frontdoor.frontdoor_origin_weight),
        ),
        resource_policy(
            "frontdoor-weights-take-effect",
            "A Front Door origin group's latency sensitivity is above 0 ms, or origin weights do not take effect "
            "(frontdoor/routing-methods.md: 'If the latency sensitivity gets set to 0 milliseconds, then this "
            "property doesn't take effect').",
            _for(resource_types.FRONT_DOOR_ORIGIN_GROUP, frontdoor.frontdoor_weights_take_effect),
        ),
        resource_policy(
            "frontdoor-origin-host-header",
            "A Front Door origin sends its own host name as the Host header, the name App Service picks the app by "
            "and the origin's certificate matches (frontdoor/end-to-end-tls.md: 'a subject name matching the origin "
            "hostname').",
            _for(resource_types.FRONT_DOOR_ORIGIN, frontdoor.frontdoor_origin_host_header),
        ),
        resource_policy(
            "log-alert-split-by-version",
            "Rollout log alerts are split by application_Version, so that the candidate is judged on its own "
            "requests (azure-monitor/alerts/alerts-create-log-alert-rule.md, 'Split by dimensions').",
            _for(resource_types.SCHEDULED_QUERY_RULE, monitoring.log_alert_split_by_version),
        ),
        resource_policy(
            "log-alert-excludes-health-probe",
            "Log alerts over requests leave out the health-probe path, which App Service's health check alone "
            "requests steadily (app-service/monitor-instances-health-check.md: 'Health check pings this path on all "
            "instances of your App Service app at 1-minute intervals').",
            _for(resource_types.SCHEDULED_QUERY_RULE, monitoring.log_alert_excludes_health_probe),
            ["healthPath"],
        ),
        resource_policy(
            "log-alert-min-requests",
            "Log alerts judge a version only once it served enough requests in the window, or a single 5xx among "
            "a handful pages at severity 0 (the stage gate's minRequests, docs/stage-gates.md).",
            _for(resource_types.SCHEDULED_QUERY_RULE, monitoring.log_alert_min_requests),
            ["alertMinRequests"],
        ),
        resource_policy(
            "kubernetes-readiness-probe",
            "Deployment containers have readiness probes.",
            _for(resource_types.DEPLOYMENT, kubernetes.deployment_readiness_probe),
        ),
        resource_policy(
            "kubernetes-resource-requests",
            "Deployment containers request CPU and memory.",
            _for(resource_types.DEPLOYMENT, kubernetes.deployment_resource_requests),
        ),
        resource_policy(
            "kubernetes-hpa-min-replicas",
            "HorizontalPodAutoscalers in production-like tiers keep a replica floor.",
            _for(resource_types.HORIZONTAL_POD_AUTOSCALER, kubernetes.hpa_min_replicas),
            ["minReplicas", "productionLikeTiers"],
        ),
        ResourceValidationPolicy(
            name="required-tags",
            description="Azure resources carry the owner and cost-centre tags.",
            validate=_required_tags,
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=_schema(["requiredTags"]),
        ),
    ]
