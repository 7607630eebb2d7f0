"""Reading resource inputs as the engine sends them: unknown values, absent values, references."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stagewise.core import edges
from stagewise.core.edges import Edge
from stagewise.policy.resource_types import FRONT_DOOR_PROFILE, TRAFFIC_MANAGER_PROFILE
from stagewise.policy.settings import Settings

# Sentinels the Pulumi engine puts in place of values it cannot know during preview
# (sdk/go/common/resource/plugin/rpc.go; the policy SDK's proxy checks the same strings).
UNKNOWN_VALUES = frozenset(
    (
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    )
)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def dig(props: Any, *path: str | int) -> Any:
    """The value at `path` in nested dicts/lists, MISSING if any step is absent or null.

    An unknown value met on the way is returned as is, so callers can tell "not set" from
    "not known yet".
    """
    value = props
    for step in path:
        if is_unknown(value):
            return value
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        else:
            if not isinstance(value, Mapping) or step not in value:
                return MISSING
            value = value[step]
        if value is None:
            return MISSING
    return value


def shown(value: Any) -> str:
    """How a (non-secret) value appears in a message."""
    if value is MISSING:
        return "not set"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a decimal string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


Validator = Callable[[Mapping[str, Any], Settings], list[str]]


@dataclass(frozen=True)
class StackResource:
    """What the stack rules need of a resource in the stack."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]]
    """Input property -> URNs of the resources its value came from."""
    dependencies: Sequence[str] = ()
    """URNs of every resource this one depends on (dependsOn included)."""


@dataclass(frozen=True)
class StackViolation:
    message: str
    urn: str


def by_urn(resources: Sequence[StackResource]) -> dict[str, StackResource]:
    return {r.urn: r for r in resources}


def sources(
    resource: StackResource, prop: str, index: Mapping[str, StackResource], types: Sequence[str]
) -> list[StackResource]:
    """The resources of `types` that `resource`'s input `prop` came from."""
    return [index[u] for u in resource.property_dependencies.get(prop, ()) if u in index and index[u].type in types]


def known(value: Any) -> bool:
    return value is not MISSING and not is_unknown(value)


def app_keys(resource: StackResource, slot: Any) -> set[tuple[str, str]]:
    """The (site, slot) a site, a slot, or a resource attached to one (a VNet connection, a publishing-credentials
    policy) names: by the resource its `name` came from (a site's own URN for a site) and by the name's value, so
    a reference and a literal name both match. `slot` is the slot's name, or MISSING for the site itself."""
    slot_key = str(slot) if known(slot) else ""
    sites = set(resource.property_dependencies.get("name", ()))
    if resource.type == "azure-native:web:WebApp":
        sites.add(resource.urn)
    name = dig(resource.props, "name")
    if known(name):
        sites.add(f"name:{name}")
    return {(site, slot_key) for site in sites}


def stack_edge(resources: Sequence[StackResource]) -> Edge:
    """The edge the stack's resources show (stagewise.core.edges.stack_edge): the rules that hold only for one edge
    read it here, so that a stack on the other edge is judged by its own rules, and a stack mid-switch by Front
    Door's, the stricter."""
    types = {r.type for r in resources}
    return edges.stack_edge(
        front_door=bool(types & set(FRONT_DOOR_PROFILE)), traffic_manager=bool(types & set(TRAFFIC_MANAGER_PROFILE))
    )
