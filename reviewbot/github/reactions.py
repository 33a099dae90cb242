"""The 👀 reaction that says "command seen": written, never read.

Reactions are a signal to people, not state: the bot never lists them or decides anything
from them. Adding the same reaction twice is harmless (GitHub answers 200 with the existing
one), so a retried job may acknowledge again.
"""

from __future__ import annotations

from reviewbot.github.client import Connection, calls_as

ACKNOWLEDGE = "eyes"


def acknowledge(connection: Connection, repo: str, comment_id: int) -> None:
    """`POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions` with `eyes`.

    Made through the repository's requester: PyGithub only offers `create_reaction` on an
    `IssueComment` reached through its issue, and the endpoint needs no issue number."""
    with calls_as(connection.account):
        repository = connection.github.get_repo(repo)
        repository.requester.requestJsonAndCheck(
            "POST", f"{repository.url}/issues/comments/{int(comment_id)}/reactions", input={"content": ACKNOWLEDGE}
        )
