"""ContainerRegistry: the registry the sites pull from with the stack's identity, and its AcrPull grant.

App Service pulls the image "Each time the app restarts", and all layers again on a new instance
(app-service/configure-custom-container.md, "How container images are stored"), so the pull path must hold
for the life of the app. The sites pull with the user-assigned identity ("acrUseManagedIdentityCreds",
"acrUserManagedIdentityID", same doc, "Use managed identity to pull an image from Azure Container
Registry"), which exists, and is granted AcrPull, before any site does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, containerregistry

from stagewise.core import limits

ACR_PULL_ROLE = limits.ACR_PULL_ROLE


@dataclass
class ContainerRegistryArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: pulumi.Input[str]
    reader_principal_id: pulumi.Input[str]
    """The identity granted AcrPull: the one every site and slot pulls with."""
    registry_id: str | None = None
    """An existing registry's resource ID; None: create one named `name`."""
    name: str | None = None
    """Name of the registry to create (stagewise.core.naming.registry_name): globally unique."""
    sku: str = "Standard"
    tags: dict[str, str] = field(default_factory=dict)


class ContainerRegistry(pulumi.ComponentResource):
    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        if (args.registry_id is None) == (args.name is None):
            raise ValueError("give exactly one of registry_id (an existing registry) and name (a new one)")
        if args.registry_id is not None and not limits.ACR_ID.match(args.registry_id):
            raise ValueError(f"registry_id {args.registry_id!r} is not a container registry's resource ID")
        if args.name is not None and not limits.ACR_NAME.match(args.name):
            raise ValueError(f"name {args.name!r}: 5-50 letters and digits")
        super().__init__("stagewise:container_registry:ContainerRegistry", name, None, opts)

        registry_id: pulumi.Input[str]
        if args.name is not None:
            registry = containerregistry.Registry(
                f"{name}-acr",
                registry_name=args.name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                sku=containerregistry.SkuArgs(name=args.sku),
                # Pulls sign in with the identity only: no shared admin password exists to leak.
                admin_user_enabled=False,
                anonymous_pull_enabled=False,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            registry_id = registry.id
        else:
            registry_id = args.registry_id  # type: ignore[assignment]
        self.grant = authorization.RoleAssignment(
            f"{name}-pull",
            scope=registry_id,
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/",
                args.subscription_id,
                "/providers/Microsoft.Authorization/roleDefinitions/",
                ACR_PULL_ROLE,
            ),
            principal_id=args.reader_principal_id,
            principal_type="ServicePrincipal",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.registry_id: pulumi.Output[str] = pulumi.Output.from_input(registry_id)
        self.register_outputs({"registry_id": self.registry_id})
