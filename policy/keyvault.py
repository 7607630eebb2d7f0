"""Key Vault rules: the vault itself, and the references apps make to it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stagewise.core import tiers
from stagewise.core.limits import SECRETS_USER_ROLE
from stagewise.core.tiers import PRODUCTION
from stagewise.policy.inputs import (
    MISSING,
    StackResource,
    StackViolation,
    by_urn,
    dig,
    is_unknown,
    known,
    shown,
    sources,
)
from stagewise.policy.record import OnStack, PolicyRecord, ResourcesOnly, each
from stagewise.policy.resource_types import KEY_VAULT, ROLE_ASSIGNMENT, SUBNET, USER_ASSIGNED_IDENTITY, WEB_APPS
from stagewise.policy.settings import PRODUCTION_LIKE_TIERS, Settings
from stagewise.policy.tier import azure_tier
from stagewise.policy.webapps import app_settings


def keyvault_rbac_authorization(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "properties", "enableRbacAuthorization")
    if is_unknown(value) or value is True:
        return []
    return [
        "Key Vault must use Azure RBAC for data access, not access policies: "
        f"set properties.enableRbacAuthorization to true (got {shown(value)})"
    ]


KEYVAULT_RBAC_AUTHORIZATION = PolicyRecord(
    name="keyvault-rbac-authorization",
    description="Key Vaults authorize data access with Azure RBAC.",
    check=each(KEY_VAULT, keyvault_rbac_authorization),
    rule="`properties.enableRbacAuthorization` is true",
    twin=ResourcesOnly("no config key; components/secret_vault.py always sets it"),
)


def keyvault_soft_delete(props: Mapping[str, Any], settings: Settings) -> list[str]:
    value = dig(props, "properties", "enableSoftDelete")
    if is_unknown(value) or value is True:
        return []
    return [
        f"Key Vault must keep deleted secrets recoverable: set properties.enableSoftDelete to true (got {shown(value)})"
    ]


KEYVAULT_SOFT_DELETE = PolicyRecord(
    name="keyvault-soft-delete",
    description="Key Vaults keep deleted secrets recoverable (soft delete).",
    check=each(KEY_VAULT, keyvault_soft_delete),
    rule="`properties.enableSoftDelete` is true",
    twin=ResourcesOnly("no config key; components/secret_vault.py always sets it"),
)


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


KEYVAULT_PURGE_PROTECTION = PolicyRecord(
    name="keyvault-purge-protection",
    description="Key Vaults in production-like tiers have purge protection.",
    check=each(KEY_VAULT, keyvault_purge_protection),
    rule="`properties.enablePurgeProtection` is true",
    tiers="production-like",
    config=(PRODUCTION_LIKE_TIERS,),
    twin=tiers.PURGE_PROTECTION_RULE,
)


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


KEYVAULT_NETWORK_DEFAULT_DENY = PolicyRecord(
    name="keyvault-network-default-deny",
    description="Key Vaults in production deny network access by default.",
    check=each(KEY_VAULT, keyvault_network_default_deny),
    rule="`properties.networkAcls.defaultAction` is `Deny`",
    tiers="production",
    twin=tiers.NETWORK_DEFAULT_ACTION_RULE,
)


_VAULT_IN_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\((?:SecretUri=https://(?P<host>[^./\s()]+)\.vault\.azure\.net/|VaultName=(?P<name>[^;\s()]+);)",
    re.IGNORECASE,
)


def _vault_references(app: StackResource) -> set[str]:
    """Names of the vaults an app's settings reference (lower case, as DNS names compare)."""
    names = set()
    for _, value in app_settings(app.type, app.props):
        if isinstance(value, str) and not is_unknown(value):
            for match in _VAULT_IN_REFERENCE.finditer(value):
                names.add((match.group("host") or match.group("name")).lower())
    return names


def _apps_reading(vault: StackResource, apps: Iterable[StackResource]) -> list[StackResource] | None:
    """The apps whose settings reference `vault`; None when the vault's name is not known yet."""
    name = dig(vault.props, "vaultName")
    if not known(name) or not isinstance(name, str):
        return None
    return [app for app in apps if name.lower() in _vault_references(app)]


def keyvault_firewall_allows_app_subnets(resources: Sequence[StackResource]) -> list[StackViolation]:
    """App Service Key Vault references doc, network-restricted vaults: App Service resolves a
    reference from the app's own network, so a vault that denies by default must allow the app's
    VNet-integration subnet ("Make sure that the vault's configuration accounts for the network or
    subnet through which your app will access it"); otherwise the app gets the literal reference."""
    index = by_urn(resources)
    apps = [r for r in resources if r.type in WEB_APPS]
    violations = []
    for vault in (r for r in resources if r.type in KEY_VAULT):
        if dig(vault.props, "properties", "networkAcls", "defaultAction") != "Deny":
            continue
        readers = _apps_reading(vault, apps)
        if readers is None:
            continue
        rules = dig(vault.props, "properties", "networkAcls", "virtualNetworkRules")
        if is_unknown(rules):
            continue
        allowed_values = [dig(rule, "id") for rule in (rules if isinstance(rules, list) else [])]
        allowed_deps = {d.urn for d in sources(vault, "properties", index, SUBNET)}
        for app in readers:
            subnet = dig(app.props, "virtualNetworkSubnetId")
            app_deps = {d.urn for d in sources(app, "virtualNetworkSubnetId", index, SUBNET)}
            allowed: bool | None
            if subnet is MISSING:
                allowed = False
            elif app_deps and allowed_deps:
                allowed = bool(app_deps & allowed_deps)
            elif known(subnet) and all(known(v) for v in allowed_values):
                allowed = str(subnet).lower() in {str(v).lower() for v in allowed_values}
            else:
                allowed = None
            if allowed is False:
                violations.append(
                    StackViolation(
                        f"web app {app.name!r} reads Key Vault {dig(vault.props, 'vaultName')!r}, which denies network "
                        f"access by default, but {'has no integrated subnet' if subnet is MISSING else 'its integrated subnet is not allowed by the vault'}: "
                        "integrate the app with a subnet (virtualNetworkSubnetId) and allow that subnet in the vault's "
                        "properties.networkAcls.virtualNetworkRules, or the app gets the literal @Microsoft.KeyVault(...) strings",
                        app.urn,
                    )
                )
    return violations


