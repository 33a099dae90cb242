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
from reviewbot.review.pr_state import UNKNOWN_REQUIRED, AutomergeState, Phase, PullRequestState

REREVIEW_STEPS = ("queued", "checked out", "suites on head", "suites on base", "analysis", "review comment updated")

ACKNOWLEDGED, REVIEW, AUTOMERGE, DONE = "🦞👀", "🦞🧹", "🦞🔧", "🦞✅"
PAUSED = "🦞⏸️"


def status_marker(intent: str, head_sha: str = "") -> str:
    return f"<!-- {STATUS_MARKER_TAG} {intent}{' ' + head_sha[:12] if head_sha else ''} -->"


def _who(login: str) -> str:
    return escape_inline(f"@{login}")


def rereview(
    requested_by: str | Sequence[str],
    head_sha: str,
    done: list[str],
    review_url: str = "",
    focus: str = "",
    superseded: bool = False,
    continued_in: str = "",
    closed: bool = False,
) -> str:
    """The re-review progress tracker, its checklist ticked step by step.

    A superseded one says where the work went on (`continued_in`, markdown with a link) when it is known.
    """
    logins = [requested_by] if isinstance(requested_by, str) else list(requested_by)
    if superseded and closed:
        lines = [f"{DONE} This re-review of head {code_span(head_sha[:12])} stopped: the PR was closed."]
    elif superseded:
        where = (
            f"it continues in {continued_in}"
            if continued_in
            else "whoever asked is mentioned when the review of the newer head is done"
        )
        lines = [
            (
                f"{DONE} This re-review was superseded by a newer request or a newer head "
                f"(it was for head {code_span(head_sha[:12])}); {where}."
            )
        ]
    else:
        lines = [
            (
                f"{REVIEW} Re-review of head {code_span(head_sha[:12])}, requested by "
                f"{', '.join(_who(login) for login in logins) or 'a maintainer'}."
            )
        ]
        if focus:
            lines += [
                "",
                "Focus for the reviewer (context, not instructions):",
                "",
                *[f"> {escape_inline(line)}" for line in focus.splitlines()[:20] if line.strip()],
            ]
        lines += ["", "Re-review progress:", ""]
        finished = REREVIEW_STEPS[-1] in done  # a published review went through every step, reported or not
        lines += [f"- [{'x' if finished or step in done else ' '}] {step}" for step in REREVIEW_STEPS]
        if review_url:
            lines += ["", f"Review comment: {review_url}"]
    return "\n".join(lines) + "\n\n" + status_marker("re-review", head_sha) + "\n"


def refusal(command: str, reason: str) -> str:
    """`reason` says who may run it (`reviewbot.bot.permissions`); the asker can turn to one of them."""
    return (
        f"{ACKNOWLEDGED} I did not run `{command or 'that command'}`: {reason} You can ask one of them to "
        f"run it.\n\n{status_marker('refusal')}\n"
    )


def nothing_to_resume(head_sha: str) -> str:
    return (
        f"{NOTHING_TO_RESUME} Nothing changed for head {code_span(head_sha[:12])}.\n\n" + status_marker("pause") + "\n"
    )


def paused(by: str) -> str:
    return (
        f"{DONE} Paused by {_who(by)}: reviewbot will not merge, update or repair this PR until a maintainer "
        f"comments `@reviewbot resume`; it is labelled `{HUMAN_REVIEW_LABEL}`. Reviews still run on "
        "request (`@reviewbot re-review`).\n\n" + status_marker("pause") + "\n"
    )


def resumed(by: str, head_sha: str) -> str:
    return (
        f"{DONE} Resumed by {_who(by)} for head {code_span(head_sha[:12])}: reviewbot reviews new pushes again "
        "and carries on with automerge if it is armed.\n\n" + status_marker("pause") + "\n"
    )


