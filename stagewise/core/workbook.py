"""The rollout workbook's content: what an Azure Monitor workbook per environment shows, as its JSON.

Pure: no Pulumi import. The charts run the alerts' own per-version queries (`alert_rules.per_version_query`,
binned in time), so the workbook, the alerts and the stage gate agree on what "the candidate's error
share" is. The workbook JSON is the `Notebook/1.0` document the portal's Advanced Editor shows: text
items (type 1, `content.json` markdown) and query items (type 3, `KqlItem/1.0`), as in Microsoft's
"Programmatically manage workbooks" (azure-monitor/visualize/workbooks-automate.md, its ARM template's
`serializedData`).

The stage is deliberately not written into the document: a stage change then moves traffic weights and
nothing else (what `stagewise plan` guarantees and `trafficOnly` reports), and the workbook shows the
stage as the traffic shows it (each version's share of the requests served, per time bin) beside the
stage catalogue written from config; `stagewise status` prints the stage the stack file names.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stagewise.core import alert_rules
from stagewise.core.tiers import HEALTH_PATH

NOTEBOOK_VERSION = "Notebook/1.0"
KQL_ITEM_VERSION = "KqlItem/1.0"
TEXT_ITEM = 1
QUERY_ITEM = 3
# The query item's resource type for an Application Insights source (workbooks-automate.md's sample items).
INSIGHTS_RESOURCE_TYPE = "microsoft.insights/components"
# A namespace of our own for the workbook's name: the API requires a GUID as the name (azure-native schema,
# applicationinsights:Workbook resourceName: "The name of the workbook resource. The value must be an UUID"),
# and uuid5 of the project and stack gives the same GUID on every run, so the workbook is never replaced.
_NAMESPACE = uuid.UUID("7d0c8f0e-5f3b-4a52-9a3e-2b1f0c6a5e11")


def workbook_name(project: str, stack: str) -> str:
    """The workbook's resource name: a GUID, stable for a project and stack (never random)."""
    return str(uuid.uuid5(_NAMESPACE, f"{project}/{stack}/rollout-workbook"))


def check_name(name: str) -> None:
    try:
        valid = str(uuid.UUID(name)) == name.lower()
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"workbook name {name!r} must be a GUID (workbook_name gives a stable one)")


def portal_link(resource_id: str) -> str:
    """The Azure portal's page of a resource, from its ID: the form Azure Monitor itself links a resource with
    (`portalLink`: "https://portal.azure.com/#resource/subscriptions/s1/resourceGroups/rg1/providers/...",
    azure-monitor/autoscale/autoscale-webhook-email.md, "Autoscale notification webhook payload schema")."""
    return f"https://portal.azure.com/#resource{resource_id}"


@dataclass(frozen=True)
class View:
    """One chart: a title and the per-version KQL it runs."""

    name: str
    title: str
    query: str


def views(health_path: str = HEALTH_PATH, bin_minutes: int = 5) -> tuple[View, ...]:
    """The per-version views, each over the alerts' query binned in time."""
    errors = alert_rules.per_version_query("error_share", health_path, bin_minutes)
    p95 = alert_rules.per_version_query("p95_ms", health_path, bin_minutes)
    by = f"timestamp, {alert_rules.VERSION_COLUMN}"
    return (
        View(
            "served-share",
            "Share of requests served per version (%): the stage as traffic shows it",
            alert_rules.served_share_query(health_path, bin_minutes),
        ),
        View("requests", "Requests per version", f"{errors} | project {by}, requests"),
        View("error-share", "HTTP 5xx share per version (%)", f"{errors} | project {by}, error_share"),
        View("p95", "p95 response time per version (ms)", f"{p95} | project {by}, p95_ms"),
    )


def _escaped(text: str) -> str:
    """Markdown from config (stage and link names) shown literally: no markup, no link injection."""
    return "".join(f"\\{c}" if c in "\\`*_{}[]()<>#+!|" else c for c in text)


def stages_markdown(stack: str, stages: Sequence[tuple[str, int]]) -> str:
    rows = "\n".join(f"| {_escaped(name)} | {share} |" for name, share in stages)
    return (
        f"## Rollout of {_escaped(stack)}\n"
        "The stage the stack file names: `stagewise status`. The chart below shows the stage as the traffic shows "
        "it: each version's share of the requests served.\n\n"
        f"| stage | candidate share (%) |\n|---|---|\n{rows}"
    )


def links_markdown(links: Mapping[str, str]) -> str:
    """`links`: label -> resource ID (the edge, each site and slot)."""
    return "## Metrics in the portal\n" + "\n".join(
        f"- [{_escaped(label)}]({portal_link(resource_id)})" for label, resource_id in links.items()
    )


def serialized(
    *,
    stack: str,
    stages: Sequence[tuple[str, int]],
    links: Mapping[str, str],
    health_path: str = HEALTH_PATH,
    bin_minutes: int = 5,
) -> str:
    """The workbook's `serializedData`."""
    items: list[dict[str, object]] = [
        {"type": TEXT_ITEM, "name": "stages", "content": {"json": stages_markdown(stack, stages)}},
    ]
    for view in views(health_path, bin_minutes):
        items.append(
            {
                "type": QUERY_ITEM,
                "name": view.name,
                "content": {
                    "version": KQL_ITEM_VERSION,
                    "title": view.title,
                    "query": view.query,
                    "size": 0,
                    "queryType": 0,
                    "resourceType": INSIGHTS_RESOURCE_TYPE,
                    "visualization": "timechart",
                    "timeContext": {"durationMs": 86_400_000},
                },
            }
        )
    items.append({"type": TEXT_ITEM, "name": "links", "content": {"json": links_markdown(links)}})
    return json.dumps({"version": NOTEBOOK_VERSION, "items": items, "isLocked": False}, sort_keys=True)
