"""The offline plan: what `pulumi up` would do to go from one evaluation of the program to another.

Pure: no Pulumi import. Works on the resources an evaluation recorded, as plain data (anything
with urn, type, name, custom, protect and inputs attributes), so the same logic serves the CLI,
the tests and any other caller.

A resource is matched by URN. Present only after: create. Present only before: delete. Present
on both sides with different inputs: update, or replace when a changed input is one the provider
cannot change in place (REPLACE_ON). Inputs hold secrets as "[secret]" already, so a plan never
shows a secret value, and a change of a secret value is invisible to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from stagewise.formats.stackfile import SECRET_PLACEHOLDER, is_encrypted

Op = Literal["create", "update", "replace", "delete"]
OPS: tuple[Op, ...] = ("create", "update", "replace", "delete")

# The properties that carry traffic (colour shares and region weights), per resource type ("" = the
# whole resource). A stage change must touch these and nothing else: on Azure each region's two Front
# Door origins (site and slot), their weight and state only, so that no site setting changes and nothing
# restarts (docs/azure-request-path.md); on Kubernetes the HTTPRoute. A site is never a traffic resource:
# its slot traffic rule is configuration, and a configuration change restarts the app. (A Traffic Manager
# endpoint's weight and state stay listed for stacks that still have one.)
TRAFFIC_PROPERTIES: dict[str, tuple[str, ...]] = {
    "azure-native:cdn:AFDOrigin": ("weight", "enabledState"),
    "azure-native:trafficmanager:Endpoint": ("weight", "endpointStatus"),
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": ("",),
}
TRAFFIC_TYPES = frozenset(TRAFFIC_PROPERTIES)

# Input properties the provider cannot change in place: changing one replaces the resource.
# "<provider>:*" applies to every type of that provider. Kept to the types the program uses:
#   - azure-native: the ARM path parameters (a resource's own name and its parents' names are
#     part of its id) and `location`/`kind`, which Azure refuses to move or convert. Role
#     assignments are immutable in Azure: any change of who gets which role is a new assignment.
#   - kubernetes: metadata.name and metadata.namespace identify the object.
# A type not listed only gets its provider's "*" rule; every other change is an update.
REPLACE_ON: dict[str, tuple[str, ...]] = {
    "azure-native:*": ("resourceGroupName", "location", "kind"),
    "azure-native:keyvault:Vault": ("vaultName",),
    "azure-native:keyvault:Secret": ("vaultName", "secretName"),
    "azure-native:trafficmanager:Profile": ("profileName",),
    "azure-native:trafficmanager:Endpoint": ("profileName", "endpointType", "endpointName"),
    "azure-native:cdn:Profile": ("profileName",),
    "azure-native:cdn:AFDEndpoint": ("profileName", "endpointName"),
    "azure-native:cdn:AFDOriginGroup": ("profileName", "originGroupName"),
    "azure-native:cdn:AFDOrigin": ("profileName", "originGroupName", "originName"),
    "azure-native:cdn:Route": ("profileName", "endpointName", "routeName"),
    "azure-native:containerregistry:Registry": ("registryName",),
    "azure-native:web:AppServicePlan": ("name",),
    "azure-native:web:WebApp": ("name",),
    "azure-native:web:WebAppSlot": ("name", "slot"),
    "azure-native:web:WebAppSlotConfigurationNames": ("name",),
    "azure-native:managedidentity:UserAssignedIdentity": ("resourceName",),
    "azure-native:network:VirtualNetwork": ("virtualNetworkName",),
    "azure-native:network:Subnet": ("virtualNetworkName", "subnetName"),
    "azure-native:authorization:RoleAssignment": ("scope", "roleAssignmentName", "principalId", "roleDefinitionId"),
    "kubernetes:*": ("metadata.name", "metadata.namespace"),
}

# Types the program keeps in Azure when they leave the stack (retainOnDelete): a removed or renamed
# secret is dropped from the stack only (components/secret_vault.py, docs/azure-request-path.md).
RETAINED_ON_DELETE = frozenset(("azure-native:keyvault:Secret",))
RETAINED_SECRET = (
    "no site reads it any more; delete it, if needed, from an allowed address with Key Vault Secrets Officer "
    "(docs/azure-request-path.md, 'Removing or renaming a secret')"
)

# Inputs Azure fixes when the resource is created: an update of one fails at `pulumi up`.
FIXED_AT_CREATION: dict[str, dict[str, str]] = {
    "azure-native:keyvault:Vault": {
        "properties.softDeleteRetentionInDays": '"The retention policy interval can only be configured during key '
        "vault creation and can't be changed afterwards\" (key-vault/general/soft-delete-overview.md): `up` will "
        "fail; keep stagewise:vault.retentionDays, or move to a new vault with a new vault.nameSuffix "
        "(docs/azure-request-path.md, 'Soft-delete retention is chosen once')",
    },
}

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
            and all(any(not p or _forces_replace(c.path, p) for p in prefixes) for c in self.diff)
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


def states(records: Iterable[Any]) -> dict[str, ResourceState]:
    """Recorded resources (any objects with the ResourceState attributes) keyed by URN, in order."""
    return {
        r.urn: ResourceState(
            urn=r.urn,
            type=r.type,
            name=r.name,
            custom=r.custom,
            protect=r.protect,
            inputs=r.inputs,
            secret_digests=getattr(r, "secret_digests", {}),
        )
        for r in records
    }


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(str(key)):
        return f"{path}.{key}" if path else str(key)
    return f"{path}[{json.dumps(str(key))}]"


def property_diff(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """Leaf-level differences: mappings by key (in sorted order, so that the diff back is the
    mirror of the diff forward), lists by position, anything else by value."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[PropertyChange] = []
        for key in sorted({*before, *after}, key=str):
            changes += property_diff(before.get(key, MISSING), after.get(key, MISSING), _join(path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for i in range(max(len(before), len(after))):
            changes += property_diff(
                before[i] if i < len(before) else MISSING, after[i] if i < len(after) else MISSING, _join(path, i)
            )
        return changes
    if before is MISSING and after is MISSING:
        return []
    if before is not MISSING and after is not MISSING and before == after and type(before) is type(after):
        return []
    if _same_number(before, after):
        return []
    return [PropertyChange(path, before, after)]


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def secret_changes(old: ResourceState, new: ResourceState) -> list[PropertyChange]:
    """Secrets that are secret on both sides with different values: the inputs show [secret] on
    both sides, so only the digests tell. (A value that turns secret or stops being one differs
    in the inputs already.)"""
    changes = []
    for path, digest in old.secret_digests.items():
        if path in new.secret_digests and new.secret_digests[path] != digest:
            text = ""
            for key in path:
                text = _join(text, key)
            changes.append(PropertyChange(text, SECRET_PLACEHOLDER, SECRET_PLACEHOLDER))
    return changes


def replace_rules(type_: str) -> tuple[str, ...]:
    provider = type_.split(":", 1)[0]
    return REPLACE_ON.get(f"{provider}:*", ()) + REPLACE_ON.get(type_, ())


def _forces_replace(path: str, key: str) -> bool:
    return path == key or path.startswith(key + ".") or path.startswith(key + "[")


def replace_keys(type_: str, diff: Iterable[PropertyChange]) -> tuple[str, ...]:
    """The changed paths that the provider cannot update in place."""
    rules = replace_rules(type_)
    return tuple(c.path for c in diff if any(_forces_replace(c.path, key) for key in rules))


def diff(
    before: Mapping[str, ResourceState],
    after: Mapping[str, ResourceState],
    outputs_before: Mapping[str, Any] | None = None,
    outputs_after: Mapping[str, Any] | None = None,
    secret_outputs: Iterable[str] = (),
    secrets_changed: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Plan:
    """The plan from `before` to `after` (URN -> ResourceState). Creates, updates and replaces come
    first, deletes last (as the engine runs them), each in URN order: the program registers
    resources concurrently, so registration order varies between runs, while URN order is stable
    and keeps a component's children together. Outputs are compared by value and shown with
    `secret_outputs` as [secret]."""
    changes: list[ResourceChange] = []
    for urn, new in after.items():
        old = before.get(urn)
        if old is None:
            changes.append(
                ResourceChange(
                    "create",
                    urn,
                    new.type,
                    new.name,
                    tuple(property_diff({}, dict(new.inputs))),
                    protect_after=new.protect,
                )
            )
            continue
        props = property_diff(dict(old.inputs), dict(new.inputs)) + secret_changes(old, new)
        if old.protect != new.protect:
            props.append(PropertyChange(PROTECT, old.protect, new.protect))
        if not props:
            continue
        forcing = replace_keys(new.type, props)
        changes.append(
            ResourceChange(
                "replace" if forcing else "update",
                urn,
                new.type,
                new.name,
                tuple(props),
                forcing,
                protect_before=old.protect,
                protect_after=new.protect,
            )
        )
    for urn, old in before.items():
        if urn not in after:
            changes.append(
                ResourceChange(
                    "delete",
                    urn,
                    old.type,
                    old.name,
                    tuple(property_diff(dict(old.inputs), {})),
                    protect_before=old.protect,
                )
            )
    ob, oa = dict(outputs_before or {}), dict(outputs_after or {})
    hidden = set(secret_outputs)
    shown = lambda key, value: SECRET_PLACEHOLDER if key in hidden and value is not MISSING else value  # noqa: E731
    # Stack outputs are compared whole, one line per output, as `pulumi preview` shows them.
    output_changes = tuple(
        PropertyChange(key, shown(key, ob.get(key, MISSING)), shown(key, oa.get(key, MISSING)))
        for key in [*ob, *(k for k in oa if k not in ob)]
        if property_diff(ob.get(key, MISSING), oa.get(key, MISSING))
    )
    ordered = sorted(changes, key=lambda c: (c.op == "delete", c.urn))
    retained = [
        f"{c.name}: the secret leaves the stack but stays in the vault (retainOnDelete); {RETAINED_SECRET}"
        for c in ordered
        if c.op == "delete" and c.type in RETAINED_ON_DELETE
    ]
    fixed = [
        f"{c.name}: {path} changes, but {FIXED_AT_CREATION[c.type][path]}"
        for c in ordered
        if c.op == "update" and c.type in FIXED_AT_CREATION
        for path in FIXED_AT_CREATION[c.type]
        if any(change.path == path for change in c.diff)
    ]
    return Plan(tuple(ordered), output_changes, tuple(secrets_changed), (*notes, *retained, *fixed))


def ciphertexts(config: Mapping[str, Any]) -> dict[str, str]:
    """The encrypted values of a stack file's `config` mapping: dotted path -> ciphertext."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if is_encrypted(value):
            found[path] = str(value["secure"])
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    walk(config, "")
    return found


def secrets_changed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Paths of secrets whose ciphertext changed. (An added or removed secret shows as its
    resources being created or deleted.)"""
    return [path for path, ciphertext in before.items() if path in after and after[path] != ciphertext]


# Rendering as text, shared by the terminal and markdown views.

SYMBOLS: dict[Op, str] = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def show(value: Any) -> str:
    """A value as `pulumi preview` shows it: JSON, with secrets as [secret]."""
    if value == SECRET_PLACEHOLDER:
        return SECRET_PLACEHOLDER
    return json.dumps(plain(value), sort_keys=False, separators=(", ", ": "))


def property_line(change: PropertyChange) -> str:
    if change.kind == "add":
        return f"+ {change.path}: {show(change.after)}"
    if change.kind == "delete":
        return f"- {change.path}: {show(change.before)}"
    return f"~ {change.path}: {show(change.before)} => {show(change.after)}"


def summary_line(plan: Plan) -> str:
    if plan.empty:
        return "no changes"
    counts = plan.counts()
    words = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete"}
    parts = [f"{counts[op]} {words[op]}" for op in OPS if counts[op]]
    if plan.outputs:
        parts.append(f"{len(plan.outputs)} output{'s' if len(plan.outputs) != 1 else ''} changed")
    if plan.secrets_changed:
        parts.append(f"{len(plan.secrets_changed)} secret{'s' if len(plan.secrets_changed) != 1 else ''} changed")
    return ", ".join(parts)


def secret_line(path: str) -> str:
    return (
        f"~ {path}: the encrypted value changed; the plan cannot show secret values, "
        f"so the resources holding it may be updated without being listed"
    )


def markdown(plan: Plan, title: str) -> str:
    """The plan as a pull-request comment."""
    lines = [f"### {title}", "", f"**{summary_line(plan)}**" + (" (traffic only)" if plan.traffic_only else ""), ""]
    if plan.changes:
        lines += ["| | Resource | Type | Properties |", "|---|---|---|---|"]
        for c in plan.changes:
            props = ", ".join(f"`{p.path}`" for p in c.diff) if c.op in ("update", "replace") else ""
            op = f"{SYMBOLS[c.op]} {c.op}" + (" (protected: refused)" if c.refused else "")
            lines.append(f"| {op} | `{c.name}` | `{c.type}` | {props} |")
        lines += ["", "```diff"]
        for c in plan.changes:
            lines.append(f"{SYMBOLS[c.op]} {c.type} {c.name} ({c.op})")
            if c.op in ("update", "replace"):
                lines += [f"    {property_line(p)}" for p in c.diff]
        lines.append("```")
    if plan.outputs:
        lines += ["", "Outputs:", "", "```diff"] + [property_line(p) for p in plan.outputs] + ["```"]
    if plan.secrets_changed:
        lines += ["", "Secrets:", "", "```diff"] + [secret_line(p) for p in plan.secrets_changed] + ["```"]
    for note in plan.notes:
        lines += ["", f"> {note}"]
    return "\n".join(lines) + "\n"
