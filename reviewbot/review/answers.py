"""The bot's answers to people: a new comment that mentions them, posted once per thing answered.

GitHub notifies nobody when a comment is edited, and an edited answer sits above the
request it answers; so an answer to a person is always a new comment that starts with
their @mention. A hidden marker names what it answers (the command comment's id, or the
re-review job), so a job run again after a crash finds its answer instead of posting a
second one. Pure: facts in, markdown out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewbot.names import ANSWER_MARKER_TAG
from reviewbot.review.markdown import code_span, escape_inline

_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")  # GitHub's login rules
NOTHING_TO_RESUME = "nothing to resume: reviews and automerge were not paused."


def answer_marker(key: str | int) -> str:
    """`<!-- reviewbot:answer to=<key> -->`; the closing ` -->` keeps `to=12` from matching `to=123`."""
    return f"<!-- {ANSWER_MARKER_TAG} to={key} -->"


def mention(login: str) -> str:
    """A real @mention for a GitHub login; anything else is shown, escaped, and notifies nobody."""
    return f"@{login}" if _LOGIN.fullmatch(login) else escape_inline(f"@{login}")


def addressed(logins: Sequence[str], body: str, key: str | int) -> str:
    """`@alice @bob: <body>`, then the marker naming what it answers."""
    names = " ".join(mention(login) for login in logins if login)
    return f"{names}: {body.rstrip()}\n{answer_marker(key)}\n"


def rereview_done(head_sha: str, outcome: str, verdict: str, rank: str, review_url: str) -> str:
    """The line that tells a re-review's requesters it is done, and where to read it."""
    rank_part = f", rank {rank}" if rank else ""
    link = f" → {review_url}" if review_url else ""
    return f"re-review of {code_span(head_sha[:12])} done: **{outcome}** (proof `{verdict}`{rank_part}){link}\n"


def rereview_queued(head_sha: str, progress_url: str) -> str:
    """A re-review asked for on a head whose progress tracker already exists: where it is, and what comes next."""
    return (
        f"re-review of {code_span(head_sha[:12])} queued (progress: {progress_url}); "
        "I will mention you here when it is done.\n"
    )
