"""Claimed vs observed: what the PR description says its tests do, against what the bot saw.

Pure: the parsed PR body and the claimed commands as the proof engine ran them
on head, in; one row per claim, out. A claim is `reproduced` only when the bot
saw the same outcome (and the same pass count, when both sides have one); a
claimed pass the bot saw fail is `contradicted`, and the comment says so plainly.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from reviewbot.model import ClaimRun, RunStatus
from reviewbot.review.pr_body import ClaimedResult, PrBody


class ClaimMatch(StrEnum):
    REPRODUCED = "reproduced"  # same outcome, same counts where both are known
    COUNTS_DIFFER = "counts differ"  # same outcome, different number of tests
    CONTRADICTED = "not reproduced"  # the bot saw the opposite outcome
    NOT_RUN = "not run"  # skipped (network, limit) or the run could not start
    OBSERVED_ONLY = "observed only"  # a command with no claimed result
    UNCHECKED = "unchecked"  # a claimed result with no command to run


class ClaimCheck(BaseModel):
    command: str | None  # the claimed command, when there is one
    claimed: str  # the claimed result, short ("3/3 pass", "12 passed, 1 failed") or as worded; "" for none
    observed_status: RunStatus | None = None
    observed_passed: int | None = None
    observed_failed: int | None = None
    duration_s: float = 0.0
    not_run: str = ""  # why the bot did not run it
    match: ClaimMatch


def compare_claims(body: PrBody, runs: list[ClaimRun]) -> list[ClaimCheck]:
    """One row per claimed command (in order), then one per result that names no runnable command."""
    commands = {run.command for run in runs}
    loose = [r for r in body.results if r.command not in commands]
    checks = []
    for run in runs:
        claimed = [r for r in body.results if r.command == run.command]
        unnamed = [r for r in loose if r.command is None]
        if not claimed and len(runs) == 1 and unnamed:  # one command: results that name none are about it
            claimed, loose = unnamed, [r for r in loose if r.command is not None]
        checks.append(_check(run, claimed[-1] if claimed else None))
    checks.extend(ClaimCheck(command=r.command, claimed=short_claim(r), match=ClaimMatch.UNCHECKED) for r in loose)
    return checks


def short_claim(result: ClaimedResult) -> str:
    """The claim in few words, from its numbers when it gives a pass count; else as the PR words it."""
    if result.passed is None:
        return result.text
    ratio = result.total is not None and (
        result.failed is None or (result.failed == 0 and result.total == result.passed)
    )
    if ratio:
        return f"{result.passed}/{result.total} pass"
    return f"{result.passed} passed" + (f", {result.failed} failed" if result.failed is not None else "")


def claimed_pass(result: ClaimedResult) -> bool:
    """Whether a claimed result says the tests pass ("4/4 pass", "12 passed", "all tests pass")."""
    if result.failed is not None:
        return result.failed == 0
    if result.passed is not None and result.total is not None:
        return result.passed == result.total
    return True  # a claimed result that names no failure is a claimed pass


def _check(run: ClaimRun, result: ClaimedResult | None) -> ClaimCheck:
    claimed = short_claim(result) if result else ""
    if run.skipped or run.status is None or run.status == RunStatus.ERROR:
        reason = run.skipped or "the command could not start in the sandbox"
        return ClaimCheck(
            command=run.command, claimed=claimed, not_run=reason, match=ClaimMatch.NOT_RUN, observed_status=run.status
        )
    counted = run.counts.source != "none"
    check = ClaimCheck(
        command=run.command,
        claimed=claimed,
        observed_status=run.status,
        observed_passed=run.counts.passed if counted else None,
        observed_failed=run.counts.failed if counted else None,
        duration_s=run.outcome.duration_s if run.outcome else 0.0,
        match=ClaimMatch.OBSERVED_ONLY,
    )
    if result is None:
        return check
    observed_pass = run.status == RunStatus.PASSED
    if claimed_pass(result) != observed_pass:
        check.match = ClaimMatch.CONTRADICTED
    elif counted and result.passed is not None and result.passed != run.counts.passed:
        check.match = ClaimMatch.COUNTS_DIFFER
    else:
        check.match = ClaimMatch.REPRODUCED
    return check
