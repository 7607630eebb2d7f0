"""Tier defaults: what each environment gets unless its stack file says otherwise.

The one place that fills what a stack file leaves out: the config models carry no default that
these would override, and the components take every input from the config.
"""

from __future__ import annotations

import copy
from typing import Any

from stagewise.core import gate_config as analysis
from stagewise.core import tiers

_COMMON: dict[str, Any] = {
    "location": "westeurope",
    "featureFlags": {},
    "traffic": {
        "ttl": 30,
        "probe": {
            "protocol": "HTTPS",
            "port": 443,
            "path": tiers.HEALTH_PATH,
            "interval": 30,
            "timeout": 10,
            "toleratedFailures": 3,
        },
    },
    "autoscale": {"cpuScaleOut": 70, "cpuScaleIn": 30, "cooldownMinutes": 5},
    "alerts": {
        "emails": [],
        "webhooks": [],
        "errorRateWarning": 1.0,
        "errorRateCritical": 5.0,
        "latencyP95WarningMs": 500,
        "latencyP95CriticalMs": 2000,
        "healthCheckMinPercent": 100,
    },
    "analysis": analysis.COMMON_DEFAULTS,
    "kubernetes": {
        "kubeconfig": ".cluster/kubeconfig",
        "kubeconfigOutsideProject": False,
        "app": "app",
        "gatewayClass": "stagewise",
        "disruptionBudget": False,
        "minReplicas": 1,
        "maxReplicas": 3,
        "cpuTarget": 70,
        "cpuRequest": "100m",
        "memoryRequest": "64Mi",
        "hostname": "app.local.stagewise.dev",
        "nodeSelector": {},
    },
}

TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "analysis": analysis.TIER_DEFAULTS["dev"],
        "appService": {"sku": "S1", "instances": 1},
        "autoscale": {"enabled": False, "minimum": 1, "default": 1, "maximum": 1},
        "logLevel": "debug",
        "vault": {"retentionDays": 7, "purgeProtection": False, "networkDefaultAction": "Allow"},
        "protect": False,
        "alerts": {
            "errorRateWarning": 5.0,
            "errorRateCritical": 20.0,
            "latencyP95WarningMs": 2000,
            "latencyP95CriticalMs": 5000,
            "healthCheckMinPercent": 50,
        },
    },
    "staging": {
        "analysis": analysis.TIER_DEFAULTS["staging"],
        "appService": {"sku": "S1", "instances": 2},
        "autoscale": {"enabled": False, "minimum": 2, "default": 2, "maximum": 2},
        "logLevel": "info",
        "vault": {"retentionDays": 30, "purgeProtection": True, "networkDefaultAction": "Allow"},
        "protect": False,
        "kubernetes": {"minReplicas": 2, "maxReplicas": 4, "disruptionBudget": True},
        "alerts": {
            "errorRateWarning": 2.0,
            "errorRateCritical": 10.0,
            "latencyP95WarningMs": 1000,
            "latencyP95CriticalMs": 3000,
            "healthCheckMinPercent": 90,
        },
    },
    "production": {
        "analysis": analysis.TIER_DEFAULTS["production"],
        "appService": {"sku": "P1v3", "instances": 3},
        "autoscale": {"enabled": True, "minimum": 3, "default": 3, "maximum": 10},
        "logLevel": "warning",
        "vault": {"retentionDays": 90, "purgeProtection": True, "networkDefaultAction": "Deny"},
        # Production pulls with authentication (tiers: registry.pull): by default from a registry of its own.
        "registry": {"createAcr": True},
        "protect": True,
        "traffic": {"ttl": 30, "probe": {"interval": 10, "timeout": 5}},
        "kubernetes": {"minReplicas": 3, "maxReplicas": 10, "disruptionBudget": True},
    },
    "local": {
        "analysis": analysis.TIER_DEFAULTS["local"],
        "appService": {"sku": "S1", "instances": 1},
        "autoscale": {"enabled": False, "minimum": 1, "default": 1, "maximum": 1},
        "logLevel": "debug",
        "vault": {"retentionDays": 7, "purgeProtection": False, "networkDefaultAction": "Allow"},
        "protect": False,
        "kubernetes": {"minReplicas": 1, "maxReplicas": 3, "cpuTarget": 70, "disruptionBudget": False},
    },
}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two config mappings: mappings merge key by key, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def common_section(section: str) -> dict[str, Any]:
    """What every tier starts `section` from (before its own defaults)."""
    return copy.deepcopy(_COMMON.get(section, {}))


WHOLE_SECTIONS = ("registry",)
"""Sections whose keys are alternatives (one pull path): a stack's own section replaces the tier's
instead of merging with it."""


def with_tier_defaults(environment: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """The stack's keys over its tier's defaults; an unknown environment gets only the common ones."""
    tier = TIER_DEFAULTS.get(environment, {}) if isinstance(environment, str) else {}
    tier = {k: v for k, v in tier.items() if not (k in WHOLE_SECTIONS and k in raw)}
    return merge(merge(_COMMON, tier), raw)
