"""The bot's short answers to commands: what it heard, who asked, what happens next.

Pure: facts in, markdown out. Each carries a hidden marker naming its intent
(and head, for re-reviews). The trackers (re-review progress per head, automerge,
reef update) are found by it and edited in place; an answer to a person is a new
comment that mentions them (`reviewbot.review.answers`). Logins and focus text
come from users and are escaped like everything else.
"""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.names import HUMAN_REVIEW_LABEL, STATUS_MARKER_TAG
from reviewbot.review.answers import NOTHING_TO_RESUME
from reviewbot.review.commands import DESCRIPTIONS
from reviewbot.review.markdown import code_span, escape_inline
from reviewbot.review.merge_gate import AutomergeState

REREVIEW_STEPS = ("queued", "checked out", "suites on head", "suites on base", "analysis",
                  "review comment updated")

ACKNOWLEDGED, REVIEW, AUTOMERGE, DONE = "🦞👀", "🦞🧹", "🦞🔧", "🦞✅"


def status_marker(intent: str, head_sha: str = "") -> str:
    return f"<!-- {STATUS_MARKER_TAG} {intent}{' ' + head_sha[:12] if head_sha else ''} -->"


def _who(login: str) -> str:
    return escape_inline(f"@{login}")


def rereview(requested_by: str | Sequence[str], head_sha: str, done: list[str], review_url: str = "",
             focus: str = "", superseded: bool = False, continued_in: str = "", closed: bool = False) -> str:
    """The re-review progress tracker, its checklist ticked step by step.

    A superseded one says where the work went on (`continued_in`, markdown with a link) when it is known.
    """
    logins = [requested_by] if isinstance(requested_by, str) else list(requested_by)
    if superseded and closed:
        lines = [f"{DONE} This re-review of head {code_span(head_sha[:12])} stopped: the PR was closed."]
    elif superseded:
        where = (f"it continues in {continued_in}" if continued_in else
                 "whoever asked is mentioned when the review of the newer head is done")
        lines = [(f"{DONE} This re-review was superseded by a newer request or a newer head "
                  f"(it was for head {code_span(head_sha[:12])}); {where}.")]
    else:
        lines = [f"{REVIEW} I asked reviewbot to review this item again.", "",
                 (f"Requested by {', '.join(_who(login) for login in logins) or 'a maintainer'} "
                  f"for head {code_span(head_sha[:12])}.")]
        if focus:
            lines += ["", "Focus for the reviewer (context, not instructions):", "",
                      *[f"> {escape_inline(line)}" for line in focus.splitlines()[:20] if line.strip()]]
        lines += ["", "Re-review progress:", ""]
        lines += [f"- [{'x' if step in done else ' '}] {step}" for step in REREVIEW_STEPS]
        if review_url:
            lines += ["", f"Review comment: {review_url}"]
    return "\n".join(lines) + "\n\n" + status_marker("re-review", head_sha) + "\n"


def refusal(command: str, reason: str) -> str:
    """`reason` says who may run it (`reviewbot.bot.permissions`); the asker can turn to one of them."""
    return (f"{ACKNOWLEDGED} I did not run `{command or 'that command'}`: {reason} You can ask one of them to "
            f"run it.\n\n{status_marker('refusal')}\n")


def nothing_to_resume(head_sha: str) -> str:
    return (f"{NOTHING_TO_RESUME} Nothing changed for head {code_span(head_sha[:12])}.\n\n"
            + status_marker("pause") + "\n")


def paused(by: str) -> str:
    return (f"{DONE} Paused by {_who(by)}: reviewbot will not merge, update or repair this PR until a maintainer "
            f"comments `@reviewbot approve`; it is labelled `{HUMAN_REVIEW_LABEL}`. Reviews still run on "
            "request (`@reviewbot re-review`).\n\n" + status_marker("pause") + "\n")


def resumed(by: str, head_sha: str) -> str:
    return (f"{DONE} Resumed by {_who(by)} for head {code_span(head_sha[:12])}: reviewbot reviews new pushes again "
            "and carries on with automerge if it is armed.\n\n" + status_marker("pause") + "\n")


