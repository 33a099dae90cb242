"""The proof on the commit: a check run per head for an App, a commit status for a token.

The conclusion follows the proof verdict, so branch protection can require it:
`proven` succeeds; `weak`, `flaky` and `no_tests` are neutral (a person decides);
`fails` and `timeout` fail; an infrastructure error is `action_required` with
how to retry.
"""

from __future__ import annotations

from github.GithubObject import NotSet

from reviewbot.github.client import Connection, calls_as

CHECK_NAME = "reviewbot / lock proof"
MAX_SUMMARY = 65_000  # GitHub's limit for a check run's output.summary is 65,535 characters

CONCLUSIONS = {
    "proven": "success",
    "weak": "neutral",
    "flaky": "neutral",
    "no_tests": "neutral",
    "fails": "failure",
    "timeout": "failure",
    "error": "action_required",
}
STATUS_STATES = {"success": "success", "neutral": "success", "failure": "failure", "action_required": "error"}


def conclusion_for(verdict: str) -> str:
    return CONCLUSIONS.get(verdict, "neutral")


def publish_check(connection: Connection, repo: str, head_sha: str, verdict: str, title: str, summary: str,
                  details_url: str | None = None) -> None:
    """A completed check run (App) or a commit status (token) for this head."""
    conclusion = conclusion_for(verdict)
    with calls_as(connection.account):
        repository = connection.github.get_repo(repo)
        if connection.app_auth:
            repository.create_check_run(name=CHECK_NAME, head_sha=head_sha, status="completed", conclusion=conclusion,
                                        output={"title": title[:250], "summary": summary[:MAX_SUMMARY]},
                                        details_url=details_url or NotSet)
        else:
            repository.get_commit(head_sha).create_status(state=STATUS_STATES[conclusion],
                                                          target_url=details_url or NotSet,
                                                          description=title[:140], context=CHECK_NAME)
