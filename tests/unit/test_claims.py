"""Claimed vs observed: a parsed PR body and the claimed commands as run on head in, one row per claim out."""

from __future__ import annotations

import pytest

from reviewbot.model import ClaimRun, RunStatus, SandboxOutcome, TestCounts
from reviewbot.review.claims import ClaimCheck, ClaimMatch, claimed_pass, compare_claims, short_claim
from reviewbot.review.pr_body import ClaimedResult, PrBody

P, F, T, E = RunStatus.PASSED, RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.ERROR
NETWORK = "needs network, which the sandbox does not have (the setup step installs dependencies)"
NO_START = "the command could not start in the sandbox"


def body(*results: ClaimedResult, commands: tuple[str, ...] = ()) -> PrBody:
    return PrBody(sections={}, commands=list(commands), results=list(results), media=[], claims_reproduced=None)


def claimed(
    text: str,
    command: str | None = None,
    passed: int | None = None,
    failed: int | None = None,
    total: int | None = None,
) -> ClaimedResult:
    return ClaimedResult(text=text, passed=passed, failed=failed, total=total, command=command)


def ran(
    command: str, status: RunStatus, passed: int = 0, failed: int = 0, source: str = "node", duration: float = 1.5
) -> ClaimRun:
    return ClaimRun(
        command=command,
        status=status,
        counts=TestCounts(passed=passed, failed=failed, source=source),
        outcome=SandboxOutcome(exit_code=0 if status == P else 1, duration_s=duration),
    )


def skipped(command: str, reason: str = NETWORK) -> ClaimRun:
    return ClaimRun(command=command, skipped=reason)


FOUR_PASS = claimed("4/4 pass", "npm test", passed=4, failed=0, total=4)
ALL_PASS = claimed("all tests pass", "npm test", failed=0)
THREE_ONE = claimed("3 passed, 1 failed", "npm test", passed=3, failed=1)


def row(
    command: str | None,
    claim: str,
    match: ClaimMatch,
    status: RunStatus | None = None,
    passed: int | None = None,
    failed: int | None = None,
    duration: float = 0.0,
    not_run: str = "",
) -> ClaimCheck:
    return ClaimCheck(
        command=command,
        claimed=claim,
        observed_status=status,
        observed_passed=passed,
        observed_failed=failed,
        duration_s=duration,
        not_run=not_run,
        match=match,
    )


