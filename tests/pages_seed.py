"""Stored proofs for the proof-page tests: real Reviews with real log files, saved through the real store."""

from __future__ import annotations

from pathlib import Path

from reviewbot.model import (
    ChangedFiles,
    ClaimRun,
    Proof,
    PullRequest,
    RunStatus,
    SandboxOutcome,
    SuitePair,
    SuiteResult,
    SuiteRun,
    TestCounts,
)
from reviewbot.review.build import Review, ReviewInput, build_review
from reviewbot.review.markers import HistoryEntry, Marker
from reviewbot.review.verdict import decide

HEAD = "c0ffee" + "1" * 34
OLD_HEAD = "badc0de" + "2" * 33
SCRIPT = "<script>document.title='pwned'</script>"


def write_log(path: Path, lines: int, last: str = "") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"log line {index}: acquiring /tmp/session.jsonl.lock\n" for index in range(1, lines + 1))
    path.write_text(body + (last + "\n" if last else ""), encoding="utf-8")
    return str(path)


def _runs(logs: Path, side: str, statuses: list[RunStatus], lines: int, extra: str) -> list[SuiteRun]:
    runs = []
    for repeat, status in enumerate(statuses, start=1):
        passed = status == RunStatus.PASSED
        path = write_log(logs / f"{side}-lock-{repeat}.log", lines, f"END OF {side.upper()} RUN {repeat} {extra}")
        runs.append(
            SuiteRun(
                status=status,
                counts=TestCounts(
                    passed=3 if passed else 2,
                    failed=0 if passed else 1,
                    failing=[] if passed else ["releases on timeout"],
                    source="node",
                ),
                outcome=SandboxOutcome(
                    exit_code=0 if passed else 1,
                    duration_s=1.25 + repeat,
                    output_bytes=lines * 40,
                    log_tail=f"tail of {side} {repeat}",
                    log_path=path,
                ),
            )
        )
    return runs


def seeded_review(
    tmp: Path,
    *,
    repo: str = "octo/locks",
    number: int = 7,
    head: str = HEAD,
    title: str = "Release the session lock on timeout",
    log_lines: int = 40,
    extra: str = "",
    previous_head: str = "",
    reviewed_at: str = "2026-03-01 10:00 UTC",
) -> Review:
    """A proven two-repeat regression suite, a claimed command, and logs of `log_lines` lines on disk."""
    logs = tmp / "logs" / f"{repo.replace('/', '_')}-{number}-{head[:8]}"
    base = SuiteResult(
        suite="session-lock regression",
        revision="base",
        command="node --test test/lock.test.mjs",
        runs=_runs(logs, "base", [RunStatus.FAILED, RunStatus.FAILED], log_lines, extra),
    )
    head_result = SuiteResult(
        suite="session-lock regression",
        revision="head",
        command="node --test test/lock.test.mjs",
        runs=_runs(logs, "head", [RunStatus.PASSED, RunStatus.PASSED], log_lines, extra),
    )
    pair = SuitePair(name="session-lock regression", command=base.command, base=base, head=head_result)
    claim_log = write_log(logs / "head-claim-1.log", 5, f"claim output {extra}")
    claim = ClaimRun(
        command="node --test",
        status=RunStatus.PASSED,
        counts=TestCounts(passed=3, source="node"),
        outcome=SandboxOutcome(exit_code=0, duration_s=0.8, log_path=claim_log),
    )
    decision = decide([pair])
    proof = Proof(
        verdict=decision.verdict,
        reason=decision.reason,
        head_sha=head,
        base_sha="a" * 40,
        merge_base_sha="b" * 40,
        changed=ChangedFiles(tests=["test/lock.test.mjs"], sources=["src/lock.mjs"]),
        suites=[pair],
        claims=[claim],
        duration_s=9.5,
    )
    previous = None
    if previous_head:
        previous = Marker(
            head=previous_head,
            verdict="weak",
            outcome="needs real behavior proof",
            rank="D",
            history=[
                HistoryEntry(
                    head=previous_head[:12],
                    at="2026-02-28 09:00 UTC",
                    verdict="weak",
                    outcome="needs real behavior proof",
                    rank="D",
                )
            ],
        )
    body = "## Test plan\n\n```sh\nnode --test\n```\n\n3/3 pass\n"
    pr = PullRequest(
        repo=repo,
        number=number,
        title=title,
        body=body,
        author="contributor",
        url=f"https://github.example/{repo}/pull/{number}",
    )
    return build_review(ReviewInput(pr=pr, proof=proof, diff="", reviewed_at=reviewed_at, previous=previous))
