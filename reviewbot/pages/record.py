"""What a proof page records about one review: the documented review JSON plus every sandbox run.

Pure: a Review in, a JSON-ready dict and the runs' log paths out (the store reads the
files). The review JSON (`Review.to_json_dict()`, the same shape `reviewbot review
--format json` prints) summarises each suite; the page also shows each repeat, so the
runs are listed one by one, in order, and a run's index is its log's position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewbot.model import SandboxOutcome, SuiteResult, TestCounts
from reviewbot.redact import redact
from reviewbot.review.build import Review

RECORD_VERSION = 1


@dataclass(frozen=True)
class PageRecord:
    data: dict[str, Any]
    log_paths: list[str | None]  # by run position; None when the run wrote no log


def page_record(review: Review) -> PageRecord:
    runs: list[dict[str, Any]] = []
    paths: list[str | None] = []
    for pair in review.proof.suites:
        for side in (pair.base, pair.head):
            if side is not None:
                _add_side(side, runs, paths)
    for index, claim in enumerate(review.proof.claims):
        if claim.outcome is not None:
            runs.append(
                _run(
                    "claim",
                    claim.command,
                    "claim",
                    index + 1,
                    claim.status.value if claim.status else "",
                    claim.counts,
                    claim.outcome,
                )
            )
            paths.append(claim.outcome.log_path)
    data = {"v": RECORD_VERSION, **review.to_json_dict(), "runs": runs}
    return PageRecord(data=redact_json(data), log_paths=paths)


def _add_side(side: SuiteResult, runs: list[dict[str, Any]], paths: list[str | None]) -> None:
    for repeat, run in enumerate(side.runs, start=1):
        runs.append(_run(side.revision, side.suite, side.kind, repeat, run.status.value, run.counts, run.outcome))
        paths.append(run.outcome.log_path)


def _run(
    side: str, suite: str, kind: str, repeat: int, status: str, counts: TestCounts, outcome: SandboxOutcome
) -> dict[str, Any]:
    return {
        "side": side,  # "base", "head" or "claim"
        "suite": suite,
        "kind": kind,
        "repeat": repeat,
        "status": status,
        "duration_s": round(outcome.duration_s, 3),
        "exit_code": outcome.exit_code,
        "limit_hit": outcome.limit_hit,
        "output_bytes": outcome.output_bytes,
        "passed": counts.passed,
        "failed": counts.failed,
        "skipped": counts.skipped,
        "failing": list(counts.failing),
        "log_tail": outcome.log_tail,
    }


def redact_json(value: Any) -> Any:
    """Every string in a JSON value, redacted (test output and PR text can carry secrets)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    return value
