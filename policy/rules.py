"""The rules of the Stagewise policy pack, as plain functions.

No Pulumi import and no PolicyPack here: `policy/__main__.py` wires these validators into
pulumi_policy policies (constructing a PolicyPack starts a server, so only the entry point does it).

A resource validator takes a resource's inputs as the engine sends them (camelCase keys, plain
dicts and lists, numbers as floats) and the pack's `Settings`, and returns one message per
violation; an empty list means compliant. Each rule has exactly one message format.

Conventions every rule follows:
- A guarded property that is not set is a violation reported as "(got not set)": the pack checks
  what the program declares, not what an Azure API version happens to default to.
- A value the engine cannot know yet during `pulumi preview` (it depends on another resource's
  output) is skipped; `pulumi up` checks the same resource again with known inputs before it is
  created or updated.
- The environment comes from the Azure tag `environment` or the Kubernetes label
  `stagewise.dev/environment`. A resource without a valid one is held to production rules, so
  that forgetting the tag can never loosen a rule.
- Messages never contain a property value that could be a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping, Sequence

ENVIRONMENTS = ("dev", "staging", "production", "local")
PRODUCTION = "production"
ENVIRONMENT_TAG = "environment"
ENVIRONMENT_LABEL = "stagewise.dev/environment"

# Current azure-native v3 type tokens first; the v2 tokens are kept because they are still aliases
# of the same resources and an older program (or a future rename back) would otherwise slip past.
KEY_VAULT = ("azure-native:keyvault:Vault",)
WEB_APPS = ("azure-native:web:WebApp", "azure-native:web:WebAppSlot")
APP_SETTINGS_RESOURCES = (
    "azure-native:web:WebAppApplicationSettings",
    "azure-native:web:WebAppApplicationSettingsSlot",
)
AUTOSCALE_SETTING = ("azure-native:monitor:AutoscaleSetting", "azure-native:insights:AutoscaleSetting")
TRAFFIC_MANAGER_PROFILE = ("azure-native:trafficmanager:Profile", "azure-native:network:Profile")
TRAFFIC_MANAGER_ENDPOINT = ("azure-native:trafficmanager:Endpoint", "azure-native:network:Endpoint")
DEPLOYMENT = ("kubernetes:apps/v1:Deployment",)
HORIZONTAL_POD_AUTOSCALER = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",)

# Azure resource types that take tags even when a program sets none (an absent `tags` input is
# then exactly the omission the required-tags rule exists for). Any other azure-native resource
# is checked when its inputs carry `tags`.
TAGGABLE = frozenset((
    *KEY_VAULT, *WEB_APPS, *AUTOSCALE_SETTING, *TRAFFIC_MANAGER_PROFILE,
    "azure-native:resources:ResourceGroup",
    "azure-native:web:AppServicePlan",
    "azure-native:keyvault:Secret",
    "azure-native:applicationinsights:Component",
    "azure-native:operationalinsights:Workspace",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:network:VirtualNetwork",
    "azure-native:monitor:ActionGroup",
    "azure-native:monitor:MetricAlert",
    "azure-native:monitor:ScheduledQueryRule",
))

# Sentinels the Pulumi engine puts in place of values it cannot know during preview
# (sdk/go/common/resource/plugin/rpc.go; the policy SDK's proxy checks the same strings).
UNKNOWN_VALUES = frozenset((
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
))

TM_MIN_WEIGHT, TM_MAX_WEIGHT = 1, 1000
TLS_MIN = (1, 2)


@dataclass(frozen=True)
class Settings:
    """Thresholds, from policy config; each default is the value the issue asks for."""

    production_autoscale_minimum: int = 3
    """Fewest instances an autoscale profile may keep in production."""
    production_max_ttl: int = 60
    """Longest Traffic Manager DNS TTL in production, seconds: a rollback takes effect within it."""
    health_path: str = "/health"
    """The path Traffic Manager probes."""
    hpa_min_replicas: int = 2
    """Fewest replicas a HorizontalPodAutoscaler may keep in production-like tiers."""
    production_like: tuple[str, ...] = ("staging", "production")
    """Tiers held to production-grade durability (purge protection, HPA floor)."""
    required_tags: tuple[str, ...] = ("owner", "cost-centre")
    """Tags every taggable Azure resource should carry."""

    # policy config key -> field name; a key belongs to the policies whose schema lists it.
    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "minimumInstances": "production_autoscale_minimum",
        "maxTtlSeconds": "production_max_ttl",
        "healthPath": "health_path",
        "minReplicas": "hpa_min_replicas",
        "productionLikeTiers": "production_like",
        "requiredTags": "required_tags",
    }

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "Settings":
        """Settings from one policy's config; keys it does not set keep their defaults."""
        values: dict[str, Any] = {}
        for key, value in (config or {}).items():
            field_name = cls.CONFIG_KEYS.get(key)
            if field_name is None:
                continue
            if isinstance(value, list):
                value = tuple(str(v) for v in value)
            elif field_name in ("production_autoscale_minimum", "production_max_ttl", "hpa_min_replicas"):
                value = int(value)  # JSON numbers arrive as floats
            values[field_name] = value
        return cls(**values)


