"""What each page shows, decided from stored facts: pure view-models the templates only print.

The stored review JSON is the documented `reviewbot review --format json` shape; every
read here tolerates a missing key, so a page stored by an older version still renders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reviewbot.model import RunStatus, Verdict
from reviewbot.pages.access import pr_path, proof_path
from reviewbot.review.comment import STATUS_ICONS, VERDICT_BADGES
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.ranks import Tier

INLINE_LINES = 1000  # a log longer than this shows its end inline and pages through the rest
LOG_PAGE_LINES = 5000
MAX_ERROR_CHARS = 600


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def rank_label(value: str) -> str:
    try:
        return Tier(value).label
    except ValueError:
        return value or "—"


def verdict_badge(value: str) -> str:
    try:
        return VERDICT_BADGES[Verdict(value)]
    except ValueError:
        return value or "—"


def status_icon(value: str) -> str:
    try:
        return STATUS_ICONS[RunStatus(value)]
    except ValueError:
        return value or "—"


def outcome_icon(value: str) -> str:
    try:
        return OutcomeKind(value).icon
    except ValueError:
        return ""


# --- the proof page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageFacts:
    """One stored page's columns."""

    repo: str
    pr_number: int
    head_sha: str
    title: str
    author: str
    pr_url: str
    comment_url: str
    published_at: datetime
    logs_pruned: bool
    data: Mapping[str, Any]


@dataclass(frozen=True)
class LogFacts:
    text: str
    lines: int
    original_bytes: int
    truncated: bool


@dataclass(frozen=True)
class LogView:
    url: str  # the paginated full log
    raw_url: str
    lines: int
    original_bytes: int
    truncated: bool
    shown: str  # the whole log, or its last INLINE_LINES lines
    shown_from: int  # the line number `shown` starts at (1-based)

    @property
    def complete(self) -> bool:
        return self.shown_from == 1


@dataclass(frozen=True)
class RunView:
    position: int
    side: str
    suite: str
    repeat: int
    status: str
    icon: str
    duration_s: float
    exit_code: int | None
    limit_hit: str | None
    output_bytes: int
    passed: int
    failed: int
    skipped: int
    failing: list[str]
    log_tail: str
    log: LogView | None


@dataclass(frozen=True)
class SideView:
    status: str
    icon: str
    flaky: bool
    repeats: int
    duration_s: float
    passed: int
    failed: int
    skipped: int
    failing: list[str]
    runs: list[RunView]


@dataclass(frozen=True)
class SuiteView:
    name: str
    kind: str
    command: str
    base: SideView | None
    head: SideView | None


@dataclass(frozen=True)
class HistoryRow:
    index: int
    head: str
    at: str
    verdict: str
    outcome: str
    rank: str
    url: str  # its stored page, when retention still has it


@dataclass(frozen=True)
class ProofView:
    repo: str
    number: int
    title: str
    author: str
    pr_url: str
    comment_url: str
    head_sha: str
    merge_base_sha: str
    base_sha: str
    path: str
    published_at: str
    reviewed_at: str
    engine: str
    verdict: str
    verdict_badge: str
    proof_reason: str  # markdown
    outcome: str
    outcome_icon: str
    reasons: list[str]  # markdown
    next_step: str  # markdown
    rank: str
    rating: list[tuple[str, str, str]]  # (axis, tier label, reason)
    moves: list[str]
    suites: list[SuiteView]
    claims: list[dict[str, Any]]
    claim_runs: list[RunView]
    findings: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    notes: list[str]  # markdown
    changed_tests: list[str]
    changed_sources: list[str]
    overlaid: list[str]
    config_source: str
    duration_s: float
    history: list[HistoryRow]
    logs_pruned: bool


