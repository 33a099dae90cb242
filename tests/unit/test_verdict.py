"""The verdict table: suite results on base+PR-tests and head in, one verdict out."""

from __future__ import annotations

import pytest

from reviewbot.model import RunProblem, RunStatus, SandboxOutcome, SuitePair, SuiteResult, SuiteRun, Verdict
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


def _with_problem(side: str, problem: RunProblem, why: str, *others: RunStatus) -> SuiteResult:
    runs = [SuiteRun(status=RunStatus.ERROR, problem=problem, why=why, outcome=SandboxOutcome(exit_code=4))]
    runs += [SuiteRun(status=s, outcome=SandboxOutcome(exit_code=0 if s == P else 1)) for s in others]
    return SuiteResult(suite="x", revision=side, command="cmd", runs=runs)  # type: ignore[arg-type]


def _pair(name: str, base: SuiteResult, head: SuiteResult) -> SuitePair:
    return SuitePair(name=name, command="cmd", base=base, head=head)


def test_a_suite_that_ran_no_test_is_left_out_and_the_verdict_comes_from_the_others() -> None:
    usage = _with_problem("head", RunProblem.NO_TEST_RAN, "unrecognized arguments: --cov=pkg")
    decision = decide(
        [pair("configured", (F,), (P,)), _pair("auto", _with_problem("base", RunProblem.NO_TEST_RAN, "usage"), usage)]
    )
    assert decision.verdict == Verdict.PROVEN
    assert decision.cause is None
    assert len(decision.notes) == 1 and "`auto` ran no test" in decision.notes[0]
    assert "--cov=pkg" in decision.notes[0]


def test_a_test_that_cannot_load_on_base_is_never_proof() -> None:
    base = _with_problem("base", RunProblem.NOT_LOADED, "could not import or collect tests/test_lock.py")
    decision = decide([_pair("lock", base, result("head", P))])
    assert decision.verdict == Verdict.ERROR
    assert decision.cause == RunProblem.NOT_LOADED
    assert "Retry" not in decision.reason and "what base already has" in decision.reason


def test_no_suite_ran_a_test_is_an_error_that_says_what_to_change() -> None:
    side = _with_problem("base", RunProblem.NO_TEST_RAN, "INTERNALERROR> Unknown config option")
    decision = decide([_pair("auto", side, _with_problem("head", RunProblem.NO_TEST_RAN, "same"))])
    assert (decision.verdict, decision.cause) == (Verdict.ERROR, RunProblem.NO_TEST_RAN)
    assert "suite's command" in decision.reason


@pytest.mark.parametrize(
    ("sides", "verdict", "cause"),
    [
        (("head",), Verdict.FAILS, None),
        (("head", "base"), Verdict.ERROR, RunProblem.SETUP),
        (("base",), Verdict.ERROR, RunProblem.SETUP),
    ],
)
def test_setup_failures_say_whose_problem_it_is(
    sides: tuple[str, ...], verdict: Verdict, cause: RunProblem | None
) -> None:
    def side(name: str) -> SuiteResult:
        if name in sides:
            return _with_problem(name, RunProblem.SETUP, "setup exited 1")
        return result(name, F if name == "base" else P)

    decision = decide([_pair("lock", side("base"), side("head"))])
    assert (decision.verdict, decision.cause) == (verdict, cause), decision.reason


def test_an_error_run_without_a_stated_problem_is_infrastructure() -> None:
    decision = decide([pair("a", (E,), (P,))])
    assert decision.cause == RunProblem.INFRASTRUCTURE and "re-review" in decision.reason


def test_a_test_that_loads_on_neither_side_says_so() -> None:
    why = "a test file could not be loaded: Error: Cannot find module 'lockfile'"
    decision = decide(
        [
            _pair(
                "unlock",
                _with_problem("base", RunProblem.NOT_LOADED, why),
                _with_problem("head", RunProblem.NOT_LOADED, why),
            )
        ]
    )
    assert (decision.verdict, decision.cause) == (Verdict.ERROR, RunProblem.NOT_LOADED)
    assert "does not load on head either" in decision.reason and "Cannot find module" in decision.reason


@pytest.mark.parametrize(
    ("inferred", "advice"),
    [
        (False, "fix the `setup` in the base branch's `.github/reviewbot.yml`"),
        (True, "add a `.github/reviewbot.yml` to the base branch"),
    ],
    ids=["configured", "inferred"],
)
def test_a_failed_setup_is_fixed_where_it_came_from(inferred: bool, advice: str) -> None:
    """With no config file there is no `setup` to fix: the maintainer adds one, starting from the inferred."""
    why = "setup kept asking for an address the sandbox's network proxy refuses: npm.internal:4873"
    decision = decide(
        [_pair("t", _with_problem("base", RunProblem.SETUP, why), _with_problem("head", RunProblem.SETUP, why))],
        inferred_setup=inferred,
    )
    assert (decision.verdict, decision.cause) == (Verdict.ERROR, RunProblem.SETUP)
    assert advice in decision.reason and ("inferred setup step" in decision.reason) is inferred