# ---------------------------------------------------------------------------------------------
# Reading inputs


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def dig(props: Any, *path: str | int) -> Any:
    """The value at `path` in nested dicts/lists, MISSING if any step is absent or null.

    An unknown value met on the way is returned as is, so callers can tell "not set" from
    "not known yet".
    """
    value = props
    for step in path:
        if is_unknown(value):
            return value
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        else:
            if not isinstance(value, Mapping) or step not in value:
                return MISSING
            value = value[step]
        if value is None:
            return MISSING
    return value


def shown(value: Any) -> str:
    """How a (non-secret) value appears in a message."""
    if value is MISSING:
        return "not set"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a decimal string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


@dataclass(frozen=True)
class Tier:
    """The environment whose rules apply to a resource, and how messages name it."""

    name: str
    label: str


def _tier(value: Any, where: str) -> Tier | None:
    if is_unknown(value):
        return None
    if isinstance(value, str) and value in ENVIRONMENTS:
        return Tier(value, value)
    return Tier(PRODUCTION, f"production (no valid {where}, so production rules apply)")


def azure_tier(props: Mapping[str, Any]) -> Tier | None:
    """The tier of an Azure resource, from its `environment` tag; None while unknown."""
    tags = dig(props, "tags")
    if is_unknown(tags):
        return None
    return _tier(dig(props, "tags", ENVIRONMENT_TAG), f"'{ENVIRONMENT_TAG}' tag")


def kubernetes_tier(props: Mapping[str, Any]) -> Tier | None:
    """The tier of a Kubernetes object, from its `stagewise.dev/environment` label; None while unknown."""
    labels = dig(props, "metadata", "labels")
    if is_unknown(labels):
        return None
    return _tier(dig(props, "metadata", "labels", ENVIRONMENT_LABEL), f"'{ENVIRONMENT_LABEL}' label")


Validator = Callable[[Mapping[str, Any], Settings], list[str]]


# ---------------------------------------------------------------------------------------------
# Key Vault


def keyvault_rbac_authorization(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "properties", "enableRbacAuthorization")
    if is_unknown(value) or value is True:
        return []
    return [
        "Key Vault must use Azure RBAC for data access, not access policies: "
        f"set properties.enableRbacAuthorization to true (got {shown(value)})"
    ]


def keyvault_soft_delete(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "properties", "enableSoftDelete")
    if is_unknown(value) or value is True:
        return []
    return [
        "Key Vault must keep deleted secrets recoverable: "
        f"set properties.enableSoftDelete to true (got {shown(value)})"
    ]


