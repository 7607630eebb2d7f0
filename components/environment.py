"""Environment: the resource group, its tags and the monitoring every other component reports to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights, resources


@dataclass(kw_only=True)
class EnvironmentArgs:
    location: str
    """Azure region of the resource group and its monitoring."""
    tags: dict[str, str]
    """Tags on every resource of the environment (environment, project, stack, owner, cost-centre)."""
    protect: bool
    """Refuse to delete the resource group (stagewise:protect)."""
    log_retention_days: int = 30
    """Log Analytics retention."""


class Environment(pulumi.ComponentResource):
    """A resource group with Log Analytics and workspace-based Application Insights."""

    def __init__(self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("stagewise:environment:Environment", name, None, opts)

        group = resources.ResourceGroup(
            f"{name}-rg",
            location=args.location,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=group.name,
            location=args.location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        insights = applicationinsights.Component(
            f"{name}-insights",
            resource_group_name=group.name,
            location=args.location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=workspace.id,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.resource_group_name: pulumi.Output[str] = group.name
        self.workspace_id: pulumi.Output[str] = workspace.id
        self.insights_id: pulumi.Output[str] = insights.id
        # Not a credential (it only lets a client send telemetry), and keeping it plain keeps the
        # web apps' siteConfig diffable in a preview.
        self.insights_connection_string: pulumi.Output[str] = insights.connection_string
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "workspace_id": self.workspace_id,
                "insights_id": self.insights_id,
            }
        )
