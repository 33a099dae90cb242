"""What proof pages keep: the pure decisions behind pruning and log capping.

A page older than `keep_days` is deleted. Of the rest, the newest `keep_heads` heads of
each PR keep their full logs; older heads keep their summary (verdict, tables, history)
and say their logs were pruned. A log longer than the byte cap keeps its beginning and
its end (where runners print failures and summaries) with a plain mark where the middle
was cut.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HEAD_SHARE = 4  # a capped log keeps 1/4 of the cap from its beginning, the rest from its end
TRUNCATED_MARK = "✂ reviewbot: truncated"


@dataclass(frozen=True)
class Retention:
    keep_heads: int = 5
    keep_days: int = 30


@dataclass(frozen=True)
class StoredPage:
    """What pruning needs to know about one stored page."""

    id: int
    repo: str
    pr_number: int
    published_at: datetime
    logs_pruned: bool = False


@dataclass(frozen=True)
class Pruning:
    delete_pages: frozenset[int]
    drop_logs: frozenset[int]  # pages that keep their summary but lose their logs


def plan_pruning(pages: Iterable[StoredPage], policy: Retention, now: datetime) -> Pruning:
    cutoff = now - timedelta(days=policy.keep_days)
    delete, drop = set(), set()
    per_pr: dict[tuple[str, int], list[StoredPage]] = defaultdict(list)
    for page in pages:
        if page.published_at < cutoff:
            delete.add(page.id)
        else:
            per_pr[(page.repo, page.pr_number)].append(page)
    for kept in per_pr.values():
        kept.sort(key=lambda page: (page.published_at, page.id), reverse=True)
        drop.update(page.id for page in kept[policy.keep_heads :] if not page.logs_pruned)
    return Pruning(frozenset(delete), frozenset(drop))


def read_plan(size: int, cap: int) -> tuple[int, int]:
    """How many bytes to read from the start and from the end of a `size`-byte log (end 0: read it whole)."""
    if size <= cap:
        return size, 0
    head = cap // HEAD_SHARE
    return head, cap - head


@dataclass(frozen=True)
class CappedLog:
    text: str
    lines: int
    original_bytes: int
    truncated: bool


def cap_log(head: bytes, tail: bytes, size: int) -> CappedLog:
    """The stored text of a log: whole, or its start and end around a line that says what was cut."""
    if not tail:
        text = head.decode("utf-8", errors="replace")
        return CappedLog(text, _count_lines(text), size, False)
    start = head[: head.rfind(b"\n") + 1] if b"\n" in head else head
    newline = tail.find(b"\n")
    end = tail[newline + 1 :] if 0 <= newline < len(tail) - 1 else tail
    cut = size - len(start) - len(end)
    mark = (
        f"{TRUNCATED_MARK}: {cut:,} bytes cut from the middle of this {size:,}-byte log; "
        f"its first {len(start):,} and last {len(end):,} bytes are kept (REVIEWBOT_PAGES_MAX_LOG_BYTES)"
    )
    text = start.decode("utf-8", errors="replace") + mark + "\n" + end.decode("utf-8", errors="replace")
    return CappedLog(text, _count_lines(text), size, True)


def _count_lines(text: str) -> int:
    return len(text.splitlines())
