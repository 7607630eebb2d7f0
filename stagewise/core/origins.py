"""Every Front Door origin's state for a rollout state: weight, enabled, priority, and whether its colour is parked.

Pure logic, no Pulumi import. Front Door first keeps "all origins that are enabled and returned healthy", then
"the origins with the highest priority" (the lowest number), then those within the latency sensitivity, and
shares among them by weight (frontdoor/routing-methods.md, "Overall decision flow"). So:

- a colour with a share of traffic is a **primary** origin (priority 1), weighted by its region's part times its
  share (stagewise.core.rollout.origin_weights);
- a colour at 0 % that runs a version of its own stays an enabled **fallback** (priority 2): Front Door "routes
  traffic to the origins with the highest priority (lowest priority value). If these primary origins become
  unavailable, it routes traffic to the secondary origins" (frontdoor/routing-methods.md, "Priority-based
  traffic-routing"), on its probes, without waiting for a configuration change to propagate;
- a colour at 0 % with no version of its own (the other colour's, as `abort` leaves the candidate) is **parked**:
  its origin stays an enabled fallback, but its site or slot admits no request at all (its access restrictions
  lose the Front Door rule), so at every edge, whatever configuration the edge holds, its probes fail and it
  leaves rotation (the fast path of an abort, docs/azure-request-path.md);
- a colour with no version at all is a disabled origin (it runs the live image, idle, and is parked too);
- a region of weight 0 is drained: both its origins disabled.

Since shares sum to 100, some colour of every region above 0 is a primary: no state has no enabled origin, and
no mix of two states (an edge that has one origin's new configuration and another's old) has none either
(tests/unit/test_origins.py checks every transition).
"""

from __future__ import annotations

from dataclasses import dataclass

from stagewise.core.limits import AFD_MAX_WEIGHT, AFD_MIN_WEIGHT, AFD_SAMPLE_SIZE, AFD_SUCCESSFUL_SAMPLES
from stagewise.core.rollout import COLOURS, Catalog, Colour, Release, origin_weights, other, traffic

PRIMARY, FALLBACK = 1, 2
"""Front Door origin priorities (limits.AFD_MIN_PRIORITY..AFD_MAX_PRIORITY): "Higher priorities will not be used for
load balancing if any lower priority origin is healthy" (Microsoft.Cdn AFDOrigin.priority)."""


@dataclass(frozen=True)
class Origin:
    weight: int
    """1..1000, valid even when disabled."""
    enabled: bool
    priority: int


def parked(release: Release, catalog: Catalog) -> dict[Colour, bool]:
    """Colour -> whether it is parked: no share of traffic and no version of its own (no version, or the other colour's
    version, which is what `abort` leaves on the candidate). A parked colour admits no request, so Front Door's
    probes fail it at every edge within a few probe intervals, whatever configuration the edge holds."""
    shares = traffic(release, catalog)
    result: dict[Colour, bool] = {}
    for colour in COLOURS:
        # Which colour is live does not matter (so `finish`, which only swaps the labels, parks nothing).
        version = release.version(colour)
        own = bool(version) and version != release.version(other(colour))
        result[colour] = shares[colour] == 0 and not own
    return result


def origins(region_weights: dict[str, int], release: Release, catalog: Catalog) -> dict[str, dict[Colour, Origin]]:
    """Region -> colour -> its origin (see the module's docstring)."""
    shares = traffic(release, catalog)
    primary = origin_weights(region_weights, shares)
    heaviest = max(region_weights.values())
    result: dict[str, dict[Colour, Origin]] = {}
    for region, weight in region_weights.items():
        result[region] = {}
        for colour in COLOURS:
            if shares[colour] > 0:
                result[region][colour] = Origin(primary[region][colour].weight, weight > 0, PRIMARY)
            else:
                # Among fallbacks, the regions keep their parts of the traffic.
                fallback = max(AFD_MIN_WEIGHT, round(AFD_MAX_WEIGHT * weight / heaviest))
                result[region][colour] = Origin(fallback, weight > 0 and bool(release.version(colour)), FALLBACK)
    return result


def below_one(region_weights: dict[str, int], catalog: Catalog) -> tuple[str, int, float] | None:
    """The first region (and stage share) whose smallest Front Door weight, its part of the traffic times the
    smallest stage above 0, falls below 1 before rounding up to Front Door's minimum: that origin would get more
    than its share (1 instead of 0.4 is 2.5 times as much). None when every product is at least 1."""
    heaviest = max(region_weights.values(), default=0)
    shares = [s.share for s in catalog.stages if s.share > 0]
    if heaviest <= 0 or not shares:
        return None
    share = min(shares)
    for region, weight in region_weights.items():
        exact = AFD_MAX_WEIGHT * weight * share / (heaviest * 100)
        if weight > 0 and exact < AFD_MIN_WEIGHT:
            return region, share, exact
    return None


def seconds_to_leave_rotation(probe_interval: int) -> int:
    """How long after a parked colour starts refusing every request each Front Door edge stops routing to it: the
    failed probes it takes to fall below AFD_SUCCESSFUL_SAMPLES of the last AFD_SAMPLE_SIZE, one probe interval each
    (every edge probes on its own, so each acts within this time of its own probes). Not counted: the `up`'s own
    update of the site, whose time Azure does not state (docs/azure-request-path.md)."""
    return (AFD_SAMPLE_SIZE - AFD_SUCCESSFUL_SAMPLES + 1) * probe_interval