def keyvault_purge_protection(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = azure_tier(props)
    value = dig(props, "properties", "enablePurgeProtection")
    if tier is None or tier.name not in settings.production_like or is_unknown(value) or value is True:
        return []
    return [
        f"Key Vault in {tier.label} must have purge protection "
        f"(required in {', '.join(settings.production_like)}): "
        f"set properties.enablePurgeProtection to true (got {shown(value)})"
    ]


def keyvault_network_default_deny(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = azure_tier(props)
    value = dig(props, "properties", "networkAcls", "defaultAction")
    if tier is None or tier.name != PRODUCTION or is_unknown(value) or value == "Deny":
        return []
    return [
        f"Key Vault in {tier.label} must deny network access by default: "
        f"set properties.networkAcls.defaultAction to 'Deny' and allow what needs access "
        f"with ipRules or virtualNetworkRules (got {shown(value)})"
    ]


# ---------------------------------------------------------------------------------------------
# Web apps and slots


def webapp_https_only(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "httpsOnly")
    if is_unknown(value) or value is True:
        return []
    return [f"web app must redirect HTTP to HTTPS: set httpsOnly to true (got {shown(value)})"]


def _tls_version(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)*", value):
        return tuple(int(part) for part in value.split("."))
    return None


def webapp_min_tls(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "siteConfig", "minTlsVersion")
    if is_unknown(value):
        return []
    version = _tls_version(value)
    if version is not None and version >= TLS_MIN:
        return []
    return [
        "web app must refuse TLS below 1.2: "
        f"set siteConfig.minTlsVersion to '1.2' or '1.3' (got {shown(value)})"
    ]


def webapp_ftps_disabled(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "siteConfig", "ftpsState")
    if is_unknown(value) or value == "Disabled":
        return []
    return [
        "web app must not accept FTP or FTPS deployments: "
        f"set siteConfig.ftpsState to 'Disabled' (got {shown(value)})"
    ]


MANAGED_IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned")


def webapp_managed_identity(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "identity", "type")
    if is_unknown(value) or value in MANAGED_IDENTITY_TYPES:
        return []
    return [
        "web app needs a managed identity to read Key Vault references: "
        f"set identity.type to one of {', '.join(repr(t) for t in MANAGED_IDENTITY_TYPES)} "
        f"(got {shown(value)})"
    ]


# An app setting whose value is a Key Vault reference; App Service resolves it with the app's
# managed identity. Both documented forms are accepted.
KEY_VAULT_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\("
    r"(?:SecretUri=https://[^\s()]+"
    r"|VaultName=[^\s;()]+;\s*SecretName=[^\s;()]+(?:;\s*SecretVersion=[^\s;()]+)?)"
    r"\)",
    re.IGNORECASE,
)

# Last word of a setting name that means the value is a credential (DB_PASSWORD, ApiKey, ...).
SECRET_NAME_WORDS = frozenset((
    "password", "passwd", "pwd", "passphrase", "secret", "token", "key", "apikey", "accesskey",
    "privatekey", "credential", "credentials", "sas",
))
# Values that cannot be a credential even under a secret-sounding name (USE_TOKEN=true).
HARMLESS_VALUES = frozenset(("", "true", "false", "yes", "no", "on", "off", "none", "null"))

SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("it contains a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (
        "it is a connection string with a credential",
        re.compile(
            r"(?:^|;)\s*(?:password|pwd|accountkey|sharedaccesskey|sharedaccesssignature)\s*=\s*[^;\s]",
            re.IGNORECASE,
        ),
    ),
    ("it is a URL with a password in it", re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)),
    ("it is a URL with a SAS signature", re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{16,}")),
    (
        "it has the shape of an access token",
        re.compile(
            r"\b(?:gh[opsu]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
            r"|AKIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{16,}"
            r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
        ),
    ),
)


def name_words(name: str) -> list[str]:
    """DB_PASSWORD -> [db, password]; clientSecret -> [client, secret]."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


def secret_reason(name: str, value: str) -> str | None:
    """Why an app setting looks like it holds a secret, or None. Never quotes the value."""
    if KEY_VAULT_REFERENCE.fullmatch(value.strip()):
        return None
    for reason, pattern in SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return reason
    words = name_words(name)
    if words and words[-1] in SECRET_NAME_WORDS and value.strip().lower() not in HARMLESS_VALUES:
        return f"its name ends in '{words[-1]}'"
    return None


def _app_settings(resource_type: str, props: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    if resource_type in APP_SETTINGS_RESOURCES:
        settings = dig(props, "properties")
        if isinstance(settings, Mapping):
            yield from settings.items()
        return
    settings = dig(props, "siteConfig", "appSettings")
    if isinstance(settings, list):
        for pair in settings:
            name = dig(pair, "name")
            yield (name if isinstance(name, str) else "?"), dig(pair, "value")


def app_settings_without_secrets(resource_type: str) -> Validator:
    """The secret rule for one resource type: web apps and slots keep app settings in
    siteConfig.appSettings, the *ApplicationSettings resources in `properties`."""

    def validate(props: Mapping[str, Any], settings: Settings) -> list[str]:
        messages = []
        for name, value in _app_settings(resource_type, props):
            if not isinstance(value, str) or is_unknown(value):
                continue
            reason = secret_reason(name, value)
            if reason:
                messages.append(
                    f"app setting {name!r} looks like a secret in plain text ({reason}): store it in Key Vault "
                    "and set the value to a reference, @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>)"
                )
        return messages

    return validate


# ---------------------------------------------------------------------------------------------
# Autoscale


def autoscale_production_minimum(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = azure_tier(props)
    if tier is None or tier.name != PRODUCTION:
        return []
    profiles = dig(props, "profiles")
    if is_unknown(profiles):
        return []
    least = settings.production_autoscale_minimum
    if not isinstance(profiles, list) or not profiles:
        profiles = [{}]  # report the absent profile like an absent minimum
    messages = []
    for index, profile in enumerate(profiles):
        value = dig(profile, "capacity", "minimum")
        if is_unknown(value):
            continue
        minimum = as_int(value)
        if minimum is not None and minimum >= least:
            continue
        name = dig(profile, "name")
        which = f"profile {name!r}" if isinstance(name, str) else f"profile {index}"
        messages.append(
            f"autoscale in {tier.label} must keep at least {least} instances: "
            f"set profiles[{index}].capacity.minimum ({which}) to '{least}' or more (got {shown(value)})"
        )
    return messages


# ---------------------------------------------------------------------------------------------
# Traffic Manager


def traffic_manager_health_path(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "monitorConfig", "path")
    if is_unknown(value) or value == settings.health_path:
        return []
    return [
        "Traffic Manager must probe the app's health endpoint: "
        f"set monitorConfig.path to {settings.health_path!r} (got {shown(value)})"
    ]


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


def traffic_manager_endpoint_weight(props: Mapping[str, Any], settings: Settings) -> list[str]:
    # Checked on disabled endpoints too: Azure refuses a weight outside 1..1000 whatever the
    # status, and 0 % is expressed with endpointStatus Disabled (see stagewise.rollout).
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


@dataclass(frozen=True)
class StackResource:
    """What the stack rules need of a resource in the stack."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]]
    """Input property -> URNs of the resources its value came from."""
    dependencies: Sequence[str] = ()
    """URNs of every resource this one depends on (dependsOn included)."""


@dataclass(frozen=True)
class StackViolation:
    message: str
    urn: str


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
        enabled = any(
            _endpoint_enabled(dig(e, "endpointStatus")) for e in (inline if isinstance(inline, list) else [])
        )
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
            violations.append(StackViolation(
                f"Traffic Manager profile {profile.name!r} has no enabled endpoint, so it would answer "
                "no DNS queries: keep at least one endpoint with endpointStatus 'Enabled' "
                "(an abort sends all traffic to the live colour, it never disables both)",
                profile.urn,
            ))
    return violations


# ---------------------------------------------------------------------------------------------
# Kubernetes


def _containers(props: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    containers = dig(props, "spec", "template", "spec", "containers")
    if not isinstance(containers, list):
        return []
    named = []
    for index, container in enumerate(containers):
        if not isinstance(container, Mapping):
            continue
        name = dig(container, "name")
        named.append((name if isinstance(name, str) else f"#{index}", container))
    return named


def deployment_readiness_probe(props: Mapping[str, Any], settings: Settings) -> list[str]:
    messages = []
    for name, container in _containers(props):
        probe = dig(container, "readinessProbe")
        if is_unknown(probe) or (isinstance(probe, Mapping) and probe):
            continue
        messages.append(
            f"container {name!r} needs a readinessProbe, or it receives traffic before it can serve: "
            "set spec.template.spec.containers[].readinessProbe (e.g. httpGet on /health)"
        )
    return messages


REQUESTED_RESOURCES = ("cpu", "memory")


def deployment_resource_requests(props: Mapping[str, Any], settings: Settings) -> list[str]:
    messages = []
    for name, container in _containers(props):
        requests = dig(container, "resources", "requests")
        if is_unknown(requests):
            continue
        missing = [r for r in REQUESTED_RESOURCES if dig(requests, r) is MISSING]
        if missing:
            messages.append(
                f"container {name!r} must request {' and '.join(REQUESTED_RESOURCES)} so the scheduler "
                f"and the HPA can size it: set resources.requests.{', resources.requests.'.join(missing)}"
            )
    return messages


def hpa_min_replicas(props: Mapping[str, Any], settings: Settings) -> list[str]:
    tier = kubernetes_tier(props)
    value = dig(props, "spec", "minReplicas")
    if tier is None or tier.name not in settings.production_like or is_unknown(value):
        return []
    least = settings.hpa_min_replicas
    replicas = as_int(value) if not isinstance(value, str) else None
    if replicas is not None and replicas >= least:
        return []
    return [
        f"HorizontalPodAutoscaler in {tier.label} must keep at least {least} replicas "
        f"(required in {', '.join(settings.production_like)}): set spec.minReplicas to {least} or more "
        f"(got {shown(value)}{', Kubernetes defaults to 1' if value is MISSING else ''})"
    ]


# ---------------------------------------------------------------------------------------------
# Tags


def takes_tags(resource_type: str, props: Mapping[str, Any]) -> bool:
    return resource_type.startswith("azure-native:") and (resource_type in TAGGABLE or "tags" in props)


def required_tags(resource_type: str, props: Mapping[str, Any], settings: Settings) -> list[str]:
    if not takes_tags(resource_type, props) or is_unknown(dig(props, "tags")):
        return []
    missing = []
    for tag in settings.required_tags:
        value = dig(props, "tags", tag)
        if not is_unknown(value) and not (isinstance(value, str) and value.strip()):
            missing.append(tag)
    if not missing:
        return []
    return [
        f"resource is missing required tags (who owns it, who pays for it): "
        f"set {', '.join(f'tags.{t}' for t in missing)}"
    ]
