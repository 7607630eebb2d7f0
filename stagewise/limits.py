"""Azure limits the components must respect (Microsoft's public documentation)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanTier:
    """An App Service plan tier: how far it scales and how many deployment slots it has."""

    name: str
    max_instances: int
    slots: int
    autoscale: bool


_BASIC = PlanTier("Basic", max_instances=3, slots=0, autoscale=False)
_STANDARD = PlanTier("Standard", max_instances=10, slots=5, autoscale=True)
_PREMIUM = PlanTier("Premium", max_instances=20, slots=20, autoscale=True)
_PREMIUM_V2 = PlanTier("PremiumV2", max_instances=30, slots=20, autoscale=True)
_PREMIUM_V3 = PlanTier("PremiumV3", max_instances=30, slots=20, autoscale=True)
_ISOLATED = PlanTier("Isolated", max_instances=100, slots=20, autoscale=True)
_FREE = PlanTier("Free", max_instances=1, slots=0, autoscale=False)
_SHARED = PlanTier("Shared", max_instances=1, slots=0, autoscale=False)

PLAN_SKUS: dict[str, PlanTier] = {
    "F1": _FREE,
    "D1": _SHARED,
    **{f"B{n}": _BASIC for n in (1, 2, 3)},
    **{f"S{n}": _STANDARD for n in (1, 2, 3)},
    **{f"P{n}": _PREMIUM for n in (1, 2, 3)},
    **{f"P{n}v2": _PREMIUM_V2 for n in (1, 2, 3)},
    **{f"P{n}v3": _PREMIUM_V3 for n in (0, 1, 2, 3)},
    **{f"P{n}mv3": _PREMIUM_V3 for n in (1, 2, 3, 4, 5)},
    **{f"I{n}v2": _ISOLATED for n in (1, 2, 3, 4, 5, 6)},
}

# Traffic Manager
TM_MIN_WEIGHT, TM_MAX_WEIGHT = 1, 1000
TTL_MIN, TTL_MAX = 0, 2_147_483_647
PROBE_INTERVALS = (10, 30)
PROBE_TIMEOUTS = {30: (5, 10), 10: (5, 9)}  # interval -> allowed timeout range, seconds
TOLERATED_FAILURES_MIN, TOLERATED_FAILURES_MAX = 0, 9
PROBE_PROTOCOLS = ("HTTP", "HTTPS", "TCP")

# Key Vault
RETENTION_MIN_DAYS, RETENTION_MAX_DAYS = 7, 90
SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
VAULT_NAME = re.compile(r"^[A-Za-z](?:[0-9A-Za-z]|-(?!-)){1,22}[0-9A-Za-z]$")
