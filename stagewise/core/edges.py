"""Which edge carries the stage on Azure (`stagewise:traffic.edge`), and what each edge asks of the sites.

Pure logic, no Pulumi import; the validator, the components and the policy pack import it.

- **frontDoor** (the default): every region's site (blue) and slot (green) are weighted Front Door origins
  (stagewise.core.origins); site and slot admit only this profile's Front Door (frontdoor/origin-security.md), and a
  parked colour admits nobody.
- **trafficManager**: a weighted Traffic Manager profile with one Azure endpoint per region, weighted by the region's
  part (stagewise.core.rollout.region_endpoints), each targeting the region's production site; the colour split inside
  a region is the site's slot traffic rule (`siteConfig.experiments.rampUpRules`, "Traffic %":
  app-service/deploy-staging-slots.md, "Route production traffic automatically"), the slot colour's share. Traffic
  Manager works in DNS only: "The client connects to the application service endpoint directly, not through
  Traffic Manager" (traffic-manager/traffic-manager-how-it-works.md), so the production site must admit the public, and the
  slot too, since the rule sends clients to it. Both admit Traffic Manager's probes by their service tag
  (`AzureTrafficManager`: "Azure Traffic Manager probe IP addresses", virtual-network/service-tags-overview.md). A
  parked slot (no share, no version of its own: what `abort` leaves) admits nobody, as under Front Door; the production
  site is never closed, because every client of the region enters through its host name, the slot's share included.

The stacks deployed before Front Door carried a Traffic Manager profile built by `components/traffic_split.py`; its
type token and resource names are kept (LEGACY_*), so `edge: trafficManager` on such a stack updates that profile in
place and keeps its URL.
"""

from __future__ import annotations

from typing import Literal

from stagewise.core.naming import SITE_NAME_MAX, SITES_DNS_SUFFIX, SLOT_NAME_MAX
from stagewise.core.rollout import SLOT_COLOUR, Colour

Edge = Literal["frontDoor", "trafficManager"]
FRONT_DOOR: Edge = "frontDoor"
TRAFFIC_MANAGER: Edge = "trafficManager"
EDGES: tuple[Edge, ...] = (FRONT_DOOR, TRAFFIC_MANAGER)
DEFAULT_EDGE: Edge = FRONT_DOOR

Access = Literal["frontDoor", "public", "closed"]
"""Who a site or slot admits: only this stack's Front Door, the public (and Traffic Manager's probes), or nobody."""

TM_SERVICE_TAG = "AzureTrafficManager"
"""virtual-network/service-tags-overview.md: "AzureTrafficManager | Azure Traffic Manager probe IP addresses"."""

ROUTING_COOKIE = "x-ms-routing-name"
PRODUCTION_ROUTE = "self"
"""deploy-staging-slots.md, "Route production traffic automatically": "A request that's routed to the production slot
has the cookie x-ms-routing-name=self"; a client carrying it stays on the production slot."""

PROBE_PIN_HEADER = ("Cookie", f"{ROUTING_COOKIE}={PRODUCTION_ROUTE}")
"""The Traffic Manager probe's custom header (monitorConfig.customHeaders): the probe carries the production slot's
routing cookie, so a slot traffic rule never sends it to the slot, and the endpoint's health is the production
site's."""

PINNED_PROBE_PROTOCOLS = ("HTTP", "HTTPS")
"""The probe protocols that carry custom headers, so the pin: "Custom Header settings ... Applicable for Http and Https
protocol" (traffic-manager/traffic-manager-monitoring.md); a TCP probe could not be kept off the slot, nor read the
health path."""

LEGACY_TYPE = "stagewise:traffic_split:TrafficSplit"
LEGACY_NAME = "traffic"
LEGACY_DNS_COMPONENT = "traffic"
"""The Traffic Manager component as the stacks before Front Door deployed it (git: 330e0cf^, infra/azure.py:
`TrafficSplit("traffic", ...)`, children `traffic-profile` and `traffic-<region>`, DNS label
`naming.dns_label(project, stack, "traffic")`). Kept unchanged so that such a stack's profile is updated, not
replaced."""


def slot_host_name(site: str, slot: str = SLOT_COLOUR) -> str:
    """A slot's host name from the names alone: "The slot's URL has the format
    `http://sitename-slotname.azurewebsites.net`. To keep the URL length within necessary DNS limits, the site name is
    truncated at 40 characters" (deploy-staging-slots.md); stagewise.core.naming keeps site names within 40 and slot
    names within 19, so nothing is truncated and the name is exactly this."""
    if not site or len(site) > SITE_NAME_MAX:
        raise ValueError(f"site name {site!r} must be 1..{SITE_NAME_MAX} characters")
    if not slot or len(slot) > SLOT_NAME_MAX:
        raise ValueError(f"slot name {slot!r} must be 1..{SLOT_NAME_MAX} characters")
    return f"{site}-{slot}.{SITES_DNS_SUFFIX}".lower()


def slot_percentage(edge: Edge, shares: dict[Colour, int]) -> int | None:
    """The production site's slot traffic rule, as a percentage routed to the slot; None: no rule.

    Only the trafficManager edge has one (the slot colour's share, stagewise.core.rollout.slot_share, none at 0 %);
    under Front Door a rule would route inside the site what the origins already split, and changing it restarts the
    site."""
    if edge != TRAFFIC_MANAGER:
        return None
    share = shares[SLOT_COLOUR]
    return share if share > 0 else None


def access(edge: Edge, colour: Colour, parked: bool) -> Access:
    """Who the site (blue) or slot (green) of a region admits, for an edge (see the module's docstring)."""
    if parked and (edge == FRONT_DOOR or colour == SLOT_COLOUR):
        return "closed"
    return "frontDoor" if edge == FRONT_DOOR else "public"


def stack_edge(*, front_door: bool, traffic_manager: bool) -> Edge:
    """The edge a stack's resources show: trafficManager when it holds a Traffic Manager profile and no Front Door
    profile; frontDoor otherwise (the default, whose rules are the stricter)."""
    return TRAFFIC_MANAGER if traffic_manager and not front_door else FRONT_DOOR
