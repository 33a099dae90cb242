"""The lock scan's findings, checked against what the proof saw.

The scan guesses from the diff alone: `lock-change-without-test` matches tests to
sources by the words in their file names, so it called a fix "untested" on real PRs
whose regression test the bot had just watched fail on base and pass on head. The
proof is the stronger fact, so where the two disagree the proof wins. Pure: findings
and proof in, findings out.
"""

from __future__ import annotations

from reviewbot.model import Finding, Proof, RunStatus

# rules that claim the PR lacks a test for its lock change
MISSING_TEST_RULES = frozenset({"lock-change-without-test"})


def proof_shows_a_catching_test(proof: Proof) -> bool:
    """Whether a suite the PR's tests ran failed (or hung) on base and passed on every head repeat.

    One such suite is a test that exercises the changed lock code: whatever its file is
    called, the PR is not without a test. A hang on base counts, as in the verdict: a
    deadlock the fix removes is the bug caught.
    """
    for pair in proof.suites:
        if pair.base is None or pair.head is None:
            continue
        if (
            {RunStatus.FAILED, RunStatus.TIMEOUT} & set(pair.base.statuses)
            and pair.head.statuses
            and all(status == RunStatus.PASSED for status in pair.head.statuses)
        ):
            return True
    return False


def agree_with_proof(findings: list[Finding], proof: Proof) -> list[Finding]:
    """Drop "no test" findings when the proof shows a test catching the bug; keep the rest as they are."""
    if not proof_shows_a_catching_test(proof):
        return findings
    return [finding for finding in findings if finding.rule not in MISSING_TEST_RULES]
