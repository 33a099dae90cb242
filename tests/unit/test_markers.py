"""The hidden marker: render and parse the review's machine state, keep a short history."""

from __future__ import annotations

import json

import pytest

from reviewbot.names import REVIEW_MARKER_TAG
from reviewbot.review.markers import (
    MAX_HISTORY,
    HistoryEntry,
    Marker,
    next_history,
    parse_marker,
    render_marker,
)

HEAD = "c" * 40
OLD_HEAD = "d" * 40
PREFIX = f"<!-- {REVIEW_MARKER_TAG} "


def entry(head: str, at: str = "2026-01-01 10:00 UTC", outcome: str = "passed") -> HistoryEntry:
    return HistoryEntry(head=head[:12], at=at, verdict="proven", outcome=outcome, rank="S")


def marker(head: str = HEAD, outcome: str = "passed", **extra: object) -> Marker:
    fields: dict[str, object] = {"merge_base": "b" * 40, **extra}
    return Marker(head=head, verdict="proven", outcome=outcome, rank="S", **fields)  # type: ignore[arg-type]


FULL = marker(
    score=6,
    labels=["status: passed", "proof: proven", "rating: S"],
    history=[entry(OLD_HEAD, outcome="needs changes"), entry(HEAD)],
)
UNICODE = marker(outcome="blocked ⛔", labels=["rating: n/a", "ünïcödé 🦀"])
NEWLINES = marker(labels=["two\nlines", "tab\there", 'quote " and \\ backslash'])
HOSTILE = marker(labels=["a --> b", "x-->"], outcome="<!-- nested -->")


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(marker(), id="minimal"),
        pytest.param(FULL, id="full-with-history"),
        pytest.param(UNICODE, id="non-ascii"),
        pytest.param(NEWLINES, id="newlines-and-quotes"),
        pytest.param(marker(score=None, merge_base=""), id="empty-optional-fields"),
    ],
)
def test_render_parse_round_trip(original: Marker) -> None:
    rendered = render_marker(original)
    assert parse_marker(rendered) == original
    assert parse_marker(f"## Review\n\nSome prose.\n\n{rendered}\n") == original


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(marker(), id="minimal"),
        pytest.param(FULL, id="full-with-history"),
        pytest.param(UNICODE, id="non-ascii"),
        pytest.param(NEWLINES, id="newlines-and-quotes"),
        pytest.param(HOSTILE, id="fields-containing-comment-close"),
    ],
)
def test_rendered_marker_is_one_compact_line(original: Marker) -> None:
    rendered = render_marker(original)
    assert "\n" not in rendered and "\r" not in rendered
    assert rendered.startswith(PREFIX)
    assert rendered.endswith(" -->")
    payload = rendered[len(PREFIX) : -len(" -->")]
    assert "-->" not in payload
    assert json.loads(payload) == original.model_dump(mode="json")
    compact = json.dumps(original.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=True)
    assert payload == compact.replace("<", "\\u003c").replace(">", "\\u003e")
    assert payload.isascii()


def test_hostile_fields_still_round_trip() -> None:
    assert parse_marker(render_marker(HOSTILE)) == HOSTILE


