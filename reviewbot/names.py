"""Names the bot shares with GitHub and with people: one definition each.

GitHub's own naming rules (so a name is safe in URLs, paths and columns), the
check run's name, the labels the bot manages, the hidden comment markers' tags
and the commit identity a GitHub login gets.
"""

from __future__ import annotations

import re

_FULL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}/[A-Za-z0-9_.-]{1,100}")


def valid_full_name(name: str) -> bool:
    """Whether `owner/name` follows GitHub's naming rules (so it is safe in URLs, paths and columns)."""
    return bool(_FULL_NAME.fullmatch(name)) and name.split("/", 1)[1] not in (".", "..")


# The check run (App) or commit status (token) the proof publishes; branch protection requires it by this name.
CHECK_NAME = "reviewbot / lock proof"

# Labels. The bot owns these families and never touches any other label.
MANAGED_LABEL_PREFIXES = ("status: ", "proof: ", "rating: ", "priority: ")
HUMAN_REVIEW_LABEL = "reviewbot:human-review"  # a person must decide (blocked, needs maintainer review, stopped)
AUTOMERGE_LABEL = "reviewbot:automerge"  # automerge is armed on the PR
MERGED_VIA_REPLACEMENT_LABEL = "status: merged via replacement"  # a source PR whose replacement merged

# The tags of the hidden HTML-comment markers that let the bot find its own comments.
REVIEW_MARKER_TAG = "reviewbot:review"  # the review comment's machine state
REVIEW_STARTED_TAG = "reviewbot:review-started"  # the "review started" placeholder, until the review replaces it
STATUS_MARKER_TAG = "reviewbot:status"  # the bot's short comments, by intent (and head, for re-review progress)
ANSWER_MARKER_TAG = "reviewbot:answer"  # an answer to one person's comment (or request), posted once
REPLACEMENT_MARKER_TAG = "reviewbot:replacement"  # a replacement PR's body names its source PR


def noreply_email(login: str) -> str:
    """The commit e-mail GitHub attributes to `login` without knowing the account's real address."""
    return f"{login}@users.noreply.github.com"
