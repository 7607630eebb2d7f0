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

    # policy config key -> field name; a key belongs to the policies whose schema lists it.
    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "minimumInstances": "production_autoscale_minimum",
        "maxTtlSeconds": "production_max_ttl",
        "healthPath": "health_path",
        "minReplicas": "hpa_min_replicas",
        "productionLikeTiers": "production_like",
        "requiredTags": "required_tags",
        "alertMinRequests": "alert_min_requests",
    }

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Settings:
        """Settings from one policy's config; keys it does not set keep their defaults."""
        values: dict[str, Any] = {}
        for key, value in (config or {}).items():
            field_name = cls.CONFIG_KEYS.get(key)
            if field_name is None:
                continue
            if isinstance(value, list):
                value = tuple(str(v) for v in value)
            elif field_name in (
                "production_autoscale_minimum",
                "production_max_ttl",
                "hpa_min_replicas",
                "alert_min_requests",
            ):
                value = int(value)  # JSON numbers arrive as floats
            values[field_name] = value
        return cls(**values)
