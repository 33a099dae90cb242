"""The fake's in-memory world: users, apps, installations, tokens, repositories and what hangs off them.

One `State` object owns everything behind a re-entrant lock, because the HTTP handlers run
on uvicorn's thread pool while tests call the setup API from the main thread. Repositories
are real bare git repositories under a temporary directory, so `git` and the REST API see
the same commits. Ids come from counters and timestamps are GitHub's `YYYY-MM-DDTHH:MM:SSZ`.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .gitrepo import BareRepo, GitError

PERMISSION_LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
DEFAULT_APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}
DEFAULT_APP_EVENTS = ["check_run", "check_suite", "issue_comment", "pull_request", "push"]
TOKEN_LIFETIME = timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    """GitHub's timestamp format: UTC, seconds, trailing Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def level_at_least(level: str, wanted: str) -> bool:
    return PERMISSION_LEVELS.index(level) >= PERMISSION_LEVELS.index(wanted)


def _token(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(36))


@dataclass
class User:
    id: int
    login: str
    type: str = "User"  # User, Bot, Organization
    name: str | None = None
    email: str | None = None
    created_at: datetime = field(default_factory=utcnow)

    @property
    def noreply_email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.github.com"


@dataclass(frozen=True)
class AppIdentity:
    """What a test needs to authenticate as the app (the same things GitHub's app settings page gives)."""

    app_id: int
    private_key_pem: str
    slug: str
    bot_login: str = "reviewbot[bot]"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: User
    bot: User
    public_key: object  # cryptography RSAPublicKey
    private_key_pem: str
    permissions: dict[str, str]
    events: list[str]
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class Installation:
    id: int
    app: App
    account: User
    repos: set[str] | None  # lower-case full names; None means every repository of the account
    permissions: dict[str, str]
    events: list[str]
    created_at: datetime = field(default_factory=utcnow)

    @property
    def repository_selection(self) -> str:
        return "all" if self.repos is None else "selected"


@dataclass
class Token:
    value: str
    kind: str  # "installation" or "user"
    user: User  # the bot user for installation tokens
    installation: Installation | None = None
    expires_at: datetime | None = None
    permissions: dict[str, str] | None = None  # installation tokens: possibly narrowed
    repos: set[str] | None = None  # installation tokens: possibly narrowed to some repositories
    id: int = 0

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or utcnow()) >= self.expires_at


@dataclass
class Principal:
    """Who is calling: an installation token, a user token, the app (JWT) or nobody."""

    kind: str  # installation, user, app, anonymous
    user: User | None = None
    token: Token | None = None
    app: App | None = None

    @property
    def installation(self) -> Installation | None:
        return self.token.installation if self.token else None

    @property
    def call_id(self) -> int | str | None:
        """What the call log records: the installation id, or 'user:<login>' / 'app:<id>'."""
        if self.kind == "installation" and self.installation:
            return self.installation.id
        if self.kind == "user" and self.user:
            return f"user:{self.user.login}"
        if self.kind == "app" and self.app:
            return f"app:{self.app.id}"
        return None

    def app_permission(self, category: str) -> str:
        """An installation's permission for one category (users are not limited by categories)."""
        if self.kind != "installation" or self.token is None:
            return "write"
        perms = self.token.permissions or {}
        return perms.get(category, "none")


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    content: str
    user: User
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class IssueComment:
    id: int
    repo: Repo
    issue_number: int
    body: str
    user: User
    app: App | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Review:
    id: int
    user: User
    body: str
    state: str
    commit_id: str | None
    submitted_at: datetime | None
    app: App | None = None


@dataclass
class Issue:
    id: int
    number: int
    repo: Repo
    title: str
    body: str | None
    user: User
    state: str = "open"
    state_reason: str | None = None
    labels: list[Label] = field(default_factory=list)
    locked: bool = False
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    closed_at: datetime | None = None
    closed_by: User | None = None

    @property
    def is_pull(self) -> bool:
        return False


