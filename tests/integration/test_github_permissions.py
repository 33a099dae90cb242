"""Permission lookups, their cache, and the 👀 acknowledgement, against the fake GitHub over HTTP."""

from __future__ import annotations

import itertools

import pytest
from github import GithubException
from requests.exceptions import RetryError

from reviewbot.github.client import Connection, GitHubEdge, default_retry
from reviewbot.github.permissions import PermissionCache, fetch_permission, parse_permission
from reviewbot.github.reactions import acknowledge
from reviewbot.model import Permission
from tests.fakegithub import FakeGitHub

OWNER = "acme"
PERMISSION_PATH = "/repos/*/collaborators/*/permission"
_names = itertools.count(1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def fake():
    with FakeGitHub() as server:
        yield server
        server.assert_contract_clean()


@pytest.fixture(scope="module")
def setup(fake: FakeGitHub) -> tuple[str, Connection]:
    app = fake.create_app()
    fake.add_org(OWNER)
    repo = fake.create_repo(OWNER, "locks", private=True)
    installation = fake.install(app.app_id, OWNER, ["locks"])
    for login in ("ada", "max", "wes", "tia", "rex", "nat", "carol"):
        fake.add_user(login)
    for login, level in (
        ("ada", "admin"),
        ("max", "maintain"),
        ("wes", "write"),
        ("tia", "triage"),
        ("rex", "read"),
        ("nat", "none"),
    ):
        fake.set_permission(repo, login, level)
    edge = GitHubEdge(
        fake.url,
        app_id=app.app_id,
        private_key=app.private_key_pem,
        retry=default_retry(total=2, backoff_factor=0.01, max_wait_s=1),
        throttle=False,
    )
    return repo, edge.connection(installation)


@pytest.fixture(autouse=True)
def contract_clean(fake: FakeGitHub):
    marks = fake.contract_marks()
    fake.faults.clear()
    yield
    fake.faults.clear()
    fake.assert_contract_clean(since=marks)


def lookups(fake: FakeGitHub) -> int:
    return fake.count("GET", PERMISSION_PATH)


# -- the lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "level"),
    [
        ("ada", Permission.ADMIN),
        ("max", Permission.MAINTAIN),
        ("wes", Permission.WRITE),
        ("tia", Permission.TRIAGE),
        ("rex", Permission.READ),
        ("nat", Permission.NONE),
        ("carol", Permission.NONE),  # a user who was never a collaborator
        ("acme", Permission.ADMIN),  # the owner
    ],
)
def test_each_level_is_told_apart(fake: FakeGitHub, setup, login: str, level: Permission) -> None:
    repo, connection = setup
    before = lookups(fake)
    assert PermissionCache().permission(connection, repo, login) is level
    assert lookups(fake) == before + 1


