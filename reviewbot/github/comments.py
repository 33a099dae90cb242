"""The one review comment per PR: found by its marker and the bot's login, edited in place.

Searched across every page of the PR's comments; if several carry the marker
(a crash between create and record, two workers racing), the newest is kept
and the older ones are deleted. A short "review started" note is posted only
when no comment exists yet, and the review then replaces it in the same
comment: never post-then-delete, so the PR's timeline stays quiet.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.github.client import Connection, calls_as

MARKER_PREFIX = "<!-- reviewbot:review"  # the review marker, and the placeholder's `reviewbot:review-started`
PLACEHOLDER = ("## ⏳ reviewbot: review started\n\nThe lock proof is running on head `{head}`; this comment will "
               "show the review when it is done.\n\n<!-- reviewbot:review-started {head} -->\n")


@dataclass(frozen=True)
class BotComment:
    id: int
    body: str


def is_bot_comment(body: str | None, author: str, bot_login: str) -> bool:
    """Ours only if the bot wrote it AND it carries the marker: a user quoting a marker never counts."""
    return author.lower() == bot_login.lower() and MARKER_PREFIX in (body or "")


def find_review_comment(connection: Connection, repo: str, number: int, bot_login: str) -> BotComment | None:
    """The bot's review comment on a PR (the newest), deleting older duplicates."""
    with calls_as(connection.account):
        issue = connection.github.get_repo(repo).get_issue(number)
        ours = sorted((c for c in issue.get_comments() if is_bot_comment(c.body, c.user.login, bot_login)),
                      key=lambda c: c.id)
        for older in ours[:-1]:
            older.delete()
        return BotComment(id=ours[-1].id, body=ours[-1].body or "") if ours else None


def post_placeholder(connection: Connection, repo: str, number: int, head_sha: str) -> BotComment:
    body = PLACEHOLDER.format(head=head_sha[:12])
    with calls_as(connection.account):
        comment = connection.github.get_repo(repo).get_issue(number).create_comment(body)
    return BotComment(id=comment.id, body=body)


def delete_comment(connection: Connection, repo: str, number: int, comment_id: int) -> None:
    with calls_as(connection.account):
        connection.github.get_repo(repo).get_issue(number).get_comment(comment_id).delete()


def publish_review_comment(connection: Connection, repo: str, number: int, body: str,
                           existing: BotComment | None) -> int:
    """Edit the bot's comment in place (one PATCH), or create it when there is none; returns its id."""
    with calls_as(connection.account):
        issue = connection.github.get_repo(repo).get_issue(number)
        if existing is not None:
            issue.get_comment(existing.id).edit(body)
            return existing.id
        return issue.create_comment(body).id


def upsert_status_comment(connection: Connection, repo: str, number: int, bot_login: str, marker: str,
                          body: str) -> int:
    """The bot's one comment for this intent (found by its marker), edited in place or created."""
    with calls_as(connection.account):
        issue = connection.github.get_repo(repo).get_issue(number)
        mine = [c for c in issue.get_comments() if c.user.login.lower() == bot_login.lower() and marker in (c.body or "")]
        if mine:
            mine[-1].edit(body)
            return mine[-1].id
        return issue.create_comment(body).id


def edit_comment(connection: Connection, repo: str, number: int, comment_id: int, body: str) -> None:
    with calls_as(connection.account):
        connection.github.get_repo(repo).get_issue(number).get_comment(comment_id).edit(body)


def comment_url(pr_html_url: str, comment_id: int) -> str:
    return f"{pr_html_url}#issuecomment-{comment_id}"


def find_status_comments(connection: Connection, repo: str, number: int, bot_login: str,
                         marker_prefix: str) -> list[BotComment]:
    """The bot's status comments whose marker starts with `marker_prefix` (e.g. every re-review's)."""
    with calls_as(connection.account):
        issue = connection.github.get_repo(repo).get_issue(number)
        return [BotComment(c.id, c.body or "") for c in issue.get_comments()
                if c.user.login.lower() == bot_login.lower() and marker_prefix in (c.body or "")]