@dataclass
class PullRequest(Issue):
    pull_id: int = 0
    head_repo: Repo | None = None
    head_ref: str = ""
    base_ref: str = "main"
    head_sha: str = ""
    base_sha: str = ""
    maintainer_can_modify: bool = False
    draft: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    reviews: list[Review] = field(default_factory=list)
    head_history: list[str] = field(default_factory=list)
    merge_check: tuple[str, str, bool] | None = None  # (base sha, head sha, clean) of the last test merge

    @property
    def is_pull(self) -> bool:
        return True


@dataclass
class CheckRun:
    id: int
    repo: Repo
    head_sha: str
    name: str
    app: App
    status: str = "queued"
    conclusion: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    details_url: str | None = None
    external_id: str | None = None
    output: dict = field(default_factory=dict)
    actions: list[dict] = field(default_factory=list)
    check_suite_id: int = 0


@dataclass
class CommitStatus:
    id: int
    repo: Repo
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    git: BareRepo
    private: bool = False
    default_branch: str = "main"
    description: str | None = None
    parent: Repo | None = None  # forks only
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    pushed_at: datetime = field(default_factory=utcnow)
    labels: dict[str, Label] = field(default_factory=dict)  # keyed by lower-case name
    collaborators: dict[str, str] = field(default_factory=dict)  # login (lower) -> permission level
    issues: dict[int, Issue] = field(default_factory=dict)
    check_runs: list[CheckRun] = field(default_factory=list)
    statuses: list[CommitStatus] = field(default_factory=list)
    strict_branches: set[str] = field(default_factory=set)  # branch protection: PRs must be up to date to merge
    # required status checks per branch: classic branch protection's list, and a ruleset's
    protected_checks: dict[str, list[str]] = field(default_factory=dict)
    ruleset_checks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def key(self) -> str:
        return self.full_name.lower()

    @property
    def fork(self) -> bool:
        return self.parent is not None

    @property
    def source(self) -> Repo | None:
        repo = self.parent
        while repo is not None and repo.parent is not None:
            repo = repo.parent
        return repo

    def pulls(self) -> list[PullRequest]:
        return [issue for issue in self.issues.values() if isinstance(issue, PullRequest)]


@dataclass(frozen=True)
class PullEvent:
    """Something GitHub would send a `pull_request` webhook for (the fake records, tests deliver)."""

    action: str  # opened, synchronize, closed, reopened, labeled, unlabeled
    repo: str  # base repository full name
    number: int
    before: str | None = None  # synchronize: old head sha
    after: str | None = None  # synchronize: new head sha
    label: str | None = None  # labeled / unlabeled
    merged: bool = False  # closed by a merge
    at: datetime = field(default_factory=utcnow)


class NotFound(LookupError):
    """Raised by the setup API for unknown users, repositories or numbers."""


