"""The verdict table: suite results on base+PR-tests and head in, one verdict out."""

from __future__ import annotations

import pytest

from reviewbot.model import SuitePair, SuiteResult, Verdict
from reviewbot.review.verdict import decide
from tests.builders import E, F, P, T, pair, result



CASES = [
    ("fails on base, passes on head", [pair("a", (F,), (P,))], Verdict.PROVEN),
    ("hangs on base, passes on head", [pair("a", (T,), (P,))], Verdict.PROVEN),
    ("one suite proves, one passes on both", [pair("a", (F,), (P,)), pair("b", (P,), (P,))], Verdict.PROVEN),
    ("passes on both", [pair("a", (P, P), (P, P))], Verdict.WEAK),
    ("head fails", [pair("a", (F,), (F,))], Verdict.FAILS),
    ("head fails every repeat", [pair("a", (F, F, F), (F, F, F))], Verdict.FAILS),
    ("head hangs", [pair("a", (F,), (T,))], Verdict.TIMEOUT),
    ("head hangs in one repeat", [pair("a", (F, F), (P, T))], Verdict.TIMEOUT),
    ("head repeats disagree", [pair("a", (F, F, F), (P, F, P))], Verdict.FLAKY),
    ("base repeats disagree", [pair("a", (F, P, F), (P, P, P))], Verdict.FLAKY),
    ("head fails beats flaky elsewhere", [pair("a", (F,), (F,)), pair("b", (F,), (P, F))], Verdict.FAILS),
    ("infrastructure error on base", [pair("a", (E,), (P,))], Verdict.ERROR),
    ("error beats timeout", [pair("a", (E,), (T,))], Verdict.ERROR),
    ("no suites", [], Verdict.NO_TESTS),
]


@pytest.mark.parametrize(("case", "pairs", "expected"), CASES, ids=[c[0] for c in CASES])
def test_verdict_table(case: str, pairs: list[SuitePair], expected: Verdict) -> None:
    decision = decide(pairs)
    assert decision.verdict == expected, decision.reason
    assert decision.reason


def test_missing_side_is_an_error() -> None:
    decision = decide([SuitePair(name="a", command="c", head=result("head", P), base=None)])
    assert decision.verdict == Verdict.ERROR
    assert "`a` on base" in decision.reason


def test_proven_reason_mentions_the_base_hang() -> None:
    decision = decide([pair("lock", (T,), (P,))])
    assert "hung on base" in decision.reason


def test_a_side_with_no_runs_is_an_error_not_a_pass() -> None:
    """A cancelled or never-started side proves nothing."""
    empty = SuiteResult(suite="a", revision="base", command="c", runs=[])
    decision = decide([SuitePair(name="a", command="c", head=result("head", P), base=empty)])
    assert decision.verdict == Verdict.ERROR