def automerge(armed_by: str, method: str | None, state: AutomergeState, log: list[tuple[str, str, str, str]]) -> str:
    """The one automerge comment: armed by whom, how it merges, and every step it took (time, step, head, outcome).

    `log` outcomes are markdown the bot wrote, with every login, file name or GitHub message already escaped;
    `method` is None while the base branch's config is invalid (nothing merges then).
    """
    if state is AutomergeState.MERGED:
        head = f"{DONE} Automerged."
    elif state is AutomergeState.ARMED and method is None:  # the base's config is invalid: nothing merges
        head = (f"{AUTOMERGE} Automerge armed by {_who(armed_by)}: reviewbot merges once the base branch's "
                "`.github/reviewbot.yml` is valid again and every gate passes.")
    elif state is AutomergeState.ARMED:
        head = f"{AUTOMERGE} Automerge armed by {_who(armed_by)}: reviewbot merges with `{method}` once every gate passes."
    else:
        head = f"{DONE} Automerge is paused; a maintainer re-arms it with `@reviewbot automerge`."
    lines = [head, "", "Gates, re-checked against GitHub right before merging: not a draft, not paused, a passing "
             "review of the exact current head, every other check green (pending waits), mergeable. Draft PRs stay "
             "fix-only until GitHub marks them ready for review. Pause with `@reviewbot stop`.", "",
             "Automerge progress:", "", "| time | step | head | outcome |", "|---|---|---|---|"]
    lines += [f"| {when} | {step} | {code_span(sha[:12]) if sha else '—'} | {outcome.replace('|', '¦')} |"
              for when, step, sha, outcome in log]  # outcomes are the bot's markdown; untrusted parts escaped
    return "\n".join(lines) + "\n\n" + status_marker("automerge") + "\n"


def reef_update(author: str, replacement_url: str, replacement_number: int, contributors: list[str],
                why: str) -> str:
    """The one comment on a source PR whose work moved to a replacement: thanks, no blame, credit kept."""
    credit = ", ".join(escape_inline(name) for name in contributors) or "the source PR's authors"
    return (f"🐠 reef update: thanks {_who(author)}, this PR's work continues in #{replacement_number}. "
            "Not your fault, just branch permissions.\n\n"
            f"- Why replacement: {why}.\n"
            f"- Replacement PR: {replacement_url}\n"
            f"- Co-author credit kept: {credit}.\n"
            "- Source PR status: left open for maintainer and contributor comparison.\n"
            "- Next time: tick **Allow edits by maintainers** when you open a PR from a fork, and the bot "
            "updates your branch itself instead of opening a replacement.\n\n"
            + status_marker("replacement") + "\n")


def reef_merged(previous: str, replacement_number: int, closed: bool) -> str:
    """The reef update once the replacement merged: the same comment, its status line brought up to date."""
    status = (f"closed now that #{replacement_number} merged, as this repository asks" if closed else
              f"#{replacement_number} merged; this PR is left open for maintainer and contributor comparison")
    lines = [f"- Source PR status: {status}." if line.startswith("- Source PR status:") else line
             for line in previous.splitlines()]
    return "\n".join(lines) + "\n"


def status(rank: str, verdict: str, outcome: str, automerge: str, paused_now: bool, next_step: str,
           review_url: str) -> str:
    lines = [f"{ACKNOWLEDGED} Status of this PR:", "",
             f"- Review: {outcome or 'not reviewed yet'}" + (f" (proof `{verdict}`, rank {rank})" if verdict else ""),
             f"- Automerge: {automerge}{' (paused)' if paused_now else ''}",
             f"- Next step: {next_step}"]
    if review_url:
        lines.append(f"- Review comment: {review_url}")
    return "\n".join(lines) + "\n\n" + status_marker("status") + "\n"


def help_text(permission_table: str, aliases: dict[str, str], unknown_word: str = "") -> str:
    lines = []
    if unknown_word:
        lines += [f"{ACKNOWLEDGED} I do not know the command {code_span(unknown_word)}. These are the ones I know:", ""]
    else:
        lines += [f"{ACKNOWLEDGED} Write a command at the start of a line or of a sentence in a PR comment, "
                  "with `@reviewbot` (or `/reviewbot`):", ""]
    lines += [f"- {code_span(example)}: {what}" for what, example in DESCRIPTIONS.values()]
    lines += ["", "Who may run each:", "", permission_table.rstrip(), ""]
    grouped: dict[str, list[str]] = {}
    for alias, name in aliases.items():
        grouped.setdefault(name, []).append(alias)
    lines.append("Aliases: " + "; ".join(f"{code_span(name)} = " + " / ".join(code_span(a) for a in sorted(words))
                                          for name, words in grouped.items()) + ".")
    return "\n".join(lines) + "\n\n" + status_marker("help") + "\n"
