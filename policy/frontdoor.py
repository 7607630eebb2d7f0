"""Azure Front Door rules: origin weights, the latency sensitivity that lets them count, origin host headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stagewise.core import config, origins, rollout
from stagewise.core.limits import AFD_MAX_PRIORITY, AFD_MAX_WEIGHT, AFD_MIN_PRIORITY, AFD_MIN_WEIGHT
from stagewise.policy.inputs import MISSING, as_int, dig, is_unknown, known, shown
from stagewise.policy.record import PolicyRecord, ResourcesOnly, Validation, each
from stagewise.policy.resource_types import FRONT_DOOR_ORIGIN, FRONT_DOOR_ORIGIN_GROUP
from stagewise.policy.settings import Settings


def frontdoor_origin_weight(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """frontdoor/routing-methods.md, "Weighted": "The weight is an integer ranging from 1 to 1000"."""
    value = dig(props, "weight")
    if value is MISSING or is_unknown(value):
        return []  # Front Door's default weight is 50
    weight = as_int(value) if not isinstance(value, str) else None
    if weight is not None and AFD_MIN_WEIGHT <= weight <= AFD_MAX_WEIGHT:
        return []
    return [
        f"Front Door origin weight must be an integer {AFD_MIN_WEIGHT}..{AFD_MAX_WEIGHT}; to send no traffic to "
        f"an origin set enabledState to 'Disabled' instead (got {shown(value)})"
    ]


FRONTDOOR_ORIGIN_WEIGHT = PolicyRecord(
    name="frontdoor-origin-weight",
    description="Front Door origin weights are integers 1..1000 (frontdoor/routing-methods.md: 'The weight is an "
    "integer ranging from 1 to 1000').",
    check=each(FRONT_DOOR_ORIGIN, frontdoor_origin_weight),
    rule="`weight`, when set, is an integer 1..1000",
    twin=Validation(
        "regions[].weight 0..limits.TM_MAX_WEIGHT and stages[].weight 0..100; rollout.origin_weights scales them to "
        "1..1000 and disables an origin at 0; a region whose smallest stage would weigh below 1 is refused",
        (
            config.RegionConfig.model_fields["weight"],
            config.StageConfig.model_fields["weight"],
            rollout.origin_weights,
            config.StackConfig._every_stage_reaches_every_region,
        ),
    ),
)


def frontdoor_origin_priority(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """Microsoft.Cdn AFDOrigin.priority: "Higher priorities will not be used for load balancing if any lower priority
    origin is healthy. Must be between 1 and 5"."""
    value = dig(props, "priority")
    if value is MISSING or is_unknown(value):
        return []  # Front Door's default priority is 1
    priority = as_int(value) if not isinstance(value, str) else None
    if priority is not None and AFD_MIN_PRIORITY <= priority <= AFD_MAX_PRIORITY:
        return []
    return [
        f"Front Door origin priority must be an integer {AFD_MIN_PRIORITY}..{AFD_MAX_PRIORITY}; a fallback origin (a "
        f"colour at 0 % with a version) takes the next priority after the primaries (got {shown(value)})"
    ]


FRONTDOOR_ORIGIN_PRIORITY = PolicyRecord(
    name="frontdoor-origin-priority",
    description="Front Door origin priorities are integers 1..5 (Microsoft.Cdn AFDOrigin.priority: 'Must be between 1 "
    "and 5'); a lower value is served first, the next one only 'If these primary origins become unavailable' "
    "(frontdoor/routing-methods.md, 'Priority-based traffic-routing').",
    check=each(FRONT_DOOR_ORIGIN, frontdoor_origin_priority),
    rule="`priority`, when set, is an integer 1..5",
    twin=Validation(
        "origins.origins gives a colour with traffic priority 1 and a colour at 0 % priority 2",
        (origins.origins,),
    ),
)


def frontdoor_weights_take_effect(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """frontdoor/routing-methods.md, "Weighted": "If the latency sensitivity gets set to 0 milliseconds, then
    this property doesn't take effect unless there are two origins with the same network latency"."""
    value = dig(props, "loadBalancingSettings", "additionalLatencyInMilliseconds")
    if is_unknown(value):
        return []
    latency = as_int(value) if not isinstance(value, str) else None
    if latency is not None and latency > 0:
        return []
    return [
        "Front Door origin group must let origin weights take effect: set "
        "loadBalancingSettings.additionalLatencyInMilliseconds above 0, or the fastest origin takes all the "
        f"traffic whatever the stage (got {shown(value)})"
    ]


FRONTDOOR_WEIGHTS_TAKE_EFFECT = PolicyRecord(
    name="frontdoor-weights-take-effect",
    description="A Front Door origin group's latency sensitivity is above 0 ms, or origin weights do not take effect "
    "(frontdoor/routing-methods.md: 'If the latency sensitivity gets set to 0 milliseconds, then this "
    "property doesn't take effect').",
    check=each(FRONT_DOOR_ORIGIN_GROUP, frontdoor_weights_take_effect),
    rule="`loadBalancingSettings.additionalLatencyInMilliseconds` is above 0",
    twin=ResourcesOnly("no config key; components/front_door.py always sets it"),
)


def frontdoor_origin_host_header(props: Mapping[str, Any], settings: Settings) -> list[str]:
    """App Service picks the app (site or slot) by the Host header; Front Door sends the origin host header,
    and checks the origin's certificate against the origin's host name (frontdoor/end-to-end-tls.md, "a
    subject name matching the origin hostname"). So each origin sends its own host name."""
    host, header = dig(props, "hostName"), dig(props, "originHostHeader")
    if not known(host) or is_unknown(header) or header == host:
        return []
    return [
        "Front Door origin must send its own host name as the Host header, or App Service serves another app (or "
        f"colour) than the origin's: set originHostHeader to the value of hostName (got {shown(header)})"
    ]


FRONTDOOR_ORIGIN_HOST_HEADER = PolicyRecord(
    name="frontdoor-origin-host-header",
    description="A Front Door origin sends its own host name as the Host header, the name App Service picks the app "
    "by and the origin's certificate matches (frontdoor/end-to-end-tls.md: 'a subject name matching the "
    "origin hostname').",
    check=each(FRONT_DOOR_ORIGIN, frontdoor_origin_host_header),
    rule="`originHostHeader` equals `hostName`",
    twin=ResourcesOnly("no config key; components/front_door.py sends each origin's own host"),
)


POLICIES: tuple[PolicyRecord, ...] = (
    FRONTDOOR_ORIGIN_WEIGHT,
    FRONTDOOR_ORIGIN_PRIORITY,
    FRONTDOOR_WEIGHTS_TAKE_EFFECT,
    FRONTDOOR_ORIGIN_HOST_HEADER,
)
