"""RolloutWorkbook: an Azure Monitor workbook per environment, over its Application Insights component."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import applicationinsights

from stagewise.core import workbook


@dataclass(kw_only=True)
class RolloutWorkbookArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    workbook_name: str
    """The workbook's resource name: a GUID, stable per stack (stagewise.core.workbook.workbook_name)."""
    display_name: str
    stack: str
    insights_id: pulumi.Input[str]
    """The Application Insights component the queries read (the workbook's sourceId)."""
    stages: list[tuple[str, int]]
    """The stage catalogue: (name, candidate share %), as the workbook's text lists it."""
    links: dict[str, pulumi.Input[str]]
    """Label -> resource ID of what the workbook links to in the portal (the edge, each site and slot)."""
    health_path: str
    """The health-probe path the per-version queries leave out (stagewise:traffic.probe.path)."""
    bin_minutes: int = 5
    tags: dict[str, str] = field(default_factory=dict)


class RolloutWorkbook(pulumi.ComponentResource):
    def __init__(self, name: str, args: RolloutWorkbookArgs, opts: pulumi.ResourceOptions | None = None):
        # Refused here, before any child exists: the API takes only a GUID as a workbook's name.
        workbook.check_name(args.workbook_name)
        if not args.stages:
            raise ValueError("stages must list at least one stage")
        super().__init__("stagewise:rollout_workbook:RolloutWorkbook", name, None, opts)

        labels = list(args.links)
        content = pulumi.Output.all(*args.links.values()).apply(
            lambda ids: workbook.serialized(
                stack=args.stack,
                stages=args.stages,
                links=dict(zip(labels, ids, strict=True)),
                health_path=args.health_path,
                bin_minutes=args.bin_minutes,
            )
        )
        # A change of the content is an update in place: azure-native replaces a resource only on a change of a
        # property in its URL path (here the resource group and resourceName: pulumi/pulumi-azure-native#2283) or
        # one marked ForceNew (provider/pkg/gen/replacement.go lists none for Workbook; the 2023-06-01 spec,
        # workbooks_API.json, marks no workbook property create-only), and the name is stable per stack.
        book = applicationinsights.Workbook(
            f"{name}-workbook",
            resource_group_name=args.resource_group_name,
            location=args.location,
            resource_name_=args.workbook_name,
            # "shared": visible to everyone with access to the resource group (workbooks-automate.md's template);
            # category "workbook" lists it under Workbooks (the schema's example, WorkbookAdd).
            kind=applicationinsights.WorkbookSharedTypeKind.SHARED,
            category="workbook",
            display_name=args.display_name,
            source_id=args.insights_id,
            serialized_data=content,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.workbook_id: pulumi.Output[str] = book.id
        self.register_outputs({"workbook_id": self.workbook_id})
