"""The fake GitHub against real clients: PyGithub over HTTP, plain `git` over smart HTTP, no mocks.

Every test runs against one server per module; each test builds its own repositories so tests
do not depend on each other's order. An autouse fixture fails any test whose traffic produced a
response that breaks GitHub's OpenAPI description; it checks everything since the previous test's
check, so traffic from module-scoped setup is covered too, whatever order the tests run in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import jwt
import pytest
from github import Auth, Github, GithubException, GithubIntegration

from tests.fakegithub import FakeGitHub
from tests.fakegithub.contract import Contract, oas30_to_jsonschema
from tests.fakegithub.webhooks import example, missing_keys

OWNER = "acme"
CONTRIBUTOR = "alice"
_names = itertools.count(1)

LOCK_BEFORE = "def locked(lock, body):\n    lock.acquire()\n    body()\n    lock.release()\n"
LOCK_AFTER = (
    "def locked(lock, body):\n    lock.acquire()\n    try:\n        body()\n    finally:\n        lock.release()\n"
)


# -- helpers -----------------------------------------------------------------------------------


def git_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_AUTHOR_NAME": CONTRIBUTOR,
        "GIT_AUTHOR_EMAIL": f"{CONTRIBUTOR}@users.noreply.github.com",
        "GIT_COMMITTER_NAME": CONTRIBUTOR,
        "GIT_COMMITTER_EMAIL": f"{CONTRIBUTOR}@users.noreply.github.com",
        "LC_ALL": "C",
    }


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, env=git_env(), capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc


def auth_header(token: str) -> str:
    """What `git -c http.extraHeader=...` sends for an installation token, as GitHub's docs show."""
    encoded = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return f"http.extraHeader=AUTHORIZATION: basic {encoded}"


def sign_jwt(claims: dict, private_key_pem: str) -> str:
    """An RS256 JWT with exactly these claims (PyJWT's encode insists on a string `iss`; GitHub does not)."""
    return jwt.api_jws.PyJWS().encode(json.dumps(claims).encode(), private_key_pem, algorithm="RS256")


def client(fake: FakeGitHub, auth, **kw) -> Github:
    return Github(auth=auth, base_url=fake.url, seconds_between_requests=0, seconds_between_writes=0, **kw)


def app_client(fake: FakeGitHub, world: World, **kw) -> Github:
    auth = Auth.AppAuth(world.app.app_id, world.app.private_key_pem).get_installation_auth(world.installation_id)
    return client(fake, auth, **kw)


