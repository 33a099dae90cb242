"""Small builders of proof facts for table-driven unit tests of the pure review core."""

from __future__ import annotations

from reviewbot.model import (
    ChangedFiles,
    Finding,
    Priority,
    Proof,
    RunStatus,
    SandboxOutcome,
    SuitePair,
    SuiteResult,
    SuiteRun,
    TestCounts,
    Verdict,
)
from reviewbot.review.verdict import decide

P, F, T, E = RunStatus.PASSED, RunStatus.FAILED, RunStatus.TIMEOUT, RunStatus.ERROR
HEAD = "c" * 40
MERGE_BASE = "b" * 40


def result(
    side: str, *statuses: RunStatus, kind: str = "regression", tail: str = "", failing: tuple[str, ...] = ()
) -> SuiteResult:
    runs = [
        SuiteRun(
            status=s,
            counts=TestCounts(
                passed=1 if s == P else 0,
                failed=0 if s == P else 1,
                failing=[] if s == P else list(failing),
                source="node",
            ),
            outcome=SandboxOutcome(
                exit_code=0 if s == P else 1,
                duration_s=0.5,
                log_tail=tail,
                timed_out=s == T,
                limit_hit="wall_clock" if s == T else None,
            ),
        )
        for s in statuses
    ]
    return SuiteResult(suite="s", kind=kind, revision=side, command="cmd", runs=runs)  # type: ignore[arg-type]


def pair(
    name: str, base: tuple, head: tuple, kind: str = "regression", tail: str = "", failing: tuple[str, ...] = ()
) -> SuitePair:
    return SuitePair(
        name=name,
        kind=kind,
        command="node --test",  # type: ignore[arg-type]
        base=result("base", *base, kind=kind, tail=tail, failing=failing),
        head=result("head", *head, kind=kind, tail=tail),
    )


def proof_of(
    *pairs: SuitePair,
    tests: tuple[str, ...] = ("test/lock.test.mjs",),
    sources: tuple[str, ...] = ("src/lock.mjs",),
    verdict: Verdict | None = None,
) -> Proof:
    """A proof whose verdict and reason come from the real decision (unless forced)."""
    decision = decide(list(pairs))
    return Proof(
        verdict=verdict or decision.verdict,
        reason=decision.reason,
        head_sha=HEAD,
        base_sha="a" * 40,
        merge_base_sha=MERGE_BASE,
        changed=ChangedFiles(tests=list(tests), sources=list(sources)),
        suites=list(pairs),
    )


def finding(
    priority: Priority, path: str = "src/lock.mjs", line: int = 3, rule: str = "release-not-guaranteed"
) -> Finding:
    return Finding(
        rule=rule,
        priority=priority,
        path=path,
        line=line,
        title="Lock release is not guaranteed on error",
        why="A throw skips the release.",
        suggestion="Release in `finally`.",
    )


PROVEN = (
    pair("lock regression", (F, F), (P, P), failing=("releases after a crash",)),
    pair("lock real-fs", (F, F), (P, P), kind="integration"),
)