def automerge(
    armed_by: str,
    method: str | None,
    state: AutomergeState,
    log: list[tuple[str, str, str, str]],
    view: PullRequestState | None = None,
) -> str:
    """The one automerge comment: a header that says where it stands, and every step it took (time, step, head,
    outcome).

    The header renders from `view` (the PR's state the last step was decided on) and the stored automerge state:
    ✅ only once merged, "blocked" with the blocker and who acts, no gate list once it is over. `log` outcomes
    are markdown the bot wrote, with every login, file name or GitHub message already escaped; `method` is None
    while the base branch's config is invalid (nothing merges then).
    """
    over = state in (AutomergeState.MERGED, AutomergeState.OFF, AutomergeState.REPLACED)
    first = view.first if view is not None else None
    if state is AutomergeState.MERGED:
        last = log[-1] if log else None
        via = last[3].split(":", 1)[0] if last is not None and last[1] == "merged via replacement" else ""
        head = f"{DONE} {via.capitalize()}: this PR's work is in the base branch." if via else f"{DONE} Automerged."
    elif state is AutomergeState.OFF:
        head = f"{AUTOMERGE} Automerge is off" + (f": {view.reason}." if view is not None else ".")
    elif state is AutomergeState.REPLACED:
        head = (
            f"{AUTOMERGE} Automerge armed by {_who(armed_by)} continues in the replacement PR; new commits "
            "here are carried over to it."
        )
    elif state is AutomergeState.PAUSED:
        why = f": {first.text}" if first is not None else ""
        head = (
            f"{PAUSED} Automerge armed by {_who(armed_by)} is paused{why}. A maintainer re-arms it with "
            "`@reviewbot automerge`."
        )
    elif view is not None and view.phase is Phase.PAUSED:  # a maintainer's `@reviewbot stop`
        others = [blocker.text for blocker in view.blockers if blocker.what != "paused"]
        head = (
            f"{PAUSED} Automerge armed by {_who(armed_by)} is paused by `@reviewbot stop`: a maintainer "
            "comments `@reviewbot resume` to go on." + (f" Also: {others[0]}." if others else "")
        )
    elif method is None:  # the base's config is invalid: nothing merges
        head = (
            f"{AUTOMERGE} Automerge armed by {_who(armed_by)}: reviewbot merges once the base branch's "
            "`.github/reviewbot.yml` is valid again and every gate passes."
        )
    elif view is None:
        head = (
            f"{AUTOMERGE} Automerge armed by {_who(armed_by)}: reviewbot merges with `{method}` once every gate passes."
        )
    elif first is None:
        head = f"{AUTOMERGE} Automerge armed by {_who(armed_by)}: every gate passed; reviewbot merges with `{method}`."
    elif view.phase is Phase.BLOCKED:
        head = (
            f"{AUTOMERGE} Automerge armed by {_who(armed_by)}, blocked: {first.text}. Then reviewbot merges "
            f"with `{method}` once every gate passes."
        )
    else:
        waiting = first.text if first.text.startswith("waiting") else f"waiting: {first.text}"
        head = (
            f"{AUTOMERGE} Automerge armed by {_who(armed_by)}, {waiting}; reviewbot merges with "
            f"`{method}` once every gate passes."
        )
    lines = [head.rstrip(), ""]
    if not over:
        lines += [
            "Gates, re-checked against GitHub right before merging: not a draft (a draft waits until it is "
            "marked ready for review; reviewbot never updates its branch), not paused, a passing review of the "
            "exact current head, every required check green (pending waits), mergeable. Pause with "
            "`@reviewbot stop`.",
            "",
        ]
        if view is not None and view.required_note:
            lines += [f"Required checks: {_required(view.required_note)}.", ""]
    lines += ["Automerge progress:", "", "| time | step | head | outcome |", "|---|---|---|---|"]
    lines += [
        f"| {when} | {step} | {code_span(sha[:12]) if sha else '—'} | {outcome.replace('|', '¦')} |"
        for when, step, sha, outcome in log
    ]  # outcomes are the bot's markdown; untrusted parts escaped
    return "\n".join(lines) + "\n\n" + status_marker("automerge") + "\n"


