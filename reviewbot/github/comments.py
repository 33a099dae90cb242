"""The bot's comments on a PR: found by their marker and the bot's login, edited in place.

The one review comment per PR is built on these in `reviewbot.github.port`
(`find_review_comment`, `post_placeholder`, `publish_review_comment`).
Searched across every page of the PR's comments; if several carry the marker
(a crash between create and record, two workers racing), the newest is kept
and the older ones are deleted. A short "review started" note is posted only
when no comment exists yet, and the review then replaces it in the same
comment: never post-then-delete, so the PR's timeline stays quiet.

Creating is the one write that is not idempotent: a 502 or a dropped connection
may hide a comment GitHub already made. So a create is never repeated blindly
(`single_attempt`); after an ambiguous failure the bot lists its comments and
adopts the one carrying the marker it was posting before it tries again.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import requests
from github import GithubException, UnknownObjectException

from reviewbot.github.client import Connection, calls_as, single_attempt
from reviewbot.names import REVIEW_MARKER_TAG, REVIEW_STARTED_TAG

log = logging.getLogger("reviewbot.github")
CREATE_ATTEMPTS = 4

MARKER_PREFIX = f"<!-- {REVIEW_MARKER_TAG}"  # the review marker, and the placeholder's (a longer tag)
REVIEW_MARKER = f"<!-- {REVIEW_MARKER_TAG} {{"  # a published review's own marker (its JSON): never a placeholder
PLACEHOLDER_MARKER = f"<!-- {REVIEW_STARTED_TAG} "
PLACEHOLDER = (
    "## ⏳ reviewbot: review started\n\nThe lock proof is running on head `{head}`; this comment will "
    "show the review when it is done.\n\n" + PLACEHOLDER_MARKER + "{head} -->\n"
)


@dataclass(frozen=True)
class BotComment:
    id: int
    body: str


def is_bot_comment(body: str | None, author: str, bot_login: str, marker: str = MARKER_PREFIX) -> bool:
    """Ours only if the bot wrote it AND it carries the marker: a user quoting a marker never counts."""
    return author.lower() == bot_login.lower() and marker in (body or "")


def bot_comments(
    connection: Connection, repo: str, number: int, bot_login: str, marker: str = MARKER_PREFIX
) -> list[BotComment]:
    """The bot's comments on a PR that carry `marker`, oldest first, read across every page."""
    with calls_as(connection.account):
        issue = connection.github.get_repo(repo).get_issue(number)
        return sorted(
            (
                BotComment(c.id, c.body or "")
                for c in issue.get_comments()
                if is_bot_comment(c.body, c.user.login, bot_login, marker)
            ),
            key=lambda c: c.id,
        )


def create_comment_once(connection: Connection, repo: str, number: int, body: str, bot_login: str, marker: str) -> int:
    """Create the bot's comment carrying `marker` exactly once, even when GitHub applies it and loses the answer.

    The caller has just seen no bot comment with `marker`. After a 5xx or a lost connection the
    PR's comments are listed: a bot comment with the marker is the one this call made.
    """
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            with calls_as(connection.account), single_attempt():
                return connection.github.get_repo(repo).get_issue(number).create_comment(body).id
        except (GithubException, requests.RequestException) as exc:
            if isinstance(exc, GithubException) and exc.status < 500:
                raise
            log.info("creating a comment on %s#%s: %s (attempt %d); looking for it", repo, number, exc, attempt)
            made = bot_comments(connection, repo, number, bot_login, marker)
            if made:
                return made[-1].id
            if attempt == CREATE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def delete_comment(connection: Connection, repo: str, number: int, comment_id: int) -> None:
    with calls_as(connection.account):
        connection.github.get_repo(repo).get_issue(number).get_comment(comment_id).delete()


def delete_placeholder(connection: Connection, repo: str, number: int, comment_id: int) -> None:
    """Delete a "review started" note, unless it is gone or a racing worker has published a review into it."""
    with calls_as(connection.account):
        issue = connection.github.get_repo(repo).get_issue(number)
        try:
            comment = issue.get_comment(comment_id)
        except UnknownObjectException:
            return
        if PLACEHOLDER_MARKER in (comment.body or ""):
            with contextlib.suppress(UnknownObjectException):
                comment.delete()


def edit_comment(connection: Connection, repo: str, number: int, comment_id: int, body: str) -> None:
    with calls_as(connection.account):
        connection.github.get_repo(repo).get_issue(number).get_comment(comment_id).edit(body)


def comment_url(pr_html_url: str, comment_id: int) -> str:
    return f"{pr_html_url}#issuecomment-{comment_id}"
