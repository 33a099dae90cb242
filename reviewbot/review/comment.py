"""The one review comment, rendered from `templates/comment.md.j2` (or `incomplete.md.j2`).

Pure: a Review in, markdown out. Untrusted by default: every `{{ value }}` in
the templates is escaped as inline text unless a filter made it safe on
purpose (`code`, `fence`, `yaml`, `quote`, or `trusted` for the bot's own markdown
sentences, whose untrusted parts are already code spans). Secrets are
redacted from the finished text.

GitHub refuses comments over 65,536 characters; the comment is held under
60 KiB by rendering at lower levels of detail until it fits, always keeping
the verdict line, the proof table, the next step and the hidden marker.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from reviewbot.model import Priority, RunStatus, SuiteResult, Verdict
from reviewbot.redact import redact
from reviewbot.review.build import Review
from reviewbot.review.claims import ClaimMatch
from reviewbot.review.markdown import ZERO_WIDTH, code_span, escape_inline, fence
from reviewbot.review.markers import render_marker
from reviewbot.review.outcome import OutcomeKind
from reviewbot.review.ranks import MAX_MOVES, RARITY_WEIGHTS, Tier
from reviewbot.stats import failure_rate_upper, percent

MAX_COMMENT_BYTES = 60 * 1024
MAX_QUOTE_CHARS = 800

VERDICT_BADGES = {
    Verdict.PROVEN: "✅ proven",
    Verdict.WEAK: "⚠️ weak",
    Verdict.FAILS: "❌ fails",
    Verdict.TIMEOUT: "⏱️ timeout",
    Verdict.FLAKY: "🎲 flaky",
    Verdict.NO_TESTS: "🫥 no tests",
    Verdict.ERROR: "🛠️ error",
}
STATUS_ICONS = {
    RunStatus.PASSED: "✅ pass",
    RunStatus.FAILED: "❌ fail",
    RunStatus.TIMEOUT: "⏱️ hung",
    RunStatus.ERROR: "🛠️ error",
}
CLAIM_ICONS = {
    ClaimMatch.REPRODUCED: "✅ reproduced",
    ClaimMatch.COUNTS_DIFFER: "🟡 counts differ",
    ClaimMatch.CONTRADICTED: "❌ not reproduced",
    ClaimMatch.NOT_RUN: "⏭️ not run",
    ClaimMatch.OBSERVED_ONLY: "👁️ observed only",
    ClaimMatch.UNCHECKED: "❔ unchecked",
}


@dataclass(frozen=True)
class Detail:
    """How much the comment shows; lower levels drop what a maintainer needs least."""

    tail_lines: int | None  # None: no log tails
    history: bool
    details: bool  # the collapsed review details and full findings
    max_rows: int | None = None  # proof-table rows (None: all)
    trimmed: bool = False


LEVELS = (
    Detail(tail_lines=20, history=True, details=True),
    Detail(tail_lines=8, history=True, details=True, trimmed=True),
    Detail(tail_lines=None, history=False, details=True, trimmed=True),
    Detail(tail_lines=None, history=False, details=False, trimmed=True),
    Detail(tail_lines=None, history=False, details=False, max_rows=40, trimmed=True),
)


def render_comment(review: Review, max_bytes: int = MAX_COMMENT_BYTES, proof_url: str = "") -> str:
    """The comment at the most detailed level that fits in `max_bytes`.

    `proof_url`: the head's proof page (full logs), linked from the footer; "" when pages are off or unreachable.
    """
    text = ""
    for detail in LEVELS:
        text = _render(review, detail, proof_url)
        if len(text.encode("utf-8")) <= max_bytes:
            return text
    return _hard_cut(text, render_marker(review.marker), max_bytes)


def _render(review: Review, detail: Detail, proof_url: str = "") -> str:
    name = "incomplete.md.j2" if review.outcome.kind is OutcomeKind.DID_NOT_COMPLETE else "comment.md.j2"
    template = _environment().get_template(name)
    body = template.render(
        r=review,
        d=detail,
        marker=Markup(render_marker(review.marker)),
        proof_link=_link("full proof and logs", proof_url),
        **_view(review),
    )
    return redact(body).strip() + "\n"


def _hard_cut(text: str, marker: str, max_bytes: int) -> str:
    """Last resort: keep the head of the comment and the marker."""
    note = "\n\n… (trimmed to fit GitHub's comment size limit)\n\n"
    room = max_bytes - len((note + marker + "\n").encode("utf-8"))
    head = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return head + note + marker + "\n"


# --- what the template needs that is not a plain field ---------------------------------------


def _view(review: Review) -> dict[str, Any]:
    findings = review.findings
    blocking = [f for f in findings if f.priority in (Priority.P0, Priority.P1)]
    return {
        "verdict_badge": VERDICT_BADGES[review.proof.verdict],
        "blocking": blocking,
        "other_findings": [f for f in findings if f not in blocking],
        "claim_icons": CLAIM_ICONS,
        "reproduced_match": ClaimMatch.REPRODUCED,
        "contradicted": [c for c in review.claims if c.match == ClaimMatch.CONTRADICTED],
        "media_counts": _media_counts(review),
        "acceptance": _acceptance(review),
        "scanned": [p for p in review.proof.changed.sources],
        "max_moves": MAX_MOVES,
    }


def _media_counts(review: Review) -> str:
    kinds: dict[str, int] = {}
    for media in review.body.media:
        kinds[media.kind] = kinds.get(media.kind, 0) + 1
    names = {"image": "screenshot", "video": "video", "log": "log", "artifact": "artifact"}
    return ", ".join(f"{n} {names[k]}{'s' if n > 1 else ''}" for k, n in sorted(kinds.items()))


def _acceptance(review: Review) -> list[tuple[bool, str]]:
    proof = review.proof
    pairs = proof.suites
    ran = [p for p in pairs if p.base and p.head and p.base.runs and p.head.runs]
    caught = [p for p in ran if p.base.status in (RunStatus.FAILED, RunStatus.TIMEOUT)]  # type: ignore[union-attr]
    criteria = [
        (bool(caught), "A test of the PR fails (or hangs) on base: the bug is reproduced"),
        (
            bool(ran) and all(p.head.status == RunStatus.PASSED for p in ran),  # type: ignore[union-attr]
            "Every suite passes on head",
        ),
        (
            bool(ran)
            and all(
                side is not None and len(side.runs) >= 2 and not side.flaky for p in ran for side in (p.base, p.head)
            ),
            "Repeats agree on both sides (at least two runs each)",
        ),
        (
            any(p.kind == "integration" for p in caught),
            "A real-filesystem integration suite shows fail-before/pass-after",
        ),
        (not any(f.priority in (Priority.P0, Priority.P1) for f in review.findings), "No P0 or P1 lock-scan finding"),
    ]
    claimed = [c for c in review.claims if c.claimed]
    if claimed:
        criteria.append(
            (
                all(c.match == ClaimMatch.REPRODUCED for c in claimed),
                "The PR description's claimed results match what the bot saw",
            )
        )
    return criteria


# --- the template environment ---------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """Untrusted by default: any plain string printed by a template is escaped as inline text."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return escape_inline(redact(value))  # before escaping: `ghp\_…` would no longer look like a token
    return value


