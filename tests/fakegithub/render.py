"""GitHub's JSON shapes for the fake's state objects.

Every builder returns the object GitHub returns — all the properties the OpenAPI schema
requires plus the optional ones GitHub really sends and clients read — with `url` fields
pointing at the fake's API and `html_url` fields at its (unserved) web root. Kept apart from
the routes so the webhook payloads reuse exactly the same shapes.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from .gitrepo import CommitInfo, FileChange
from .state import (
    App,
    CheckRun,
    CommitStatus,
    Installation,
    Issue,
    IssueComment,
    Label,
    Principal,
    PullRequest,
    Reaction,
    Repo,
    Review,
    State,
    User,
    iso,
    level_at_least,
)

REACTION_KEYS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode().rstrip("=")


class Renderer:
    """Builds response bodies; `base` is the fake's origin, e.g. http://127.0.0.1:8123."""

    def __init__(self, state: State, base: str):
        self.state = state
        self.api = base.rstrip("/")
        self.web = base.rstrip("/")
        self._stats: dict[tuple[str, str, str], tuple[int, int, int, int]] = {}

    # -- people ------------------------------------------------------------------------------

    def user(self, user: User | None) -> dict | None:
        if user is None:
            return None
        login = quote(user.login)
        api = f"{self.api}/users/{login}"
        html = f"{self.web}/apps/{user.login[:-5]}" if user.type == "Bot" else f"{self.web}/{login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("Bot" if user.type == "Bot" else "User", user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def private_user(self, user: User) -> dict:
        owned = [r for r in self.state.repos.values() if r.owner is user]
        return {
            **self.user(user),
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": user.email,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "notification_email": user.email,
            "public_repos": sum(1 for r in owned if not r.private),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(user.created_at),
            "updated_at": iso(user.created_at),
            "private_gists": 0,
            "total_private_repos": sum(1 for r in owned if r.private),
            "owned_private_repos": sum(1 for r in owned if r.private),
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
            "plan": {"name": "free", "space": 976562499, "collaborators": 0, "private_repos": 10000},
        }

    def author_association(self, user: User | None, repo: Repo) -> str:
        if user is None or user.type == "Bot":
            return "NONE"
        if user.login.lower() == repo.owner.login.lower():
            return "OWNER"
        if level_at_least(repo.collaborators.get(user.login.lower(), "none"), "read"):
            return "COLLABORATOR"
        pulls = [p for p in repo.pulls() if p.user is user]
        if any(p.merged for p in pulls):
            return "CONTRIBUTOR"
        if pulls:
            return "FIRST_TIME_CONTRIBUTOR"
        return "NONE"

    def permissions(self, level: str) -> dict:
        return {
            "admin": level_at_least(level, "admin"),
            "maintain": level_at_least(level, "maintain"),
            "push": level_at_least(level, "write"),
            "triage": level_at_least(level, "triage"),
            "pull": level_at_least(level, "read"),
        }

    # -- apps --------------------------------------------------------------------------------

    def app(self, app: App | None) -> dict | None:
        if app is None:
            return None
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("App", app.id),
            "client_id": f"Iv1.{app.id:016x}",
            "owner": self.user(app.owner),
            "name": app.name,
            "description": f"{app.name} (fake GitHub app)",
            "external_url": f"{self.web}/apps/{app.slug}/about",
            "html_url": f"{self.web}/apps/{app.slug}",
            "created_at": iso(app.created_at),
            "updated_at": iso(app.created_at),
            "permissions": dict(app.permissions),
            "events": list(app.events),
            "installations_count": sum(1 for i in self.state.installations.values() if i.app is app),
        }

    def installation(self, inst: Installation) -> dict:
        return {
            "id": inst.id,
            "client_id": f"Iv1.{inst.app.id:016x}",
            "account": self.user(inst.account),
            "repository_selection": inst.repository_selection,
            "access_tokens_url": f"{self.api}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.web}/settings/installations/{inst.id}",
            "app_id": inst.app.id,
            "app_slug": inst.app.slug,
            "target_id": inst.account.id,
            "target_type": "Organization" if inst.account.type == "Organization" else "User",
            "permissions": dict(inst.permissions),
            "events": list(inst.events),
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    # -- repositories ------------------------------------------------------------------------

    def repository(self, repo: Repo, principal: Principal | None = None, full: bool = False) -> dict:
        api = f"{self.api}/repos/{repo.full_name}"
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        forks = len(self.state.forks_of(repo))
        out = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": f"{self.web}/{repo.full_name}",
            "description": repo.description,
            "fork": repo.fork,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "pushed_at": iso(repo.pushed_at),
            "git_url": f"git://{self.api.split('://', 1)[1]}/{repo.full_name}.git",
            "ssh_url": f"git@{self.api.split('://', 1)[1].split(':')[0]}:{repo.full_name}.git",
            "clone_url": f"{self.api}/git/{repo.full_name}.git",
            "svn_url": f"{self.web}/{repo.full_name}",
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": forks,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": forks,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }
        if principal is not None and principal.kind in ("user", "installation"):
            out["permissions"] = self.permissions(self.state.repo_level(principal, repo))
        if full:
            out.update(
                {
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": False,
                    "delete_branch_on_merge": False,
                    "allow_update_branch": True,
                    "use_squash_pr_title_as_default": False,
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "merge_commit_message": "PR_TITLE",
                    "custom_properties": {},
                    "network_count": forks,
                    "subscribers_count": 0,
                }
            )
            if repo.parent is not None:
                out["parent"] = self.repository(repo.parent)
                out["source"] = self.repository(repo.source or repo.parent)
            if repo.owner.type == "Organization":
                out["organization"] = self.user(repo.owner)
        return out

    def minimal_repo(self, repo: Repo) -> dict:
        return self.repository(repo)

    # -- issues, pulls, comments -------------------------------------------------------------

    def label(self, label: Label, repo: Repo) -> dict:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def reactions_rollup(self, url: str, reactions: list[Reaction]) -> dict:
        rollup = {"url": url, "total_count": len(reactions)}
        for key in REACTION_KEYS:
            rollup[key] = sum(1 for r in reactions if r.content == key)
        return rollup

    def issue_comments_of(self, repo: Repo, number: int) -> list[IssueComment]:
        return [c for c in self.state.comments.values() if c.repo is repo and c.issue_number == number]

    def issue(self, issue: Issue) -> dict:
        repo = issue.repo
        api = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        html = f"{self.web}/{repo.full_name}/{kind}/{issue.number}"
        comments = self.issue_comments_of(repo, issue.number)
        out = {
            "url": api,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": html,
            "id": issue.id,
            "node_id": node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(label, repo) for label in issue.labels],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(comments),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "author_association": self.author_association(issue.user, repo),
            "active_lock_reason": None,
            "body": issue.body,
            "closed_by": self.user(issue.closed_by),
            "reactions": self.reactions_rollup(f"{api}/reactions", []),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if isinstance(issue, PullRequest):
            pulls = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
            out["draft"] = issue.draft
            out["pull_request"] = {
                "url": pulls,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(issue.merged_at),
            }
        return out

    def comment(self, comment: IssueComment) -> dict:
        repo = comment.repo
        issue = repo.issues.get(comment.issue_number)
        kind = "pull" if issue is not None and issue.is_pull else "issues"
        api = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        return {
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "url": api,
            "html_url": f"{self.web}/{repo.full_name}/{kind}/{comment.issue_number}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{comment.issue_number}",
            "author_association": self.author_association(comment.user, repo),
            "performed_via_github_app": self.app(comment.app),
            "reactions": self.reactions_rollup(f"{api}/reactions", comment.reactions),
        }

    def reaction(self, reaction: Reaction) -> dict:
        return {
            "id": reaction.id,
            "node_id": node_id("Reaction", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    def pull_stats(self, pull: PullRequest) -> tuple[int, int, int, int]:
        """(commits, additions, deletions, changed_files) of the PR's three-dot diff, cached by shas."""
        key = (pull.repo.key, pull.base_sha, pull.head_sha)
        if key not in self._stats:
            git = pull.repo.git
            base = git.merge_base(pull.base_sha, pull.head_sha) or pull.base_sha
            files = git.diff_files(base, pull.head_sha)
            commits = len(git.rev_list(pull.base_sha, pull.head_sha))
            self._stats[key] = (
                commits,
                sum(f.additions for f in files),
                sum(f.deletions for f in files),
                len(files),
            )
        return self._stats[key]

    def _pull_side(self, repo: Repo, ref: str, sha: str) -> dict:
        return {
            "label": f"{repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repository(repo),
        }

    def pull(self, pull: PullRequest, full: bool = True) -> dict:
        repo = pull.repo
        api = f"{self.api}/repos/{repo.full_name}/pulls/{pull.number}"
        issue_api = f"{self.api}/repos/{repo.full_name}/issues/{pull.number}"
        html = f"{self.web}/{repo.full_name}/pull/{pull.number}"
        statuses = f"{self.api}/repos/{repo.full_name}/statuses/{pull.head_sha}"
        assert pull.head_repo is not None
        mergeable, mergeable_state = (None, "unknown")
        merge_commit_sha = pull.merge_commit_sha
        if full or pull.state == "open":
            mergeable, mergeable_state = self.state.mergeability(pull)
            if pull.state == "open":
                merge_commit_sha = repo.git.ref_sha(f"refs/pull/{pull.number}/merge")
        out = {
            "url": api,
            "id": pull.pull_id,
            "node_id": node_id("PullRequest", pull.pull_id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_api,
            "number": pull.number,
            "state": pull.state,
            "locked": pull.locked,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body,
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            # the pull-request schema types a label's description as a string (issues allow null)
            "labels": [{**self.label(label, repo), "description": label.description or ""} for label in pull.labels],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": statuses,
            "head": self._pull_side(pull.head_repo, pull.head_ref, pull.head_sha),
            "base": self._pull_side(repo, pull.base_ref, pull.base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": self.author_association(pull.user, repo),
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if full:
            commits, additions, deletions, changed = self.pull_stats(pull)
            out.update(
                {
                    "merged": pull.merged,
                    "mergeable": mergeable,
                    "rebaseable": mergeable,
                    "mergeable_state": mergeable_state,
                    "merged_by": self.user(pull.merged_by),
                    "comments": len(self.issue_comments_of(repo, pull.number)),
                    "review_comments": 0,
                    "maintainer_can_modify": pull.maintainer_can_modify,
                    "commits": commits,
                    "additions": additions,
                    "deletions": deletions,
                    "changed_files": changed,
                }
            )
        return out

    def review(self, review: Review, pull: PullRequest) -> dict:
        repo = pull.repo
        html = f"{self.web}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}"
        api = f"{self.api}/repos/{repo.full_name}/pulls/{pull.number}"
        out = {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": api,
            "author_association": self.author_association(review.user, repo),
            "_links": {"html": {"href": html}, "pull_request": {"href": api}},
            "commit_id": review.commit_id,
        }
        if review.submitted_at is not None:
            out["submitted_at"] = iso(review.submitted_at)
        return out

    # -- git data ----------------------------------------------------------------------------

    def _user_by_email(self, email: str) -> User | None:
        email = email.lower()
        for user in self.state.users.values():
            if email in (user.noreply_email.lower(), f"{user.login.lower()}@users.noreply.github.com"):
                return user
            if user.email and user.email.lower() == email:
                return user
        return None

    def commit(self, info: CommitInfo, repo: Repo) -> dict:
        api = f"{self.api}/repos/{repo.full_name}"
        return {
            "url": f"{api}/commits/{info.sha}",
            "sha": info.sha,
            "node_id": node_id("Commit", int(info.sha[:8], 16)),
            "html_url": f"{self.web}/{repo.full_name}/commit/{info.sha}",
            "comments_url": f"{api}/commits/{info.sha}/comments",
            "commit": {
                "url": f"{api}/git/commits/{info.sha}",
                "author": {"name": info.author_name, "email": info.author_email, "date": iso(info.author_date)},
                "committer": {
                    "name": info.committer_name,
                    "email": info.committer_email,
                    "date": iso(info.committer_date),
                },
                "message": info.message,
                "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "author": self.user(self._user_by_email(info.author_email)),
            "committer": self.user(self._user_by_email(info.committer_email)),
            "parents": [
                {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{self.web}/{repo.full_name}/commit/{p}"}
                for p in info.parents
            ],
        }

    def diff_entry(self, change: FileChange, repo: Repo, head_sha: str) -> dict:
        path = quote(change.filename)
        out = {
            "sha": change.sha,
            "filename": change.filename,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{self.web}/{repo.full_name}/blob/{head_sha}/{path}",
            "raw_url": f"{self.web}/{repo.full_name}/raw/{head_sha}/{path}",
            "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{path}?ref={head_sha}",
        }
        if change.patch is not None:
            out["patch"] = change.patch
        if change.previous_filename:
            out["previous_filename"] = change.previous_filename
        return out

    def git_ref(self, repo: Repo, ref: str, sha: str) -> dict:
        api = f"{self.api}/repos/{repo.full_name}"
        kind = repo.git.object_type(sha) or "commit"
        return {
            "ref": ref,
            "node_id": node_id("Ref", abs(hash((repo.id, ref))) % 10**9),
            "url": f"{api}/git/{quote(ref)}",
            "object": {"type": kind, "sha": sha, "url": f"{api}/git/{kind}s/{sha}"},
        }

    def branch(self, repo: Repo, name: str, info: CommitInfo) -> dict:
        api = f"{self.api}/repos/{repo.full_name}/branches/{quote(name)}"
        required = repo.protected_checks.get(name, [])
        return {
            "name": name,
            "commit": self.commit(info, repo),
            "_links": {"self": api, "html": f"{self.web}/{repo.full_name}/tree/{quote(name)}"},
            "protected": bool(required) or name in repo.strict_branches,
            "protection": {
                "enabled": bool(required) or name in repo.strict_branches,
                "required_status_checks": {
                    "enforcement_level": "non_admins" if required else "off",
                    "contexts": list(required),
                    "checks": [{"context": context, "app_id": None} for context in required],
                    "strict": name in repo.strict_branches,
                },
            },
            "protection_url": f"{api}/protection",
        }

    def branch_rules(self, repo: Repo, name: str) -> list[dict]:
        """GET /rules/branches/{branch}: one `required_status_checks` rule when a ruleset requires checks."""
        required = repo.ruleset_checks.get(name)
        if not required:
            return []
        return [
            {
                "type": "required_status_checks",
                "ruleset_source_type": "Repository",
                "ruleset_source": repo.full_name,
                "ruleset_id": 1,
                "parameters": {
                    "required_status_checks": [{"context": context} for context in required],
                    "strict_required_status_checks_policy": name in repo.strict_branches,
                },
            }
        ]

    def content_links(self, repo: Repo, path: str, ref: str, kind: str, sha: str) -> dict:
        api = f"{self.api}/repos/{repo.full_name}"
        git_kind = "trees" if kind == "dir" else "blobs"
        web_kind = "tree" if kind == "dir" else "blob"
        return {
            "url": f"{api}/contents/{quote(path)}?ref={quote(ref)}",
            "git_url": f"{api}/git/{git_kind}/{sha}",
            "html_url": f"{self.web}/{repo.full_name}/{web_kind}/{quote(ref)}/{quote(path)}",
            "download_url": None if kind == "dir" else f"{self.web}/{repo.full_name}/raw/{quote(ref)}/{quote(path)}",
        }

    def content_item(self, repo: Repo, path: str, ref: str, kind: str, sha: str, size: int) -> dict:
        links = self.content_links(repo, path, ref, kind, sha)
        return {
            "type": kind,
            "size": size,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            **links,
            "_links": {"self": links["url"], "git": links["git_url"], "html": links["html_url"]},
        }

    # -- checks and statuses -----------------------------------------------------------------

    def check_run(self, run: CheckRun) -> dict:
        repo = run.repo
        api = f"{self.api}/repos/{repo.full_name}/check-runs/{run.id}"
        pulls = [p for p in repo.pulls() if p.state == "open" and p.head_sha == run.head_sha and p.head_repo is repo]
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": node_id("CheckRun", run.id),
            "external_id": run.external_id if run.external_id is not None else "",
            "url": api,
            "html_url": f"{self.web}/{repo.full_name}/runs/{run.id}",
            "details_url": run.details_url or f"{self.web}/{repo.full_name}/runs/{run.id}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at),
            "completed_at": iso(run.completed_at),
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": len(run.output.get("annotations") or []),
                "annotations_url": f"{api}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.check_suite_id},
            "app": self.app(run.app),
            "pull_requests": [self._minimal_pull(p) for p in pulls],
        }

    def _minimal_pull(self, pull: PullRequest) -> dict:
        def side(repo: Repo, ref: str, sha: str) -> dict:
            return {
                "ref": ref,
                "sha": sha,
                "repo": {"id": repo.id, "url": f"{self.api}/repos/{repo.full_name}", "name": repo.name},
            }

        assert pull.head_repo is not None
        return {
            "id": pull.pull_id,
            "number": pull.number,
            "url": f"{self.api}/repos/{pull.repo.full_name}/pulls/{pull.number}",
            "head": side(pull.head_repo, pull.head_ref, pull.head_sha),
            "base": side(pull.repo, pull.base_ref, pull.base_sha),
        }

    def status(self, status: CommitStatus) -> dict:
        return {
            "url": f"{self.api}/repos/{status.repo.full_name}/statuses/{status.sha}",
            "avatar_url": f"{self.web}/avatars/u/{status.creator.id}?v=4",
            "id": status.id,
            "node_id": node_id("StatusContext", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.updated_at),
            "creator": self.user(status.creator),
        }

    def combined_status(self, repo: Repo, sha: str, statuses: list[CommitStatus]) -> dict:
        latest: dict[str, CommitStatus] = {}
        for status in statuses:  # oldest first: later ones win
            latest[status.context] = status
        states = [s.state for s in latest.values()]
        if any(s in ("error", "failure") for s in states):
            state = "failure"
        elif not states or any(s == "pending" for s in states):
            state = "pending"
        else:
            state = "success"
        simple = []
        for status in sorted(latest.values(), key=lambda s: -s.id):
            entry = self.status(status)
            entry.pop("creator")
            simple.append(entry)
        api = f"{self.api}/repos/{repo.full_name}"
        return {
            "state": state,
            "statuses": simple,
            "sha": sha,
            "total_count": len(simple),
            "repository": self.minimal_repo(repo),
            "commit_url": f"{api}/commits/{sha}",
            "url": f"{api}/commits/{sha}/status",
        }