KEYVAULT_FIREWALL_ALLOWS_APP_SUBNETS = PolicyRecord(
    name="keyvault-firewall-allows-app-subnets",
    description="A vault that denies network access by default allows the VNet-integration subnet of every app that "
    "references it (app-service/app-service-key-vault-references.md, 'Access network-restricted vaults').",
    check=OnStack(keyvault_firewall_allows_app_subnets),
    rule="a vault whose default action is `Deny` allows the VNet-integration subnet of every app whose "
    "settings reference it (and such an app has one)",
    twin=ResourcesOnly("no config key names a subnet; the program allows each region's integration subnet"),
)


def keyvault_reference_identity_granted_first(resources: Sequence[StackResource]) -> list[StackViolation]:
    """App Service Key Vault references doc, user-assigned identity: a system-assigned identity is
    not available when the site is created with its references ("a user-assigned identity can be
    created and given access to the vault in advance"), and a resolved (or failed) reference is
    cached for up to 24 hours. So an app that holds references reads them with a user-assigned
    identity (keyVaultReferenceIdentity) and depends on that identity's Key Vault Secrets User grant."""
    index = by_urn(resources)
    apps = [r for r in resources if r.type in WEB_APPS and _vault_references(r)]
    grants = [r for r in resources if r.type in ROLE_ASSIGNMENT]
    violations = []
    for app in apps:
        reference_identity = dig(app.props, "keyVaultReferenceIdentity")
        identities = sources(app, "keyVaultReferenceIdentity", index, USER_ASSIGNED_IDENTITY)
        if reference_identity is MISSING or (
            known(reference_identity) and str(reference_identity).lower() == "systemassigned"
        ):
            violations.append(
                StackViolation(
                    f"web app {app.name!r} resolves Key Vault references with its system-assigned identity "
                    f"(keyVaultReferenceIdentity {shown(reference_identity)}), which exists only once the site does: "
                    "set keyVaultReferenceIdentity to a user-assigned identity granted Key Vault Secrets User beforehand",
                    app.urn,
                )
            )
            continue
        if not identities:
            continue  # an identity defined outside the stack
        granted = {g.urn for g in grants if _grants_secrets_user(g, {i.urn for i in identities})}
        if not granted & set(app.dependencies):
            violations.append(
                StackViolation(
                    f"web app {app.name!r} reads Key Vault references with identity "
                    f"{', '.join(sorted(i.name for i in identities))!r} before that identity is granted: make the app "
                    "depend on (dependsOn) the role assignment of Key Vault Secrets User to that identity, so that no "
                    "reference is resolved, and cached for up to 24 hours, before the grant exists",
                    app.urn,
                )
            )
    return violations


KEYVAULT_REFERENCE_IDENTITY_GRANTED_FIRST = PolicyRecord(
    name="keyvault-reference-identity-granted-first",
    description="Apps resolve Key Vault references with a user-assigned identity whose Key Vault Secrets User grant "
    "they depend on (app-service/app-service-key-vault-references.md, 'Access vaults with a user-assigned "
    "identity': 'given access to the vault in advance').",
    check=OnStack(keyvault_reference_identity_granted_first),
    rule="an app holding Key Vault references sets `keyVaultReferenceIdentity` to a user-assigned identity and "
    "depends on that identity's *Key Vault Secrets User* role assignment",
    twin=ResourcesOnly("an ordering between resources (dependsOn)"),
)


def _grants_secrets_user(grant: StackResource, identity_urns: set[str]) -> bool:
    """A role assignment of Key Vault Secrets User (or a role not known yet) to one of the identities."""
    role = dig(grant.props, "roleDefinitionId")
    if known(role) and SECRETS_USER_ROLE not in str(role).lower():
        return False
    return bool(identity_urns & set(grant.property_dependencies.get("principalId", ())))


POLICIES: tuple[PolicyRecord, ...] = (
    KEYVAULT_RBAC_AUTHORIZATION,
    KEYVAULT_SOFT_DELETE,
    KEYVAULT_PURGE_PROTECTION,
    KEYVAULT_NETWORK_DEFAULT_DENY,
    KEYVAULT_FIREWALL_ALLOWS_APP_SUBNETS,
    KEYVAULT_REFERENCE_IDENTITY_GRANTED_FIRST,
)
