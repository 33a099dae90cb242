"""Runs that executed no test are told apart from test results, from the runners' own words."""

from __future__ import annotations

import pytest

from reviewbot.model import RunProblem, RunStatus, SandboxOutcome, SuiteResult, SuiteRun, TestCounts
from reviewbot.proof.results import parse_summary
from reviewbot.proof.run_health import as_error, failed_setup, no_test_ran, settle_pair

PYTEST_USAGE = """ERROR: usage: __main__.py [options] [file_or_dir] [file_or_dir] [...]
__main__.py: error: unrecognized arguments: --cov=lockpkg --cov-report=term
  inifile: /workspace/pyproject.toml
  rootdir: /workspace
"""
PYTEST_INTERNAL = """INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/x/_pytest/main.py", line 266, in wrap_session
INTERNALERROR> pytest.PytestConfigWarning: Unknown config option: asyncio_mode
"""
PYTEST_COLLECTION = """============================= test session starts ==============================
collected 0 items / 1 error

==================================== ERRORS ====================================
___________________ ERROR collecting tests/test_lock_release.py ___________________
ImportError while importing test module '/workspace/tests/test_lock_release.py'.
tests/test_lock_release.py:3: in <module>
    from lockpkg import release_stale
E   ImportError: cannot import name 'release_stale' from 'lockpkg' (/workspace/src/lockpkg/__init__.py)
=========================== short test summary info ============================
ERROR tests/test_lock_release.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 0.12s ===============================
"""
PYTEST_FAILED = """tests/test_lock.py F.                                                    [100%]
FAILED tests/test_lock.py::test_release - assert 1 == 2
========================= 1 failed, 1 passed in 0.05s ==========================
"""
PYTEST_NONE = "============================ no tests ran in 0.01s =============================\n"
NODE_IMPORT = """TAP version 13
# Subtest: /workspace/test/lock.test.mjs
not ok 1 - /workspace/test/lock.test.mjs
  ---
  error: "The requested module '../src/lock.mjs' does not provide an export named 'releaseAll'"
  code: 'ERR_TEST_FAILURE'
  ...
1..1
# tests 1
# suites 0
# pass 0
# fail 1
"""
NODE_FAILED = """not ok 1 - releases the lock
# tests 2
# suites 0
# pass 1
# fail 1
"""


def check(output: str, exit_code: int = 1):
    counts = parse_summary(output) or TestCounts()
    return no_test_ran(SandboxOutcome(exit_code=exit_code), counts, output)


@pytest.mark.parametrize(
    ("output", "problem", "words"),
    [
        (PYTEST_USAGE, RunProblem.NO_TEST_RAN, "unrecognized arguments: --cov=lockpkg"),
        (PYTEST_INTERNAL, RunProblem.NO_TEST_RAN, "INTERNALERROR"),
        (PYTEST_COLLECTION, RunProblem.NOT_LOADED, "tests/test_lock_release.py (ImportError: cannot import name"),
        (PYTEST_NONE, RunProblem.NO_TEST_RAN, "no test"),
        (NODE_IMPORT, RunProblem.NOT_LOADED, "does not provide an export named"),
        ('npm error Missing script: "test"\n', RunProblem.NO_TEST_RAN, "Missing script"),
    ],
    ids=["pytest-usage", "pytest-internal", "pytest-collection", "pytest-none", "node-import", "npm-script"],
)
def test_runs_that_executed_no_test(output: str, problem: RunProblem, words: str) -> None:
    found = check(output)
    assert found is not None and found.problem == problem
    assert words in found.why


@pytest.mark.parametrize("output", [PYTEST_FAILED, NODE_FAILED, "some custom runner said no\n"])
def test_real_failures_and_unknown_output_stay_test_results(output: str) -> None:
    assert check(output) is None


def test_a_passing_or_killed_run_is_never_reclassified() -> None:
    assert check(PYTEST_USAGE, exit_code=0) is None
    assert no_test_ran(SandboxOutcome(exit_code=None, limit_hit="wall_clock"), TestCounts(), PYTEST_USAGE) is None


def run_of(output: str, side: str) -> SuiteResult:
    counts = parse_summary(output) or TestCounts()
    run = SuiteRun(status=RunStatus.FAILED, counts=counts, outcome=SandboxOutcome(exit_code=1))
    reason = no_test_ran(run.outcome, counts, output)
    return SuiteResult(
        suite="s",
        revision=side,
        command="c",  # type: ignore[arg-type]
        runs=[as_error(run, reason) if reason else run],
    )