class State:
    """Everything the fake knows. Mutations hold `lock`; readers outside the lock get snapshots."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.git_root = self.root / "git"
        self.git_root.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._ids = {
            kind: itertools.count(start)
            for kind, start in (
                ("user", 1001),
                ("app", 1),
                ("installation", 40001),
                ("repo", 700001),
                ("issue", 2000001),
                ("pull", 3000001),
                ("comment", 5000001),
                ("reaction", 9000001),
                ("label", 6000001),
                ("check_run", 8000001),
                ("check_suite", 8500001),
                ("status", 7000001),
                ("review", 4000001),
                ("token", 1),
            )
        }
        self.users: dict[str, User] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.comments: dict[int, IssueComment] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.events: list[PullEvent] = []
        self.rate_used: dict[str, int] = {}
        self._rate_lock = threading.Lock()  # separate: taken on the event loop, must not wait for handlers
        self.rate_limit = 15000
        self.rate_reset = utcnow() + timedelta(hours=1)

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # -- users and tokens --------------------------------------------------------------------

    def ensure_user(self, login: str, type: str = "User") -> User:
        with self.lock:
            user = self.users.get(login.lower())
            if user is None:
                user = User(id=self.next_id("user"), login=login, type=type)
                self.users[login.lower()] = user
            return user

    def user(self, login: str) -> User:
        user = self.users.get(login.lower())
        if user is None:
            raise NotFound(f"no user {login!r}")
        return user

    def add_user_token(self, user: User, value: str | None = None) -> Token:
        with self.lock:
            token = Token(value=value or _token("ghp_"), kind="user", user=user, id=self.next_id("token"))
            self.tokens[token.value] = token
            return token

    def mint_installation_token(
        self,
        installation: Installation,
        permissions: dict[str, str] | None = None,
        repos: set[str] | None = None,
        lifetime: timedelta = TOKEN_LIFETIME,
    ) -> Token:
        with self.lock:
            token = Token(
                value=_token("ghs_"),
                kind="installation",
                user=installation.app.bot,
                installation=installation,
                expires_at=utcnow() + lifetime,
                permissions=dict(permissions or installation.permissions),
                repos=repos,
                id=self.next_id("token"),
            )
            self.tokens[token.value] = token
            return token

    def lookup_token(self, value: str) -> Token | None:
        return self.tokens.get(value)

    # -- repositories ------------------------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        repo = self.repos.get(full_name.lower())
        if repo is None:
            raise NotFound(f"no repository {full_name!r}")
        return repo

    def find_repo(self, owner: str, name: str) -> Repo | None:
        if name.endswith(".git"):
            name = name[:-4]
        return self.repos.get(f"{owner}/{name}".lower())

    def create_repo(
        self,
        owner: str,
        name: str,
        *,
        source: Path | None = None,
        private: bool = False,
        default_branch: str = "main",
        description: str | None = None,
    ) -> Repo:
        with self.lock:
            if f"{owner}/{name}".lower() in self.repos:
                raise ValueError(f"repository {owner}/{name} exists")
            owner_user = self.ensure_user(owner)
            path = self.git_root / owner_user.login / f"{name}.git"
            bare = BareRepo.init(path, default_branch)
            if source is not None:
                bare.import_from(Path(source))
            bare.set_head(default_branch)
            repo = Repo(
                id=self.next_id("repo"),
                owner=owner_user,
                name=name,
                git=bare,
                private=private,
                default_branch=default_branch,
                description=description,
            )
            self.repos[repo.key] = repo
            return repo

    def fork(self, parent: Repo, new_owner: str, name: str | None = None) -> Repo:
        with self.lock:
            name = name or parent.name
            if f"{new_owner}/{name}".lower() in self.repos:
                raise ValueError(f"repository {new_owner}/{name} exists")
            owner_user = self.ensure_user(new_owner)
            path = self.git_root / owner_user.login / f"{name}.git"
            bare = BareRepo.clone_bare(parent.git.path, path)
            bare.set_head(parent.default_branch)
            repo = Repo(
                id=self.next_id("repo"),
                owner=owner_user,
                name=name,
                git=bare,
                private=parent.private,
                default_branch=parent.default_branch,
                description=parent.description,
                parent=parent,
            )
            self.repos[repo.key] = repo
            return repo

    def forks_of(self, repo: Repo) -> list[Repo]:
        return [other for other in self.repos.values() if other.parent is repo]

    # -- access control ----------------------------------------------------------------------

    def installation_includes(self, installation: Installation, repo: Repo) -> bool:
        if installation.repos is None:
            return repo.owner.login.lower() == installation.account.login.lower()
        return repo.key in installation.repos

    def installation_covers(self, token: Token, repo: Repo) -> bool:
        """An installation token reaches a repo if the installation does and the token was not narrowed."""
        if token.installation is None:
            return False
        if token.repos is not None and repo.key not in token.repos:
            return False
        return self.installation_includes(token.installation, repo)

    def repo_level(self, principal: Principal, repo: Repo) -> str:
        """The caller's role on a repository, GitHub's five levels plus 'none'."""
        public = "read" if not repo.private else "none"
        if principal.kind == "installation" and principal.token is not None:
            if self.installation_covers(principal.token, repo):
                return "maintain"
            return public
        if principal.kind == "user" and principal.user is not None:
            if principal.user.login.lower() == repo.owner.login.lower():
                return "admin"
            level = repo.collaborators.get(principal.user.login.lower(), "none")
            return public if level == "none" else level
        return public

    def user_level(self, user: User, repo: Repo) -> str:
        if user.login.lower() == repo.owner.login.lower():
            return "admin"
        return repo.collaborators.get(user.login.lower(), "none")

    def can_push(self, principal: Principal, repo: Repo, ref: str | None = None) -> bool:
        """Push rights for one ref: write on the repo, or 'allow edits by maintainers' on a PR's head branch."""
        if self._writes_repo(principal, repo):
            return True
        for pull in self.maintainer_editable_pulls(repo):
            if (ref is None or ref == f"refs/heads/{pull.head_ref}") and self._writes_repo(principal, pull.repo):
                return True
        return False

    def _writes_repo(self, principal: Principal, repo: Repo) -> bool:
        level = self.repo_level(principal, repo)
        if not level_at_least(level, "write"):
            return False
        return principal.app_permission("contents") == "write"

    def maintainer_editable_pulls(self, head_repo: Repo) -> list[PullRequest]:
        pulls = []
        for repo in self.repos.values():
            for pull in repo.pulls():
                if pull.head_repo is head_repo and pull.state == "open" and pull.maintainer_can_modify:
                    pulls.append(pull)
        return pulls

    # -- pull requests -----------------------------------------------------------------------

    def pull(self, repo: Repo, number: int) -> PullRequest:
        issue = repo.issues.get(number)
        if not isinstance(issue, PullRequest):
            raise NotFound(f"no pull request {repo.full_name}#{number}")
        return issue

    def open_pull(
        self,
        repo: Repo,
        head_repo: Repo,
        head_ref: str,
        base_ref: str,
        title: str,
        body: str | None,
        user: User,
        maintainer_can_modify: bool = False,
        draft: bool = False,
    ) -> PullRequest:
        with self.lock:
            head_sha = head_repo.git.rev_parse(f"refs/heads/{head_ref}")
            base_sha = repo.git.rev_parse(f"refs/heads/{base_ref}")
            if head_sha is None:
                raise NotFound(f"no branch {head_ref!r} in {head_repo.full_name}")
            if base_sha is None:
                raise NotFound(f"no branch {base_ref!r} in {repo.full_name}")
            number = max(repo.issues, default=0) + 1
            pull = PullRequest(
                id=self.next_id("issue"),
                number=number,
                repo=repo,
                title=title,
                body=body,
                user=user,
                pull_id=self.next_id("pull"),
                head_repo=head_repo,
                head_ref=head_ref,
                base_ref=base_ref,
                head_sha=head_sha,
                base_sha=base_sha,
                maintainer_can_modify=maintainer_can_modify and head_repo is not repo,
                draft=draft,
            )
            repo.issues[number] = pull
            self.sync_pull(pull)
            self.record(pull, "opened")
            return pull

    def sync_pull(self, pull: PullRequest) -> bool:
        """Refresh head sha and `refs/pull/N/head` from the head branch; True when the head moved."""
        with self.lock:
            if pull.state != "open":
                return False
            head_repo = pull.head_repo
            assert head_repo is not None
            tip = head_repo.git.rev_parse(f"refs/heads/{pull.head_ref}")
            base_tip = pull.repo.git.rev_parse(f"refs/heads/{pull.base_ref}")
            if base_tip:
                pull.base_sha = base_tip
            ref = f"refs/pull/{pull.number}/head"
            current = pull.repo.git.ref_sha(ref)
            moved = False
            if tip and tip != pull.head_sha:
                pull.head_history.append(pull.head_sha)
                self.record(pull, "synchronize", before=pull.head_sha, after=tip)
                pull.head_sha = tip
                pull.updated_at = utcnow()
                moved = True
            if current != pull.head_sha:
                if head_repo is pull.repo:
                    pull.repo.git.update_ref(ref, pull.head_sha)
                else:
                    with contextlib.suppress(GitError):
                        pull.repo.git.fetch_ref(head_repo.git.path, f"refs/heads/{pull.head_ref}", ref)
            self.mergeability(pull)
            return moved

    def record(self, issue: Issue, action: str, **details: object) -> None:
        if isinstance(issue, PullRequest):
            with self.lock:
                self.events.append(PullEvent(action, issue.repo.full_name, issue.number, **details))

    def refresh_after_push(self, repo: Repo) -> list[PullRequest]:
        """After refs of `repo` changed: move the pull refs of every PR whose head lives there."""
        moved = []
        with self.lock:
            repo.pushed_at = utcnow()
            for other in self.repos.values():
                for pull in other.pulls():
                    if pull.state == "open" and (pull.head_repo is repo or pull.repo is repo) and self.sync_pull(pull):
                        moved.append(pull)
        return moved

    def mergeability(self, pull: PullRequest) -> tuple[bool | None, str]:
        """(mergeable, mergeable_state) from a real test merge, which also becomes `refs/pull/N/merge`."""
        if pull.merged or pull.state != "open":
            return None, "unknown"
        git = pull.repo.git
        with self.lock:
            check = pull.merge_check
            if check is None or check[:2] != (pull.base_sha, pull.head_sha):
                clean, tree = git.merge_tree(pull.base_sha, pull.head_sha)
                merge_ref = f"refs/pull/{pull.number}/merge"
                if clean and tree:
                    sha = git.commit_tree(
                        tree, [pull.base_sha, pull.head_sha], f"Merge {pull.head_sha} into {pull.base_sha}\n"
                    )
                    git.update_ref(merge_ref, sha)
                elif git.ref_sha(merge_ref):
                    git.delete_ref(merge_ref)
                check = pull.merge_check = (pull.base_sha, pull.head_sha, clean)
        if not check[2]:
            return False, "dirty"
        if pull.draft:
            return True, "draft"
        if self.is_behind(pull):
            return True, "behind"
        if self.unmet_required_checks(pull):
            return True, "blocked"
        return True, "clean"

    def required_checks(self, repo: Repo, branch: str) -> list[str]:
        """The check names a merge into `branch` requires: classic protection's and the rulesets' together."""
        return sorted({*repo.protected_checks.get(branch, []), *repo.ruleset_checks.get(branch, [])})

    def unmet_required_checks(self, pull: PullRequest) -> list[tuple[str, str]]:
        """(name, "failing" | "expected") for each required check that is not green on the head, as GitHub
        blocks a merge: the newest check run or status of that name counts; a missing one is expected."""
        out = []
        for name in self.required_checks(pull.repo, pull.base_ref):
            runs = [run for run in pull.repo.check_runs if run.head_sha == pull.head_sha and run.name == name]
            statuses = [st for st in pull.repo.statuses if st.sha == pull.head_sha and st.context == name]
            if runs:
                run = max(runs, key=lambda r: r.id)
                green = run.status == "completed" and run.conclusion in ("success", "neutral", "skipped")
                out += [] if green else [(name, "failing" if run.status == "completed" else "expected")]
            elif statuses:
                state = max(statuses, key=lambda st: st.id).state
                out += [] if state == "success" else [(name, "expected" if state == "pending" else "failing")]
            else:
                out.append((name, "expected"))
        return out

    def is_behind(self, pull: PullRequest) -> bool:
        """Strict branch protection: the base tip must be in the head's history before it may merge."""
        base_tip = pull.repo.git.rev_parse(f"refs/heads/{pull.base_ref}")
        head_git = pull.repo.git
        return (
            pull.base_ref in pull.repo.strict_branches
            and base_tip is not None
            and not head_git.is_ancestor(base_tip, pull.head_sha)
        )

    # -- rate limit bookkeeping --------------------------------------------------------------

    def count_request(self, key: str) -> tuple[int, int, int]:
        """(limit, remaining, reset epoch) after one more request by `key` (never enforced)."""
        with self._rate_lock:
            now = utcnow()
            if now >= self.rate_reset:
                self.rate_used.clear()
                self.rate_reset = now + timedelta(hours=1)
            used = self.rate_used.get(key, 0) + 1
            self.rate_used[key] = used
            return self.rate_limit, max(0, self.rate_limit - used), int(self.rate_reset.timestamp())
