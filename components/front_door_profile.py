"""FrontDoorProfile: the stack's Azure Front Door (Standard) profile, created before the sites.

The sites admit only requests that carry this profile's ID in X-Azure-FDID (frontdoor/origin-security.md), and
the profile's origins are the sites' host names: so the profile comes first, then the sites, then the origins
(components/front_door.py). The profile used to be a child of FrontDoor; its alias keeps it, unreplaced, on a
stack deployed before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import cdn

SKU = "Standard_AzureFrontDoor"
OLD_PARENT_TYPE = "stagewise:front_door:FrontDoor"
"""The component the profile was a child of, under the same name, before it had one of its own."""


@dataclass(kw_only=True)
class FrontDoorProfileArgs:
    resource_group_name: pulumi.Input[str]
    tags: dict[str, str] = field(default_factory=dict)


class FrontDoorProfile(pulumi.ComponentResource):
    def __init__(self, name: str, args: FrontDoorProfileArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stagewise:front_door_profile:FrontDoorProfile", name, None, opts)
        old_parent = pulumi.create_urn(name, OLD_PARENT_TYPE, parent=opts.parent if opts else None)
        profile = cdn.Profile(
            f"{name}-profile",
            resource_group_name=args.resource_group_name,
            location="global",
            sku=cdn.SkuArgs(name=SKU),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=old_parent)]),
        )
        self.profile_name: pulumi.Output[str] = profile.name
        self.profile_id: pulumi.Output[str] = profile.id
        self.front_door_id: pulumi.Output[str] = profile.front_door_id
        """The ID Front Door sends in X-Azure-FDID on every request to an origin (frontdoor/origin-security.md)."""
        self.register_outputs({"profile_name": self.profile_name, "front_door_id": self.front_door_id})
