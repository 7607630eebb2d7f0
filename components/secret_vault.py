"""SecretVault: a Key Vault holding the stack's secrets, readable by the app's identities only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_azure_native import authorization, keyvault

from stagewise.core import limits

SECRETS_USER_ROLE = limits.SECRETS_USER_ROLE


@dataclass(kw_only=True)
class SecretVaultArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    vault_name: str
    """Globally unique physical name (see stagewise.core.naming.vault_name)."""
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    retention_days: int
    """Soft-delete retention, 7..90 days."""
    purge_protection: bool
    """Once on, Azure never lets it be turned off."""
    network_default_action: Literal["Allow", "Deny"]
    allowed_ips: list[str]
    """IPv4 addresses or CIDR ranges let through when the default action is Deny (stagewise:vault.allowedIps)."""
    allowed_subnet_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Subnets let through when the default action is Deny: the apps' VNet-integration subnets, from
    which App Service resolves Key Vault references (app-service-key-vault-references.md, "Make sure
    that the vault's configuration accounts for the network or subnet through which your app will
    access it")."""
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret name -> value. Values must be secret Outputs (from encrypted stack config)."""
    readers: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Label -> principal id of a managed identity granted Key Vault Secrets User on this vault."""
    tags: dict[str, str] = field(default_factory=dict)
    protect: bool
    """Refuse to delete the vault (stagewise:protect)."""


class SecretVault(pulumi.ComponentResource):
    def __init__(self, name: str, args: SecretVaultArgs, opts: pulumi.ResourceOptions | None = None):
        if not limits.RETENTION_MIN_DAYS <= args.retention_days <= limits.RETENTION_MAX_DAYS:
            raise ValueError(
                f"retention_days ({args.retention_days}) must be "
                f"{limits.RETENTION_MIN_DAYS}..{limits.RETENTION_MAX_DAYS}"
            )
        if args.allowed_subnet_ids and args.network_default_action != "Deny":
            raise ValueError("allowed_subnet_ids only matter when network_default_action is 'Deny'")
        if not limits.VAULT_NAME.match(args.vault_name):
            raise ValueError(f"vault_name {args.vault_name!r}: 3-24 letters, digits, hyphens, starting with a letter")
        for secret_name in args.secrets:
            if not limits.SECRET_NAME.match(secret_name):
                raise ValueError(f"secret name {secret_name!r}: 1-127 letters, digits and hyphens")
        super().__init__("stagewise:secret_vault:SecretVault", name, None, opts)

        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name="standard"),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.retention_days,
                # Azure refuses an explicit false: leave it unset until it is turned on.
                enable_purge_protection=True if args.purge_protection else None,
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action=args.network_default_action,
                    bypass="AzureServices",
                    ip_rules=[keyvault.IPRuleArgs(value=ip) for ip in args.allowed_ips],
                    virtual_network_rules=[keyvault.VirtualNetworkRuleArgs(id=s) for s in args.allowed_subnet_ids],
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.secrets: list[keyvault.Secret] = []
        """The secrets, which every app that references one depends on (docs/azure-request-path.md, section 5)."""
        for secret_name, value in args.secrets.items():
            secret = keyvault.Secret(
                f"{name}-{secret_name}",
                secret_name=secret_name,
                vault_name=vault.name,
                resource_group_name=args.resource_group_name,
                properties=keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value)),
                tags=args.tags,
                # A secret removed (or renamed) in the stack stays in the vault: ARM cannot delete a
                # secret, and the provider's data-plane delete is blocked by a default-deny vault, the
                # runner's network and the deployer's role; a deleted name would stay reserved for the
                # retention period anyway (key-vault/general/soft-delete-overview.md). So `up` only
                # drops it from the stack; docs/azure-request-path.md says how to delete it by hand.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.secrets.append(secret)
        role = pulumi.Output.concat(
            "/subscriptions/",
            args.subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/",
            SECRETS_USER_ROLE,
        )
        self.grants: list[authorization.RoleAssignment] = []
        for label, principal_id in args.readers.items():
            self.grants.append(
                authorization.RoleAssignment(
                    f"{name}-reader-{label}",
                    scope=vault.id,
                    role_definition_id=role,
                    principal_id=principal_id,
                    principal_type="ServicePrincipal",
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )

        self.vault_id: pulumi.Output[str] = vault.id
        self.vault_uri: pulumi.Output[str] = vault.properties.apply(lambda p: p.vault_uri)
        self.register_outputs({"vault_id": self.vault_id, "vault_uri": self.vault_uri})