def reef_update(author: str, replacement_url: str, replacement_number: int, contributors: list[str], why: str) -> str:
    """The one comment on a source PR whose work moved to a replacement: thanks, no blame, credit kept."""
    credit = ", ".join(escape_inline(name) for name in contributors) or "the source PR's authors"
    return (
        f"🐠 reef update: thanks {_who(author)}, this PR's work continues in #{replacement_number}. "
        "Not your fault, just branch permissions.\n\n"
        f"- Why replacement: {why}.\n"
        f"- Replacement PR: {replacement_url}\n"
        f"- Co-author credit kept: {credit}.\n"
        "- Source PR status: left open for maintainer and contributor comparison.\n"
        "- Next time: tick **Allow edits by maintainers** when you open a PR from a fork, and the bot "
        "updates your branch itself instead of opening a replacement.\n\n" + status_marker("replacement") + "\n"
    )


def reef_merged(previous: str, replacement_number: int, closed: bool) -> str:
    """The reef update once the replacement merged: the same comment, its status line brought up to date."""
    status = (
        f"closed now that #{replacement_number} merged, as this repository asks"
        if closed
        else f"#{replacement_number} merged; this PR is left open for maintainer and contributor comparison"
    )
    lines = [
        f"- Source PR status: {status}." if line.startswith("- Source PR status:") else line
        for line in previous.splitlines()
    ]
    return "\n".join(lines) + "\n"


def _required(note: str) -> str:
    """The required-checks note, with why: the bot could not read branch protection, or it names none."""
    if note == UNKNOWN_REQUIRED:
        return "unknown (reviewbot cannot read this branch's protection or rulesets): every other check counts"
    return "none configured in this branch's protection or rulesets: every other check counts"


def status(view: PullRequestState, review_url: str = "") -> str:
    """`@reviewbot status`: the same state automerge decides on, so the two never disagree."""
    lines = [f"{ACKNOWLEDGED} Status of this PR:", "", f"- Review: {view.review}", f"- Automerge: {view.phase.value}"]
    if view.blockers:
        lines.append("- Blocking a merge:")
        lines += [f"  - {blocker.text}" for blocker in view.blockers]
    elif view.open:
        lines.append("- Blocking a merge: nothing")
    lines.append(f"- Next step: {view.next_step}")
    if view.required_note and view.open:
        lines.append(f"- Required checks: {_required(view.required_note)}.")
    elif view.open:
        lines.append(f"- Required checks: {', '.join(code_span(name) for name in view.required)}.")
    if review_url:
        lines.append(f"- Review comment: {review_url}")
    return "\n".join(lines) + "\n\n" + status_marker("status") + "\n"


def help_text(permission_table: str, aliases: dict[str, str], unknown_word: str = "") -> str:
    lines = []
    if unknown_word:
        lines += [f"{ACKNOWLEDGED} I do not know the command {code_span(unknown_word)}. These are the ones I know:", ""]
    else:
        lines += [
            f"{ACKNOWLEDGED} Write a command at the start of a line or of a sentence in a PR comment, "
            "with `@reviewbot` (or `/reviewbot`):",
            "",
        ]
    lines += [f"- {code_span(example)}: {what}" for what, example in DESCRIPTIONS.values()]
    lines += ["", "Who may run each:", "", permission_table.rstrip(), ""]
    grouped: dict[str, list[str]] = {}
    for alias, name in aliases.items():
        grouped.setdefault(name, []).append(alias)
    lines.append(
        "Aliases: "
        + "; ".join(
            f"{code_span(name)} = " + " / ".join(code_span(a) for a in sorted(words)) for name, words in grouped.items()
        )
        + "."
    )
    return "\n".join(lines) + "\n\n" + status_marker("help") + "\n"