def test_a_user_github_does_not_know_is_none_and_cached(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    cache = PermissionCache()
    before = fake.count("GET", PERMISSION_PATH, status=404)
    assert cache.permission(connection, repo, "nobody-at-all") is Permission.NONE
    assert fake.count("GET", PERMISSION_PATH, status=404) == before + 1
    calls = lookups(fake)
    assert cache.permission(connection, repo, "Nobody-At-All") is Permission.NONE
    assert lookups(fake) == calls


def test_an_installed_apps_bot_user_is_looked_up_too(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    assert fetch_permission(connection, repo, "reviewbot[bot]") is Permission.WRITE


def test_the_lookup_is_counted_against_the_installation(fake: FakeGitHub, setup) -> None:
    from reviewbot.github.client import CALLS

    repo, connection = setup
    before = CALLS.total(connection.account)
    fetch_permission(connection, repo, "wes")
    assert CALLS.total(connection.account) == before + 1


# -- the cache ----------------------------------------------------------------------------------


def test_a_second_lookup_is_served_from_the_cache(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    cache = PermissionCache(clock=FakeClock())
    before = lookups(fake)
    assert cache.permission(connection, repo, "wes") is Permission.WRITE
    assert cache.permission(connection, repo, "wes") is Permission.WRITE
    assert cache.permission(connection, repo.upper(), "WES") is Permission.WRITE  # case-insensitive key
    assert lookups(fake) == before + 1


def test_the_cache_expires_after_the_ttl(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    clock = FakeClock()
    cache = PermissionCache(ttl_s=60, clock=clock)
    fake.add_user("promoted")
    fake.set_permission(repo, "promoted", "read")
    before = lookups(fake)
    assert cache.permission(connection, repo, "promoted") is Permission.READ
    fake.set_permission(repo, "promoted", "write")
    clock.now += 59.9
    assert cache.permission(connection, repo, "promoted") is Permission.READ  # still fresh
    assert lookups(fake) == before + 1
    clock.now += 0.1
    assert cache.permission(connection, repo, "promoted") is Permission.WRITE  # expired: asked again
    assert lookups(fake) == before + 2
    clock.now += 30
    assert cache.permission(connection, repo, "promoted") is Permission.WRITE
    assert lookups(fake) == before + 2


def test_the_cache_keeps_at_most_max_entries(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    cache = PermissionCache(clock=FakeClock(), max_entries=2)
    for login in ("ada", "max", "wes"):
        cache.permission(connection, repo, login)
    assert len(cache) == 2
    before = lookups(fake)
    cache.permission(connection, repo, "wes")  # the newest stayed
    assert lookups(fake) == before
    cache.permission(connection, repo, "ada")  # the oldest was dropped
    assert lookups(fake) == before + 1


def test_forget_drops_cached_answers(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    cache = PermissionCache(clock=FakeClock())
    cache.permission(connection, repo, "wes")
    cache.forget(login="WES")
    before = lookups(fake)
    cache.permission(connection, repo, "wes")
    assert lookups(fake) == before + 1


def test_other_errors_propagate_and_are_not_cached(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    cache = PermissionCache(clock=FakeClock())
    fake.faults.add("5xx", path_glob=PERMISSION_PATH, times=None)
    with pytest.raises((GithubException, RetryError)):  # retries used up: the worker's to handle
        cache.permission(connection, repo, "ada")
    fake.faults.clear()
    assert len(cache) == 0
    assert cache.permission(connection, repo, "ada") is Permission.ADMIN


def test_a_transient_error_is_retried_by_the_client(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    fake.faults.add("5xx", path_glob=PERMISSION_PATH, times=1)
    assert PermissionCache().permission(connection, repo, "max") is Permission.MAINTAIN


# -- what GitHub may answer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "level"),
    [
        ({"permission": "write", "role_name": "maintain"}, Permission.MAINTAIN),
        ({"permission": "read", "role_name": "triage"}, Permission.TRIAGE),
        ({"permission": "admin", "role_name": "Admin"}, Permission.ADMIN),
        # older GitHub Enterprise Server: only the coarse field (maintain reads as write, triage as read)
        ({"permission": "write"}, Permission.WRITE),
        ({"permission": "read"}, Permission.READ),
        ({"permission": "none"}, Permission.NONE),
        # a custom repository role: its name is no level, the collaborator's flags are
        (
            {
                "permission": "write",
                "role_name": "lock-wranglers",
                "user": {"permissions": {"admin": False, "maintain": True, "push": True, "triage": True, "pull": True}},
            },
            Permission.MAINTAIN,
        ),
        (
            {
                "permission": "read",
                "role_name": "auditor",
                "user": {
                    "permissions": {"admin": False, "maintain": False, "push": False, "triage": True, "pull": True}
                },
            },
            Permission.TRIAGE,
        ),
        ({"permission": "read", "role_name": "auditor"}, Permission.READ),
        ({"permission": "owner-ish"}, Permission.NONE),
        ({}, Permission.NONE),
    ],
)
def test_parse_permission(data: dict, level: Permission) -> None:
    assert parse_permission(data) is level


# -- acknowledging a command ------------------------------------------------------------------


def open_pull(fake: FakeGitHub, repo: str) -> int:
    """A PR from a fork (its own branch off main), to hang comments on."""
    if fake.branch_sha(repo, "main") is None:
        fake.commit_to_branch(repo, "main", {"lock.py": "lock = None\n"}, message="init")
    contributor = f"contributor{next(_names)}"
    fork = fake.fork(repo, contributor)
    fake.commit_to_branch(fork, "main", {"lock.py": "lock = object()\n"}, message="fix", author=contributor)
    return fake.open_pull_request(repo, head=f"{contributor}:main", user=contributor)


def test_acknowledge_adds_eyes(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    number = open_pull(fake, repo)
    comment_id = fake.add_comment(repo, number, "@reviewbot status", "wes")
    before_gets = fake.count("GET")
    acknowledge(connection, repo, comment_id)
    reactions = fake.comments(repo, number)[0].reactions
    assert [(r.content, r.user.login) for r in reactions] == [("eyes", "reviewbot[bot]")]
    assert fake.count("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions") == 1
    assert fake.count("GET") == before_gets  # nothing read back


def test_acknowledging_twice_leaves_one_reaction(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    number = open_pull(fake, repo)
    comment_id = fake.add_comment(repo, number, "@reviewbot re-review", "wes")
    acknowledge(connection, repo, comment_id)
    acknowledge(connection, repo, comment_id)
    assert [r.content for r in fake.comments(repo, number)[0].reactions] == ["eyes"]


def test_acknowledging_a_missing_comment_raises(fake: FakeGitHub, setup) -> None:
    repo, connection = setup
    with pytest.raises(GithubException) as raised:
        acknowledge(connection, repo, 999_999_999)
    assert raised.value.status == 404


def test_the_whole_module_kept_to_the_contract(fake: FakeGitHub) -> None:
    fake.assert_contract_clean()
