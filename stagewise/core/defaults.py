"""Tier defaults: what each environment gets unless its stack file says otherwise.

The one place that fills what a stack file leaves out: the config models carry no default that
these would override, and the components take every input from the config.
"""

from __future__ import annotations

import copy
from typing import Any

from stagewise.core import tiers
from stagewise.formats import facts

PLAN_THRESHOLDS: dict[str, float] = {
    "errorRateWarning": 1.0,
    "errorRateRollback": 5.0,
    "latencyP95WarningMs": 500,
    "latencyP95RollbackMs": 2000,
}
"""The rollout plans we serve: an error rate above 1 % warns and above 5 % rolls back; a p95 above
500 ms warns and above 2 s rolls back. The alerts (warning, critical) and the stage gate (warning,
abort) both start from these."""

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
        "errorRateWarning": PLAN_THRESHOLDS["errorRateWarning"],
        "errorRateCritical": PLAN_THRESHOLDS["errorRateRollback"],
        "latencyP95WarningMs": PLAN_THRESHOLDS["latencyP95WarningMs"],
        "latencyP95CriticalMs": PLAN_THRESHOLDS["latencyP95RollbackMs"],
        "healthCheckMinPercent": 100,
    },
    # The stage gate. The plans' "3 to 5 points below the baseline" and "latency at most 15 % above
    # it" become ratios to live (docs/stage-gates.md): errors at most 1.25 x live's (errors are rare,
    # so a tighter tolerance is what lets a 5x regression show within minutes at 10 req/s) and slow
    # requests at most 1.5 x live's (the share above the slow bound moves more than the p95 does: +15 %
    # on the p95 is about x1.5 there). falseAbortRate 2 %: the gate-quality bar, met by the guarantee
    # itself; 1 % would cost a median 2 more minutes on a 5x error regression at 10 req/s
    # (bench/gate_quality.py). Per tier below: minimum time per stage (alpha 48 h, beta 24 h) and
    # minimum sample (50, 100, 250 requests), from the same plans.
    "analysis": {
        "errorRateWarning": PLAN_THRESHOLDS["errorRateWarning"],
        "errorRateAbort": PLAN_THRESHOLDS["errorRateRollback"],
        "latencyP95WarningMs": PLAN_THRESHOLDS["latencyP95WarningMs"],
        "latencyP95AbortMs": PLAN_THRESHOLDS["latencyP95RollbackMs"],
        "errorRateRatio": 1.25,
        "slowRequestsRatio": 1.5,
        "falseAbortRate": 0.02,
    },
    "kubernetes": {
        "kubeconfig": facts.KUBECONFIG,
        "kubeconfigOutsideProject": False,
        "app": "app",
        "gatewayClass": facts.GATEWAY_CLASS,
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
        "analysis": {"provider": "appinsights", "bake": "30m", "minRequests": 50, "autoPromote": True},
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
        "analysis": {"provider": "appinsights", "bake": "24h", "minRequests": 100},
        "appService": {"sku": "S1", "instances": 2},
        "autoscale": {"enabled": False, "minimum": 2, "default": 2, "maximum": 2},
        "logLevel": "info",
        "vault": {"retentionDays": 30, "purgeProtection": True, "networkDefaultAction": "Allow"},
        # Staging pulls with authentication too (tiers: registry.pull), like the production it rehearses.
        "registry": {"createAcr": True},
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
        "analysis": {"provider": "appinsights", "bake": "48h", "minRequests": 250},
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
        "analysis": {
            "provider": "prometheus",
            "url": facts.PROMETHEUS_URL,
            # 2.5 s: the Prometheus histogram's nearest bound at or above the plans' 2 s.
            "latencyP95AbortMs": 2500,
            "bake": "5m",
            "minRequests": 50,
            "autoPromote": True,
        },
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
