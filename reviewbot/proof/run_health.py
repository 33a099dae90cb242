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
# A test file that cannot be loaded, as Node, jest, mocha and unittest word it (pytest's collection
# errors are read above). A bare ImportError in a failing test's message is that test's failure.
_IMPORT_FAILURE = re.compile(
    r"^.*(?:ERR_MODULE_NOT_FOUND|does not provide an export named|Cannot find module|"
    r"Test suite failed to run|Failed to import test module|SyntaxError: The requested module).*$",
    re.M,
)


def no_test_ran(outcome: SandboxOutcome, counts: TestCounts, output: str) -> NoTestRan | None:
    """Why this run executed no test, or None when it did (or may have: then it is a test result)."""
    if outcome.exit_code in (0, None) or outcome.limit_hit:
        return None
    if counts.passed:
        return None  # something ran and passed: whatever failed is a real failure
    collection = _PYTEST_COLLECTION.search(output)
    if collection and _INTERRUPTED.search(output):
        error = _EXCEPTION_LINE.search(output, collection.end())
        detail = f" ({_short(error[1])})" if error else ""
        return NoTestRan(f"could not import or collect {collection[1]}{detail}", RunProblem.NOT_LOADED)
    if (imports := _IMPORT_FAILURE.search(output)) and counts.failed <= 1:
        return NoTestRan(f"a test file could not be loaded: {_short(imports[0])}", RunProblem.NOT_LOADED)
    if counts.total:
        return None  # tests ran and failed: a warning about the config in the same output changes nothing
    if match := _first(_USAGE, output):
        return NoTestRan(f"the test runner stopped before running any test: {_short(match)}")
    if _NO_TESTS.search(output):
        return NoTestRan("the test runner found no test to run")
    if counts.source != "none":
        return NoTestRan("the test runner reported no test at all")
    return None


# A setup that failed because the network or the package index did: the same on any branch, and
# nothing the contributor changed. (The egress proxy's own refusals are policy, not a flake: not here.)
_INDEX_UNREACHABLE = re.compile(
    r"^.*(?:Temporary failure in name resolution|Read timed out|Connection broken|Max retries exceeded|"
    r"CERTIFICATE_VERIFY_FAILED|ETIMEDOUT|ECONNRESET|EAI_AGAIN|npm (?:ERR!|error) code E5\d\d|"
    r"HTTP error 5\d\d|50[234] (?:Bad Gateway|Service Unavailable|Gateway Time-?out)).*$",
    re.M,
)


# Refusals of these names are the index being unreachable from here (a retry may pass); a name a
# lockfile or config points at (a private registry, a git host) is the setup's own problem.
_PUBLIC_INDEX = re.compile(r"(?:pypi\.org|files\.pythonhosted\.org|registry\.npmjs\.org|registry\.yarnpkg\.com):\d+: ")


def failed_setup(outcome: SandboxOutcome, output: str, command: str) -> SuiteRun:
    """The error run a failed setup step stands for in every suite, with whose problem it is.

    An unreachable index or network is infrastructure (a retry may pass); anything
    else is the setup's own failure, which the verdict pins on the PR or the config:
    a refused address the setup asked for (a private registry in a lockfile) is named.
    """
    run = SuiteRun(
        status=RunStatus.ERROR,
        outcome=outcome.model_copy(update={"log_tail": f"setup step `{command}` failed\n{outcome.log_tail}"}),
    )
    if outcome.limit_hit == "cancelled":
        return run.model_copy(update={"problem": RunProblem.INFRASTRUCTURE, "why": "the review was cancelled"})
    if outcome.egress_refused:
        refused = "; ".join(outcome.egress_refused)
        how = (
            "kept asking for an address the sandbox's network proxy refuses"
            if outcome.limit_hit == "network"
            else f"hit the {outcome.limit_hit} limit"
            if outcome.limit_hit
            else f"exited {outcome.exit_code}"
        )
        public_index_down = all(
            _PUBLIC_INDEX.match(target) and "cannot resolve" in target for target in outcome.egress_refused
        )
        return run.model_copy(
            update={
                "problem": RunProblem.INFRASTRUCTURE if public_index_down else RunProblem.SETUP,
                "why": f"setup {how}: {_short(refused)}",
            }
        )
    if outcome.limit_hit is None and (unreachable := _INDEX_UNREACHABLE.search(output)):
        return run.model_copy(
            update={
                "problem": RunProblem.INFRASTRUCTURE,
                "why": f"setup could not reach the package index: {_short(unreachable[0])}",
            }
        )
    how = f"hit the {outcome.limit_hit} limit" if outcome.limit_hit else f"exited {outcome.exit_code}"
    return run.model_copy(update={"problem": RunProblem.SETUP, "why": f"setup {how}"})


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
            head.runs[index] = run.model_copy(
                update={
                    "status": RunStatus.FAILED,
                    "problem": None,
                    "why": f"{run.why}; base ran the same tests, so the PR broke them",
                }
            )


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
