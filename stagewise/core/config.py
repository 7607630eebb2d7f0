"""Stack configuration: read once, at the program's edge, into validated models.

Pure: no Pulumi import. `parse` takes the `stagewise:` keys of a stack (namespace stripped,
values already decoded from YAML/JSON) and returns a `StackConfig`, or raises `ConfigError`
listing every bad value with its key, the value and what is allowed. `from_engine` takes them
as the engine hands them to the program.

The models live beside this module: the reusable types (`config_types`), the sections
(`config_sections`) and the whole stack with its rules across sections (`config_stack`). This
module fills what a stack leaves out (its tier's defaults) and turns every refusal into the
lines of one `ConfigError`, on one path.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from stagewise.core import rollout, tiers
from stagewise.core.config_sections import (
    AlertsConfig,
    AppServiceConfig,
    AutoscaleConfig,
    KubernetesConfig,
    ProbeConfig,
    Pull,
    RegionConfig,
    RegistryConfig,
    ReleaseConfig,
    StageConfig,
    TrafficConfig,
    VaultConfig,
    address_spaces,
    integration_subnet,
    stage_catalog,
)
from stagewise.core.config_stack import AZURE_ENVIRONMENTS, Environment, StackConfig
from stagewise.core.config_types import EMAIL, Model, SecretValue, azure_region
from stagewise.core.defaults import with_tier_defaults
from stagewise.formats.keys import NAMESPACE

__all__ = [
    "AZURE_ENVIRONMENTS",
    "EMAIL",
    "NAMESPACE",
    "AlertsConfig",
    "AppServiceConfig",
    "AutoscaleConfig",
    "ConfigError",
    "Environment",
    "KubernetesConfig",
    "Model",
    "ProbeConfig",
    "Pull",
    "RegionConfig",
    "RegistryConfig",
    "ReleaseConfig",
    "SecretValue",
    "StackConfig",
    "StageConfig",
    "TrafficConfig",
    "VaultConfig",
    "address_spaces",
    "azure_region",
    "from_engine",
    "integration_subnet",
    "parse",
    "stage_catalog",
    "stage_entries",
]

T = TypeVar("T")


class ConfigError(ValueError):
    """Stack config that is refused. `problems` holds one line per bad value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in problems))


def _key(loc: tuple[Any, ...]) -> str:
    """pydantic's error location -> the config key a user types, e.g. stagewise:autoscale.maximum."""
    parts = [str(p) for p in loc]
    return f"{NAMESPACE}:{parts[0]}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts[1:])


