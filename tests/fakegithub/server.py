"""`FakeGitHub`: the server object tests hold — a uvicorn thread plus a plain-Python setup API.

The REST API is served at the root (`fake.url`, use it as PyGithub's `base_url`), git at
`fake.git_url(owner, repo)`. Tests arrange the world (apps, installations, users, repositories,
forks, pull requests) with methods here rather than over HTTP, then point the code under test at
the server and inspect `calls`, state accessors and `contract_violations` afterwards.
"""

from __future__ import annotations

import fnmatch
import shutil
import socket
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import webhooks
from .app import build_app, served_routes
from .contract import Contract, ContractViolation
from .faults import Faults
from .gitrepo import BareRepo, git_env
from .middleware import Call, GitHubMiddleware
from .render import Renderer
from .state import (
    DEFAULT_APP_EVENTS,
    DEFAULT_APP_PERMISSIONS,
    PERMISSION_LEVELS,
    App,
    AppIdentity,
    CheckRun,
    CommitStatus,
    Installation,
    IssueComment,
    NotFound,
    PullEvent,
    PullRequest,
    Review,
    State,
    utcnow,
)


class FakeGitHub:
    """A stateful fake of api.github.com and github.com's git endpoints on 127.0.0.1."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, root: Path | None = None, strict_requests: bool = False
    ):
        """`strict_requests`: answer 422 (as GitHub does) to request bodies that break the documented
        schema; by default they are answered normally and only recorded in `request_violations`."""
        self.host = host
        self.strict_requests = strict_requests
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="fakegithub-"))
        self.state = State(self.root)
        self.faults = Faults()
        self.contract = Contract()
        self.calls: list[Call] = []
        self.call_listeners: list = []  # callables given each Call as it is logged, before its answer is sent
        self.deliveries: list[webhooks.Delivery] = []
        self._calls_lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port = self._sock.getsockname()[1]
        self.render = Renderer(self.state, self.url)
        self.asgi = GitHubMiddleware(build_app(self), self)
        self.contract.check_routes(served_routes())
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        if self._thread is not None:
            return self
        config = uvicorn.Config(
            self.asgi,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="fakegithub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake GitHub did not start")
            time.sleep(0.01)
        with socket.create_connection((self.host, self.port), timeout=5):
            pass
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self._sock.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The REST API base URL (PyGithub's `base_url`)."""
        return f"http://{self.host}:{self.port}"

    def git_url(self, owner: str, repo: str) -> str:
        return f"{self.url}/git/{owner}/{repo}.git"

    def repo_path(self, full_name: str) -> Path:
        """The bare repository on disk (for assertions with plain git)."""
        return self.state.repo(full_name).git.path

    # -- call log and contract ---------------------------------------------------------------

    def _record_call(self, call: Call) -> None:
        with self._calls_lock:
            self.calls.append(call)
        for listener in list(self.call_listeners):  # before the answer leaves: a test may act "mid-request"
            listener(call)

    def count(self, method: str | None = None, path_glob: str | None = None, status: int | None = None) -> int:
        with self._calls_lock:
            calls = list(self.calls)
        return sum(
            1
            for c in calls
            if (method is None or c.method == method.upper())
            and (path_glob is None or fnmatch.fnmatchcase(c.path, path_glob))
            and (status is None or c.status == status)
        )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    @property
    def contract_violations(self) -> list[ContractViolation]:
        return self.contract.violations

    @property
    def request_violations(self) -> list[ContractViolation]:
        """Request bodies sent to the fake that GitHub's description does not allow (the client's bugs)."""
        return self.contract.request_violations

    def contract_marks(self) -> tuple[int, int]:
        """Positions in (contract_violations, request_violations), for `assert_contract_clean(since=...)`."""
        return len(self.contract.violations), len(self.contract.request_violations)

    def assert_contract_clean(self, since: tuple[int, int] = (0, 0), requests: bool = True) -> None:
        """Raise with a readable list when a response (or, with `requests`, a request body) since
        `since` broke GitHub's OpenAPI contract."""
        responses = self.contract.violations[since[0] :]
        bodies = self.contract.request_violations[since[1] :] if requests else []
        if responses or bodies:
            lines = [f"response: {v}" for v in responses] + [f"request: {v}" for v in bodies]
            raise AssertionError(f"{len(lines)} breach(es) of GitHub's OpenAPI contract:\n  " + "\n  ".join(lines))

    # -- apps, installations, users ----------------------------------------------------------

    def create_app(
        self,
        app_id: int = 1,
        slug: str = "reviewbot",
        *,
        name: str | None = None,
        owner: str = "reviewbot-dev",
        permissions: dict[str, str] | None = None,
        events: list[str] | None = None,
    ) -> AppIdentity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        with self.state.lock:
            if app_id in self.state.apps:
                raise ValueError(f"app {app_id} exists")
            bot = self.state.ensure_user(f"{slug}[bot]", type="Bot")
            self.state.apps[app_id] = App(
                id=app_id,
                slug=slug,
                name=name or slug,
                owner=self.state.ensure_user(owner),
                bot=bot,
                public_key=key.public_key(),
                private_key_pem=pem,
                permissions=dict(permissions or DEFAULT_APP_PERMISSIONS),
                events=list(events or DEFAULT_APP_EVENTS),
            )
        return AppIdentity(app_id=app_id, private_key_pem=pem, slug=slug, bot_login=bot.login)

    def install(
        self,
        app_id: int,
        owner: str,
        repos: list[str] | None = None,
        *,
        permissions: dict[str, str] | None = None,
    ) -> int:
        """Install the app on `owner`'s account: on `repos` (names or full names) or, with None, on all."""
        with self.state.lock:
            app = self.state.apps[app_id]
            account = self.state.ensure_user(owner)
            selected = None
            if repos is not None:
                selected = {(r if "/" in r else f"{owner}/{r}").lower() for r in repos}
            installation = Installation(
                id=self.state.next_id("installation"),
                app=app,
                account=account,
                repos=selected,
                permissions=dict(permissions or app.permissions),
                events=list(app.events),
            )
            self.state.installations[installation.id] = installation
            return installation.id

    def installation_token(
        self,
        installation_id: int,
        *,
        permissions: dict[str, str] | None = None,
        repos: list[str] | None = None,
        expires_in: timedelta = timedelta(hours=1),
    ) -> str:
        """Mint an installation token directly (what POST /app/installations/N/access_tokens returns)."""
        installation = self.state.installations[installation_id]
        account = installation.account.login
        narrowed = {(r if "/" in r else f"{account}/{r}").lower() for r in repos} if repos is not None else None
        return self.state.mint_installation_token(installation, permissions, narrowed, lifetime=expires_in).value

    def expire_token(self, token: str) -> None:
        with self.state.lock:
            self.state.tokens[token].expires_at = utcnow() - timedelta(seconds=1)

    def add_user(
        self, login: str, token: str | None = None, *, name: str | None = None, email: str | None = None
    ) -> str:
        """Create (or reuse) a user and give them a personal access token; returns the token."""
        with self.state.lock:
            user = self.state.ensure_user(login)
            user.name = name if name is not None else user.name
            user.email = email if email is not None else user.email
            return self.state.add_user_token(user, token).value

    def add_org(self, login: str) -> None:
        self.state.ensure_user(login, type="Organization")

    def set_permission(self, repo: str, login: str, level: str) -> None:
        if level not in PERMISSION_LEVELS:
            raise ValueError(f"permission must be one of {PERMISSION_LEVELS}")
        with self.state.lock:
            target = self.state.repo(repo)
            self.state.ensure_user(login)
            if level == "none":
                target.collaborators.pop(login.lower(), None)
            else:
                target.collaborators[login.lower()] = level

    # -- repositories and branches -----------------------------------------------------------

    def create_repo(
        self,
        owner: str,
        name: str,
        source: Path | None = None,
        private: bool = False,
        default_branch: str = "main",
        description: str | None = None,
    ) -> str:
        """A bare repository; with `source` (a local git repository) all its branches and tags are pushed in."""
        return self.state.create_repo(
            owner, name, source=source, private=private, default_branch=default_branch, description=description
        ).full_name

    def fork(self, full_name: str, new_owner: str, name: str | None = None) -> str:
        return self.state.fork(self.state.repo(full_name), new_owner, name).full_name

    def branch_sha(self, repo: str, branch: str) -> str | None:
        return self.state.repo(repo).git.rev_parse(f"refs/heads/{branch}")

    def ref_sha(self, repo: str, ref: str) -> str | None:
        return self.state.repo(repo).git.ref_sha(ref)

    def push_to_branch(self, repo: str, branch: str, source: Path, ref: str = "HEAD", force: bool = True) -> str:
        """Push `ref` of a local repository to `branch` (as the owner would), then refresh PR refs."""
        target = self.state.repo(repo)
        spec = f"{'+' if force else ''}{ref}:refs/heads/{branch}"
        BareRepo(Path(source) / ".git" if (Path(source) / ".git").exists() else Path(source)).run(
            "push", "-q", str(target.git.path), spec
        )
        self.state.refresh_after_push(target)
        sha = target.git.rev_parse(f"refs/heads/{branch}")
        assert sha is not None
        return sha

    def commit_to_branch(
        self,
        repo: str,
        branch: str,
        files: dict[str, str | bytes | None],
        message: str = "Update files",
        author: str | None = None,
    ) -> str:
        """Commit `files` (path -> content, None deletes) on top of `branch` directly in the bare repo."""
        target = self.state.repo(repo)
        with self.state.lock:
            user = self.state.ensure_user(author) if author else target.owner
            parent = target.git.rev_parse(f"refs/heads/{branch}")
            sha = target.git.commit_files(
                parent, files, message, (user.name or user.login, user.email or user.noreply_email)
            )
            target.git.update_ref(f"refs/heads/{branch}", sha, parent or "0" * 40)
        self.state.refresh_after_push(target)
        return sha

    # -- pull requests and what hangs off them -----------------------------------------------

    def open_pull_request(
        self,
        repo: str,
        head: str,
        base: str = "main",
        title: str = "Fix a locking bug",
        body: str = "",
        user: str | None = None,
        maintainer_can_modify: bool = False,
        draft: bool = False,
    ) -> int:
        """Open a PR; `head` is "branch" (same repository) or "owner:branch" (that owner's fork)."""
        target = self.state.repo(repo)
        head_owner, _, branch = head.rpartition(":")
        head_repo = target
        if head_owner and head_owner.lower() != target.owner.login.lower():
            forks = [
                r
                for r in self.state.repos.values()
                if r.owner.login.lower() == head_owner.lower() and r.source is (target.source or target)
            ]
            if not forks:
                raise NotFound(f"{head_owner} has no fork of {repo}")
            head_repo = forks[0]
        author = self.state.ensure_user(user) if user else head_repo.owner
        pull = self.state.open_pull(
            target,
            head_repo,
            branch,
            base,
            title,
            body,
            author,
            maintainer_can_modify=maintainer_can_modify,
            draft=draft,
        )
        return pull.number

    def pull_request(self, repo: str, number: int) -> PullRequest:
        """The live state object of a PR (read it; change it through the API or the methods here)."""
        return self.state.pull(self.state.repo(repo), number)

    def sync_pull_request(self, repo: str, number: int) -> bool:
        """Re-read the head branch into the PR and `refs/pull/N/head`; True when the head moved."""
        return self.state.sync_pull(self.pull_request(repo, number))

    def close_pull_request(self, repo: str, number: int) -> None:
        pull = self.pull_request(repo, number)
        with self.state.lock:
            if pull.state == "closed":
                return
            pull.state = "closed"
            pull.closed_at = pull.updated_at = utcnow()
            self.state.record(pull, "closed")

    def reopen_pull_request(self, repo: str, number: int) -> None:
        pull = self.pull_request(repo, number)
        with self.state.lock:
            if pull.merged:
                raise ValueError("a merged pull request cannot be reopened")
            if pull.state == "open":
                return
            pull.state = "open"
            pull.closed_at = None
            pull.updated_at = utcnow()
            self.state.record(pull, "reopened")
        self.state.sync_pull(pull)

    def require_up_to_date(self, repo: str, branch: str = "main") -> None:
        """Branch protection's "require branches to be up to date": behind PRs cannot merge."""
        with self.state.lock:
            self.state.repo(repo).strict_branches.add(branch)

    def require_checks(self, repo: str, branch: str, names: list[str], *, via: str = "protection") -> None:
        """Required status checks on `branch`: classic branch protection's (`via="protection"`) or a ruleset's."""
        with self.state.lock:
            target = self.state.repo(repo)
            (target.protected_checks if via == "protection" else target.ruleset_checks)[branch] = list(names)

    def set_maintainer_can_modify(self, repo: str, number: int, value: bool) -> None:
        pull = self.pull_request(repo, number)
        with self.state.lock:
            pull.maintainer_can_modify = value and pull.head_repo is not pull.repo

    def add_comment(self, repo: str, number: int, body: str, user: str) -> int:
        """A comment by `user` (as if posted on github.com); returns its id."""
        target = self.state.repo(repo)
        if number not in target.issues:
            raise NotFound(f"no issue {repo}#{number}")
        with self.state.lock:
            comment = IssueComment(
                id=self.state.next_id("comment"),
                repo=target,
                issue_number=number,
                body=body,
                user=self.state.ensure_user(user),
            )
            self.state.comments[comment.id] = comment
            return comment.id

    def comments(self, repo: str, number: int) -> list[IssueComment]:
        target = self.state.repo(repo)
        with self.state.lock:
            return sorted(
                (c for c in self.state.comments.values() if c.repo is target and c.issue_number == number),
                key=lambda c: c.id,
            )

    def labels(self, repo: str, number: int) -> list[str]:
        target = self.state.repo(repo)
        issue = target.issues.get(number)
        if issue is None:
            raise NotFound(f"no issue {repo}#{number}")
        return [label.name for label in issue.labels]

    def reviews(self, repo: str, number: int) -> list[Review]:
        return list(self.pull_request(repo, number).reviews)

    def check_runs(self, repo: str, sha: str) -> list[CheckRun]:
        return [r for r in self.state.repo(repo).check_runs if r.head_sha == sha]

    def statuses(self, repo: str, sha: str) -> list[CommitStatus]:
        return [s for s in self.state.repo(repo).statuses if s.sha == sha]

    # -- webhooks ----------------------------------------------------------------------------

    @property
    def events(self) -> list[PullEvent]:
        """PR changes GitHub would send `pull_request` webhooks for, oldest first (opened,
        synchronize after any push or API change to the head, closed/merged, reopened, labeled,
        unlabeled). The fake does not deliver them by itself: e2e tests pick and `deliver`."""
        return self.state.events

    def payload_for_event(self, event: PullEvent, installation_id: int) -> dict[str, Any]:
        return self.payload_for_pull_request(
            event.repo,
            event.number,
            event.action,
            installation_id,
            before=event.before,
            after=event.after,
            label=event.label,
        )

    def payload_for_pull_request(
        self,
        repo: str,
        n: int,
        action: str,
        installation_id: int,
        *,
        sender: str | None = None,
        before: str | None = None,
        after: str | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """A `pull_request` webhook payload for the PR as it is now, shaped like GitHub's examples."""
        return webhooks.pull_request_payload(
            self.state,
            self.render,
            self.pull_request(repo, n),
            action,
            installation_id,
            sender=self.state.user(sender) if sender else None,
            before=before,
            after=after,
            label=label,
        )

    def payload_for_issue_comment(self, repo: str, comment_id: int, action: str, installation_id: int) -> dict:
        comment = self.state.comments[comment_id]
        if comment.repo is not self.state.repo(repo):
            raise NotFound(f"comment {comment_id} is not in {repo}")
        return webhooks.issue_comment_payload(self.state, self.render, comment, action, installation_id)

    def deliver(
        self,
        app_url: str,
        event: str,
        payload: dict,
        secret: str,
        delivery_id: str | None = None,
        *,
        hook_id: int = 123456789,
        app_id: int | None = None,
        timeout: float = 30.0,
    ) -> httpx.Response:
        """POST a webhook to the service under test, signed and headed exactly like GitHub's."""
        response, delivery = webhooks.deliver(
            app_url, event, payload, secret, delivery_id, hook_id=hook_id, app_id=app_id, timeout=timeout
        )
        self.deliveries.append(delivery)
        return response


__all__ = ["AppIdentity", "Call", "ContractViolation", "FakeGitHub", "git_env"]
