"""The diff engine of the offline plan: two evaluations of the program in, a Plan out.

Pure: no Pulumi import. Works on the resources an evaluation recorded, as plain data (anything
with urn, type, name, custom, protect and inputs attributes), so the same logic serves the CLI,
the tests and any other caller.

A resource is matched by URN. Present only after: create. Present only before: delete. Present
on both sides with different inputs: update, or replace when a changed input is one the provider
cannot change in place (REPLACE_ON). Inputs hold secrets as "[secret]" already, so a change of a
secret value shows only through its digest (`secret_changes`) or its ciphertext in the stack file
(`secrets_changed`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from stagewise.core import origins
from stagewise.core.naming import image_registry
from stagewise.formats.stackfile import SECRET_PLACEHOLDER
from stagewise.tools.plan import MISSING, PROTECT, Plan, PropertyChange, ResourceChange, ResourceState, under

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


def replace_keys(type_: str, diff: Iterable[PropertyChange]) -> tuple[str, ...]:
    """The changed paths that the provider cannot update in place."""
    rules = replace_rules(type_)
    return tuple(c.path for c in diff if any(under(c.path, key) for key in rules))


WEB_APPS = ("azure-native:web:WebApp", "azure-native:web:WebAppSlot")
ORIGIN_GROUP = "azure-native:cdn:AFDOriginGroup"


def _admits_front_door(inputs: Mapping[str, Any]) -> bool:
    config = inputs.get("siteConfig")
    rules = config.get("ipSecurityRestrictions") if isinstance(config, Mapping) else None
    return bool(rules) if isinstance(rules, list) else True


def parked_notes(
    changes: Iterable[ResourceChange], before: Mapping[str, ResourceState], after: Mapping[str, ResourceState]
) -> list[str]:
    """A site or slot that stops admitting its edge (an abort parks the candidate): behind Front Door,
    how long until no edge routes to it, from the probe interval the plan's origin group has
    (stagewise.core.origins); behind Traffic Manager (no origin group), it is closed in the same site
    update that removes the slot's traffic rule."""
    probes = [
        s.inputs.get("healthProbeSettings")
        for s in after.values()
        if s.type == ORIGIN_GROUP and isinstance(s.inputs.get("healthProbeSettings"), Mapping)
    ]
    parked = [
        c
        for c in changes
        if c.op == "update"
        and c.type in WEB_APPS
        and _admits_front_door(before[c.urn].inputs)
        and not _admits_front_door(after[c.urn].inputs)
    ]
    if not any(s.type == ORIGIN_GROUP for s in after.values()):
        return [
            f"{c.name}: parked, it answers 403 to every request from the site update on; the production site's "
            "traffic rule is removed in the same update, so no client is routed to it (Traffic Manager's DNS "
            "answers are unchanged: it never pointed at the slot): docs/azure-request-path.md, section 9"
            for c in parked
        ]
    interval = next((p.get("probeIntervalInSeconds") for p in probes if p is not None), None)
    when = (
        f"within {origins.seconds_to_leave_rotation(int(interval))} s (two failed probes at {int(interval)} s)"
        if isinstance(interval, int | float)
        else "within two probe intervals"
    )
    return [
        f"{c.name}: parked, it answers no request from now on, so every Front Door edge stops routing to it {when} "
        "of the site update, without waiting for Front Door's configuration to propagate (up to 20 minutes per "
        "change): docs/azure-request-path.md, 'Clients in flight, and what abort does'"
        for c in parked
    ]


def _pull_host(inputs: Mapping[str, Any]) -> str | None:
    """The registry host of a site's image (siteConfig.linuxFxVersion "DOCKER|<image>:<tag>"), None on Docker Hub."""
    config = inputs.get("siteConfig")
    value = config.get("linuxFxVersion") if isinstance(config, Mapping) else None
    if not isinstance(value, str) or not value.startswith("DOCKER|"):
        return None
    return image_registry(value.removeprefix("DOCKER|").rsplit(":", 1)[0])


def registry_move_notes(
    changes: Iterable[ResourceChange], before: Mapping[str, ResourceState], after: Mapping[str, ResourceState]
) -> list[str]:
    """A site or slot whose image moves to another registry host restarts and pulls from there in this `up`: the
    tags must be there first (docs/azure-request-path.md, 'Moving a running stack to another registry')."""
    notes = []
    for c in changes:
        if c.op != "update" or c.type not in WEB_APPS:
            continue
        old, new = _pull_host(before[c.urn].inputs), _pull_host(after[c.urn].inputs)
        if old != new:
            notes.append(
                f"{c.name}: its image moves from {old or 'Docker Hub'} to {new or 'Docker Hub'}, and App Service pulls "
                "at this restart: push its tag there before this `up` (docs/azure-request-path.md, 'Moving a running "
                "stack to another registry takes two steps')"
            )
    return notes


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
    parked = parked_notes(ordered, before, after)
    moved = registry_move_notes(ordered, before, after)
    return Plan(tuple(ordered), output_changes, tuple(secrets_changed), (*notes, *parked, *moved, *retained, *fixed))


def secrets_changed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Paths of secrets whose ciphertext changed. (An added or removed secret shows as its
    resources being created or deleted.)"""
    return [path for path, ciphertext in before.items() if path in after and after[path] != ciphertext]
