"""A commenter's permission on a repository, looked up once and remembered for a few minutes.

One call: `GET /repos/{owner}/{repo}/collaborators/{username}/permission`. Its `permission`
field is GitHub's old coarse answer (admin, write, read or none: maintain shows as write,
triage as read); `role_name` carries the five roles. PyGithub reads each field with a call
of its own (`get_collaborator_permission`, `get_collaborator_role_name`), so the endpoint is
called through the repository's requester once and both fields are read from the one answer.

A 404 (not a collaborator, no such user) is a plain "none" and is cached like any answer;
any other error propagates, uncached, for the worker to retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from github import GithubException

from reviewbot.github.client import Connection, calls_as
from reviewbot.model import Permission

_LEVELS = {level.value: level for level in Permission}
_COARSE = {"admin": Permission.ADMIN, "write": Permission.WRITE, "read": Permission.READ, "none": Permission.NONE}
# `user.permissions` booleans, strongest first (`push` is write, `pull` is read).
_FLAGS = (
    ("admin", Permission.ADMIN),
    ("maintain", Permission.MAINTAIN),
    ("push", Permission.WRITE),
    ("triage", Permission.TRIAGE),
    ("pull", Permission.READ),
)


def parse_permission(data: Mapping[str, Any]) -> Permission:
    """GitHub's answer as one of the six levels.

    `role_name` first (it tells maintain from write and triage from read); a custom role's name
    is not a level, so then the collaborator's `permissions` flags, and last the coarse
    `permission` field (older GitHub Enterprise Server versions send only that one), which at
    worst reads maintain as write and triage as read.
    """
    role = data.get("role_name")
    if isinstance(role, str) and role.lower() in _LEVELS:
        return _LEVELS[role.lower()]
    user = data.get("user")
    flags = user.get("permissions") if isinstance(user, Mapping) else None
    if isinstance(flags, Mapping):
        for key, level in _FLAGS:
            if flags.get(key) is True:
                return level
    coarse = data.get("permission")
    return _COARSE.get(coarse.lower(), Permission.NONE) if isinstance(coarse, str) else Permission.NONE


def fetch_permission(connection: Connection, repo: str, login: str) -> Permission:
    """One uncached lookup; NONE for a 404."""
    with calls_as(connection.account):
        repository = connection.github.get_repo(repo)
        try:
            _, data = repository.requester.requestJsonAndCheck(
                "GET", f"{repository.url}/collaborators/{quote(login, safe='')}/permission"
            )
        except GithubException as exc:
            if exc.status == 404:
                return Permission.NONE
            raise
    return parse_permission(data if isinstance(data, Mapping) else {})


class PermissionCache:
    """Permissions per (repository, login), both case-insensitive, kept `ttl_s` seconds. Thread-safe;
    the lookup itself runs outside the lock, so two threads missing the same key may both ask."""

    def __init__(self, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, Permission]] = {}  # key -> (expires at, level)
        self._lock = threading.Lock()

    def permission(self, connection: Connection, repo: str, login: str) -> Permission:
        if not login:
            return Permission.NONE
        key = (repo.lower(), login.lower())
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.clock() < entry[0]:
                return entry[1]
        level = fetch_permission(connection, repo, login)
        self._store(key, level)
        return level

    def _store(self, key: tuple[str, str], level: Permission) -> None:
        with self._lock:
            now = self.clock()
            self._entries.pop(key, None)
            if len(self._entries) >= self.max_entries:
                for stale in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[stale]
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest stored
            self._entries[key] = (now + self.ttl_s, level)

    def forget(self, repo: str | None = None, login: str | None = None) -> None:
        """Drop cached answers: all, or those of one repository and/or one login."""
        with self._lock:
            for key in [
                k
                for k in self._entries
                if (repo is None or k[0] == repo.lower()) and (login is None or k[1] == login.lower())
            ]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
