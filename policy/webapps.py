"""Web app and slot rules: transport, identity, app settings, the image's pull path, the grants and Key Vault
references an app waits for, the slot traffic rule. VNet integration is `vnet_integration`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stagewise.core import config, edges, tiers
from stagewise.core.limits import (
    ACR_LOGIN_SUFFIX,
    ACR_PULL_ROLE,
    DOCKER_HUB_HOSTS,
    RBAC_PROPAGATION_SECONDS,
    SECRETS_USER_ROLE,
)
from stagewise.core.naming import SITES_DNS_SUFFIX, image_registry
from stagewise.core.tiers import MIN_TLS_VERSION
from stagewise.policy.inputs import (
    MISSING,
    StackResource,
    StackViolation,
    Validator,
    as_int,
    by_urn,
    dig,
    is_unknown,
    known,
    shown,
    stack_edge,
)
from stagewise.policy.record import OnStack, PolicyRecord, ResourcesOnly, Validation, each, per_type
from stagewise.policy.resource_types import APP_SETTINGS_RESOURCES, ROLE_ASSIGNMENT, WEB_APP, WEB_APPS
from stagewise.policy.settings import Settings
from stagewise.policy.tier import azure_tier

TLS_MIN = tuple(int(part) for part in MIN_TLS_VERSION.split("."))


def webapp_https_only(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "httpsOnly")
    if is_unknown(value) or value is True:
        return []
    return [f"web app must redirect HTTP to HTTPS: set httpsOnly to true (got {shown(value)})"]


WEBAPP_HTTPS_ONLY = PolicyRecord(
    name="webapp-https-only",
    description="Web apps and slots serve HTTPS only.",
    check=each(WEB_APPS, webapp_https_only),
    rule="`httpsOnly` is true",
    twin=ResourcesOnly("no config key; components/blue_green_web_app.py always sets it"),
)


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
        f"web app must refuse TLS below {MIN_TLS_VERSION}: "
        f"set siteConfig.minTlsVersion to '{MIN_TLS_VERSION}' or '1.3' (got {shown(value)})"
    ]


WEBAPP_MIN_TLS = PolicyRecord(
    name="webapp-min-tls",
    description="Web apps and slots refuse TLS below 1.2.",
    check=each(WEB_APPS, webapp_min_tls),
    rule="`siteConfig.minTlsVersion` is 1.2 or higher (compared as a version)",
    twin=ResourcesOnly("no config key; components/blue_green_web_app.py always sets it"),
)


def webapp_ftps_disabled(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "siteConfig", "ftpsState")
    if is_unknown(value) or value == "Disabled":
        return []
    return [
        f"web app must not accept FTP or FTPS deployments: set siteConfig.ftpsState to 'Disabled' (got {shown(value)})"
    ]


WEBAPP_FTPS_DISABLED = PolicyRecord(
    name="webapp-ftps-disabled",
    description="Web apps and slots do not accept FTP/FTPS deployments.",
    check=each(WEB_APPS, webapp_ftps_disabled),
    rule="`siteConfig.ftpsState` is `Disabled`",
    twin=ResourcesOnly("no config key; components/blue_green_web_app.py always sets it"),
)


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


WEBAPP_MANAGED_IDENTITY = PolicyRecord(
    name="webapp-managed-identity",
    description="Web apps and slots have a managed identity.",
    check=each(WEB_APPS, webapp_managed_identity),
    rule="`identity.type` is SystemAssigned and/or UserAssigned",
    twin=ResourcesOnly("no config key; components/blue_green_web_app.py always sets it"),
)


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
SECRET_NAME_WORDS = frozenset(
    (
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "key",
        "apikey",
        "accesskey",
        "privatekey",
        "credential",
        "credentials",
        "sas",
    )
)


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


def app_settings(resource_type: str, props: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
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
        for name, value in app_settings(resource_type, props):
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


WEBAPP_NO_PLAINTEXT_SECRETS = PolicyRecord(
    name="webapp-no-plaintext-secrets",
    description="App settings hold Key Vault references, never secret values.",
    check=per_type((*WEB_APPS, *APP_SETTINGS_RESOURCES), app_settings_without_secrets),
    rule="no app setting looks like a secret unless it is a Key Vault reference "
    "`@Microsoft.KeyVault(SecretUri=\u2026)` or `(VaultName=\u2026;SecretName=\u2026)`",
    twin=Validation(
        "secrets only encrypted (stagewise:secrets); every other app setting is built by the program from non-secret keys",
        (config.StackConfig._secrets_encrypted,),
    ),
)


def _ramp_up_rules(props: Mapping[str, Any]) -> list[tuple[int, Any]]:
    rules = dig(props, "siteConfig", "experiments", "rampUpRules")
    return list(enumerate(rules)) if isinstance(rules, list) else []


def webapp_slot_rule_percentage(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """deploy-staging-slots.md: a slot routing rule kept at an explicit 0 % still lets clients that
    carry the slot's routing name (the x-ms-routing-name cookie) reach the slot."""
    messages = []
    for i, rule in _ramp_up_rules(props):
        value = dig(rule, "reroutePercentage")
        if is_unknown(value) or (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 100):
            continue
        messages.append(
            f"slot traffic rule {i} must route 1..100 % (got {shown(value)}): to send nothing to a slot, remove "
            "its rule from siteConfig.experiments.rampUpRules; a rule at 0 % keeps routing clients pinned to the slot"
        )
    return messages


