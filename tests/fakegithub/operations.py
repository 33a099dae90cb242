"""Pull request operations that really change git history: merge (merge/squash/rebase) and update-branch.

They run on the bare repositories with the same rules GitHub applies (expected head sha,
conflicts, push rights on the head repository) so a bot's "merge" or "update branch" has the
same observable result as on GitHub: new commits on the branch, moved refs, PR state.
"""

from __future__ import annotations

from dataclasses import dataclass

from .gitrepo import GITHUB_IDENTITY, GitError
from .state import PullRequest, State, User, utcnow

MERGE_METHODS = ("merge", "squash", "rebase")


@dataclass
class Outcome:
    """An HTTP-shaped result: status plus either a message or the merge commit sha."""

    status: int
    message: str
    sha: str | None = None


def _identity(user: User) -> tuple[str, str]:
    return (user.name or user.login, user.email or user.noreply_email)


def merge_pull(
    state: State,
    pull: PullRequest,
    actor: User,
    method: str = "merge",
    commit_title: str | None = None,
    commit_message: str | None = None,
    sha: str | None = None,
) -> Outcome:
    """PUT /pulls/N/merge: create the merge, squash or rebased commits and move the base branch."""
    with state.lock:
        if pull.merged:
            return Outcome(405, "Pull Request is not mergeable")
        if pull.state != "open":
            return Outcome(405, "Pull Request is not mergeable")
        if pull.draft:
            return Outcome(405, "Pull Request is still a draft")
        state.sync_pull(pull)
        if sha is not None and sha != pull.head_sha:
            return Outcome(409, "Head branch was modified. Review and try the merge again.")
        if state.is_behind(pull):
            return Outcome(405, "Head branch is out of date. Review and try the merge again.")
        unmet = state.unmet_required_checks(pull)
        if unmet:
            name, why = unmet[0]
            return Outcome(405, f'Required status check "{name}" is {why}.')
        git = pull.repo.git
        base_ref = f"refs/heads/{pull.base_ref}"
        base_tip = git.rev_parse(base_ref)
        if base_tip is None:
            return Outcome(422, f"Base branch {pull.base_ref} does not exist")
        clean, tree = git.merge_tree(base_tip, pull.head_sha)
        if not clean or tree is None:
            return Outcome(405, "Pull Request is not mergeable")
        assert pull.head_repo is not None
        author = _identity(actor)
        if method == "merge":
            head = f"{pull.head_repo.owner.login}/{pull.head_ref}"
            title = commit_title or f"Merge pull request #{pull.number} from {head}"
            message = commit_message if commit_message is not None else pull.title
            new = git.commit_tree(
                tree,
                [base_tip, pull.head_sha],
                f"{title}\n\n{message}".rstrip() + "\n",
                author=author,
                committer=GITHUB_IDENTITY,
            )
        elif method == "squash":
            commits = git.commits(git.rev_list(base_tip, pull.head_sha))
            title = commit_title or f"{pull.title} (#{pull.number})"
            if commit_message is None:
                commit_message = "\n\n".join(f"* {c.message}" for c in commits)
            new = git.commit_tree(
                tree,
                [base_tip],
                f"{title}\n\n{commit_message}".rstrip() + "\n",
                author=author,
                committer=GITHUB_IDENTITY,
            )
        elif method == "rebase":
            commits = git.rev_list(base_tip, pull.head_sha)
            merges = [c for c in git.commits(commits) if len(c.parents) > 1]
            if merges:
                return Outcome(405, "This branch can't be rebased")
            rebased = git.rebase_onto(base_tip, commits, committer=GITHUB_IDENTITY)
            if rebased is None:
                return Outcome(405, "This branch can't be rebased")
            new = rebased
        else:
            return Outcome(422, f"Invalid merge_method {method!r}: must be one of merge, squash, rebase")
        try:
            git.update_ref(base_ref, new, base_tip)
        except GitError:
            return Outcome(409, "Base branch was modified. Review and try the merge again.")
        now = utcnow()
        pull.merged = True
        pull.merged_at = now
        pull.merged_by = actor
        pull.merge_commit_sha = new
        pull.state = "closed"
        pull.closed_at = now
        pull.closed_by = actor
        pull.updated_at = now
        pull.repo.pushed_at = now
        state.record(pull, "closed", merged=True)
        state.refresh_after_push(pull.repo)
        return Outcome(200, "Pull Request successfully merged", sha=new)


def update_branch(state: State, pull: PullRequest, actor: User, expected_head_sha: str | None = None) -> Outcome:
    """PUT /pulls/N/update-branch: merge the base branch into the head branch (in the head repository)."""
    with state.lock:
        if pull.state != "open":
            return Outcome(422, "Pull request is closed")
        state.sync_pull(pull)
        if expected_head_sha is not None and expected_head_sha != pull.head_sha:
            return Outcome(422, "expected head sha didn’t match current head ref.")
        head_repo = pull.head_repo
        assert head_repo is not None
        base_tip = pull.repo.git.rev_parse(f"refs/heads/{pull.base_ref}")
        if base_tip is None:
            return Outcome(422, "Base branch does not exist")
        head_git = head_repo.git
        if head_repo is not pull.repo:
            tmp = f"refs/fakegithub/update-branch/{pull.repo.id}-{pull.number}"
            head_git.fetch_ref(pull.repo.git.path, f"refs/heads/{pull.base_ref}", tmp)
        else:
            tmp = None
        try:
            if head_git.is_ancestor(base_tip, pull.head_sha):
                return Outcome(422, "There are no new commits on the base branch.")
            clean, tree = head_git.merge_tree(pull.head_sha, base_tip)
            if not clean or tree is None:
                return Outcome(422, "merge conflict between base and head")
            message = f"Merge branch '{pull.base_ref}' into {pull.head_ref}\n"
            new = head_git.commit_tree(
                tree, [pull.head_sha, base_tip], message, author=_identity(actor), committer=GITHUB_IDENTITY
            )
            try:
                head_git.update_ref(f"refs/heads/{pull.head_ref}", new, pull.head_sha)
            except GitError:
                return Outcome(422, "expected head sha didn’t match current head ref.")
        finally:
            if tmp is not None and head_git.ref_sha(tmp):
                head_git.delete_ref(tmp)
        state.refresh_after_push(head_repo)
        return Outcome(202, "Updating pull request branch.", sha=new)
