"""AppIdentity: the stack's user-assigned identity, the one every site and slot reads Key Vault with."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import managedidentity


@dataclass
class AppIdentityArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str] = field(default_factory=dict)


class AppIdentity(pulumi.ComponentResource):
    """Created first and granted on the vault before any site exists: a system-assigned identity
    exists only once its site does, while the site's settings already hold the references
    (app-service/app-service-key-vault-references.md: "Some apps need to reference secrets at
    creation time, when a system-assigned identity would not yet be available")."""

    def __init__(self, name: str, args: AppIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stagewise:app_identity:AppIdentity", name, None, opts)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.id: pulumi.Output[str] = identity.id
        self.principal_id: pulumi.Output[str] = identity.principal_id
        self.client_id: pulumi.Output[str] = identity.client_id
        """What a site names to pull from Azure Container Registry with this identity ("acrUserManagedIdentityID")."""
        self.register_outputs({"id": self.id, "principal_id": self.principal_id, "client_id": self.client_id})