@pytest.mark.parametrize(
    ("results", "runs", "expected"),
    [
        pytest.param(
            [FOUR_PASS],
            [ran("npm test", P, passed=4)],
            [row("npm test", "4/4 pass", ClaimMatch.REPRODUCED, P, 4, 0, 1.5)],
            id="claimed-pass-observed-pass-reproduced",
        ),
        pytest.param(
            [ALL_PASS],
            [ran("npm test", P, passed=9)],
            [row("npm test", "all tests pass", ClaimMatch.REPRODUCED, P, 9, 0, 1.5)],
            id="claimed-pass-without-counts-reproduced",
        ),
        pytest.param(
            [FOUR_PASS],
            [ran("npm test", F, passed=3, failed=1)],
            [row("npm test", "4/4 pass", ClaimMatch.CONTRADICTED, F, 3, 1, 1.5)],
            id="claimed-pass-observed-fail-contradicted",
        ),
        pytest.param(
            [FOUR_PASS],
            [ran("npm test", T, source="none")],
            [row("npm test", "4/4 pass", ClaimMatch.CONTRADICTED, T, None, None, 1.5)],
            id="claimed-pass-observed-timeout-contradicted",
        ),
        pytest.param(
            [THREE_ONE],
            [ran("npm test", P, passed=4)],
            [row("npm test", "3 passed, 1 failed", ClaimMatch.CONTRADICTED, P, 4, 0, 1.5)],
            id="claimed-failure-observed-pass-contradicted",
        ),
        pytest.param(
            [THREE_ONE],
            [ran("npm test", F, passed=3, failed=1)],
            [row("npm test", "3 passed, 1 failed", ClaimMatch.REPRODUCED, F, 3, 1, 1.5)],
            id="claimed-failure-observed-failure-reproduced",
        ),
        pytest.param(
            [FOUR_PASS],
            [ran("npm test", P, passed=3)],
            [row("npm test", "4/4 pass", ClaimMatch.COUNTS_DIFFER, P, 3, 0, 1.5)],
            id="same-outcome-counts-differ",
        ),
        pytest.param(
            [FOUR_PASS],
            [ran("npm test", P, source="none")],
            [row("npm test", "4/4 pass", ClaimMatch.REPRODUCED, P, None, None, 1.5)],
            id="no-observed-counts-cannot-differ",
        ),
        pytest.param(
            [],
            [ran("npm test", P, passed=2)],
            [row("npm test", "", ClaimMatch.OBSERVED_ONLY, P, 2, 0, 1.5)],
            id="no-claimed-result-observed-only",
        ),
        pytest.param(
            [FOUR_PASS],
            [skipped("npm test")],
            [row("npm test", "4/4 pass", ClaimMatch.NOT_RUN, not_run=NETWORK)],
            id="skipped-not-run-keeps-claimed-text",
        ),
        pytest.param(
            [FOUR_PASS],
            [ClaimRun(command="npm test", status=E, outcome=SandboxOutcome(exit_code=None))],
            [row("npm test", "4/4 pass", ClaimMatch.NOT_RUN, E, not_run=NO_START)],
            id="error-status-not-run",
        ),
        pytest.param(
            [FOUR_PASS],
            [ClaimRun(command="npm test")],
            [row("npm test", "4/4 pass", ClaimMatch.NOT_RUN, not_run=NO_START)],
            id="no-status-no-skip-reason-not-run",
        ),
        pytest.param(
            [claimed("12 passed", None, passed=12)],
            [ran("npm test", P, passed=12)],
            [row("npm test", "12 passed", ClaimMatch.REPRODUCED, P, 12, 0, 1.5)],
            id="result-naming-no-command-attaches-to-the-only-run",
        ),
        pytest.param(
            [claimed("12 passed", None, passed=12)],
            [ran("npm test", P, passed=12), ran("pytest -q", P, passed=3, source="junit")],
            [
                row("npm test", "", ClaimMatch.OBSERVED_ONLY, P, 12, 0, 1.5),
                row("pytest -q", "", ClaimMatch.OBSERVED_ONLY, P, 3, 0, 1.5),
                row(None, "12 passed", ClaimMatch.UNCHECKED),
            ],
            id="result-naming-no-command-with-two-runs-unchecked-after-the-runs",
        ),
        pytest.param(
            [claimed("5 passed", "make test", passed=5)],
            [ran("npm test", P, passed=2), ran("pytest -q", P, passed=3)],
            [
                row("npm test", "", ClaimMatch.OBSERVED_ONLY, P, 2, 0, 1.5),
                row("pytest -q", "", ClaimMatch.OBSERVED_ONLY, P, 3, 0, 1.5),
                row("make test", "5 passed", ClaimMatch.UNCHECKED),
            ],
            id="result-for-a-command-never-run-unchecked",
        ),
        pytest.param(
            [claimed("5 failed", "make test", failed=5)],
            [ran("npm test", P, passed=2)],
            [
                row("npm test", "", ClaimMatch.OBSERVED_ONLY, P, 2, 0, 1.5),
                row("make test", "5 failed", ClaimMatch.UNCHECKED),
            ],
            id="result-for-a-command-never-run-with-one-run-unchecked",
        ),
        pytest.param(
            [],
            [],
            [],
            id="nothing-claimed-nothing-run",
        ),
        pytest.param(
            [FOUR_PASS, claimed("3 passed", None, passed=3)],
            [],
            [row("npm test", "4/4 pass", ClaimMatch.UNCHECKED), row(None, "3 passed", ClaimMatch.UNCHECKED)],
            id="no-runs-every-result-unchecked-in-order",
        ),
        pytest.param(
            [claimed("1 passed, 3 failed", "npm test", passed=1, failed=3), FOUR_PASS],
            [ran("npm test", P, passed=4)],
            [row("npm test", "4/4 pass", ClaimMatch.REPRODUCED, P, 4, 0, 1.5)],
            id="several-results-for-one-command-last-counts-pass",
        ),
        pytest.param(
            [FOUR_PASS, claimed("1 passed, 3 failed", "npm test", passed=1, failed=3)],
            [ran("npm test", P, passed=4)],
            [row("npm test", "1 passed, 3 failed", ClaimMatch.CONTRADICTED, P, 4, 0, 1.5)],
            id="several-results-for-one-command-last-counts-fail",
        ),
        pytest.param(
            [FOUR_PASS, claimed("3 passed", "pytest -q", passed=3)],
            [ran("pytest -q", P, passed=3), ran("npm test", F, passed=3, failed=1)],
            [
                row("pytest -q", "3 passed", ClaimMatch.REPRODUCED, P, 3, 0, 1.5),
                row("npm test", "4/4 pass", ClaimMatch.CONTRADICTED, F, 3, 1, 1.5),
            ],
            id="rows-follow-the-run-order",
        ),
    ],
)
def test_compare_claims(results: list[ClaimedResult], runs: list[ClaimRun], expected: list[ClaimCheck]) -> None:
    assert compare_claims(body(*results), runs) == expected


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        pytest.param(claimed("all 4 pass", passed=4, total=4), "4/4 pass", id="ratio-without-failed"),
        pytest.param(claimed("4/4 pass", passed=4, failed=0, total=4), "4/4 pass", id="ratio-with-zero-failed"),
        pytest.param(
            claimed("3 of 4", passed=3, failed=1, total=4), "3 passed, 1 failed", id="a-failure-is-spelled-out"
        ),
        pytest.param(
            claimed("12 passed, 1 failed", passed=12, failed=1), "12 passed, 1 failed", id="passed-and-failed"
        ),
        pytest.param(
            claimed("3 passed, 0 failed, 2 skipped", passed=3, failed=0, total=5),
            "3 passed, 0 failed",
            id="skips-make-ratio-inconsistent",
        ),
        pytest.param(claimed("3 passed", passed=3), "3 passed", id="passed-only"),
        pytest.param(claimed("2 tests fail", failed=2), "2 tests fail", id="failed-only-falls-back-to-text"),
        pytest.param(claimed("all tests pass", failed=0), "all tests pass", id="no-pass-count-falls-back-to-text"),
        pytest.param(
            claimed("out of 4, all ok", failed=0, total=4),
            "out of 4, all ok",
            id="total-without-pass-count-falls-back-to-text",
        ),
        pytest.param(claimed("everything is green now"), "everything is green now", id="text-fallback"),
    ],
)
def test_short_claim(result: ClaimedResult, expected: str) -> None:
    assert short_claim(result) == expected


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        pytest.param(claimed("4/4 pass", passed=4, failed=0, total=4), True, id="all-of-total"),
        pytest.param(claimed("12 passed", passed=12), True, id="passed-only"),
        pytest.param(claimed("all tests pass", failed=0), True, id="zero-failed"),
        pytest.param(claimed("looks good"), True, id="no-numbers-is-a-claimed-pass"),
        pytest.param(claimed("12 passed, 1 failed", passed=12, failed=1), False, id="one-failed"),
        pytest.param(claimed("3/4", passed=3, total=4), False, id="fewer-than-total"),
        pytest.param(claimed("2 failed", failed=2), False, id="failed-only"),
        pytest.param(claimed("5 passed of 4?", passed=5, failed=0, total=4), True, id="failed-wins-over-ratio"),
    ],
)
def test_claimed_pass(result: ClaimedResult, expected: bool) -> None:
    assert claimed_pass(result) is expected
