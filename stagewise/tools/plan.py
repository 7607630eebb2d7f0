"""The offline plan, as data: what `pulumi up` would do to go from one evaluation of the program to
another, resource by resource and property by property.

Pure: no Pulumi import. `stagewise.tools.plandiff` makes a Plan from two evaluations,
`stagewise.tools.render` shows one (terminal, Markdown); `Plan.to_dict` is the JSON of `plan --json`.
Inputs hold secrets as "[secret]" already, so a plan never shows a secret value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["create", "update", "replace", "delete"]
OPS: tuple[Op, ...] = ("create", "update", "replace", "delete")

# The properties that carry traffic (colour shares and region weights), per resource type ("" = the
# whole resource). A stage change must touch these and nothing else: on Azure each region's two Front
# Door origins (site and slot), their weight, state and priority only, so that no site setting changes and nothing
# restarts (docs/azure-request-path.md); on Kubernetes the HTTPRoute. A site is never a traffic resource:
# its slot traffic rule is configuration, and a configuration change restarts the app. (A Traffic Manager
# endpoint's weight and state stay listed for stacks that still have one.)
TRAFFIC_PROPERTIES: dict[str, tuple[str, ...]] = {
    "azure-native:cdn:AFDOrigin": ("weight", "enabledState", "priority"),
    "azure-native:trafficmanager:Endpoint": ("weight", "endpointStatus"),
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": ("",),
}
TRAFFIC_TYPES = frozenset(TRAFFIC_PROPERTIES)

# The pseudo-property under which a change of the `protect` option is shown.
PROTECT = "(protect)"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a property on the side where it does not exist."""


@dataclass(frozen=True)
class ResourceState:
    urn: str
    type: str
    name: str
    custom: bool
    protect: bool
    inputs: Mapping[str, Any]
    secret_digests: Mapping[tuple[str | int, ...], str] = field(default_factory=dict)
    """Path -> keyed digest of the secret value there (inputs only show [secret])."""


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any = MISSING
    after: Any = MISSING

    @property
    def kind(self) -> Literal["add", "delete", "update"]:
        if self.before is MISSING:
            return "add"
        if self.after is MISSING:
            return "delete"
        return "update"


@dataclass(frozen=True)
class ResourceChange:
    op: Op
    urn: str
    type: str
    name: str
    diff: tuple[PropertyChange, ...] = ()
    replace_keys: tuple[str, ...] = ()
    """The changed properties that force the replacement (op == "replace")."""
    protect_before: bool | None = None
    protect_after: bool | None = None
    """`protect` on each side; None where the resource does not exist."""

    @property
    def traffic_only(self) -> bool:
        """An in-place update of traffic properties only (TRAFFIC_PROPERTIES)."""
        prefixes = TRAFFIC_PROPERTIES.get(self.type)
        return (
            self.op == "update"
            and prefixes is not None
            and bool(self.diff)
            and all(any(not p or under(c.path, p) for p in prefixes) for c in self.diff)
        )

    @property
    def refused(self) -> bool:
        """The engine refuses to delete a protected resource, so this step would fail."""
        return self.op in ("delete", "replace") and bool(self.protect_before)


@dataclass(frozen=True)
class Plan:
    changes: tuple[ResourceChange, ...] = ()
    outputs: tuple[PropertyChange, ...] = ()
    secrets_changed: tuple[str, ...] = ()
    """Config paths whose ciphertext changed: a change the plan cannot show (values are masked),
    yet a change, so the plan is not empty."""
    notes: tuple[str, ...] = field(default=(), compare=False)
    """Context for the reader (e.g. the stack file is new); never counted."""

    @property
    def empty(self) -> bool:
        return not self.changes and not self.outputs and not self.secrets_changed

    def counts(self) -> dict[Op, int]:
        return {op: sum(1 for c in self.changes if c.op == op) for op in OPS}

    @property
    def traffic_only(self) -> bool:
        """Only in-place updates of traffic properties."""
        return bool(self.changes) and all(c.traffic_only for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": {**self.counts(), "outputs": len(self.outputs), "secrets": len(self.secrets_changed)},
            "trafficOnly": self.traffic_only,
            "changes": [
                {
                    "op": c.op,
                    "urn": c.urn,
                    "type": c.type,
                    "name": c.name,
                    "replaceKeys": list(c.replace_keys),
                    "protected": c.refused,
                    "diff": [_change_dict(p) for p in c.diff],
                }
                for c in self.changes
            ],
            "outputs": [_change_dict(p) for p in self.outputs],
            "secretsChanged": list(self.secrets_changed),
            "notes": list(self.notes),
        }


def _change_dict(change: PropertyChange) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": change.path, "kind": change.kind}
    if change.before is not MISSING:
        entry["before"] = plain(change.before)
    if change.after is not MISSING:
        entry["after"] = plain(change.after)
    return entry


def plain(value: Any) -> Any:
    """Numbers come back from the engine as floats; show 750.0 as 750."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def under(path: str, key: str) -> bool:
    """Whether the property at `path` is `key` or inside it (`key.x`, `key[0]`)."""
    return path == key or path.startswith(key + ".") or path.startswith(key + "[")