def test_a_collection_error_on_head_is_the_pr_breaking_tests_base_collected() -> None:
    head, base = run_of(PYTEST_COLLECTION, "head"), run_of(PYTEST_FAILED, "base")
    settle_pair(head, base)
    assert head.runs[0].status == RunStatus.FAILED and head.runs[0].problem is None


def test_a_collection_error_on_both_sides_stays_an_error() -> None:
    head, base = run_of(PYTEST_COLLECTION, "head"), run_of(PYTEST_COLLECTION, "base")
    settle_pair(head, base)
    assert head.runs[0].status == RunStatus.ERROR and head.runs[0].problem == RunProblem.NOT_LOADED


PYTEST_FAILED_WITH_CONFIG_WARNING = """tests/test_lock.py F                                                     [100%]
=============================== warnings summary ===============================
.venv/lib/python3.11/site-packages/_pytest/config/__init__.py:1439
  PytestConfigWarning: Unknown config option: asyncio_mode
FAILED tests/test_lock.py::test_release - AssertionError: lock file left behind
========================= 1 failed, 1 warning in 0.05s =========================
"""
ASSERTION_MENTIONING_IMPORTERROR = """FAILED tests/test_lock.py::test_release - assert 'ImportError' not in log
============================== 1 failed in 0.05s ===============================
"""


@pytest.mark.parametrize(
    "output",
    [PYTEST_FAILED_WITH_CONFIG_WARNING, ASSERTION_MENTIONING_IMPORTERROR],
    ids=["config-warning", "importerror-in-message"],
)
def test_a_run_whose_tests_ran_and_failed_is_a_result_whatever_else_it_printed(output: str) -> None:
    """Real repositories warn about unknown options while their tests run: that failure is proof on base."""
    assert check(output) is None


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("ERROR: Could not find a version that satisfies the requirement lockpkg==9\n", RunProblem.SETUP),
        (
            "npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/no-such-pkg\n",
            RunProblem.SETUP,
        ),
        (
            "WARNING: Retrying ... ReadTimeoutError(\"HTTPSConnectionPool(host='pypi.org'): Read timed out.\")\n"
            "ERROR: Could not install packages due to an OSError: Max retries exceeded with url: /simple/x/\n",
            RunProblem.INFRASTRUCTURE,
        ),
        (
            "npm error code ETIMEDOUT\nnpm error network request to https://registry.npmjs.org/x failed\n",
            RunProblem.INFRASTRUCTURE,
        ),
        (
            "npm error code E503\nnpm error 503 Service Unavailable - GET https://registry.npmjs.org/x\n",
            RunProblem.INFRASTRUCTURE,
        ),
    ],
    ids=["pip-no-such-version", "npm-404", "pip-timeout", "npm-timeout", "npm-503"],
)
def test_a_setup_that_could_not_reach_the_index_is_never_the_contributors_failure(
    output: str, problem: RunProblem
) -> None:
    run = failed_setup(SandboxOutcome(exit_code=1, log_tail=output), output, "pip install -e .")
    assert run.status == RunStatus.ERROR and run.problem == problem
    assert run.outcome.log_tail.startswith("setup step `pip install -e .` failed")


@pytest.mark.parametrize(
    ("limit", "refused", "problem", "why"),
    [
        (
            "network",
            ["npm.dev.example.com:4873: cannot resolve npm.dev.example.com: not known (×500)"],
            RunProblem.SETUP,
            "setup kept asking for an address the sandbox's network proxy refuses: npm.dev.example.com:4873",
        ),
        (None, ["10.0.0.7:443: 10.0.0.7 is not a public address"], RunProblem.SETUP, "setup exited 1: 10.0.0.7:443"),
        (
            "wall_clock",
            ["registry.npmjs.org:443: cannot resolve registry.npmjs.org: try again (×40)"],
            RunProblem.INFRASTRUCTURE,
            "setup hit the wall_clock limit: registry.npmjs.org:443",
        ),
    ],
    ids=["private-registry-loop", "private-address", "public-index-unresolvable"],
)
def test_a_setup_the_network_proxy_refused_names_what_it_asked_for(
    limit: str | None, refused: list[str], problem: RunProblem, why: str
) -> None:
    """A lockfile that points at a private registry is the setup's problem, and the review says which host."""
    outcome = SandboxOutcome(exit_code=None if limit else 1, limit_hit=limit, egress_refused=refused)
    run = failed_setup(outcome, "npm http fetch GET 403 ...", "npm ci")
    assert run.problem == problem and run.why.startswith(why), run.why
