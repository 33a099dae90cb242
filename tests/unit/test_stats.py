"""Exact bounds, the rate test and the sequential rule, checked to the digit."""

from __future__ import annotations

import pytest

from reviewbot.stats import (
    Evidence,
    Tally,
    base_fails_more,
    clean_runs_needed,
    failure_rate_upper,
    percent,
    stop_reason,
)


@pytest.mark.parametrize(
    ("failures", "runs", "upper"),
    [
        (0, 30, 0.0950),
        (0, 2, 0.7764),
        (1, 10, 0.3942),
        (0, 12, 0.2209),
        (5, 5, 1.0),
    ],
)
def test_clopper_pearson_upper_bounds(failures: int, runs: int, upper: float) -> None:
    assert failure_rate_upper(failures, runs) == pytest.approx(upper, abs=1e-4)


def test_no_runs_has_no_bound() -> None:
    assert failure_rate_upper(0, 0) is None


@pytest.mark.parametrize(
    ("base", "head", "p_value"),
    [
        ((2, 3), (0, 3), 0.2),  # 3 of C(6,2)=15
        ((4, 12), (0, 12), 495 / 10626),
        ((0, 5), (0, 5), 1.0),
        ((12, 12), (0, 30), 1 / 11058116888),  # 1 / C(42, 12)
    ],
)
def test_one_sided_fisher(base: tuple[int, int], head: tuple[int, int], p_value: float) -> None:
    assert base_fails_more(base[0], base[1], head[0], head[1]) == pytest.approx(p_value, rel=1e-6)


def evidence(head: tuple[int, int], base: tuple[int, int], threshold: float = 0.10) -> Evidence:
    return Evidence(
        head=Tally(runs=head[1], failures=head[0]), base=Tally(runs=base[1], failures=base[0]), threshold=threshold
    )


@pytest.mark.parametrize(
    ("head", "base", "runs", "expected"),
    [
        ((0, 2), (2, 2), 2, None),  # head's bound is 78%: keep going
        ((0, 29), (29, 29), 29, "base fails and head is clean within the threshold"),
        ((0, 29), (6, 29), 29, "base fails and head is clean within the threshold"),  # a race on base
        ((0, 29), (0, 29), 29, "both sides are clean within the threshold"),
        ((2, 2), (2, 2), 2, "head failed every run"),
        ((1, 30), (6, 30), 30, "reached max_runs (30)"),  # a partial fix: measured until the limit
        ((0, 1), (1, 1), 1, None),  # below the suite's own repeat
    ],
)
def test_the_sequential_rule(head: tuple[int, int], base: tuple[int, int], runs: int, expected: str | None) -> None:
    assert stop_reason(evidence(head, base), runs, min_runs=2, max_runs=30, elapsed_s=1, budget_s=300) == expected


def test_the_budget_stops_an_unsettled_suite() -> None:
    assert (
        stop_reason(evidence((0, 3), (1, 3)), 3, 2, 30, elapsed_s=301, budget_s=300) == "spent the time budget (300s)"
    )


def test_percent() -> None:
    assert [percent(x) for x in (0.095, 1.0, 0.0, 0.2209, None)] == ["9.5%", "100%", "0%", "22%", "n/a"]


@pytest.mark.parametrize(("threshold", "runs"), [(0.10, 29), (0.25, 11), (0.05, 59), (0.9, 2)])
def test_clean_runs_needed_is_the_first_count_whose_bound_is_under_the_threshold(threshold: float, runs: int) -> None:
    assert clean_runs_needed(threshold) == runs
    bound, before = failure_rate_upper(0, runs), failure_rate_upper(0, runs - 1)
    assert bound is not None and bound <= threshold
    assert runs == 1 or (before is not None and before > threshold)
