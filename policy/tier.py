"""Which tier's rules apply to a resource: its environment tag or label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stagewise.core.tiers import ENVIRONMENT_LABEL, ENVIRONMENT_TAG, ENVIRONMENTS, PRODUCTION
from stagewise.policy.inputs import dig, is_unknown


@dataclass(frozen=True)
class Tier:
    """The environment whose rules apply to a resource, and how messages name it."""

    name: str
    label: str


def _tier(value: Any, where: str) -> Tier | None:
    if is_unknown(value):
        return None
    if isinstance(value, str) and value in ENVIRONMENTS:
        return Tier(value, value)
    return Tier(PRODUCTION, f"production (no valid {where}, so production rules apply)")


def azure_tier(props: Mapping[str, Any]) -> Tier | None:
    """The tier of an Azure resource, from its `environment` tag; None while unknown."""
    tags = dig(props, "tags")
    if is_unknown(tags):
        return None
    return _tier(dig(props, "tags", ENVIRONMENT_TAG), f"'{ENVIRONMENT_TAG}' tag")


def kubernetes_tier(props: Mapping[str, Any]) -> Tier | None:
    """The tier of a Kubernetes object, from its `stagewise.dev/environment` label; None while unknown."""
    labels = dig(props, "metadata", "labels")
    if is_unknown(labels):
        return None
    return _tier(dig(props, "metadata", "labels", ENVIRONMENT_LABEL), f"'{ENVIRONMENT_LABEL}' label")