def _problem(error: Mapping[str, Any], at: tuple[str, ...]) -> str:
    loc = (*at, *error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        section = str(loc[0]).split(".")[0] if len(loc) == 1 else None
        if section is not None and "." in str(loc[0]) and section in _SECTION_KEYS:
            # `pulumi config set stagewise:release.stage x` without --path writes the dotted name as one key.
            return (
                f"{_key(loc)}: unknown key; to set {loc[0]!s} inside {NAMESPACE}:{section}, write it under "
                f"that mapping, or run pulumi config set --path '{NAMESPACE}:{loc[0]}' <value>"
            )
        return f"{_key(loc)}: unknown key"
    if not loc:  # a rule across sections: its message starts with the key
        return f"{NAMESPACE}:{message}"
    value = error.get("input")
    hidden = isinstance(value, (dict, list)) or error["type"] == "value_error" or loc[0] == "secrets"
    shown = "" if hidden else f" (got {value!r})"  # a secret's value is never echoed
    return f"{_key(loc)}: {message}{shown}"


def _validated(adapter: TypeAdapter[T], value: Any, at: tuple[str, ...] = ()) -> T:
    """`value` as `adapter` validates it, found at key `at`; every refusal of a value takes this path."""
    try:
        return adapter.validate_python(value)
    except ValidationError as err:
        raise ConfigError([_problem(e, at) for e in err.errors(include_url=False)]) from None


_ENVIRONMENT: TypeAdapter[Environment] = TypeAdapter(Environment)
_STACK = TypeAdapter(StackConfig)
_STAGE_LIST = TypeAdapter(list[StageConfig])


def parse(raw: dict[str, Any]) -> StackConfig:
    """Validate the `stagewise:` keys of a stack (namespace stripped) after tier defaults."""
    # The tier defaults hang on the environment: without a valid one, every other
    # missing key would be reported too, hiding the one that matters.
    environment = _validated(_ENVIRONMENT, raw.get("environment"), at=("environment",))
    cfg = _validated(_STACK, with_tier_defaults(environment, raw))
    problems = tiers.problems(cfg.environment, _flat(cfg.model_dump(by_alias=True, exclude={"secrets"})))
    if problems:
        raise ConfigError([f"{NAMESPACE}:{p}" for p in problems])
    return cfg


def stage_entries(raw: Any) -> rollout.Catalog:
    """The catalog of a `stagewise:stages` list read on its own (a past version of a stack file, the
    project's default), each entry checked as StackConfig checks it (name, share 0..100, a whole
    number). The rules across the list (rising to 100) are StackConfig's alone: a reader of history
    still reads past versions that they would refuse. ConfigError when an entry is refused."""
    stages: list[StageConfig] = _validated(_STAGE_LIST, raw, at=("stages",))
    return stage_catalog(stages)


def from_engine(values: Mapping[str, str], encrypted: Collection[str], installation: str | None = None) -> StackConfig:
    """The stack's config from the engine's flat config (`namespace:key` -> text), as the program
    receives it: structured values arrive as JSON text and scalars as plain text. `encrypted` names
    the secrets the stack file stores encrypted (the engine hands them over decrypted, like the rest).
    `installation` (stackfile.installation_key) no longer gives nameSeed a default: a seed derived from the
    secrets provider's salt moved with the provider, so an Azure stack writes its own in its stack file."""
    prefix = f"{NAMESPACE}:"
    raw = {}
    for key, value in values.items():
        if key.startswith(prefix):
            name = key[len(prefix) :]
            raw[name] = _engine_decode(name, value)
    secrets = raw.get("secrets")
    if isinstance(secrets, dict):
        raw["secrets"] = {
            name: SecretValue(str(value)) if name in encrypted else value for name, value in secrets.items()
        }
    return parse(raw)


def _text_keys() -> frozenset[str]:
    """The top-level keys whose value is text (a string, or one of a few strings)."""

    def is_text(annotation: Any) -> bool:
        members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
        members = tuple(m for m in members if m is not type(None))
        literal = lambda m: get_origin(m) is Literal and all(isinstance(a, str) for a in get_args(m))  # noqa: E731
        return bool(members) and all(m is str or literal(m) for m in members)

    return frozenset(
        field.alias or name for name, field in StackConfig.model_fields.items() if is_text(field.annotation)
    )


_TEXT_KEYS = _text_keys()
_SECTION_KEYS = frozenset(field.alias or name for name, field in StackConfig.model_fields.items())


def _engine_decode(name: str, value: str) -> Any:
    """A top-level value as the program reads the engine's text. The engine hands a scalar over as
    its text, however the file wrote it (`costCentre: 4200` and `costCentre: "4200"` both arrive as
    4200: pulumi sdk/go/common/resource/config/object.go, MarshalString), and a structure (or null)
    as JSON. So a key whose value is text keeps the text, as `pulumi.Config.get` does, and any other
    is read as JSON, as `get_object` (and get_int, get_bool) do; inside a structure the JSON types
    stand as the file wrote them."""
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError, RecursionError):
        return value
    if name in _TEXT_KEYS and not isinstance(decoded, (dict, list)) and decoded is not None:
        return value
    return decoded


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"traffic": {"ttl": 30}} -> {"traffic.ttl": 30}: the keys a user types."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
