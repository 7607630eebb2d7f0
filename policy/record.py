"""A policy of the pack as one record, declared by its family module right below its check.

A family module binds each record to a constant named after the policy (`keyvault-purge-protection`:
`KEYVAULT_PURGE_PROTECTION`; `tags.REQUIRED_TAGS_POLICY`, since `REQUIRED_TAGS` is the config key)
directly below the function the record's check uses (for a check made per type, the function that
makes the validators), and ends with `POLICIES`, its records in the pack's order.

A record holds everything about one policy: its name and description, its enforcement level, what it
runs on (resource types or the whole stack) and the check itself, the config keys it reads, and its
twin in the config validator as a real object: the core's tier rule (`stagewise.core.tiers`), a
validation of `stagewise.core` that refuses the same, or why only the resources can show it. The pack
(`policies`), the stack rules, the twin table and the config schema (`catalogue`) and the docs' table
(`docs`) are derived from the records; nothing else spells a policy's name.

Pure: no pulumi_policy import (`policies` turns a record into the SDK's Policy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stagewise.core.tiers import TierRule
from stagewise.policy.inputs import StackResource, StackViolation, Validator
from stagewise.policy.settings import ConfigKey, Settings

StackRule = Callable[[Sequence[StackResource]], list[StackViolation]]
"""A check of the whole stack: every resource in, one violation per offending resource out."""


@dataclass(frozen=True)
class OnResources:
    """A check run on each resource of the types it names, with that type's validator."""

    validators: Mapping[str, Validator]

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.validators)


def each(types: Sequence[str], validator: Validator) -> OnResources:
    """The same validator on every resource of `types` (pulumi-policy's validateResourceOfType)."""
    return OnResources({t: validator for t in types})


def per_type(types: Sequence[str], validator_for: Callable[[str], Validator]) -> OnResources:
    """A validator made for each of `types`, for checks that read a type's own layout (app settings)."""
    return OnResources({t: validator_for(t) for t in types})


@dataclass(frozen=True)
class OnEveryResource:
    """A check run on every resource, which decides from the type whether it applies."""

    check: Callable[[str, Mapping[str, Any], Settings], list[str]]
    applies_to: str
    """The resources it applies to, as the docs say it."""


@dataclass(frozen=True)
class OnStack:
    """A check run once over the whole stack (references and ordering between resources)."""

    rule: StackRule


@dataclass(frozen=True)
class Validation:
    """A check of `stagewise.core` that refuses, in the config, what the policy refuses on the resources:
    a config model's validator or field, or the core function the program builds the resources with."""

    what: str
    """What it refuses or guarantees, in one line."""
    refuses: tuple[object, ...]
    """The validators, fields (pydantic FieldInfo) or functions themselves."""


@dataclass(frozen=True)
class ResourcesOnly:
    """No config key can break the policy; only the declared resources show it."""

    why: str


Twin = TierRule | tuple[TierRule, ...] | Validation | ResourcesOnly
"""A policy's twin in the config validator, so that a stack `stagewise` accepts passes the policy."""

Level = Literal["mandatory", "advisory"]


@dataclass(frozen=True)
class PolicyRecord:
    """One policy of the pack."""

    name: str
    """The policy's name in the pack and in stack policy config: user-facing, never renamed."""
    description: str
    """What the policy guards, naming the platform fact it relies on and its source."""
    check: OnResources | OnEveryResource | OnStack
    twin: Twin
    rule: str
    """What the check holds the resources to, as one cell of the docs' table (Markdown)."""
    tiers: str = "all"
    """The tiers it applies in, as the docs' table says it."""
    config: tuple[ConfigKey, ...] = ()
    """The pack config keys the check reads."""
    level: Level = "mandatory"

    def __post_init__(self) -> None:
        if isinstance(self.check, OnStack) and (self.config or self.level != "mandatory"):
            raise ValueError(f"policy {self.name!r}: a stack policy is mandatory and reads no config")

    @property
    def tier_rules(self) -> tuple[TierRule, ...]:
        """The core's tier rules this policy is the twin of, if any."""
        if isinstance(self.twin, TierRule):
            return (self.twin,)
        return self.twin if isinstance(self.twin, tuple) else ()


def twin_text(twin: Twin) -> str:
    """A twin as the docs' table says it."""
    if isinstance(twin, ResourcesOnly):
        return f"resources only: {twin.why}"
    if isinstance(twin, Validation):
        return f"validator: {twin.what}"
    rules = (twin,) if isinstance(twin, TierRule) else twin
    return f"tier rule{'s' if len(rules) > 1 else ''} " + ", ".join(f"`{r.key}`" for r in rules)
