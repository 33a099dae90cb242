"""Did a run execute tests at all? A run that executed none is never a test result.

On real repositories the commonest false verdicts came from runs that died
before any test ran: the runner refused the repository's own `addopts`
(`unrecognized arguments: --cov=...`), an unknown config option stopped the
session, a test file could not be imported or collected. Counted as "fails",
such a run outvotes a suite that really ran, and on base it passes for "fails
without the fix". This module recognises those runs from the runner's own
words and says why, and `settle_pair` decides what a collection error means
once both sides are known. Pure: text in, decisions out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewbot.model import RunProblem, RunStatus, SandboxOutcome, SuiteResult, SuiteRun, TestCounts

MAX_WHY = 240


@dataclass(frozen=True)
class NoTestRan:
    """Why a run executed no test; `problem` tells a usage error from a test file that would not load."""

    why: str
    problem: RunProblem = RunProblem.NO_TEST_RAN


# Each pattern is anchored at a line start and linear: the text comes from PR code.
# Most telling first: the reason quotes the first pattern that matches.
_USAGE = (
    re.compile(r"^.*error: unrecognized arguments: .*$", re.M),
    re.compile(r"^.*Unknown config option.*$", re.M),
    re.compile(r"^ERROR: (?:file or directory not found|not found): .*$", re.M),
    re.compile(r"^ERROR: usage: .*$", re.M),
    re.compile(r"^INTERNALERROR> .*$", re.M),
    re.compile(r"^npm (?:ERR!|error) Missing script: .*$", re.M),
    re.compile(r"^No tests found, exiting with code 1.*$", re.M),  # jest
    re.compile(r"^No test files found, exiting with code 1.*$", re.M),  # vitest
    re.compile(r"^Error: No test files found.*$", re.M),  # mocha
)
_NO_TESTS = re.compile(r"^=*[ \t]*no tests ran in .*$", re.M)
_PYTEST_COLLECTION = re.compile(r"^_* ERROR collecting (\S+) _*$", re.M)
_INTERRUPTED = re.compile(r"^!+ Interrupted: \d+ errors? during collection !+$", re.M)
_EXCEPTION_LINE = re.compile(r"^E +(\w+(?:Error|Exception)\b.*)$", re.M)
# An import that cannot be satisfied, as Node, jest, mocha and Python word it.
_IMPORT_FAILURE = re.compile(
    r"^.*(?:ERR_MODULE_NOT_FOUND|does not provide an export named|Cannot find module|"
    r"Test suite failed to run|ModuleNotFoundError|ImportError|SyntaxError: The requested module).*$",
    re.M,
)


def no_test_ran(outcome: SandboxOutcome, counts: TestCounts, output: str) -> NoTestRan | None:
    """Why this run executed no test, or None when it did (or may have: then it is a test result)."""
    if outcome.exit_code in (0, None) or outcome.limit_hit:
        return None
    if counts.passed:
        return None  # something ran and passed: whatever failed is a real failure
    if match := _first(_USAGE, output):
        return NoTestRan(f"the test runner stopped before running any test: {_short(match)}")
    collection = _PYTEST_COLLECTION.search(output)
    if collection and _INTERRUPTED.search(output):
        error = _EXCEPTION_LINE.search(output, collection.end())
        detail = f" ({_short(error[1])})" if error else ""
        return NoTestRan(f"could not import or collect {collection[1]}{detail}", RunProblem.NOT_LOADED)
    if _NO_TESTS.search(output):
        return NoTestRan("the test runner found no test to run")
    if counts.source != "none" and counts.total == 0:
        return NoTestRan("the test runner reported no test at all")
    if (imports := _IMPORT_FAILURE.search(output)) and counts.failed <= 1:
        return NoTestRan(f"a test file could not be loaded: {_short(imports[0])}", RunProblem.NOT_LOADED)
    return None


def settle_pair(head: SuiteResult, base: SuiteResult) -> None:
    """A collection error on head is the PR breaking its own tests when base collected the same file.

    On base it stays an error: a test that cannot even load there shows nothing
    about the bug (it usually imports something only head has).
    """
    base_ran = any(run.status in (RunStatus.PASSED, RunStatus.FAILED) for run in base.runs)
    if not base_ran:
        return
    for index, run in enumerate(head.runs):
        if run.problem == RunProblem.NOT_LOADED:
            head.runs[index] = run.model_copy(update={
                "status": RunStatus.FAILED, "problem": None,
                "why": f"{run.why}; base ran the same tests, so the PR broke them"})


def as_error(run: SuiteRun, reason: NoTestRan) -> SuiteRun:
    return run.model_copy(update={"status": RunStatus.ERROR, "problem": reason.problem, "why": reason.why})


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        if match := pattern.search(text):
            return match[0]
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_WHY else text[: MAX_WHY - 1] + "…"
