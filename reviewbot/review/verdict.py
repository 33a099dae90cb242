"""The proof verdict: a pure function of suite results on base+PR-tests and head.

The reason is one markdown sentence; suite names in it are code spans.

Order of precedence, most serious first, so one line tells a contributor what
stands between the PR and a merge:

1. error    - a run could not execute (infrastructure: retry), the setup step failed on
               both sides (the config's problem), or no suite ran a single test.
               A suite that ran no test (usage error, test file that would not load)
               is left out with a note when other suites did run; a setup that fails
               on head alone is the PR breaking the install: `fails`.
2. timeout  - head hung: the fix may itself deadlock.
3. fails    - a suite fails on head in every repeat.
4. flaky    - repeats disagree on head (with the rates when the fix lowers but does not
               remove the failure), or on base while not failing significantly more often
               than head (a one-sided exact test; a race that shows some runs on base and
               never on head is proof).
5. proven   - head passes everything and at least one suite fails (or hangs) on base.
6. weak     - head passes and so does base: the tests do not catch the bug.

A base run that hangs on the PR's new test is a deadlock the fix removes, so
it counts as failing on base.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.model import RunProblem, RunStatus, SuitePair, SuiteResult, SuiteRun, Verdict
from reviewbot.review.markdown import code_span
from reviewbot.stats import DEFAULT_CONFIDENCE, Evidence, percent


@dataclass(frozen=True)
class VerdictDecision:
    verdict: Verdict
    reason: str
    cause: RunProblem | None = None  # with `error`: whose problem it is
    notes: tuple[str, ...] = ()  # suites left out because they ran no test, and why


def decide(
    pairs: list[SuitePair], confidence: float = DEFAULT_CONFIDENCE, *, inferred_setup: bool = False
) -> VerdictDecision:
    """The verdict; `inferred_setup` when the setup came from zero-config inference, not a config file."""
    if not pairs:
        return VerdictDecision(
            Verdict.NO_TESTS,
            "The PR adds or changes no test the bot can run, and no configured suite covers the changed paths.",
        )
    setup = _setup_failures(pairs, inferred_setup)  # first: a failed setup is why the other side has no runs
    if setup is not None:
        return setup
    missing = [(p.name, side) for p in pairs for side, r in _sides(p) if r is None or not r.runs]
    broken = [
        (p.name, side)
        for p in pairs
        for side, r in _sides(p)
        if r is not None and any(_problem(run) == RunProblem.INFRASTRUCTURE for run in r.runs)
    ]
    if missing or broken:
        where = ", ".join(f"{code_span(name)} on {side}" for name, side in missing + broken)
        return VerdictDecision(
            Verdict.ERROR,
            f"Could not run {where}; this is an infrastructure "
            "problem, not a test result. Retry with `@reviewbot re-review`.",
            RunProblem.INFRASTRUCTURE,
        )
    usable = [p for p in pairs if not _problems(p)]
    notes = tuple(_left_out(p) for p in pairs if _problems(p))
    if not usable:
        cause = (
            RunProblem.NOT_LOADED
            if any(RunProblem.NOT_LOADED in _problems(p) for p in pairs)
            else RunProblem.NO_TEST_RAN
        )
        advice = _NO_RESULT_ADVICE[cause]
        if cause == RunProblem.NOT_LOADED and any(_not_loaded_on(p, "head") for p in pairs):
            advice = _NOT_LOADED_ON_HEAD
        return VerdictDecision(Verdict.ERROR, " ".join(notes) + advice, cause)
    decision = _decide_results(usable, confidence)
    return VerdictDecision(decision.verdict, decision.reason, notes=notes)


_NO_RESULT_ADVICE = {
    RunProblem.NOT_LOADED: " A test that cannot load on base shows nothing about the bug: write it against "
    "what base already has, so that it runs there and fails.",
    RunProblem.NO_TEST_RAN: " No suite produced a test result: fix the suite's command, or the runner's "
    "options in the repository, so that it runs tests on both sides.",
}


_NOT_LOADED_ON_HEAD = (
    " The PR's test does not load on head either, so it never ran: its imports must resolve "
    "in the repository as checked out (a package's own published name often does not), then push."
)


def _not_loaded_on(pair: SuitePair, side: str) -> bool:
    result = pair.head if side == "head" else pair.base
    return any(run.problem == RunProblem.NOT_LOADED for run in (result.runs if result else []))


def _setup_failures(pairs: list[SuitePair], inferred: bool) -> VerdictDecision | None:
    """A failed setup is the PR's problem when only head fails it, the config's when both sides do."""
    failed: dict[str, str] = {}
    for pair in pairs:
        for side, result in _sides(pair):
            for run in result.runs if result else []:
                if run.problem == RunProblem.SETUP:
                    failed.setdefault(side, run.why)
    if not failed:
        return None
    if set(failed) == {"head"}:
        return VerdictDecision(
            Verdict.FAILS,
            f"The setup step fails on head but not on base "
            f"({code_span(failed['head'])}): the PR breaks the install; its log is below.",
        )
    sides = " and ".join(sorted(failed))
    fix = (
        "add a `.github/reviewbot.yml` to the base branch whose `setup` installs this repository here "
        "(the inferred config in this review is a starting point; the log is below)"
        if inferred
        else "fix the `setup` in the base branch's `.github/reviewbot.yml` (its log is below)"
    )
    return VerdictDecision(
        Verdict.ERROR,
        f"The {'inferred ' if inferred else ''}setup step fails on {sides} "
        f"({code_span(next(iter(failed.values())))}), so no suite could run: {fix}; "
        "if the package index was down, retry with `@reviewbot re-review`.",
        RunProblem.SETUP,
    )


def _decide_results(pairs: list[SuitePair], confidence: float) -> VerdictDecision:
    """The verdict from suites whose every run is a test result (passed, failed or hung)."""
    hung = [p.name for p in pairs if RunStatus.TIMEOUT in p.head.statuses]  # type: ignore[union-attr]
    if hung:
        return VerdictDecision(
            Verdict.TIMEOUT, f"{_names(hung)} hung on head and was killed: possible deadlock in the fix."
        )
    failing = [p.name for p in pairs if _always_fails(p.head)]  # type: ignore[arg-type]
    if failing:
        verb = "fails" if len(failing) == 1 else "fail"
        return VerdictDecision(Verdict.FAILS, f"{_names(failing)} {verb} on head.")
    partial = [p for p in pairs if p.head.flaky and _evidence(p, confidence).significant]  # type: ignore[union-attr]
    if partial:
        return VerdictDecision(Verdict.FLAKY, " ".join(_partial_fix(p, confidence) for p in partial))
    # A base that fails only sometimes is how a race shows: it proves the fix when head is
    # clean and base fails significantly more often; otherwise a racy test proves little.
    flaky = [
        (p.name, side)
        for p in pairs
        for side, r in _sides(p)
        if r is not None and r.flaky and not (side == "base" and p.race_on_base(confidence))
    ]
    if flaky:
        where = ", ".join(f"{code_span(name)} on {side}" for name, side in flaky)
        return VerdictDecision(Verdict.FLAKY, f"Repeats disagree ({where}): the result is not reproducible.")
    caught = [p for p in pairs if p.base is not None and p.base.status in (RunStatus.FAILED, RunStatus.TIMEOUT)]
    if caught:
        hung_base = [p.name for p in caught if p.base.status == RunStatus.TIMEOUT]  # type: ignore[union-attr]
        detail = f" ({_names(hung_base)} hung on base: the deadlock the fix removes)" if hung_base else ""
        names = [p.name for p in caught]
        verbs = ("fails", "passes") if len(names) == 1 else ("fail", "pass")
        return VerdictDecision(
            Verdict.PROVEN, f"{_names(names)} {verbs[0]} without the fix and {verbs[1]} with it{detail}."
        )
    return VerdictDecision(Verdict.WEAK, "The tests pass on base too: they do not catch the bug this PR fixes.")


def _sides(pair: SuitePair) -> list[tuple[str, SuiteResult | None]]:
    return [("base", pair.base), ("head", pair.head)]


def _evidence(pair: SuitePair, confidence: float) -> Evidence:
    return Evidence(head=pair.head.tally, base=pair.base.tally, confidence=confidence)  # type: ignore[union-attr]


def _partial_fix(pair: SuitePair, confidence: float) -> str:
    head, base = pair.head.tally, pair.base.tally  # type: ignore[union-attr]
    return (
        f"{code_span(pair.name)} failed {base.failures} of {base.runs} runs on base and {head.failures} of "
        f"{head.runs} on head: the fix lowers the failure rate (from {percent(base.failures / base.runs)} to "
        f"{percent(head.failures / head.runs)}, significant at {percent(confidence)}) but does not remove it."
    )


def _problem(run: SuiteRun) -> RunProblem | None:
    """An error run without a stated problem is the infrastructure's (older proofs had no field)."""
    if run.status != RunStatus.ERROR:
        return None
    return run.problem or RunProblem.INFRASTRUCTURE


def _problems(pair: SuitePair) -> set[RunProblem]:
    return {problem for _, r in _sides(pair) for run in (r.runs if r else []) if (problem := _problem(run))}


def _left_out(pair: SuitePair) -> str:
    whys = [
        f"{code_span(run.why)} on {side}"
        for side, r in _sides(pair)
        for run in (r.runs if r else [])
        if _problem(run) and run.why
    ][:2]
    return f"{code_span(pair.name)} ran no test ({'; '.join(whys) or 'no reason given'}), so it was left out."


def _always_fails(result: SuiteResult) -> bool:
    return bool(result.runs) and all(s == RunStatus.FAILED for s in result.statuses)


def _names(names: list[str]) -> str:
    quoted = [code_span(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