WEBAPP_SLOT_RULE_PERCENTAGE = PolicyRecord(
    name="webapp-slot-rule-percentage",
    description="A slot traffic rule routes 1..100 %; 0 % is no rule, since a rule at an explicit 0 % still routes "
    "clients pinned by x-ms-routing-name (app-service/deploy-staging-slots.md, 'Route production traffic "
    "manually').",
    check=each((WEB_APP,), webapp_slot_rule_percentage),
    rule="each `siteConfig.experiments.rampUpRules[].reroutePercentage` is 1..100 (0 % is no rule)",
    twin=Validation(
        "stages[].weight 0..100, and 0 % becomes no rule (rollout)", (config.StageConfig.model_fields["weight"],)
    ),
)


def webapp_slot_rule_target(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """deploy-staging-slots.md: the rule routes to a slot's host name, sitename-slotname.azurewebsites.net."""
    site = dig(props, "name")
    if not isinstance(site, str) or is_unknown(site):
        return []
    messages = []
    for i, rule in _ramp_up_rules(props):
        host = dig(rule, "actionHostName")
        if is_unknown(host):
            continue
        if isinstance(host, str) and re.fullmatch(
            rf"{re.escape(site.lower())}-[a-z0-9-]{{1,19}}\.{re.escape(SITES_DNS_SUFFIX)}", host.lower()
        ):
            continue
        messages.append(
            f"slot traffic rule {i} must route to a slot of this site, "
            f"'{site}-<slot>.{SITES_DNS_SUFFIX}' (got {shown(host)})"
        )
    return messages


WEBAPP_SLOT_RULE_TARGET = PolicyRecord(
    name="webapp-slot-rule-target",
    description="A slot traffic rule routes to a slot of its own site, <site>-<slot>.azurewebsites.net "
    "(app-service/deploy-staging-slots.md, 'Route production traffic automatically').",
    check=each((WEB_APP,), webapp_slot_rule_target),
    rule="each rule's `actionHostName` is a slot of the same site, `<site>-<slot>.azurewebsites.net`",
    twin=ResourcesOnly("the host name is derived from the site's name"),
)


def _image(props: Mapping[str, Any]) -> str | None:
    """The image of a single-container Linux site (linuxFxVersion DOCKER|<image>:<tag>), without the tag."""
    value = dig(props, "siteConfig", "linuxFxVersion")
    if not isinstance(value, str) or is_unknown(value) or not value.upper().startswith("DOCKER|"):
        return None
    reference = value.split("|", 1)[1]
    name, _, _ = reference.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > last_slash else name


def _setting(props: Mapping[str, Any], resource_type: str, name: str) -> Any:
    for key, value in app_settings(resource_type, props):
        if key == name:
            return value
    return MISSING


def webapp_image_pull_path(resource_type: str) -> Validator:
    """app-service/configure-custom-container.md: App Service pulls "Each time the app restarts" and on every
    new instance, so an image on a private registry needs a pull path for the life of the app: the managed
    identity ("acrUseManagedIdentityCreds", "acrUserManagedIdentityID") for Azure Container Registry, or
    DOCKER_REGISTRY_SERVER_URL with its user name and password for any other registry. In the tiers of
    tiers.REGISTRY_PULL_RULE (staging, production) every image is pulled with authentication (anonymous pulls are
    rate-limited)."""

    def validate(props: Mapping[str, Any], settings: Settings) -> list[str]:
        image = _image(props)
        if image is None:
            return []
        config = (
            dig(props, "siteConfig", "acrUseManagedIdentityCreds"),
            dig(props, "siteConfig", "acrUserManagedIdentityID"),
        )
        server = _setting(props, resource_type, "DOCKER_REGISTRY_SERVER_URL")
        credentials = [_setting(props, resource_type, f"DOCKER_REGISTRY_SERVER_{k}") for k in ("USERNAME", "PASSWORD")]
        if any(is_unknown(v) for v in (*config, server, *credentials)):
            return []
        host = image_registry(image)
        with_identity = config[0] is True and known(config[1])
        server_host = (
            str(server).lower().removeprefix("https://").removeprefix("http://").rstrip("/") if known(server) else None
        )
        with_credentials = server_host is not None and all(known(c) and c for c in credentials)
        acr = host is not None and host.endswith(f".{ACR_LOGIN_SUFFIX}")
        if acr and (with_identity or (with_credentials and server_host == host)):
            return []
        if host is not None and not acr and host not in DOCKER_HUB_HOSTS and with_credentials and server_host == host:
            return []
        tier = azure_tier(props)
        private = host is not None and host not in DOCKER_HUB_HOSTS
        if not private and not (
            tier is not None and tier.name in tiers.REGISTRY_PULL_RULE.tiers and not (with_identity or with_credentials)
        ):
            return []
        fix = (
            "set siteConfig.acrUseManagedIdentityCreds to true and siteConfig.acrUserManagedIdentityID to the client "
            "ID of an identity granted AcrPull"
            if acr or host is None or host in DOCKER_HUB_HOSTS
            else f"set the app settings DOCKER_REGISTRY_SERVER_URL (https://{host}), DOCKER_REGISTRY_SERVER_USERNAME "
            "and DOCKER_REGISTRY_SERVER_PASSWORD (Key Vault references)"
        )
        where = f"registry {host}" if private else f"Docker Hub, anonymously, in {tier.label if tier else 'production'}"
        return [
            f"web app pulls {image!r} from {where} with no way to sign in, and App Service pulls again on every "
            f"restart and new instance: {fix}"
        ]

    return validate


WEBAPP_IMAGE_PULL_PATH = PolicyRecord(
    name="webapp-image-pull-path",
    description="A web app's image has a pull path: the managed identity for Azure Container Registry, credentials "
    "for any other registry, and authentication for every image in staging and production "
    "(app-service/configure-custom-container.md: 'Each time the app restarts, App Service performs the "
    "`docker pull` command').",
    check=per_type(WEB_APPS, webapp_image_pull_path),
    rule="an image on a registry host has a pull path (the managed identity for Azure Container Registry, "
    "`DOCKER_REGISTRY_SERVER_*` for any other); in staging and production every image is pulled with authentication",
    twin=tiers.REGISTRY_PULL_RULE,
)


def webapp_no_slot_traffic_rule(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """The slot traffic rule lives in siteConfig, and "Any configuration change to the app causes an app
    restart" (app-service/app-service-key-vault-references.md, "Understand rotation"); Microsoft states
    nowhere that a rule change is an exception (Azure/azure-cli#29147 reports that it restarts). The
    stage is carried by Front Door origin weights, so a site holds no rule."""
    rules = _ramp_up_rules(props)
    if not rules:
        return []
    return [
        f"web app holds {len(rules)} slot traffic rule(s) in siteConfig.experiments.rampUpRules: changing one "
        "restarts the live site; leave the list empty and carry each colour's share as a Front Door origin weight"
    ]


def webapp_no_slot_traffic_rule_on_stack(resources: Sequence[StackResource]) -> list[StackViolation]:
    """webapp_no_slot_traffic_rule on every site of a stack on the frontDoor edge (stack_edge): under Traffic Manager
    the rule is how the colours are split, and its restarts are the documented price of that edge."""
    if stack_edge(resources) != edges.FRONT_DOOR:
        return []
    return [
        StackViolation(f"web app {site.name!r}: {message}", site.urn)
        for site in resources
        if site.type == WEB_APP
        for message in webapp_no_slot_traffic_rule(site.props, Settings())
    ]


WEBAPP_NO_SLOT_TRAFFIC_RULE = PolicyRecord(
    name="webapp-no-slot-traffic-rule",
    description="On the frontDoor edge, a site holds no slot traffic rule: it lives in siteConfig, and 'Any "
    "configuration change to the app causes an app restart' (app-service/app-service-key-vault-references.md); the "
    "stage is carried by Front Door origin weights.",
    check=OnStack(webapp_no_slot_traffic_rule_on_stack),
    rule="on a stack with a Front Door profile (or no Traffic Manager profile): "
    "`siteConfig.experiments.rampUpRules` is empty: a rule is site configuration, and changing it "
    "restarts the site; Front Door carries the stage",
    twin=Validation(
        "traffic.edge frontDoor (the default): edges.slot_percentage gives no rule",
        (config.TrafficConfig.model_fields["edge"], edges.slot_percentage),
    ),
)


def _needs(app: StackResource) -> list[tuple[str, str]]:
    """(role ID, why) of each grant an app needs effective before it exists."""
    needs = []
    if any(isinstance(v, str) and KEY_VAULT_REFERENCE.search(v) for _, v in app_settings(app.type, app.props)):
        needs.append((SECRETS_USER_ROLE, "reads Key Vault references"))
    if dig(app.props, "siteConfig", "acrUseManagedIdentityCreds") is True:
        needs.append((ACR_PULL_ROLE, "pulls its image with its identity"))
    return needs


def _may_grant(grant: StackResource, role: str) -> bool:
    """A role assignment of `role`, or one whose role is not known yet (the rule stays silent on those)."""
    value = dig(grant.props, "roleDefinitionId")
    return not known(value) or role in str(value).lower()


def webapp_waits_for_effective_grants(resources: Sequence[StackResource]) -> list[StackViolation]:
    """A dependency on a role assignment waits for it to exist, not to take effect (the issue's source:
    key-vault/general/rbac-guide.md, "up to 10 minutes (600 seconds)"); an app created earlier keeps the
    literal reference strings until the refetch "every 24 hours" (app-service-key-vault-references.md). So
    an app that needs a grant depends on a wait of at least RBAC_PROPAGATION_SECONDS that itself depends on
    that grant (components/grant_propagation.py)."""
    index = by_urn(resources)
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        waits = [
            index[u]
            for u in app.dependencies
            if u in index and (as_int(dig(index[u].props, "propagationSeconds")) or 0) >= RBAC_PROPAGATION_SECONDS
        ]
        for role, why in _needs(app):
            grants = {r.urn for r in resources if r.type in ROLE_ASSIGNMENT and _may_grant(r, role)}
            if not any(grants & set(w.dependencies) for w in waits):
                violations.append(
                    StackViolation(
                        f"web app {app.name!r} {why} but is not created after a wait of at least "
                        f"{RBAC_PROPAGATION_SECONDS} s that follows the grant of role {role}: a grant takes effect "
                        "minutes after it exists; make the app depend on such a wait (components/grant_propagation.py)",
                        app.urn,
                    )
                )
    return violations


WEBAPP_WAITS_FOR_EFFECTIVE_GRANTS = PolicyRecord(
    name="webapp-waits-for-effective-grants",
    description="Apps that read Key Vault references or pull with their identity are created after a wait that "
    "follows the grant: a grant exists before it takes effect (key-vault/general/rbac-guide.md), and an "
    "unresolved reference is refetched only 'every 24 hours' "
    "(app-service/app-service-key-vault-references.md).",
    check=OnStack(webapp_waits_for_effective_grants),
    rule="an app that reads Key Vault references or pulls with its identity depends on a wait of at least 600 "
    "s that follows the needed grant (Key Vault Secrets User, AcrPull)",
    twin=ResourcesOnly("an ordering between resources (dependsOn)"),
)


def webapp_references_checked(resources: Sequence[StackResource]) -> list[StackViolation]:
    """ "If a reference isn't resolved properly, the reference string is used instead"
    (app-service-key-vault-references.md, "Troubleshoot Key Vault references"): every app that holds references
    is covered by a check of its config references (inputs siteIds and settings, components/reference_check.py)
    that names each of its reference settings, so `pulumi up` fails instead of reporting success."""
    checks = [r for r in resources if isinstance(dig(r.props, "siteIds"), list)]
    violations = []
    for app in (r for r in resources if r.type in WEB_APPS):
        names = {
            n for n, v in app_settings(app.type, app.props) if isinstance(v, str) and KEY_VAULT_REFERENCE.search(v)
        }
        if not names:
            continue
        covering = [c for c in checks if app.urn in c.property_dependencies.get("siteIds", ())]
        if any(is_unknown(dig(c.props, "settings")) for c in covering):
            continue
        checked = {n for c in covering for n in (dig(c.props, "settings") or []) if isinstance(n, str)}
        missing = sorted(names - checked)
        if missing:
            violations.append(
                StackViolation(
                    f"web app {app.name!r} holds Key Vault references that no check confirms resolved "
                    f"({', '.join(missing)}): an unresolved reference leaves the literal string in the setting; "
                    "check the site's config references after it is created (components/reference_check.py)",
                    app.urn,
                )
            )
    return violations


WEBAPP_REFERENCES_CHECKED = PolicyRecord(
    name="webapp-references-checked",
    description="Every app's Key Vault references are checked after the app exists: 'If a reference isn't resolved "
    "properly, the reference string is used instead' (app-service/app-service-key-vault-references.md).",
    check=OnStack(webapp_references_checked),
    rule="every app's Key Vault reference settings are named by a check of its config references that runs after it",
    twin=ResourcesOnly("a resource after the sites (components/reference_check.py)"),
)


POLICIES: tuple[PolicyRecord, ...] = (
    WEBAPP_HTTPS_ONLY,
    WEBAPP_MIN_TLS,
    WEBAPP_FTPS_DISABLED,
    WEBAPP_MANAGED_IDENTITY,
    WEBAPP_NO_PLAINTEXT_SECRETS,
    WEBAPP_SLOT_RULE_PERCENTAGE,
    WEBAPP_SLOT_RULE_TARGET,
    WEBAPP_IMAGE_PULL_PATH,
    WEBAPP_NO_SLOT_TRAFFIC_RULE,
    WEBAPP_WAITS_FOR_EFFECTIVE_GRANTS,
    WEBAPP_REFERENCES_CHECKED,
)