class World:
    """One base repository under `acme`, alice's fork and PR #1 from alice:fix-lock."""

    def __init__(
        self,
        fake: FakeGitHub,
        app,
        installation_id: int,
        source: Path,
        *,
        private: bool = False,
        maintainer_can_modify: bool = False,
    ):
        self.app = app
        self.installation_id = installation_id
        self.name = f"locks{next(_names)}"
        self.repo = fake.create_repo(OWNER, self.name, source=source, private=private)
        self.fork = fake.fork(self.repo, CONTRIBUTOR)
        self.number = fake.open_pull_request(
            self.repo,
            f"{CONTRIBUTOR}:fix-lock",
            title="Release the lock when the body raises",
            body="## Test plan\n\n- [x] `pytest tests/test_lock.py`",
            maintainer_can_modify=maintainer_can_modify,
        )
        self.pull = fake.pull_request(self.repo, self.number)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local repository: main, a fix-lock branch off it, then an unrelated commit on main."""
    root = tmp_path_factory.mktemp("source")
    git("init", "-q", "-b", "main", cwd=root)
    (root / "lock.py").write_text(LOCK_BEFORE)
    (root / "README.md").write_text("# locks\n")
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "Initial import", cwd=root)
    git("checkout", "-q", "-b", "fix-lock", cwd=root)
    (root / "lock.py").write_text(LOCK_AFTER)
    (root / "tests").mkdir()
    (root / "tests" / "test_lock.py").write_text("def test_release():\n    assert True\n")
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "Release the lock in finally", cwd=root)
    git("checkout", "-q", "main", cwd=root)
    (root / "CHANGES.md").write_text("- unrelated\n")
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "Unrelated change on main", cwd=root)
    return root


@pytest.fixture(scope="module")
def fake():
    with FakeGitHub() as server:
        yield server


@pytest.fixture(scope="module")
def setup(fake: FakeGitHub):
    app = fake.create_app(app_id=1, slug="reviewbot")
    fake.add_org(OWNER)
    installation_id = fake.install(app.app_id, OWNER)  # every repository of acme
    tokens = {
        CONTRIBUTOR: fake.add_user(CONTRIBUTOR, email=f"{CONTRIBUTOR}@example.com"),
        "maintainer": fake.add_user("maintainer"),
        "stranger": fake.add_user("stranger"),
    }
    return app, installation_id, tokens


@pytest.fixture
def world(fake: FakeGitHub, setup, source: Path) -> World:
    app, installation_id, _ = setup
    w = World(fake, app, installation_id, source)
    fake.set_permission(w.repo, "maintainer", "write")
    return w


@pytest.fixture(scope="module")
def contract_cursor() -> list[tuple[int, int]]:
    """Where the previous contract check stopped: (0, 0) until the first test of the module ends."""
    return [(0, 0)]


@pytest.fixture(autouse=True)
def contract_clean(fake: FakeGitHub, contract_cursor: list[tuple[int, int]]):
    """Fail the test (at teardown) if any response since the previous check breaks GitHub's OpenAPI
    contract. Starting from the previous check rather than this test's start leaves no gap: module
    fixtures (`setup`) run before this one, and their traffic is charged to the first test after them."""
    fake.faults.clear()
    yield
    fake.faults.clear()
    since = contract_cursor[0]
    contract_cursor[0] = fake.contract_marks()
    fake.assert_contract_clean(since=since)


# -- the app and its installation --------------------------------------------------------------


def test_app_reads_pull_request_and_manages_a_comment(fake: FakeGitHub, world: World, source: Path):
    gh = app_client(fake, world)
    repo = gh.get_repo(world.repo)
    assert repo.private is False and repo.default_branch == "main"
    pr = repo.get_pull(world.number)

    fix_sha = git("rev-parse", "fix-lock", cwd=source).stdout.strip()
    main_sha = git("rev-parse", "main", cwd=source).stdout.strip()
    assert pr.head.sha == fix_sha and pr.head.ref == "fix-lock"
    assert pr.head.repo.full_name == world.fork and pr.head.repo.fork is True
    assert pr.base.ref == "main" and pr.base.sha == main_sha
    assert pr.user.login == CONTRIBUTOR and pr.state == "open" and pr.draft is False
    assert pr.maintainer_can_modify is False and pr.mergeable is True
    assert pr.title == "Release the lock when the body raises" and "Test plan" in pr.body
    assert (pr.commits, pr.changed_files) == (1, 2)
    assert sorted(f.filename for f in pr.get_files()) == ["lock.py", "tests/test_lock.py"]
    patch = next(f for f in pr.get_files() if f.filename == "lock.py").patch
    assert patch.startswith("@@") and "+    finally:" in patch
    commit = pr.get_commits()[0]
    assert commit.sha == fix_sha and commit.commit.message == "Release the lock in finally"
    assert commit.author.login == CONTRIBUTOR

    issue = repo.get_issue(world.number)
    comment = issue.create_comment("Reviewing…")
    assert comment.user.login == "reviewbot[bot]" and comment.user.type == "Bot"
    assert [c.body for c in fake.comments(world.repo, world.number)] == ["Reviewing…"]
    comment.edit("Review: proven")
    assert repo.get_issue(world.number).get_comment(comment.id).body == "Review: proven"
    assert fake.comments(world.repo, world.number)[0].body == "Review: proven"
    comment.delete()
    assert fake.comments(world.repo, world.number) == []

    assert repo.get_collaborator_permission(CONTRIBUTOR) == "read"
    assert repo.get_collaborator_permission("maintainer") == "write"
    assert repo.get_contents("lock.py", ref="fix-lock").decoded_content.decode() == LOCK_AFTER
    assert repo.get_branch("main").commit.sha == main_sha
    assert gh.get_rate_limit().resources.core.limit > 0
    integration = GithubIntegration(auth=Auth.AppAuth(world.app.app_id, world.app.private_key_pem), base_url=fake.url)
    assert integration.get_repo_installation(OWNER, world.name).id == world.installation_id
    assert integration.get_app().slug == "reviewbot"
    assert fake.count("POST", "/app/installations/*/access_tokens", status=201) >= 1


def test_pagination_walks_250_comments(fake: FakeGitHub, world: World):
    for i in range(250):
        fake.add_comment(world.repo, world.number, f"comment {i}", CONTRIBUTOR)
    path = f"/repos/{world.repo}/issues/{world.number}/comments"

    fake.reset_calls()
    gh = app_client(fake, world, per_page=100)
    comments = gh.get_repo(world.repo).get_issue(world.number).get_comments()
    bodies = [c.body for c in comments]
    assert bodies == [f"comment {i}" for i in range(250)]
    assert fake.count("GET", path) == 3  # pages of 100, 100, 50 walked through rel="next"
    assert comments.totalCount == 250

    token = fake.installation_token(world.installation_id)
    page = httpx.get(
        f"{fake.url}{path}", params={"per_page": 100, "page": 2}, headers={"Authorization": f"token {token}"}
    )
    links = page.headers["Link"]
    assert f'<{fake.url}{path}?per_page=100&page=1>; rel="prev"' in links
    assert f'<{fake.url}{path}?per_page=100&page=3>; rel="next"' in links
    assert f'<{fake.url}{path}?per_page=100&page=3>; rel="last"' in links
    assert f'<{fake.url}{path}?per_page=100&page=1>; rel="first"' in links
    default = httpx.get(f"{fake.url}{path}", headers={"Authorization": f"token {token}"})
    assert len(default.json()) == 30 and 'page=9>; rel="last"' in default.headers["Link"]


def test_check_runs_labels_reactions_statuses_reviews(fake: FakeGitHub, world: World):
    gh = app_client(fake, world)
    repo = gh.get_repo(world.repo)
    sha = world.pull.head_sha

    run = repo.create_check_run(
        name="reviewbot",
        head_sha=sha,
        status="in_progress",
        output={"title": "Proving", "summary": "Running the claimed tests"},
    )
    assert run.status == "in_progress" and run.app.slug == "reviewbot"
    run.edit(status="completed", conclusion="success", output={"title": "Proven", "summary": "2/2 passed"})
    assert repo.get_check_run(run.id).conclusion == "success"
    (stored,) = fake.check_runs(world.repo, sha)
    assert (stored.status, stored.conclusion, stored.output["title"]) == ("completed", "success", "Proven")

    token = fake.installation_token(world.installation_id)
    headers = {"Authorization": f"Bearer {token}"}
    listed = httpx.get(f"{fake.url}/repos/{world.repo}/commits/{sha}/check-runs", headers=headers).json()
    assert listed["total_count"] == 1 and listed["check_runs"][0]["id"] == run.id

    issue = repo.get_issue(world.number)
    issue.add_to_labels("status: proven", "rank: S")
    assert fake.labels(world.repo, world.number) == ["status: proven", "rank: S"]
    issue.remove_from_labels("rank: S")
    assert fake.labels(world.repo, world.number) == ["status: proven"]
    with pytest.raises(GithubException) as absent:
        issue.remove_from_labels("rank: S")
    assert absent.value.status == 404
    issue.set_labels("status: failed")
    assert [label.name for label in issue.get_labels()] == ["status: failed"]
    assert {label.name for label in repo.get_labels()} == {"status: proven", "rank: S", "status: failed"}

    comment = issue.create_comment("Proven.")
    reaction = comment.create_reaction("rocket")
    assert [r.content for r in comment.get_reactions()] == ["rocket"]
    assert comment.delete_reaction(reaction.id) is True
    assert list(comment.get_reactions()) == []

    created = httpx.post(
        f"{fake.url}/repos/{world.repo}/statuses/{sha}",
        headers=headers,
        json={"state": "pending", "context": "reviewbot", "description": "proving"},
    )
    assert created.status_code == 201
    httpx.post(
        f"{fake.url}/repos/{world.repo}/statuses/{sha}",
        headers=headers,
        json={"state": "success", "context": "reviewbot"},
    )
    combined = httpx.get(f"{fake.url}/repos/{world.repo}/commits/{sha}/status", headers=headers).json()
    assert combined["state"] == "success" and combined["total_count"] == 1
    assert [s.state for s in fake.statuses(world.repo, sha)] == ["pending", "success"]

    pr = repo.get_pull(world.number)
    review = pr.create_review(body="Looks proven.", event="COMMENT")
    assert review.state == "COMMENTED" and [r.id for r in pr.get_reviews()] == [review.id]


def test_token_auth_reads_and_cannot_create_check_runs(fake: FakeGitHub, setup, world: World):
    _, _, tokens = setup
    gh = client(fake, Auth.Token(tokens["maintainer"]))
    assert gh.get_user().login == "maintainer"
    repo = gh.get_repo(world.repo)
    comment = repo.get_issue(world.number).create_comment("Maintainer here")
    assert comment.user.login == "maintainer" and comment.user.type == "User"
    assert repo.get_pull(world.number).head.sha == world.pull.head_sha
    with pytest.raises(GithubException) as refused:
        repo.create_check_run(name="reviewbot", head_sha=world.pull.head_sha)
    assert refused.value.status == 403
    assert fake.check_runs(world.repo, world.pull.head_sha) == []
    # A stranger may read a public repository but not label its PRs.
    stranger = client(fake, Auth.Token(tokens["stranger"])).get_repo(world.repo).get_issue(world.number)
    with pytest.raises(GithubException) as forbidden:
        stranger.add_to_labels("rank: S")
    assert forbidden.value.status == 403


def test_bad_credentials_get_401_and_foreign_repos_404(fake: FakeGitHub, setup, world: World, tmp_path: Path):
    app, installation_id, tokens = setup
    other = fake.create_app(app_id=99, slug="other-app")
    forged = GithubIntegration(auth=Auth.AppAuth(app.app_id, other.private_key_pem), base_url=fake.url)
    with pytest.raises(GithubException) as bad_signature:
        forged.get_app()
    assert bad_signature.value.status == 401

    now = int(time.time())
    expired = sign_jwt({"iat": now - 1200, "exp": now - 600, "iss": app.app_id}, app.private_key_pem)
    answer = httpx.get(f"{fake.url}/app", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and "'Expiration time' claim" in answer.json()["message"]
    too_long = sign_jwt({"iat": now, "exp": now + 3600, "iss": str(app.app_id)}, app.private_key_pem)
    assert httpx.get(f"{fake.url}/app", headers={"Authorization": f"Bearer {too_long}"}).status_code == 401
    good = sign_jwt({"iat": now - 60, "exp": now + 540, "iss": app.app_id}, app.private_key_pem)  # integer iss
    assert httpx.get(f"{fake.url}/app", headers={"Authorization": f"Bearer {good}"}).json()["id"] == app.app_id
    assert httpx.get(f"{fake.url}/app", headers={"Authorization": f"token {tokens['maintainer']}"}).status_code == 401

    unknown = httpx.get(f"{fake.url}/repos/{world.repo}", headers={"Authorization": "token ghs_nope"})
    assert unknown.status_code == 401 and unknown.json()["message"] == "Bad credentials"
    token = fake.installation_token(installation_id)
    assert httpx.get(f"{fake.url}/repos/{world.repo}", headers={"Authorization": f"token {token}"}).status_code == 200
    fake.expire_token(token)
    gone = client(fake, Auth.Token(token)).get_repo
    with pytest.raises(GithubException) as expired_token:
        gone(world.repo)
    assert expired_token.value.status == 401

    fake.create_repo("bob", "private-thing", private=True, source=None)
    fresh = fake.installation_token(installation_id)
    hidden = httpx.get(f"{fake.url}/repos/bob/private-thing", headers={"Authorization": f"token {fresh}"})
    assert hidden.status_code == 404 and hidden.json()["message"] == "Not Found"
    public_fork = httpx.post(
        f"{fake.url}/repos/{world.fork}/issues/{world.number}/comments",
        headers={"Authorization": f"token {fresh}"},
        json={"body": "hi"},
    )
    assert public_fork.status_code in (403, 404)


# -- git over smart HTTP -----------------------------------------------------------------------


def test_git_clone_and_fetch_private_repo_need_a_token(fake: FakeGitHub, setup, source: Path, tmp_path: Path):
    app, installation_id, _ = setup
    w = World(fake, app, installation_id, source, private=True)
    token = fake.installation_token(installation_id)
    url = fake.git_url(OWNER, w.name)

    denied = git("clone", "-q", url, str(tmp_path / "anonymous"), check=False)
    assert denied.returncode != 0
    wrong = git("-c", auth_header("ghs_wrong"), "clone", "-q", url, str(tmp_path / "wrong"), check=False)
    assert wrong.returncode != 0

    work = tmp_path / "clone"
    git("-c", auth_header(token), "clone", "-q", url, str(work))
    assert (work / "lock.py").read_text() == LOCK_BEFORE
    git("-c", auth_header(token), "fetch", "-q", "origin", f"refs/pull/{w.number}/head:pr", cwd=work)
    assert git("rev-parse", "pr", cwd=work).stdout.strip() == w.pull.head_sha
    git("-c", auth_header(token), "fetch", "-q", "origin", f"refs/pull/{w.number}/merge:merge", cwd=work)
    merge_parents = git("rev-list", "--parents", "-n1", "merge", cwd=work).stdout.split()[1:]
    assert merge_parents == [w.pull.base_sha, w.pull.head_sha]
    assert fake.count("GET", f"/git/{OWNER}/{w.name}.git/info/refs", status=401) >= 1
    assert fake.count("POST", f"/git/{OWNER}/{w.name}.git/git-upload-pack", status=200) >= 1


def test_push_to_fork_needs_rights_and_moves_pull_ref(fake: FakeGitHub, setup, world: World, tmp_path: Path):
    _, _, tokens = setup
    token = fake.installation_token(world.installation_id)
    work = tmp_path / "work"
    git("-c", auth_header(token), "clone", "-q", fake.git_url(OWNER, world.name), str(work))
    git("-c", auth_header(token), "fetch", "-q", "origin", f"pull/{world.number}/head:pr", cwd=work)
    git("checkout", "-q", "pr", cwd=work)
    (work / "lock.py").write_text(LOCK_AFTER + "# reviewed\n")
    git("commit", "-q", "-am", "Bot: suggested change", cwd=work)
    new_head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    fork_url = fake.git_url(CONTRIBUTOR, world.name)

    refused = git("-c", auth_header(token), "push", fork_url, "HEAD:refs/heads/fix-lock", cwd=work, check=False)
    assert refused.returncode != 0 and "403" in refused.stderr
    assert fake.count(path_glob=f"/git/{CONTRIBUTOR}/{world.name}.git/*", status=403) >= 1
    assert fake.branch_sha(world.fork, "fix-lock") == world.pull.head_sha

    # Pushing to refs/pull/* is refused as on GitHub (hidden refs), even with rights on the base.
    hidden = git("-c", auth_header(token), "push", "origin", "HEAD:refs/pull/1/head", cwd=work, check=False)
    assert hidden.returncode != 0

    # The author allows edits by maintainers; the app may now push to the PR's head branch only.
    allowed = httpx.patch(
        f"{fake.url}/repos/{world.repo}/pulls/{world.number}",
        headers={"Authorization": f"token {tokens[CONTRIBUTOR]}"},
        json={"maintainer_can_modify": True},
    )
    assert allowed.status_code == 200 and allowed.json()["maintainer_can_modify"] is True
    other_branch = git("-c", auth_header(token), "push", fork_url, "HEAD:refs/heads/elsewhere", cwd=work, check=False)
    assert other_branch.returncode != 0
    git("-c", auth_header(token), "push", "-q", fork_url, "HEAD:refs/heads/fix-lock", cwd=work)
    assert fake.branch_sha(world.fork, "fix-lock") == new_head
    assert fake.ref_sha(world.repo, f"refs/pull/{world.number}/head") == new_head
    pr = app_client(fake, world).get_repo(world.repo).get_pull(world.number)
    assert pr.head.sha == new_head and pr.commits == 2

    # The contributor pushes to their own fork with their own token.
    (work / "README.md").write_text("# locks, by alice\n")
    git("commit", "-q", "-am", "Docs", cwd=work)
    git("-c", auth_header(tokens[CONTRIBUTOR]), "push", "-q", fork_url, "HEAD:refs/heads/fix-lock", cwd=work)
    assert fake.pull_request(world.repo, world.number).head_sha == git("rev-parse", "HEAD", cwd=work).stdout.strip()


def test_squash_merge_lands_on_base(fake: FakeGitHub, world: World):
    repo = app_client(fake, world).get_repo(world.repo)
    pr = repo.get_pull(world.number)
    base_before = fake.branch_sha(world.repo, "main")
    with pytest.raises(GithubException) as moved:
        pr.merge(merge_method="squash", sha=base_before)
    assert moved.value.status == 409

    result = pr.merge(merge_method="squash", sha=pr.head.sha, commit_title="Release the lock in finally (#1)")
    assert result.merged is True
    base_after = fake.branch_sha(world.repo, "main")
    assert base_after == result.sha != base_before
    bare = fake.repo_path(world.repo)
    parents = git("--git-dir", str(bare), "rev-list", "--parents", "-n1", base_after).stdout.split()[1:]
    assert parents == [base_before]  # squash: one parent
    assert git("--git-dir", str(bare), "show", f"{base_after}:lock.py").stdout == LOCK_AFTER
    assert git("--git-dir", str(bare), "show", f"{base_after}:CHANGES.md").stdout == "- unrelated\n"
    assert (
        git("--git-dir", str(bare), "log", "-1", "--format=%s", base_after).stdout.strip()
        == "Release the lock in finally (#1)"
    )
    merged = repo.get_pull(world.number)
    assert merged.merged is True and merged.state == "closed" and merged.merge_commit_sha == base_after
    assert merged.is_merged() is True
    with pytest.raises(GithubException) as again:
        merged.merge()
    assert again.value.status == 405


def test_merge_commit_and_conflicts(fake: FakeGitHub, setup, source: Path):
    app, installation_id, _ = setup
    clean, conflicting = (World(fake, app, installation_id, source) for _ in range(2))
    repo = app_client(fake, clean).get_repo(clean.repo)
    base_before = fake.branch_sha(clean.repo, "main")
    result = repo.get_pull(clean.number).merge(merge_method="merge")
    parents = git("--git-dir", str(fake.repo_path(clean.repo)), "rev-list", "--parents", "-n1", result.sha).stdout
    assert parents.split()[1:] == [base_before, clean.pull.head_sha]
    assert fake.events[-1].action == "closed" and fake.events[-1].merged is True

    fake.commit_to_branch(conflicting.repo, "main", {"lock.py": "def locked():\n    pass\n"}, message="Rewrite")
    pr = app_client(fake, conflicting).get_repo(conflicting.repo).get_pull(conflicting.number)
    assert pr.mergeable is False and pr.mergeable_state == "dirty"
    with pytest.raises(GithubException) as refused:
        pr.merge(merge_method="rebase")
    assert refused.value.status == 405
    assert fake.ref_sha(conflicting.repo, f"refs/pull/{conflicting.number}/merge") is None


def test_update_branch_and_api_pull_requests(fake: FakeGitHub, setup, source: Path):
    app, installation_id, _ = setup
    w = World(fake, app, installation_id, source)
    fake.commit_to_branch(w.repo, "main", {"NEWS.md": "news\n"}, message="News on main")
    repo = app_client(fake, w).get_repo(w.repo)
    pr = repo.get_pull(w.number)
    with pytest.raises(GithubException) as refused:
        pr.update_branch()
    assert refused.value.status == 403
    fake.set_maintainer_can_modify(w.repo, w.number, True)
    head_before = fake.branch_sha(w.fork, "fix-lock")
    assert pr.update_branch() is True
    head_after = fake.branch_sha(w.fork, "fix-lock")
    bare = fake.repo_path(w.fork)
    parents = git("--git-dir", str(bare), "rev-list", "--parents", "-n1", head_after).stdout.split()[1:]
    assert parents == [head_before, fake.branch_sha(w.repo, "main")]
    assert repo.get_pull(w.number).head.sha == head_after

    # A replacement PR opened through the API from a branch the bot creates on the base repo.
    main = repo.get_git_ref("heads/main")
    ref = repo.create_git_ref("refs/heads/reviewbot/replacement", main.object.sha)
    new_sha = fake.commit_to_branch(w.repo, "reviewbot/replacement", {"lock.py": LOCK_AFTER}, message="Replace")
    assert repo.get_git_ref("heads/reviewbot/replacement").object.sha == new_sha
    replacement = repo.create_pull(title="Replacement", body="Supersedes #1", base="main", head="reviewbot/replacement")
    assert replacement.user.login == "reviewbot[bot]" and replacement.head.repo.full_name == w.repo
    assert {p.number for p in repo.get_pulls(state="open")} == {w.number, replacement.number}
    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(title="Again", body="", base="main", head="reviewbot/replacement")
    assert duplicate.value.status == 422
    replacement.edit(state="closed")
    assert [p.number for p in repo.get_pulls(state="closed")] == [replacement.number]
    ref.edit(main.object.sha, force=True)
    assert fake.branch_sha(w.repo, "reviewbot/replacement") == main.object.sha
    ref.delete()
    assert fake.branch_sha(w.repo, "reviewbot/replacement") is None


# -- faults ------------------------------------------------------------------------------------


def test_each_fault_kind_is_observable(fake: FakeGitHub, world: World):
    token = fake.installation_token(world.installation_id)
    url = f"{fake.url}/repos/{world.repo}"
    headers = {"Authorization": f"token {token}"}

    fake.faults.add("5xx", path_glob="/repos/*")
    broken = httpx.get(url, headers=headers)
    assert broken.status_code == 502 and broken.json()["message"] == "Server Error"
    assert httpx.get(url, headers=headers).status_code == 200  # times=1

    fake.faults.add("secondary_rate_limit", path_glob="/repos/*", retry_after=7)
    limited = httpx.get(url, headers=headers)
    assert limited.status_code == 403 and limited.headers["Retry-After"] == "7"
    assert limited.json()["message"].startswith("You have exceeded a secondary rate limit")

    fake.faults.add("rate_limit", method="GET", path_glob="/repos/*", reset_in=30)
    primary = httpx.get(url, headers=headers)
    assert primary.status_code == 403 and primary.headers["X-RateLimit-Remaining"] == "0"
    assert int(primary.headers["X-RateLimit-Reset"]) >= int(time.time()) + 25

    fake.faults.add("429", path_glob="/repos/*", retry_after=3)
    too_many = httpx.get(url, headers=headers)
    assert too_many.status_code == 429 and too_many.headers["Retry-After"] == "3"

    fake.faults.add("slow", path_glob="/repos/*", seconds=0.6)
    started = time.monotonic()
    assert httpx.get(url, headers=headers).status_code == 200
    assert time.monotonic() - started >= 0.6

    fake.faults.add("drop", path_glob="/repos/*")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url, headers=headers)
    assert fake.calls[-1].status == 0 and fake.calls[-1].fault == "drop"
    assert httpx.get(url, headers=headers).status_code == 200

    # Method filters, and git traffic is subject to faults too.
    fake.faults.add("5xx", method="POST", path_glob="/repos/*", status=503)
    assert httpx.get(url, headers=headers).status_code == 200
    fake.faults.clear()


def test_probabilistic_faults_are_deterministic_per_seed(fake: FakeGitHub, world: World):
    token = fake.installation_token(world.installation_id)
    url = f"{fake.url}/repos/{world.repo}/issues/{world.number}"
    headers = {"Authorization": f"token {token}"}

    def run(seed: int) -> list[int]:
        fake.faults.clear()
        fake.faults.add("5xx", path_glob="/repos/*/issues/*", times=None, probability=0.5, seed=seed)
        with httpx.Client(headers=headers) as http:
            return [http.get(url).status_code for _ in range(16)]

    first, second = run(42), run(42)
    assert first == second and {200, 502} <= set(first)
    assert run(7) != first
    fake.faults.clear()
    assert httpx.get(url, headers=headers).status_code == 200


def test_git_traffic_is_subject_to_faults(fake: FakeGitHub, world: World, tmp_path: Path):
    token = fake.installation_token(world.installation_id)
    fake.faults.add("5xx", path_glob="/git/*/info/refs")
    failed = git(
        "-c", auth_header(token), "clone", "-q", fake.git_url(OWNER, world.name), str(tmp_path / "a"), check=False
    )
    assert failed.returncode != 0 and "502" in failed.stderr
    git("-c", auth_header(token), "clone", "-q", fake.git_url(OWNER, world.name), str(tmp_path / "b"))


# -- webhooks ----------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_delivery_is_signed_like_github(fake: FakeGitHub, world: World):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        payload = fake.payload_for_pull_request(world.repo, world.number, "opened", world.installation_id)
        answer = fake.deliver(f"http://127.0.0.1:{server.server_port}/webhooks", "pull_request", payload, "s3cret")
        assert answer.status_code == 202
    finally:
        server.shutdown()
        server.server_close()
    headers, body = _Receiver.received[-1]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    assert headers["X-GitHub-Event"] == "pull_request" and headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert len(headers["X-GitHub-Delivery"]) == 36 and headers["X-GitHub-Hook-ID"]
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert sent["pull_request"]["head"]["sha"] == world.pull.head_sha
    assert sent["repository"]["full_name"] == world.repo and sent["installation"]["id"] == world.installation_id
    assert list(sent) == ["action", "number", "pull_request", "repository", "installation", "organization", "sender"]
    assert missing_keys(example("pull_request", "opened"), sent) == []

    fake.commit_to_branch(world.fork, "fix-lock", {"lock.py": LOCK_AFTER + "\n"}, message="More", author=CONTRIBUTOR)
    events = [e for e in fake.events if e.repo == world.repo]
    assert [e.action for e in events] == ["opened", "synchronize"]
    assert events[1].before == world.pull.head_history[0] and events[1].after == world.pull.head_sha
    sync = fake.payload_for_event(events[1], world.installation_id)
    assert sync["action"] == "synchronize" and sync["before"] == events[1].before
    assert sync["after"] == sync["pull_request"]["head"]["sha"] == fake.pull_request(world.repo, world.number).head_sha
    assert missing_keys(example("pull_request", "synchronize"), sync) == []


# -- the contract checker itself ---------------------------------------------------------------


def test_contract_checker_catches_bad_bodies_and_undocumented_endpoints():
    contract = Contract()  # a separate instance: these violations are expected
    assert contract.match("/repos/a/b/git/ref/heads/feature/x") == "/repos/{owner}/{repo}/git/ref/{ref}"
    assert contract.match("/repos/a/b/issues/comments/5") == "/repos/{owner}/{repo}/issues/comments/{comment_id}"
    bad = contract.check("GET", "/repos/a/b/issues/comments/5", 200, "application/json", b'{"id": "five"}')
    assert (bad is not None and "required" in bad.error) or "five" in bad.error
    undocumented = contract.check("GET", "/repos/a/b/forks", 200, "application/json", b"[]")
    assert undocumented.error.startswith("undocumented endpoint")
    assert "undocumented status" in contract.check("GET", "/repos/a/b", 201, "application/json", b"{}").error
    assert contract.check("GET", "/repos/a/b", 401, "application/json", b'{"message": "Bad credentials"}') is None
    assert len(contract.violations) == 3
    converted = oas30_to_jsonschema({"type": "string", "nullable": True, "enum": ["a"]})
    assert converted == {"type": ["string", "null"], "enum": ["a", None]}
    wrapped = oas30_to_jsonschema({"nullable": True, "oneOf": [{"type": "string"}, {"type": "integer"}]})
    assert wrapped == {"anyOf": [{"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "null"}]}


def test_every_rest_response_is_checked_against_the_contract(fake: FakeGitHub, world: World, tmp_path: Path):
    """The checker is wired into the server: each REST answer is checked exactly once and git's
    smart-HTTP traffic is not, so `contract_clean` sees every response a test causes."""
    token = fake.installation_token(world.installation_id)
    headers = {"Authorization": f"token {token}"}
    before = fake.contract.checked
    for path in (f"/repos/{world.repo}", f"/repos/{world.repo}/pulls/{world.number}", "/rate_limit"):
        assert httpx.get(f"{fake.url}{path}", headers=headers).status_code == 200
    git("-c", auth_header(token), "clone", "-q", fake.git_url(OWNER, world.name), str(tmp_path / "clone"))
    assert fake.count(path_glob=f"/git/{OWNER}/{world.name}.git/*", status=200) >= 2
    assert fake.contract.checked == before + 3