def _quote(text: str, limit: int = MAX_QUOTE_CHARS) -> Markup:
    """Contributor prose as a block quote: each line escaped, bounded."""
    text = text.strip()
    cut = len(text) > limit
    lines = [_prose(line) for line in text[:limit].splitlines() if line.strip()][:15]
    if cut:
        lines.append("…")
    return Markup("\n".join(f"> {line}" for line in lines))


_CODE = re.compile(r"(`+)(.+?)\1(?!`)")


def _prose(line: str) -> str:
    """One line of contributor markdown: its inline code stays code and its emphasis emphasis; links,
    HTML and mentions are escaped."""
    line = redact(line)
    parts, position = [], 0
    for match in _CODE.finditer(line):
        parts += [escape_inline(line[position : match.start()], emphasis=True), code_span(match.group(2).strip())]
        position = match.end()
    return "".join(parts) + escape_inline(line[position:], emphasis=True)


def _link(text: str, url: str) -> Markup | str:
    """A markdown link to one of the bot's own pages; the URL is made safe for `(...)` regardless."""
    if not url.startswith(("https://", "http://")):
        return ""
    safe = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return Markup(f"[{text}]({safe})")


def _html(text: str) -> Markup:
    """Text inside an HTML block (a `<summary>`), where markdown escapes are not read."""
    return Markup(html.escape(redact(str(text)).replace("\n", " ")).replace("@", "@" + ZERO_WIDTH))


