"""The hidden marker: the review's machine state as compact JSON in an HTML comment.

The next review of the PR reads it back: the short history of review cycles and
the previous verdict, so editing the comment in place keeps the last cycles. What
later steps decide on (status, automerge, reconcile) is the `published_reviews`
table, written by the same publish; the marker is the copy people and the next
review see, never scraped prose.

Only the bot writes markers, and only in its own comment (found by its login);
every piece of untrusted text in that comment goes through `review.markdown`,
which defuses `<!--`, so a PR cannot plant a marker in the bot's comment. The
parser takes the last well-formed marker at the start of a line and validates it.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ValidationError

from reviewbot.names import REVIEW_MARKER_TAG

MAX_HISTORY = 8
_MARKER = re.compile(r"^<!-- " + re.escape(REVIEW_MARKER_TAG) + r" (\{[^\n]*\}) -->$", re.MULTILINE)


class HistoryEntry(BaseModel):
    head: str  # short head SHA (12)
    at: str  # reviewed at, ISO 8601 UTC
    verdict: str
    outcome: str
    rank: str


class Marker(BaseModel):
    v: int = 1
    head: str  # the full head SHA this review is about
    merge_base: str = ""
    verdict: str
    outcome: str
    rank: str
    score: int | None = None
    labels: list[str] = []
    history: list[HistoryEntry] = []

    def entry(self, at: str) -> HistoryEntry:
        return HistoryEntry(head=self.head[:12], at=at, verdict=self.verdict, outcome=self.outcome, rank=self.rank)


def render_marker(marker: Marker) -> str:
    payload = json.dumps(marker.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=True)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e")  # no `-->` can close the comment early
    return f"<!-- {REVIEW_MARKER_TAG} {payload} -->"


def parse_marker(comment: str) -> Marker | None:
    """The last valid marker in a comment, or None (no marker, or one that does not validate)."""
    text = (comment or "").replace("\r\n", "\n")  # GitHub's web editor saves CRLF
    for match in reversed(list(_MARKER.finditer(text))):
        try:
            return Marker.model_validate(json.loads(match.group(1)))
        except (ValueError, ValidationError):
            continue
    return None


def next_history(previous: Marker | None, current: HistoryEntry) -> list[HistoryEntry]:
    """The previous cycles plus this one, newest last; a re-review of the same head replaces its entry."""
    history = [entry for entry in (previous.history if previous else []) if entry.head != current.head]
    return [*history, current][-MAX_HISTORY:]
