"""The proof on the commit: a check run per head for an App, a commit status for a token.

The conclusion follows the proof verdict, so branch protection can require it:
`proven` succeeds; `weak`, `flaky` and `no_tests` are neutral (a person decides);
`fails` and `timeout` fail; an infrastructure error is `action_required` with
how to retry.

One run per head: every publish lists the head's run of this check first (one call)
and edits it when there is one, so a re-review, a retried job or a dead letter
for the same head changes that run instead of stacking a second one under it.
Creating a check run is not idempotent, so it is never repeated blindly: after a
5xx or a lost answer the head's runs are listed again and one already saying this
is adopted.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import requests
from github import GithubException
from github.GithubObject import NotSet

from reviewbot.github.client import Connection, calls_as, single_attempt
from reviewbot.model import Verdict
from reviewbot.names import CHECK_NAME

log = logging.getLogger("reviewbot.github")
CREATE_ATTEMPTS = 4

MAX_SUMMARY = 65_000  # GitHub's limit for a check run's output.summary is 65,535 characters


class Conclusion(StrEnum):
    """The check run conclusions the bot uses (GitHub's strings)."""

    SUCCESS = "success"
    NEUTRAL = "neutral"  # a person decides
    FAILURE = "failure"
    ACTION_REQUIRED = "action_required"  # infrastructure: the summary says how to retry


# Total over Verdict: a new verdict without a conclusion fails a unit test, never defaults silently.
CONCLUSIONS: dict[Verdict, Conclusion] = {
    Verdict.PROVEN: Conclusion.SUCCESS,
    Verdict.WEAK: Conclusion.NEUTRAL,
    Verdict.FLAKY: Conclusion.NEUTRAL,
    Verdict.NO_TESTS: Conclusion.NEUTRAL,
    Verdict.FAILS: Conclusion.FAILURE,
    Verdict.TIMEOUT: Conclusion.FAILURE,
    Verdict.ERROR: Conclusion.ACTION_REQUIRED,
}
# A token publishes a commit status instead, whose states are fewer.
STATUS_STATES: dict[Conclusion, str] = {
    Conclusion.SUCCESS: "success",
    Conclusion.NEUTRAL: "success",
    Conclusion.FAILURE: "failure",
    Conclusion.ACTION_REQUIRED: "error",
}


def conclusion_for(verdict: Verdict) -> Conclusion:
    return CONCLUSIONS[verdict]


def publish_check(
    connection: Connection,
    repo: str,
    head_sha: str,
    verdict: Verdict,
    title: str,
    summary: str,
    details_url: str | None = None,
) -> None:
    """A completed check run (App) or a commit status (token) for this head: the head's run edited, or made."""
    conclusion = conclusion_for(verdict)
    with calls_as(connection.account):
        repository = connection.github.get_repo(repo)
        if not connection.app_auth:  # a status is keyed by its context: repeating it is harmless
            repository.get_commit(head_sha).create_status(
                state=STATUS_STATES[conclusion],
                target_url=details_url or NotSet,
                description=title[:140],
                context=CHECK_NAME,
            )
            return
        fields = {
            "status": "completed",
            "conclusion": conclusion.value,
            "output": {"title": title[:250], "summary": summary[:MAX_SUMMARY]},
            "details_url": details_url or NotSet,
        }
        ours = _head_runs(repository, head_sha)
        if ours:
            ours[0].edit(**fields)
            return
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                with single_attempt():
                    repository.create_check_run(name=CHECK_NAME, head_sha=head_sha, **fields)
                return
            except (GithubException, requests.RequestException) as exc:
                if isinstance(exc, GithubException) and exc.status < 500:
                    raise
                log.info(
                    "creating the check run on %s@%s: %s (attempt %d); looking for it",
                    repo,
                    head_sha[:12],
                    exc,
                    attempt,
                )
                made = [
                    run
                    for run in _head_runs(repository, head_sha)
                    if run.conclusion == conclusion
                    and run.output.title == fields["output"]["title"]
                    and (run.output.summary or "") == fields["output"]["summary"]
                ]
                if made:
                    return
                if attempt == CREATE_ATTEMPTS:
                    raise


def _head_runs(repository, head_sha: str) -> list:  # type: ignore[no-untyped-def]
    """This check's latest run on the head (GitHub's default `filter=latest`), or none."""
    return list(repository.get_commit(head_sha).get_check_runs(check_name=CHECK_NAME))