A = marker(outcome="needs changes")
B = marker(outcome="passed")
BAD_JSON = f"{PREFIX}{{not json}} -->"
MISSING_FIELDS = f'{PREFIX}{{"head":"{HEAD}"}} -->'
WRONG_TYPE = f'{PREFIX}{{"v":"one","head":"{HEAD}","verdict":"proven","outcome":"passed","rank":"S"}} -->'
TRAILING_COMMA = f'{PREFIX}{{"head":"{HEAD}","verdict":"proven","outcome":"passed","rank":"S",}} -->'


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("just prose, no marker", None, id="no-marker"),
        pytest.param(render_marker(A), A, id="only-marker"),
        pytest.param(f"{render_marker(A)}\ntext\n{render_marker(B)}", B, id="last-of-two-wins"),
        pytest.param(f"{render_marker(B)}\ntext\n{render_marker(A)}\n", A, id="last-of-two-wins-other-order"),
        pytest.param(f"{render_marker(A)}\n{BAD_JSON}", A, id="malformed-json-falls-back"),
        pytest.param(f"{render_marker(A)}\n{TRAILING_COMMA}", A, id="trailing-comma-falls-back"),
        pytest.param(f"{render_marker(A)}\n{MISSING_FIELDS}", A, id="schema-invalid-missing-fields-falls-back"),
        pytest.param(f"{render_marker(A)}\n{WRONG_TYPE}", A, id="schema-invalid-wrong-type-falls-back"),
        pytest.param(f"{render_marker(A)}\n{BAD_JSON}\n{MISSING_FIELDS}", A, id="skips-several-invalid"),
        pytest.param(BAD_JSON, None, id="only-malformed"),
        pytest.param(MISSING_FIELDS, None, id="only-schema-invalid"),
        pytest.param(f"{BAD_JSON}\n{MISSING_FIELDS}", None, id="only-invalid-ones"),
        pytest.param(f"prefix {render_marker(B)}", None, id="not-at-start-of-line"),
        pytest.param(f"  {render_marker(B)}", None, id="indented"),
        pytest.param(f"{render_marker(A)}\n> {render_marker(B)}", A, id="quoted-marker-ignored"),
        pytest.param(f"{render_marker(A)}\nsee `{render_marker(B)}`", A, id="inline-code-marker-ignored"),
        pytest.param(f"{render_marker(B)} trailing", None, id="text-after-marker-on-same-line"),
        pytest.param(render_marker(B).replace(REVIEW_MARKER_TAG, "reviewbot:other"), None, id="other-tag"),
        pytest.param(render_marker(B).replace("<!-- ", "<!--"), None, id="no-space-after-opener"),
    ],
)
def test_parse_marker(comment: str, expected: Marker | None) -> None:
    assert parse_marker(comment) == expected


def heads(n: int) -> list[str]:
    return [f"{i:012x}" for i in range(n)]


@pytest.mark.parametrize(
    ("previous", "current", "expected_heads", "expected_outcome_of_current"),
    [
        pytest.param(None, entry(HEAD), [HEAD[:12]], "passed", id="first-review"),
        pytest.param(
            marker(OLD_HEAD, history=[entry(OLD_HEAD)]),
            entry(HEAD),
            [OLD_HEAD[:12], HEAD[:12]],
            "passed",
            id="appends-newest-last",
        ),
        pytest.param(
            marker(HEAD, history=[entry(OLD_HEAD), entry(HEAD, outcome="needs changes")]),
            entry(HEAD, at="2026-01-02 10:00 UTC"),
            [OLD_HEAD[:12], HEAD[:12]],
            "passed",
            id="same-head-replaces-its-entry",
        ),
        pytest.param(
            marker(HEAD, history=[entry(HEAD, outcome="blocked"), entry(OLD_HEAD)]),
            entry(HEAD),
            [OLD_HEAD[:12], HEAD[:12]],
            "passed",
            id="same-head-entry-moves-to-the-end",
        ),
        pytest.param(
            marker(history=[entry(h) for h in heads(7)]),
            entry(HEAD),
            [*heads(7), HEAD[:12]],
            "passed",
            id="seven-plus-one-keeps-eight",
        ),
        pytest.param(
            marker(history=[entry(h) for h in heads(8)]),
            entry(HEAD),
            [*heads(8)[1:], HEAD[:12]],
            "passed",
            id="eight-plus-one-drops-the-oldest",
        ),
        pytest.param(
            marker(history=[entry(h) for h in heads(12)]),
            entry(HEAD),
            [*heads(12)[5:], HEAD[:12]],
            "passed",
            id="overlong-history-trimmed-to-eight",
        ),
        pytest.param(
            marker(history=[entry(h) for h in heads(8)]),
            entry(heads(8)[0], outcome="blocked"),
            [*heads(8)[1:], heads(8)[0]],
            "blocked",
            id="re-review-of-oldest-at-full-history",
        ),
    ],
)
def test_next_history(
    previous: Marker | None, current: HistoryEntry, expected_heads: list[str], expected_outcome_of_current: str
) -> None:
    history = next_history(previous, current)
    assert [e.head for e in history] == expected_heads
    assert len(history) <= MAX_HISTORY
    assert history[-1] == current
    assert history[-1].outcome == expected_outcome_of_current
    assert [e.head for e in history].count(current.head) == 1


def test_history_entry_from_marker_uses_short_head() -> None:
    assert marker(HEAD, outcome="blocked").entry("2026-01-03 09:00 UTC") == HistoryEntry(
        head=HEAD[:12], at="2026-01-03 09:00 UTC", verdict="proven", outcome="blocked", rank="S"
    )
