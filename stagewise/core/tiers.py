"""Per-tier requirements: what a stack of each environment must hold to, written once.

Pure: no Pulumi import. The config validator (`stagewise.core.config.parse`) refuses a stack that breaks
one of `RULES`, the components build from the same constants, and the policy pack
(`policy.settings`) takes its defaults from here, so a stack the validator accepts is not refused
at `pulumi preview` for the same reason. Each rule is named so that the policy refusing the same on
the resources can hold it as its validator twin (`stagewise.policy.record`); the link points from the
pack to the core, never back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

Environment = Literal["dev", "staging", "production", "local"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
PRODUCTION = "production"
PRODUCTION_LIKE = ("staging", "production")
"""Tiers held to production-grade durability (purge protection, replica floor)."""

ENVIRONMENT_TAG = "environment"
"""Azure tag naming a resource's tier."""
ENVIRONMENT_LABEL = "stagewise.dev/environment"
"""Kubernetes label naming an object's tier."""
REQUIRED_TAGS = ("owner", "cost-centre")
"""Tags every taggable Azure resource carries (who owns it, who pays for it)."""

MIN_TLS_VERSION = "1.2"
"""Lowest TLS version a web app accepts, in every tier."""
HEALTH_PATH = "/health"
"""The path Traffic Manager and App Service's health check probe, and log alerts leave out."""
PRODUCTION_MIN_INSTANCES = 3
"""Fewest instances a production plan keeps (autoscale minimum, or the fixed count)."""
PRODUCTION_MAX_TTL = 60
"""Longest Traffic Manager DNS TTL in production, seconds: a rollback reaches clients within it."""
ALERT_MIN_REQUESTS = 10
"""Fewest requests of a version, in a log alert's window, that an alert may judge (alerts.minRequests)."""
MIN_REPLICAS = 2
"""Fewest replicas a HorizontalPodAutoscaler keeps in production-like tiers."""


def promotion_guarded(environment: str) -> bool:
    """Whether `promote` needs an explicit flag to skip a stage or to move traffic towards a version
    older than the live one. Only production does: elsewhere naming a later stage is enough to skip to
    it, and a warning is enough for an older version."""
    return environment == PRODUCTION


@dataclass(frozen=True)
class TierRule:
    """One requirement on one config key (without the `stagewise:` namespace) in some tiers."""

    key: str
    tiers: tuple[str, ...]
    allowed: Callable[[Any], bool]
    requirement: str
    """What is allowed, as the message says it: "at most 60", "true"."""
    why: str
    applies: Callable[[Mapping[str, Any]], bool] = lambda values: True
    """Whether the rule applies, given every key's value (e.g. only with autoscale on)."""
    shown: str | None = None
    """The key the message names when `key` is derived, not set (default: `key`)."""


TTL_RULE = TierRule(
    "traffic.ttl",
    (PRODUCTION,),
    lambda ttl: ttl <= PRODUCTION_MAX_TTL,
    f"at most {PRODUCTION_MAX_TTL} s",
    "a rollback must reach clients within the DNS TTL",
)


PROBE_PATH_RULE = TierRule(
    "traffic.probe.path",
    ENVIRONMENTS,
    lambda path: path == HEALTH_PATH,
    repr(HEALTH_PATH),
    "the app's health endpoint, which the health check and the alerts use too",
)


AUTOSCALE_MINIMUM_RULE = TierRule(
    "autoscale.minimum",
    (PRODUCTION,),
    lambda n: n >= PRODUCTION_MIN_INSTANCES,
    f"at least {PRODUCTION_MIN_INSTANCES}",
    "production keeps serving while instances fail",
    applies=lambda values: values["autoscale.enabled"],
)


INSTANCES_RULE = TierRule(
    "appService.instances",
    (PRODUCTION,),
    lambda n: n >= PRODUCTION_MIN_INSTANCES,
    f"at least {PRODUCTION_MIN_INSTANCES}",
    "production keeps serving while instances fail",
    applies=lambda values: not values["autoscale.enabled"],
)


PURGE_PROTECTION_RULE = TierRule(
    "vault.purgeProtection",
    PRODUCTION_LIKE,
    lambda on: on is True,
    "true",
    "a deleted vault or secret must stay recoverable",
)


NETWORK_DEFAULT_ACTION_RULE = TierRule(
    "vault.networkDefaultAction",
    (PRODUCTION,),
    lambda action: action == "Deny",
    "'Deny'",
    "only the allowed addresses and the regions' subnets reach the vault",
)


REGISTRY_PULL_RULE = TierRule(
    "registry.pull",
    PRODUCTION_LIKE,
    lambda pull: pull != "anonymous",
    "a pull that signs in, with the identity or credentials: set registry.acrId, registry.createAcr or registry.server",
    "App Service pulls the image again each time the app restarts and on every new instance "
    "(app-service/configure-custom-container.md), and anonymous pulls are rate-limited",
    shown="registry",
)


MIN_REPLICAS_RULE = TierRule(
    "kubernetes.minReplicas",
    PRODUCTION_LIKE,
    lambda n: n >= MIN_REPLICAS,
    f"at least {MIN_REPLICAS}",
    "one pod failing must not stop the app",
)


RULES: tuple[TierRule, ...] = (
    TTL_RULE,
    PROBE_PATH_RULE,
    AUTOSCALE_MINIMUM_RULE,
    INSTANCES_RULE,
    PURGE_PROTECTION_RULE,
    NETWORK_DEFAULT_ACTION_RULE,
    REGISTRY_PULL_RULE,
    MIN_REPLICAS_RULE,
)


def problems(environment: str, values: Mapping[str, Any]) -> list[str]:
    """One line per rule of `environment` that `values` (config key -> value) breaks, each
    starting with the key."""
    found = []
    for rule in RULES:
        if environment not in rule.tiers or rule.key not in values or not rule.applies(values):
            continue
        value = values[rule.key]
        if not rule.allowed(value):
            found.append(
                f"{rule.shown or rule.key}: must be {rule.requirement} in {environment}: {rule.why} (got {value!r})"
            )
    return found
