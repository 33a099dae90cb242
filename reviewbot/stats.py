"""How sure a proof is (pure, imported by the model and the review core): exact bounds on failure rates, and when to stop repeating.

Lock bugs are races: "passes 2 of 2" says little about a bug that shows one
time in ten. Every statement here is exact (no normal approximation), because
the counts are small: a Clopper–Pearson upper bound on a side's failure rate,
and a one-sided Fisher exact test of whether base fails more often than head.
Pure arithmetic on counts, so a review can state its numbers and tests can
check them to the digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_CONFIDENCE = 0.95


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(0, k + 1)))


def failure_rate_upper(failures: int, runs: int, confidence: float = DEFAULT_CONFIDENCE) -> float | None:
    """One-sided exact (Clopper–Pearson) upper bound on the failure rate; None with no runs.

    0 failures in 30 runs gives 0.095: "fails at most 9.5% of the time" at 95%.
    """
    if runs <= 0:
        return None
    if failures >= runs:
        return 1.0
    alpha = 1.0 - confidence
    low, high = failures / runs, 1.0
    for _ in range(100):  # bisection: P(X <= failures; p) falls as p grows
        middle = (low + high) / 2
        if binomial_cdf(failures, runs, middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def clean_runs_needed(threshold: float, confidence: float = DEFAULT_CONFIDENCE) -> int:
    """How many failure-free runs bring the exact upper bound under `threshold` (29 for 10% at 95%)."""
    return max(1, math.ceil(math.log(1.0 - confidence) / math.log(1.0 - threshold))) if 0 < threshold < 1 else 1


def base_fails_more(base_failures: int, base_runs: int, head_failures: int, head_runs: int) -> float:
    """One-sided Fisher exact p-value for "base fails more often than head" (small means: it does)."""
    failures, total = base_failures + head_failures, base_runs + head_runs
    if base_runs <= 0 or head_runs <= 0 or failures == 0:
        return 1.0
    denominator = math.comb(total, failures)
    top = min(failures, base_runs)
    return (
        sum(math.comb(base_runs, k) * math.comb(head_runs, failures - k) for k in range(base_failures, top + 1))
        / denominator
    )


@dataclass(frozen=True)
class Tally:
    runs: int
    failures: int

    @property
    def clean(self) -> bool:
        return self.runs > 0 and self.failures == 0

    @property
    def always_fails(self) -> bool:
        return self.runs > 0 and self.failures == self.runs


@dataclass(frozen=True)
class Evidence:
    """What the repeats of one suite say, and why repeating further would not change it."""

    head: Tally
    base: Tally
    confidence: float = DEFAULT_CONFIDENCE
    threshold: float = 0.10  # a head failure-rate bound below this is "fixed" for ranks and stopping

    @property
    def head_upper(self) -> float | None:
        return failure_rate_upper(self.head.failures, self.head.runs, self.confidence)

    @property
    def base_upper(self) -> float | None:
        return failure_rate_upper(self.base.failures, self.base.runs, self.confidence)

    @property
    def significant(self) -> bool:
        """Base fails more often than head, at the configured confidence."""
        p_value = base_fails_more(self.base.failures, self.base.runs, self.head.failures, self.head.runs)
        return p_value <= 1.0 - self.confidence

    def settled(self) -> str | None:
        """Why more runs would not change the verdict, or None while they could."""
        if self.head.always_fails:
            return "head failed every run"
        head_upper, base_upper = self.head_upper, self.base_upper
        if not (self.head.clean and head_upper is not None and head_upper <= self.threshold):
            return None
        if self.base.always_fails or (self.base.failures and self.significant):
            return "base fails and head is clean within the threshold"
        if self.base.clean and base_upper is not None and base_upper <= self.threshold:
            return "both sides are clean within the threshold"
        return None


def stop_reason(
    evidence: Evidence, runs_so_far: int, min_runs: int, max_runs: int, elapsed_s: float, budget_s: float
) -> str | None:
    """The sequential rule: why to stop repeating a suite now, or None to run another round."""
    if runs_so_far < min_runs:
        return None
    settled = evidence.settled()
    if settled:
        return settled
    if runs_so_far >= max_runs:
        return f"reached max_runs ({max_runs})"
    if elapsed_s >= budget_s:
        return f"spent the time budget ({budget_s:.0f}s)"
    return None


def percent(rate: float | None) -> str:
    """A rate as a short percentage: 0.0950 -> "9.5%", 1.0 -> "100%"."""
    if rate is None:
        return "n/a"
    value = rate * 100
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"