def proof_view(page: PageFacts, logs: Mapping[int, LogFacts], stored_heads: Sequence[str]) -> ProofView:
    data = page.data
    proof, review = data.get("proof", {}), data.get("review", {})
    path = proof_path(page.repo, page.pr_number, page.head_sha)
    runs = [_run_view(index, run, logs.get(index), path) for index, run in enumerate(data.get("runs", []))]
    suites = [_suite_view(suite, runs) for suite in proof.get("suites", [])]
    outcome, rating = review.get("outcome", {}), review.get("rating", {})
    changed = proof.get("changed", {})
    return ProofView(
        repo=page.repo,
        number=page.pr_number,
        title=page.title,
        author=page.author,
        pr_url=page.pr_url,
        comment_url=page.comment_url,
        head_sha=page.head_sha,
        merge_base_sha=proof.get("merge_base_sha", ""),
        base_sha=proof.get("base_sha", ""),
        path=path,
        published_at=when(page.published_at),
        reviewed_at=review.get("reviewed_at", ""),
        engine=review.get("engine", ""),
        verdict=proof.get("verdict", ""),
        verdict_badge=verdict_badge(proof.get("verdict", "")),
        proof_reason=proof.get("reason", ""),
        outcome=outcome.get("kind", ""),
        outcome_icon=outcome_icon(outcome.get("kind", "")),
        reasons=list(outcome.get("reasons", [])),
        next_step=outcome.get("next_step", ""),
        rank=rank_label(rating.get("overall", {}).get("tier", "")),
        rating=[
            (axis, rank_label(rating.get(axis, {}).get("tier", "")), rating.get(axis, {}).get("reason", ""))
            for axis in ("proof", "patch", "overall")
            if axis in rating
        ],
        moves=list(rating.get("moves", [])),
        suites=suites,
        claims=list(review.get("claims", [])),
        claim_runs=[run for run in runs if run.side == "claim"],
        findings=list(review.get("findings", [])),
        labels=list(review.get("labels", [])),
        notes=list(proof.get("notes", [])),
        changed_tests=list(changed.get("tests", [])),
        changed_sources=list(changed.get("sources", [])),
        overlaid=list(proof.get("overlaid", [])),
        config_source=proof.get("config_source", ""),
        duration_s=float(proof.get("duration_s", 0.0)),
        history=_history(page, review.get("history", []), stored_heads),
        logs_pruned=page.logs_pruned,
    )


def _run_view(position: int, run: Mapping[str, Any], log: LogFacts | None, page_path: str) -> RunView:
    return RunView(
        position=position,
        side=run.get("side", ""),
        suite=run.get("suite", ""),
        repeat=int(run.get("repeat", 1)),
        status=run.get("status", ""),
        icon=status_icon(run.get("status", "")),
        duration_s=float(run.get("duration_s", 0.0)),
        exit_code=run.get("exit_code"),
        limit_hit=run.get("limit_hit"),
        output_bytes=int(run.get("output_bytes", 0)),
        passed=int(run.get("passed", 0)),
        failed=int(run.get("failed", 0)),
        skipped=int(run.get("skipped", 0)),
        failing=list(run.get("failing", [])),
        log_tail=run.get("log_tail", ""),
        log=_log_view(log, f"{page_path}/logs/{position}") if log is not None else None,
    )


def _log_view(log: LogFacts, url: str) -> LogView:
    lines = log.text.splitlines()
    shown_from = max(0, len(lines) - INLINE_LINES)
    return LogView(
        url=url,
        raw_url=f"{url}/raw",
        lines=len(lines),
        original_bytes=log.original_bytes,
        truncated=log.truncated,
        shown="\n".join(lines[shown_from:]),
        shown_from=shown_from + 1,
    )


def _side_view(summary: Mapping[str, Any] | None, runs: list[RunView]) -> SideView | None:
    if summary is None:
        return None
    return SideView(
        status=summary.get("status", ""),
        icon=status_icon(summary.get("status", "")),
        flaky=bool(summary.get("flaky")),
        repeats=int(summary.get("repeats", len(runs))),
        duration_s=float(summary.get("duration_s", 0.0)),
        passed=int(summary.get("passed", 0)),
        failed=int(summary.get("failed", 0)),
        skipped=int(summary.get("skipped", 0)),
        failing=list(summary.get("failing_tests", [])),
        runs=runs,
    )


def _suite_view(suite: Mapping[str, Any], runs: list[RunView]) -> SuiteView:
    name = suite.get("name", "")
    sides = {side: [run for run in runs if run.side == side and run.suite == name] for side in ("base", "head")}
    return SuiteView(
        name=name,
        kind=suite.get("kind", ""),
        command=suite.get("command", ""),
        base=_side_view(suite.get("base"), sides["base"]),
        head=_side_view(suite.get("head"), sides["head"]),
    )


def _history(page: PageFacts, entries: Sequence[Mapping[str, Any]], stored_heads: Sequence[str]) -> list[HistoryRow]:
    rows = []
    for index, entry in enumerate(entries, start=1):
        short = str(entry.get("head", ""))
        full = next((head for head in stored_heads if short and head.startswith(short)), "")
        rows.append(
            HistoryRow(
                index=index,
                head=short,
                at=entry.get("at", ""),
                verdict=entry.get("verdict", ""),
                outcome=entry.get("outcome", ""),
                rank=rank_label(entry.get("rank", "")),
                url=proof_path(page.repo, page.pr_number, full) if full else "",
            )
        )
    return rows


# --- one log, page by page --------------------------------------------------------------------


@dataclass(frozen=True)
class LogPageView:
    proof_path: str
    title: str
    page: int
    pages: int
    first_line: int
    last_line: int
    lines: int
    text: str
    truncated: bool
    original_bytes: int
    raw_url: str
    urls: dict[str, str] = field(default_factory=dict)  # first, previous, next, last (when they differ)


