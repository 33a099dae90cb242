"""The check run on the PR head, rendered from the `Review` itself.

The Checks tab and branch protection show a title (one line, also the commit
status description) and a short summary: the outcome, the proof verdict, the
rank, why, what blocks and the one next step - the same decisions the comment
shows, read from the same object, not cut out of the comment's markdown. The
full review stays in the comment, which the summary links to.

Pure: a Review in, a `CheckRun` out. Reasons and findings are the bot's own
sentences (untrusted parts already code spans); the text is redacted like the
comment.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.model import Priority
from reviewbot.redact import redact
from reviewbot.review.build import Review
from reviewbot.review.comment import VERDICT_BADGES
from reviewbot.review.markdown import code_span
from reviewbot.review.outcome import OutcomeKind

MAX_REASONS = 5
MAX_FINDINGS = 5


@dataclass(frozen=True)
class CheckRun:
    title: str  # one line: outcome · proof verdict · rank
    summary: str  # markdown, a few lines


def check_run(review: Review, comment_url: str = "", proof_url: str = "") -> CheckRun:
    """The check run's title and summary; `comment_url`/`proof_url` are linked when known."""
    return CheckRun(title=redact(check_title(review)), summary=redact(_summary(review, comment_url, proof_url)))


def check_title(review: Review) -> str:
    return f"{review.outcome.kind.value} · proof {review.proof.verdict.value} · rank {review.rating.overall.tier.label}"


def _summary(review: Review, comment_url: str, proof_url: str) -> str:
    outcome = review.outcome
    incomplete = outcome.kind is OutcomeKind.DID_NOT_COMPLETE
    lines = [_headline(review), ""]
    lines += [f"- {reason}" for reason in outcome.reasons[:MAX_REASONS]]
    if len(outcome.reasons) > MAX_REASONS:
        lines.append(f"- … {len(outcome.reasons) - MAX_REASONS} more in the review comment.")
    lines += ["", f"**Next step, for {outcome.owner}:** {outcome.next_step}"]
    blocking = [f for f in review.findings if f.priority in (Priority.P0, Priority.P1)]
    if blocking and not incomplete:
        lines += ["", "**Blocking findings**", ""]
        lines += [f"- {f.priority.value} {code_span(f'{f.path}:{f.line}')} {f.title}" for f in blocking[:MAX_FINDINGS]]
        if len(blocking) > MAX_FINDINGS:
            lines.append(f"- … {len(blocking) - MAX_FINDINGS} more in the review comment.")
    links = [
        f"[{text}]({url})"
        for text, url in (("the review comment", comment_url), ("full proof and logs", proof_url))
        if url
    ]
    if links:
        lines += ["", "The whole review: " + " · ".join(links) + "."]
    return "\n".join(lines) + "\n"


def _headline(review: Review) -> str:
    """The comment's verdict line without the timing: outcome, proof badge, rank (and score)."""
    kind = review.outcome.kind
    badge = VERDICT_BADGES[review.proof.verdict]
    if kind is OutcomeKind.DID_NOT_COMPLETE:  # like the comment: nothing that looks like a judgement
        return f"{kind.icon} **Did not complete** · proof {badge}"
    rank = review.rating.overall.tier.label + (f" ({review.rating.score}/6)" if review.rating.score else "")
    return f"{kind.icon} **{kind.value.capitalize()}** · proof {badge} · rank {rank}"