def _cell(result: SuiteResult | None, confidence: float | None = None) -> Markup:
    """One proof-table cell: status (per repeat when they disagree), counts, duration, limits.

    With adaptive repeats (`confidence` set) the tally is the statement: "✗ 12/12 failed", or
    "✓ 0/30 failed (≤ 9.5%)" with the exact upper bound on the failure rate.
    """
    if result is None or not result.runs:
        return Markup("—")
    limits = sorted({run.outcome.limit_hit for run in result.runs if run.outcome.limit_hit})
    limit = f", limit: {', '.join(limits)}" if limits else ""
    tally, statuses = result.tally, result.statuses
    if confidence is not None and tally.runs:
        bound = percent(failure_rate_upper(0, tally.runs, confidence))
        icon = (
            f"✓ 0/{tally.runs} failed (≤ {bound})" if tally.failures == 0 else f"✗ {tally.failures}/{tally.runs} failed"
        )
        return Markup(f"{icon}, {result.duration_s:.1f}s{limit}")
    if len(set(statuses)) > 1:
        icon = "🎲 " + "/".join(s.value for s in statuses)
    else:
        icon = STATUS_ICONS[result.status] + (f" ×{len(statuses)}" if len(statuses) > 1 else "")
    counts = result.runs[-1].counts
    detail = ""
    if counts.source != "none":
        detail = f" ({counts.passed} passed, {counts.failed} failed" + (
            f", {counts.skipped} skipped)" if counts.skipped else ")"
        )
    return Markup(f"{icon}{detail}, {result.duration_s:.1f}s{limit}")


def _failing(result: SuiteResult) -> list[str]:
    return sorted({name for run in result.runs for name in run.counts.failing})


def _tail(result: SuiteResult, lines: int) -> Markup:
    text = "\n".join(result.runs[-1].outcome.log_tail.splitlines()[-lines:]) if result.runs else ""
    return Markup(fence(text or "(no output)"))


_TIMINGS = re.compile(r"\d+(?:\.\d+)?\s?(?:ms|s|sec|seconds)\b|\b0x[0-9a-f]+\b|\bpid[ =]?\d+", re.IGNORECASE)


def _alike(head: SuiteResult | None, base: SuiteResult | None, lines: int) -> bool:
    """Both sides failed the same way: the same status and the same output but for timings and
    addresses, so one log tail says it for both."""
    if head is None or base is None or not head.runs or not base.runs or head.status != base.status:
        return False

    def shape(result: SuiteResult) -> str:
        return _TIMINGS.sub("N", "\n".join(result.runs[-1].outcome.log_tail.splitlines()[-lines:]))

    return shape(head) == shape(base)


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("reviewbot.review", "templates"),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=_finalize,
        )
        env.filters.update(
            code=lambda text: Markup(code_span(str(text))),
            tcode=lambda text: Markup(code_span(str(text), in_table=True)),
            fence=lambda text: Markup(fence(str(text))),
            yaml=lambda text: Markup(fence(redact(str(text)).rstrip("\n"), lang="yaml")),
            quote=_quote,
            trusted=Markup,
            sha=lambda sha: Markup(code_span(sha[:12])) if sha else Markup("—"),
            cell=_cell,
            html=_html,
            failing=_failing,
            tail=_tail,
        )
        env.globals.update(tiers=list(Tier), rarities=RARITY_WEIGHTS, alike=_alike)  # the legend in "About reviewbot"
        _ENV = env
    return _ENV
