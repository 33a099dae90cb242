"""The proof pages' store: what a published review leaves behind for its page, and its retention.

At publish time the review's JSON and every sandbox run's full log (capped in bytes,
redacted) are stored per PR and head; a re-review of the same head replaces them. Each
save applies the retention (`REVIEWBOT_PAGES_KEEP_HEADS`, `..._KEEP_DAYS`), so the
store never grows past it without a separate job. The decisions are pure
(`pages.record`, `pages.retention`); this module only reads files and rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, desc, func, select, update
from sqlalchemy.orm import Session

from reviewbot.pages.record import page_record
from reviewbot.pages.retention import CappedLog, Pruning, Retention, StoredPage, cap_log, plan_pruning, read_plan
from reviewbot.pages.views import LogFacts, PageFacts
from reviewbot.proof.safe_fs import read_regular, read_tail
from reviewbot.redact import redact
from reviewbot.review.build import Review
from reviewbot.store.db import ProofLogRow, ProofPageRow, utcnow

DEFAULT_MAX_LOG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PageSummary:
    """A stored page without its logs: enough for listings and access checks."""

    id: int
    facts: PageFacts
    public: bool


class ProofStore:
    def __init__(
        self,
        engine: Engine,
        retention: Retention | None = None,
        max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.engine = engine
        self.retention = retention or Retention()
        self.max_log_bytes = max_log_bytes
        self.clock = clock

    # -- writing -----------------------------------------------------------------------------

    def save(self, review: Review, *, public: bool, comment_url: str = "") -> int | None:
        """Store the review of its head (replacing an earlier one of the same head), then prune; the page id."""
        head = review.proof.head_sha
        if not head:
            return None  # a proof that broke before resolving head has no page to link to
        record = page_record(review)
        logs = [(position, self._read_log(path)) for position, path in enumerate(record.log_paths) if path]
        pr = review.pr
        with Session(self.engine) as session, session.begin():
            old = session.scalar(
                select(ProofPageRow.id).where(
                    ProofPageRow.repo == pr.repo, ProofPageRow.pr_number == pr.number, ProofPageRow.head_sha == head
                )
            )
            if old is not None:
                session.execute(delete(ProofLogRow).where(ProofLogRow.page_id == old))
                session.execute(delete(ProofPageRow).where(ProofPageRow.id == old))
            row = ProofPageRow(
                repo=pr.repo,
                pr_number=pr.number,
                head_sha=head,
                public=public,
                title=redact(pr.title)[:300],
                author=pr.author[:100],
                pr_url=pr.url[:500],
                comment_url=comment_url[:500],
                verdict=review.proof.verdict.value,
                outcome=review.outcome.kind.value,
                rank=review.rating.overall.tier.value,
                data=record.data,
                published_at=self.clock(),
            )
            session.add(row)
            session.flush()
            session.add_all(
                ProofLogRow(
                    page_id=row.id,
                    position=position,
                    text=log.text,
                    lines=log.lines,
                    original_bytes=log.original_bytes,
                    truncated=log.truncated,
                )
                for position, log in logs
                if log is not None
            )
            page_id = row.id
        self.prune()
        return page_id

    def _read_log(self, path: str) -> CappedLog | None:
        """The run's log file as the sandbox wrote it: its start and end when over the cap, redacted."""
        try:
            size = os.stat(path).st_size
        except OSError:
            return None
        start, end = read_plan(size, self.max_log_bytes)
        head = read_regular(Path(path), start)
        if head is None:
            return None
        capped = cap_log(head, read_tail(Path(path), end) if end else b"", size)
        text = redact(capped.text)
        return CappedLog(text, len(text.splitlines()), capped.original_bytes, capped.truncated)

    def set_comment_url(self, page_id: int, url: str) -> None:
        """Once the comment is published (its id is known only then), the page links to it."""
        with Session(self.engine) as session, session.begin():
            session.execute(update(ProofPageRow).where(ProofPageRow.id == page_id).values(comment_url=url[:500]))

    def prune(self) -> Pruning:
        """Apply the retention: delete pages past the age limit, drop the logs of older heads."""
        with Session(self.engine) as session, session.begin():
            rows = session.execute(
                select(
                    ProofPageRow.id,
                    ProofPageRow.repo,
                    ProofPageRow.pr_number,
                    ProofPageRow.published_at,
                    ProofPageRow.logs_pruned,
                )
            ).all()
            plan = plan_pruning(
                (StoredPage(id, repo, number, _aware(at), pruned) for id, repo, number, at, pruned in rows),
                self.retention,
                self.clock(),
            )
            doomed = sorted(plan.delete_pages | plan.drop_logs)
            if doomed:
                session.execute(delete(ProofLogRow).where(ProofLogRow.page_id.in_(doomed)))
            if plan.drop_logs:
                session.execute(
                    update(ProofPageRow).where(ProofPageRow.id.in_(sorted(plan.drop_logs))).values(logs_pruned=True)
                )
            if plan.delete_pages:
                session.execute(delete(ProofPageRow).where(ProofPageRow.id.in_(sorted(plan.delete_pages))))
        return plan

    # -- reading -----------------------------------------------------------------------------

    def page(self, repo: str, number: int, head_sha: str) -> PageSummary | None:
        with Session(self.engine) as session:
            row = session.scalar(
                select(ProofPageRow).where(
                    ProofPageRow.repo == repo, ProofPageRow.pr_number == number, ProofPageRow.head_sha == head_sha
                )
            )
            return _summary(row) if row else None

    def latest(self, repo: str, number: int) -> PageSummary | None:
        with Session(self.engine) as session:
            row = session.scalar(
                select(ProofPageRow)
                .where(ProofPageRow.repo == repo, ProofPageRow.pr_number == number)
                .order_by(desc(ProofPageRow.published_at), desc(ProofPageRow.id))
                .limit(1)
            )
            return _summary(row) if row else None

    def heads(self, repo: str, number: int) -> list[str]:
        """The PR's stored heads, newest first."""
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(ProofPageRow.head_sha)
                    .where(ProofPageRow.repo == repo, ProofPageRow.pr_number == number)
                    .order_by(desc(ProofPageRow.published_at), desc(ProofPageRow.id))
                )
            )

    def logs(self, page_id: int) -> dict[int, LogFacts]:
        with Session(self.engine) as session:
            rows = session.scalars(select(ProofLogRow).where(ProofLogRow.page_id == page_id))
            return {row.position: _log(row) for row in rows}

    def log(self, page_id: int, position: int) -> LogFacts | None:
        with Session(self.engine) as session:
            row = session.scalar(
                select(ProofLogRow).where(ProofLogRow.page_id == page_id, ProofLogRow.position == position)
            )
            return _log(row) if row else None

    def recent(self, limit: int = 50, public_only: bool = False) -> tuple[list[PageSummary], int]:
        """The newest pages (only public repositories' when `public_only`), and how many were left out for that."""
        query = select(ProofPageRow).order_by(desc(ProofPageRow.published_at), desc(ProofPageRow.id)).limit(limit)
        with Session(self.engine) as session:
            if public_only:
                query = query.where(ProofPageRow.public.is_(True))
            hidden = (
                session.scalar(select(func.count()).select_from(ProofPageRow).where(ProofPageRow.public.is_(False)))
                if public_only
                else 0
            )
            return [_summary(row) for row in session.scalars(query)], hidden or 0

    def visibility(self) -> dict[str, bool]:
        """Each repository's visibility as its newest stored page saw it (repositories without pages are absent)."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(ProofPageRow.repo, ProofPageRow.public).order_by(ProofPageRow.published_at, ProofPageRow.id)
            ).all()
        return {repo: public for repo, public in rows}

    def stored_prs(self) -> set[tuple[str, int]]:
        with Session(self.engine) as session:
            return {
                (repo, number)
                for repo, number in session.execute(select(ProofPageRow.repo, ProofPageRow.pr_number).distinct())
            }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _summary(row: ProofPageRow) -> PageSummary:
    return PageSummary(
        id=row.id,
        public=row.public,
        facts=PageFacts(
            repo=row.repo,
            pr_number=row.pr_number,
            head_sha=row.head_sha,
            title=row.title,
            author=row.author,
            pr_url=row.pr_url,
            comment_url=row.comment_url,
            published_at=_aware(row.published_at),
            logs_pruned=row.logs_pruned,
            data=row.data or {},
        ),
    )


def _log(row: ProofLogRow) -> LogFacts:
    return LogFacts(text=row.text, lines=row.lines, original_bytes=row.original_bytes, truncated=row.truncated)
