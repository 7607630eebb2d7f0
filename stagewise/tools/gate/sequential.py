"""Anytime-valid one-sided tests on counts, for the stage gate: mixture sequential probability ratio
tests whose false-alarm rate holds under any number and timing of looks.

Pure: no Pulumi import, no I/O.

Method. Every check of the gate is a one-sided test on a binomial parameter, observed in increments
(one per evidence step): in step i, `x_i` of `m_i` events are "bad" (an error, a slow request, or,
for a comparison with the live version, an event of the candidate rather than of live). The null
hypothesis is theta_i <= theta0_i, written with odds: odds(theta_i) <= odds0_i. For an alternative
odds multiplier k > 1 the likelihood ratio of step i is

    LR_i(k) = k ** x_i * ((1 + odds0_i) / (1 + k * odds0_i)) ** m_i

and its product over the steps is a nonnegative supermartingale with initial value 1 under every
theta_i <= theta0_i (its expectation per step is 1 at theta0_i and increases with theta_i). A mixture
over alternatives k (a discrete prior, so the mixture is exact, no integral approximated) and over
the step the regression starts in (a prior over change points: the full window, and windows starting
at step 1, 2, 4, 8, ...) is again a test supermartingale: the e-process `E_t`. By Ville's inequality
(Ville 1939; Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform, nonparametric, nonasymptotic
confidence sequences", Annals of Statistics 2021, eq. (3)):

    P_H0( E_t >= 1 / alpha for some t ) <= alpha

so rejecting the first time E_t reaches 1/alpha is a level-alpha test under continuous monitoring,
and p_t = min(1, 1 / max_{s<=t} E_s) is an always-valid p-value (Johari, Koomen, Pekelis & Walsh,
"Always valid inference: continuous monitoring of A/B tests", Operations Research 2022).

The comparison with the live version follows Lindon, Sanden & Shirikian, "Rapid regression detection
in software deployments through sequential testing" (KDD 2022): counts of the two versions are
Poisson with exposures (their requests), so conditionally on the step's total count m_i, the
candidate's share is binomial with odds (n_cand / n_live) * (rate ratio). A tolerance rho on the
rate ratio is then the null odds0_i = rho * n_cand_i / n_live_i, exactly of the form above.

The guarantee is exact for Poisson counts (relative checks) and binomial counts (absolute checks);
tests/unit/test_sequential.py checks the closed forms and measures the false-alarm rate by simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ODDS_MULTIPLIERS: tuple[float, ...] = (1.1, 1.2, 1.35, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
"""The alternatives k (odds of a bad event, as a multiple of the null's): from a regression just
past the tolerance to one where nearly everything fails."""
PRIOR: tuple[float, ...] = (1 / 24, 1 / 24, 1 / 24, 1 / 8, 1 / 8, 1 / 8, 1 / 6, 1 / 6, 1 / 6)
"""Their weights: 1/8 in all for the three smallest, which only many events can show (where a small
weight costs little), 3/8 for 1.5 to 3 and 1/2 for 5 to 30: a large regression at low traffic shows
in a handful of events, and each nat of prior weight decides whether it is caught within the watch."""


def begins_window(step: int) -> bool:
    """Whether a window begins at `step` (counted from 0): the whole stage at 0, then 1, 2, 4, 8, ...
    (a regression starting late is judged on its own steps, not diluted)."""
    return step == 0 or step & (step - 1) == 0


def change_point_starts(steps: int) -> list[int]:
    """The steps a window begins at, in a stage of `steps` steps (those `begins_window` names)."""
    return [0, *(1 << j for j in range(max(steps - 1, 0).bit_length()))] if steps > 0 else []


WHOLE_STAGE = 0.75
"""Prior weight of the window over the whole stage; the rest is shared by the later starts."""


def change_point_weight(start: int) -> float:
    """Prior weight of a window starting at step `start`: WHOLE_STAGE for the whole stage, and
    (1 - WHOLE_STAGE) / ((j+1)(j+2)) for start 2**j; they sum to 1."""
    if start == 0:
        return WHOLE_STAGE
    j = start.bit_length() - 1
    assert start == 1 << j, "starts are 0 and powers of two"
    return (1 - WHOLE_STAGE) / ((j + 1) * (j + 2))


def _weight_after(count: int) -> float:
    """Total prior weight of the starts not yet reached when `count` (>= 1) starts are active: the
    first `count` hold WHOLE_STAGE + (1 - WHOLE_STAGE) * (1 - 1/count)."""
    return (1 - WHOLE_STAGE) / max(count, 1)


def log_likelihood_ratio(x: float, m: float, odds0: float, k: float) -> float:
    """log LR of the alternative odds k * odds0 against odds0, for x bad events of m."""
    if m <= 0:
        return 0.0
    return x * math.log(k) + m * (math.log1p(odds0) - math.log1p(k * odds0))


@dataclass
class EProcess:
    """The mixture e-process of one check, updated one evidence step at a time.

    `value` is E_t after the last step; `peak` its maximum so far (with `peak_step`, the step it was
    reached in, counted from 1); `p_value` the always-valid p-value."""

    multipliers: tuple[float, ...] = ODDS_MULTIPLIERS
    prior: tuple[float, ...] | None = None
    """Weights of the multipliers (default: PRIOR for the default multipliers, else equal)."""
    change_points: bool = True
    """Also weigh the windows starting at steps 1, 2, 4, ... (a regression that starts late). A
    test of non-inferiority judges the whole stage only: a healthy candidate is healthy throughout."""

    def __post_init__(self) -> None:
        self._log_k = np.log(np.asarray(self.multipliers, dtype=float))
        self._k = np.asarray(self.multipliers, dtype=float)
        self._prior = np.asarray(_prior(self.multipliers, self.prior), dtype=float)
        self._log = np.zeros((0, len(self.multipliers)))  # per active start: sum of log LR since it
        self._weights = np.zeros(0)
        self.steps = 0
        self.value = 1.0
        self.peak = 1.0
        self.peak_step = 0

    def update(self, x: float, m: float, odds0: float) -> float:
        """Add one step: x bad events of m, null odds odds0 (> 0). Returns E_t."""
        step, changed = self.steps, False
        if begins_window(step) if self.change_points else step == 0:
            self._log = np.vstack([self._log, np.zeros((1, len(self.multipliers)))])
            self._weights = np.append(self._weights, change_point_weight(step) if self.change_points else 1.0)
            changed = True
        if m > 0 and odds0 > 0 and math.isfinite(odds0):
            self._log += x * self._log_k + m * (math.log1p(odds0) - np.log1p(self._k * odds0))
            changed = True
        self.steps += 1
        if changed:  # a step without events leaves every window's likelihood ratio as it was
            mixed = float(self._weights @ (np.exp(np.minimum(self._log, 700.0)) @ self._prior))
            self.value = mixed + (_weight_after(len(self._weights)) if self.change_points else 0.0)
        if self.value > self.peak:
            self.peak, self.peak_step = self.value, self.steps
        return self.value

    @property
    def p_value(self) -> float:
        return min(1.0, 1.0 / self.peak)


NON_INFERIORITY_MULTIPLIERS: tuple[float, ...] = (0.8, 0.65, 0.5, 0.35, 0.2, 0.1, 0.03)
"""The alternatives of a non-inferiority test (multipliers below 1 of the null's odds, the margin):
from a candidate just inside the margin, through one exactly as good as live (0.5 at a margin of 2x),
to one with next to no bad events (what a floor shows)."""
NON_INFERIORITY_PRIOR: tuple[float, ...] = (0.1, 0.15, 0.3, 0.15, 0.1, 0.1, 0.1)
"""Their weights: most on 0.5, a candidate as good as live at the default margin of 2x."""


def non_inferiority() -> EProcess:
    """An e-process for "the bad events' odds are at least odds0" (the candidate is past the margin):
    the same likelihood ratios with multipliers k < 1, whose product is a supermartingale when the
    odds are at or above odds0 (each step's expected ratio, ((1 - theta (1 - k)) / (1 - theta0 (1 - k)))
    ** m, is at most 1 for theta >= theta0). Whole stage only."""
    return EProcess(NON_INFERIORITY_MULTIPLIERS, NON_INFERIORITY_PRIOR, change_points=False)


def stage_budgets(total: float, stages: int) -> tuple[float, ...]:
    """The rollout's false-decision budget split over its `stages` stages with traffic, in order: half
    to the first, a quarter to the second, ..., the last two equal, so they sum to `total`. The first
    stage, with the least traffic exposed, is where a bad version should be caught, and gets the most;
    each later stage still gets at least total / 2 ** (stages - 1)."""
    if stages <= 0:
        return ()
    shares = [total / 2 ** (i + 1) for i in range(stages - 1)]
    return (*shares, total - sum(shares))


def _prior(multipliers: tuple[float, ...], prior: tuple[float, ...] | None) -> tuple[float, ...]:
    if prior is not None:
        assert len(prior) == len(multipliers) and sum(prior) <= 1 + 1e-12, "a prior over the multipliers"
        return prior
    if multipliers == ODDS_MULTIPLIERS:
        return PRIOR
    return tuple(1.0 / len(multipliers) for _ in multipliers)


def whole_window_e_value(x: float, m: float, odds0: float, multipliers: tuple[float, ...] = ODDS_MULTIPLIERS) -> float:
    """The e-value's whole-stage component alone (weight WHOLE_STAGE), from totals with a constant null
    odds: a lower bound of E_t, used to say what the evidence so far could detect."""
    weights = _prior(multipliers, None)
    logs = [log_likelihood_ratio(x, m, odds0, k) for k in multipliers]
    return WHOLE_STAGE * sum(w * math.exp(min(v, 700.0)) for w, v in zip(weights, logs))


def threshold(false_abort_rate: float, share: float) -> float:
    """The e-value at which a test holding `share` of the false-alarm budget rejects: with shares
    summing to at most 1, all the tests together reject a true null with probability at most
    `false_abort_rate` (a weighted union bound over Ville's inequality for each)."""
    return 1.0 / (false_abort_rate * share)


def detectable_odds(m: float, odds0: float, level: float, upper: float = 1e6) -> float | None:
    """The smallest odds multiplier k whose expected counts over m events (x = m * theta(k)) would
    give a whole-window e-value of at least `level`: the regression the evidence so far could
    detect. None when even `upper` could not be."""

    def reached(k: float) -> bool:
        theta = k * odds0 / (1 + k * odds0)
        return whole_window_e_value(m * theta, m, odds0) >= level

    if m <= 0 or not reached(upper):
        return None
    low, high = 1.0, upper
    for _ in range(60):
        mid = math.sqrt(low * high)
        if reached(mid):
            high = mid
        else:
            low = mid
        if high / low < 1.001:
            break
    return high
