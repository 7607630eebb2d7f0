"""Each default in one place: a key that every tier's defaults fill (stagewise.core.defaults) has no default
in its config model, where it would never be used and could only drift from the tier table."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from stagewise.core import defaults
from stagewise.core.config import StackConfig

# The stage gate's section has its own model and defaults (stagewise.core.gate_config).
ELSEWHERE = {"analysis"}


def _keys(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for key, value in values.items():
        found.add((*prefix, key))
        if isinstance(value, dict) and value:
            found |= _keys(value, (*prefix, key))
    return found


def filled_by_every_tier() -> set[tuple[str, ...]]:
    tiers = [defaults.with_tier_defaults(environment, {}) for environment in defaults.TIER_DEFAULTS]
    return set.intersection(*(_keys(tier) for tier in tiers))


def _field(path: tuple[str, ...]) -> tuple[type[BaseModel], str] | None:
    model: type[BaseModel] = StackConfig
    for i, alias in enumerate(path):
        name = next((n for n, f in model.model_fields.items() if f.alias == alias), None)
        if name is None:
            return None
        if i == len(path) - 1:
            return model, name
        annotation = model.model_fields[name].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return None


@pytest.mark.parametrize("path", sorted(p for p in filled_by_every_tier() if p[0] not in ELSEWHERE), ids=".".join)
def test_a_key_every_tier_fills_has_no_model_default(path: tuple[str, ...]):
    found = _field(path)
    assert found is not None, f"{'.'.join(path)} is in the tier defaults but no config model has it"
    model, name = found
    assert model.model_fields[name].is_required(), (
        f"{model.__name__}.{name} has a default that the tier defaults always override; drop it"
    )


def test_the_tier_table_fills_what_the_models_no_longer_default():
    filled = filled_by_every_tier()
    for path in [
        ("traffic", "probe", "interval"),
        ("autoscale", "cpuScaleOut"),
        ("kubernetes", "cpuRequest"),
        ("alerts", "emails"),
        ("featureFlags",),
    ]:
        assert path in filled
