"""The pack's settings: thresholds from stagewise.policy config, defaults from the core (stagewise.core.tiers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stagewise.core import tiers


@dataclass(frozen=True)
class Settings:
    """Thresholds, from stagewise.policy config. Each default is the core's rule (stagewise.core.tiers), which the
    config validator enforces too; a pack configured stricter than the core refuses more."""

    production_autoscale_minimum: int = tiers.PRODUCTION_MIN_INSTANCES
    """Fewest instances an autoscale profile may keep in production."""
    production_max_ttl: int = tiers.PRODUCTION_MAX_TTL
    """Longest Traffic Manager DNS TTL in production, seconds: a rollback takes effect within it."""
    health_path: str = tiers.HEALTH_PATH
    """The path Traffic Manager probes."""
    hpa_min_replicas: int = tiers.MIN_REPLICAS
    """Fewest replicas a HorizontalPodAutoscaler may keep in production-like tiers."""
    production_like: tuple[str, ...] = tiers.PRODUCTION_LIKE
    """Tiers held to production-grade durability (purge protection, HPA floor)."""
    required_tags: tuple[str, ...] = tiers.REQUIRED_TAGS
    """Tags every taggable Azure resource should carry."""
    alert_min_requests: int = tiers.ALERT_MIN_REQUESTS
    """Fewest requests of a version a log alert may judge in its window."""

    CONFIG_KEYS: ClassVar[Mapping[str, str]]
    """Policy config key -> field name (from `CONFIG`, below); a key belongs to the policies whose record reads it."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Settings:
        """Settings from one policy's config; keys it does not set keep their defaults."""
        values: dict[str, Any] = {}
        for name, value in (config or {}).items():
            key = _BY_NAME.get(name)
            if key is None:
                continue
            if isinstance(value, list):
                value = tuple(str(v) for v in value)
            elif key.schema["type"] == "integer":
                value = int(value)  # JSON numbers arrive as floats
            values[key.field] = value
        return cls(**values)


@dataclass(frozen=True)
class ConfigKey:
    """One key of the pack's policy config: its name there, the Settings field it sets, and its JSON schema
    (the default is added from Settings, so the two cannot drift). A policy record lists the keys it reads."""

    name: str
    field: str
    schema: Mapping[str, Any]

    @property
    def default(self) -> Any:
        value = getattr(Settings(), self.field)
        return list(value) if isinstance(value, tuple) else value

    @property
    def json_schema(self) -> dict[str, Any]:
        """The key's schema as the pack declares it: type and bounds, default, description."""
        description = self.schema["description"]
        return {
            **{k: v for k, v in self.schema.items() if k != "description"},
            "default": self.default,
            "description": description,
        }


MINIMUM_INSTANCES = ConfigKey(
    "minimumInstances",
    "production_autoscale_minimum",
    {"type": "integer", "minimum": 1, "description": "Fewest instances an autoscale profile may keep in production."},
)
MAX_TTL_SECONDS = ConfigKey(
    "maxTtlSeconds",
    "production_max_ttl",
    {"type": "integer", "minimum": 0, "description": "Longest Traffic Manager DNS TTL in production, seconds."},
)
HEALTH_PATH = ConfigKey(
    "healthPath",
    "health_path",
    {"type": "string", "pattern": "^/", "description": "The path Traffic Manager must probe."},
)
MIN_REPLICAS = ConfigKey(
    "minReplicas",
    "hpa_min_replicas",
    {"type": "integer", "minimum": 1, "description": "Fewest replicas an HPA may keep in production-like tiers."},
)
PRODUCTION_LIKE_TIERS = ConfigKey(
    "productionLikeTiers",
    "production_like",
    {
        "type": "array",
        "items": {"type": "string", "enum": list(tiers.ENVIRONMENTS)},
        "description": "Environments held to production-grade durability.",
    },
)
ALERT_MIN_REQUESTS = ConfigKey(
    "alertMinRequests",
    "alert_min_requests",
    {
        "type": "integer",
        "minimum": 1,
        "description": "Fewest requests of a version a log alert may judge in its window.",
    },
)
REQUIRED_TAGS = ConfigKey(
    "requiredTags",
    "required_tags",
    {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "description": "Tags every taggable Azure resource should carry.",
    },
)

CONFIG: tuple[ConfigKey, ...] = (
    MINIMUM_INSTANCES,
    MAX_TTL_SECONDS,
    HEALTH_PATH,
    MIN_REPLICAS,
    PRODUCTION_LIKE_TIERS,
    ALERT_MIN_REQUESTS,
    REQUIRED_TAGS,
)
"""Every key of the pack's config, each setting one field of Settings."""

_BY_NAME = {key.name: key for key in CONFIG}
Settings.CONFIG_KEYS = {key.name: key.field for key in CONFIG}
