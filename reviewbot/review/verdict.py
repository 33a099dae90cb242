"""The proof verdict: a pure function of suite results on base+PR-tests and head.

The reason is one markdown sentence; suite names in it are code spans.

Order of precedence, most serious first, so one line tells a contributor what
stands between the PR and a merge:

1. error    - a run could not execute: nothing can be concluded, retry.
2. timeout  - head hung: the fix may itself deadlock.
3. fails    - a suite fails on head in every repeat.
4. flaky    - repeats disagree on head, or on base (a racy test proves little).
5. proven   - head passes everything and at least one suite fails (or hangs) on base.
6. weak     - head passes and so does base: the tests do not catch the bug.

A base run that hangs on the PR's new test is a deadlock the fix removes, so
it counts as failing on base.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.model import RunStatus, SuitePair, SuiteResult, Verdict
from reviewbot.review.markdown import code_span


@dataclass(frozen=True)
class VerdictDecision:
    verdict: Verdict
    reason: str


def decide(pairs: list[SuitePair]) -> VerdictDecision:
    if not pairs:
        return VerdictDecision(Verdict.NO_TESTS, "The PR adds or changes no test the bot can run, "
                               "and no configured suite covers the changed paths.")
    errors = [(p.name, side) for p in pairs for side, r in _sides(p)
              if r is None or not r.runs or RunStatus.ERROR in r.statuses]
    if errors:
        where = ", ".join(f"{code_span(name)} on {side}" for name, side in errors)
        return VerdictDecision(Verdict.ERROR, f"Could not run {where}; this is an infrastructure "
                               "problem, not a test result. Retry with `@reviewbot re-review`.")
    hung = [p.name for p in pairs if RunStatus.TIMEOUT in p.head.statuses]  # type: ignore[union-attr]
    if hung:
        return VerdictDecision(Verdict.TIMEOUT, f"{_names(hung)} hung on head and was killed: "
                               "possible deadlock in the fix.")
    failing = [p.name for p in pairs if _always_fails(p.head)]  # type: ignore[arg-type]
    if failing:
        verb = "fails" if len(failing) == 1 else "fail"
        return VerdictDecision(Verdict.FAILS, f"{_names(failing)} {verb} on head.")
    flaky = [(p.name, side) for p in pairs for side, r in _sides(p) if r is not None and r.flaky]
    if flaky:
        where = ", ".join(f"{code_span(name)} on {side}" for name, side in flaky)
        return VerdictDecision(Verdict.FLAKY, f"Repeats disagree ({where}): the result is not reproducible.")
    caught = [p for p in pairs if p.base is not None and p.base.status in (RunStatus.FAILED, RunStatus.TIMEOUT)]
    if caught:
        hung_base = [p.name for p in caught if p.base.status == RunStatus.TIMEOUT]  # type: ignore[union-attr]
        detail = f" ({_names(hung_base)} hung on base: the deadlock the fix removes)" if hung_base else ""
        names = [p.name for p in caught]
        verbs = ("fails", "passes") if len(names) == 1 else ("fail", "pass")
        return VerdictDecision(Verdict.PROVEN, f"{_names(names)} {verbs[0]} without the fix "
                               f"and {verbs[1]} with it{detail}.")
    return VerdictDecision(Verdict.WEAK, "The tests pass on base too: they do not catch the bug this PR fixes.")


def _sides(pair: SuitePair) -> list[tuple[str, SuiteResult | None]]:
    return [("base", pair.base), ("head", pair.head)]


def _always_fails(result: SuiteResult) -> bool:
    return bool(result.runs) and all(s == RunStatus.FAILED for s in result.statuses)


def _names(names: list[str]) -> str:
    quoted = [code_span(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
