"""The plan of going back, derived from the plan of going forward: the oracle the revert tests
hold `plandiff.diff` to. Creates become deletes and deletes creates, and every property change and
`protect` swaps sides; what changed in secrets is the same set either way."""

from __future__ import annotations

from dataclasses import replace

from stagewise.tools.plan import Plan, PropertyChange, ResourceChange

_OPPOSITE = {"create": "delete", "delete": "create"}


def _swapped(change: PropertyChange) -> PropertyChange:
    return PropertyChange(change.path, before=change.after, after=change.before)


def _back(change: ResourceChange) -> ResourceChange:
    return replace(
        change,
        op=_OPPOSITE.get(change.op, change.op),
        diff=tuple(_swapped(c) for c in change.diff),
        protect_before=change.protect_after,
        protect_after=change.protect_before,
    )


def inverse(forward: Plan) -> Plan:
    return Plan(
        changes=tuple(_back(c) for c in forward.changes),
        outputs=tuple(_swapped(c) for c in forward.outputs),
        secrets_changed=forward.secrets_changed,
        notes=forward.notes,
    )
