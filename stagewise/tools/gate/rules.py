"""The gate's rules: the checks and their shares of the budget, the promote tests, what counts as
recent traffic and a share off the stage's weight, and one stage's limits. Pure.

The budget: `falseAbortRate` is the rollout's false-decision budget, split over its stages with
traffic (stagewise.tools.gate.sequential.stage_budgets). Within a stage a false abort needs every abort
check's null to hold (the candidate within `errorRateRatio` and `slowRequestsRatio` of live), and a
false promote needs a promote test's null to hold (the candidate past `promoteMargin`); the margin is
above both tolerances, so no truth allows both, and each direction spends the stage's whole budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from stagewise.core.gate_config import PROMOTE_MARGIN
from stagewise.tools.gate import sequential
from stagewise.tools.gate.evidence import Family

CHECKS = ("error_rate", "p95", "error_rate_vs_live", "p95_vs_live")
FAMILY: dict[str, Family] = {
    "error_rate": "errors",
    "p95": "latency",
    "error_rate_vs_live": "errors",
    "p95_vs_live": "latency",
}
TEST_FAMILY: dict[str, Family] = {
    **FAMILY,
    "errors_vs_live": "errors",
    "errors_floor": "errors",
    "latency_vs_live": "latency",
    "latency_floor": "latency",
}
SHARES = {"error_rate": 1 / 6, "p95": 1 / 12, "error_rate_vs_live": 1 / 2, "p95_vs_live": 1 / 4}
"""Each check's share of the stage's budget (a weighted union bound over the checks). The relative
checks carry the tolerances and get three quarters: a regression of a few times live's rate shows
only through them. A candidate past an absolute limit is usually far past it, where a higher
threshold costs a step or two. Errors get twice latency's share: they are rare, so a handful of
events must decide, where every nat of threshold counts; a latency check sees about a fifth of all
requests, where a higher threshold costs little time (bench/gate_quality.py: the abort medians of
the budget per stage match those of the whole budget per stage with the old 1/3, 1/6 split)."""
ABSOLUTE = ("error_rate", "p95")
"""The checks against a fixed limit: live is tested against the same limit, for a shared outage."""
PROMOTE_TESTS = ("errors_vs_live", "errors_floor", "latency_vs_live", "latency_floor")
PROMOTE_FAMILIES: dict[str, tuple[str, str]] = {
    "errors_not_worse": ("errors_vs_live", "errors_floor"),
    "latency_not_worse": ("latency_vs_live", "latency_floor"),
}
SLOW_SHARE_MAX = 0.20
"""The slow bound is the lowest bound that at most this share of live's requests exceed."""
SLOW_BOUND_REQUESTS = 100
"""Live requests needed before the slow bound is chosen."""
REGRESSION = 2.0
"""The regression each verdict says it could, or could not yet, tell from healthy (x live's rate)."""
RECENT_MIN, RECENT_MAX = 3, 30
"""The recent steps a candidate must have served requests in: enough steps to expect RECENT_REQUESTS
of them at its rate so far, at least RECENT_MIN (one quiet step is noise) and at most RECENT_MAX."""
RECENT_REQUESTS = 10.0
"""With 10 requests expected, a healthy Poisson stream is silent with probability e**-10 (5e-5):
silence that long means the candidate stopped getting traffic, not chance."""
SHARE_FACTOR = 2.0
"""The candidate's observed share of the recent requests may be this factor off the stage's weight
(below or above) before the verdict holds: the route may not be applied yet, or sends elsewhere."""
SHARE_EXPECTED = 30.0
"""Candidate requests expected in the recent steps before the share is compared (fewer are noise)."""


@dataclass(frozen=True)
class Limits:
    """What one stage's candidate must meet (from stagewise:analysis and the stage's own keys)."""

    bake: timedelta
    min_requests: int
    error_rate_warning: float  # percent
    error_rate_abort: float  # percent
    p95_warning_ms: float
    p95_abort_ms: float
    error_rate_ratio: float
    slow_requests_ratio: float
    false_abort_rate: float
    """The rollout's false-decision budget."""
    stage_budget: float | None = None
    """This stage's part of it (None: all of it, as for a rollout of one stage)."""
    promote_margin: float = PROMOTE_MARGIN
    no_traffic_deadline: timedelta | None = None
    """How long the candidate may go without requests before the rollout is stuck (None: never)."""

    @property
    def budget(self) -> float:
        return self.stage_budget if self.stage_budget is not None else self.false_abort_rate

    def threshold(self, check: str) -> float:
        """The e-value at which `check` aborts."""
        return sequential.threshold(self.budget, SHARES[check])

    @property
    def promote_threshold(self) -> float:
        """The e-value each promote family must reach (intersection-union: each at the whole budget)."""
        return sequential.threshold(self.budget, 1.0)