def log_page_view(page: PageFacts, position: int, log: LogFacts, number: int | None) -> LogPageView:
    """Page `number` of the log (None: the last page, where runners print failures and summaries)."""
    lines = log.text.splitlines()
    pages = max(1, -(-len(lines) // LOG_PAGE_LINES))
    current = pages if number is None else min(max(1, number), pages)
    start = (current - 1) * LOG_PAGE_LINES
    chunk = lines[start : start + LOG_PAGE_LINES]
    path = proof_path(page.repo, page.pr_number, page.head_sha)
    url = f"{path}/logs/{position}"
    runs = page.data.get("runs", [])
    run = runs[position] if 0 <= position < len(runs) else {}
    title = f"{run.get('suite', 'log')} · {run.get('side', '')} · run {run.get('repeat', 1)}"
    urls = {}
    if current > 1:
        urls |= {"first": f"{url}?page=1", "previous": f"{url}?page={current - 1}"}
    if current < pages:
        urls |= {"next": f"{url}?page={current + 1}", "last": f"{url}?page={pages}"}
    return LogPageView(
        proof_path=path,
        title=title,
        page=current,
        pages=pages,
        first_line=start + 1 if chunk else 0,
        last_line=start + len(chunk),
        lines=len(lines),
        text="\n".join(chunk),
        truncated=log.truncated,
        original_bytes=log.original_bytes,
        raw_url=f"{url}/raw",
        urls=urls,
    )


# --- recent reviews ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecentRow:
    repo: str
    number: int
    title: str
    head: str
    verdict: str
    outcome: str
    outcome_icon: str
    rank: str
    published_at: str
    url: str
    pr_url: str


def recent_rows(pages: Sequence[PageFacts]) -> list[RecentRow]:
    """Newest first, one row per stored head."""
    rows = []
    for page in pages:
        proof, review = page.data.get("proof", {}), page.data.get("review", {})
        outcome = review.get("outcome", {}).get("kind", "")
        rows.append(
            RecentRow(
                repo=page.repo,
                number=page.pr_number,
                title=page.title,
                head=page.head_sha[:12],
                verdict=verdict_badge(proof.get("verdict", "")),
                outcome=outcome,
                outcome_icon=outcome_icon(outcome),
                rank=rank_label(review.get("rating", {}).get("overall", {}).get("tier", "")),
                published_at=when(page.published_at),
                url=proof_path(page.repo, page.pr_number, page.head_sha),
                pr_url=page.pr_url,
            )
        )
    return rows


# --- the queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobFacts:
    id: int
    kind: str
    repo: str
    pr_number: int
    head_sha: str
    reason: str
    state: str  # queued | running | dead
    attempts: int
    max_attempts: int
    run_after: datetime | None
    lease_owner: str | None
    lease_expires: datetime | None
    created_at: datetime | None
    finished_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    repo: str
    number: int
    head: str
    reason: str
    attempts: str
    created_at: str
    run_after: str
    worker: str
    lease_expires: str
    finished_at: str
    error: str
    url: str  # the PR's proof page, when one is stored


@dataclass(frozen=True)
class QueueView:
    running: list[JobView]
    waiting: list[JobView]
    dead: list[JobView]
    hidden: int  # jobs of repositories this visitor may not see


def queue_view(
    jobs: Sequence[JobFacts],
    visible: Callable[[str], bool],
    stored: Callable[[str, int], bool],
    redact: Callable[[str], str],
) -> QueueView:
    shown = [job for job in jobs if visible(job.repo)]
    views = {job.id: _job_view(job, stored, redact) for job in shown}
    return QueueView(
        running=[views[job.id] for job in shown if job.state == "running"],
        waiting=[views[job.id] for job in shown if job.state == "queued"],
        dead=[views[job.id] for job in shown if job.state == "dead"],
        hidden=len(jobs) - len(shown),
    )


def _job_view(job: JobFacts, stored: Callable[[str, int], bool], redact: Callable[[str], str]) -> JobView:
    error = redact(job.last_error.strip())
    if len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + " …"
    return JobView(
        id=job.id,
        kind=job.kind,
        repo=job.repo,
        number=job.pr_number,
        head=job.head_sha[:12],
        reason=job.reason,
        attempts=f"{job.attempts}/{job.max_attempts}",
        created_at=when(job.created_at),
        run_after=when(job.run_after),
        worker=job.lease_owner or "",
        lease_expires=when(job.lease_expires),
        finished_at=when(job.finished_at),
        error=error,
        url=pr_path(job.repo, job.pr_number) if stored(job.repo, job.pr_number) else "",
    )
