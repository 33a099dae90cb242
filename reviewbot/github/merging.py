"""What automerge reads and does on GitHub: checks on a head and the required ones, commit authors,
update-branch, merge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from github import GithubException

from reviewbot.github.client import Connection, calls_as
from reviewbot.model import Check

SUCCESSFUL = ("success", "neutral", "skipped")


def checks_on(connection: Connection, repo: str, sha: str) -> list[Check]:
    """Check runs and commit statuses on a head, normalised to success / failure / pending."""
    with calls_as(connection.account):
        commit = connection.github.get_repo(repo).get_commit(sha)
        checks = [Check(run.name, _run_state(run.status, run.conclusion)) for run in commit.get_check_runs()]
        combined = commit.get_combined_status()
        checks += [
            Check(status.context, "failure" if status.state == "error" else status.state)
            for status in combined.statuses
        ]
    return checks


def required_checks(connection: Connection, repo: str, branch: str) -> list[str] | None:
    """The check names a merge into `branch` requires, from the rulesets that apply to it and its classic
    branch protection; None when GitHub does not let this installation read either (or answers oddly).

    Two reads: `GET /rules/branches/{branch}` (every active ruleset's rules, repository and organisation
    level; metadata: read) and `GET /branches/{branch}`, whose `protection.required_status_checks` carries
    the classic list (`contexts`, and `checks[].context`).
    """
    names: set[str] = set()
    with calls_as(connection.account):
        repository = connection.github.get_repo(repo)
        try:
            _, rules = repository.requester.requestJsonAndCheck(
                "GET", f"{repository.url}/rules/branches/{quote(branch)}"
            )
            _, found = repository.requester.requestJsonAndCheck("GET", f"{repository.url}/branches/{quote(branch)}")
        except GithubException as exc:
            if exc.status in (401, 403, 404):
                return None
            raise
    if not isinstance(rules, list) or not isinstance(found, Mapping):
        return None
    for rule in rules:
        if isinstance(rule, Mapping) and rule.get("type") == "required_status_checks":
            parameters = rule.get("parameters") or {}
            names |= {
                str(check["context"])
                for check in parameters.get("required_status_checks") or []
                if isinstance(check, Mapping) and check.get("context")
            }
    classic = _classic_required(found)
    return None if classic is None else sorted(names | classic)


def _classic_required(branch: Mapping[str, Any]) -> set[str] | None:
    """Classic protection's required checks; None when the branch is protected but its protection is not shown."""
    if not branch.get("protected"):
        return set()
    protection = branch.get("protection")
    if not isinstance(protection, Mapping):
        return None
    if protection.get("enabled") is False:
        return set()
    checks = protection.get("required_status_checks")
    if not isinstance(checks, Mapping):
        return set()  # protected, but no status checks required
    if checks.get("enforcement_level") == "off":
        return set()
    return {str(name) for name in checks.get("contexts") or []} | {
        str(check["context"])
        for check in checks.get("checks") or []
        if isinstance(check, Mapping) and check.get("context")
    }


def _run_state(status: str, conclusion: str | None) -> str:
    if status != "completed":
        return "pending"
    return "success" if conclusion in SUCCESSFUL else "failure"


def commit_authors(connection: Connection, repo: str, number: int) -> list[tuple[str, str]]:
    """(name, email) of every commit's author in the PR, in order, for Co-authored-by trailers."""
    with calls_as(connection.account):
        commits = connection.github.get_repo(repo).get_pull(number).get_commits()
        return [(c.commit.author.name, c.commit.author.email) for c in commits]


def update_branch(connection: Connection, repo: str, number: int, head_sha: str) -> bool:
    """GitHub's update-branch (merge the base into the head); False when GitHub refuses (no push rights)."""
    with calls_as(connection.account):
        try:
            return bool(connection.github.get_repo(repo).get_pull(number).update_branch(head_sha))
        except GithubException as exc:
            if exc.status in (403, 422):
                return False
            raise


def merge(
    connection: Connection, repo: str, number: int, head_sha: str, method: str, title: str, message: str
) -> tuple[bool, str]:
    """Merge with the head pinned: (merged, GitHub's message). A moved head or a conflict is not an error."""
    with calls_as(connection.account):
        try:
            status = (
                connection.github.get_repo(repo)
                .get_pull(number)
                .merge(commit_message=message, commit_title=title, merge_method=method, sha=head_sha)
            )
            return bool(status.merged), status.message or ""
        except GithubException as exc:
            if exc.status in (405, 409, 422):
                return False, str((exc.data or {}).get("message", exc))
            raise
