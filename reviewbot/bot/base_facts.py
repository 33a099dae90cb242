"""What automerge reads from the base repository through the git mirror: its config, conflicts, being behind.

A collaborator of `AutomergeJob`, so its decisions can be tested with a fixed config and
no git: `MirrorFacts` is the real one, over the proof engine's workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from reviewbot.github.pulls import PullRequestInfo
from reviewbot.proof.workspace import Workspace, WorkspaceError
from reviewbot.repo_config import CONFIG_PATH, ConfigError, RepoConfig, parse_config

Auth = Callable[[], str]  # the git auth header, asked for only when git must fetch


class BaseFacts(Protocol):
    def config(self, pr: PullRequestInfo, auth: Auth) -> RepoConfig | ConfigError:
        """The base branch's `.github/reviewbot.yml`: defaults when there is none, its problems when it is
        invalid (never defaults instead: a maintainer's merge method and fix commands are not guessed)."""
        ...

    def conflicts(self, pr: PullRequestInfo, auth: Auth) -> list[str]:
        """Files the head conflicts with the base in ([] when unknown)."""
        ...

    def behind(self, pr: PullRequestInfo, auth: Auth) -> bool:
        """True when the head does not contain the base's tip (False when unknown)."""
        ...


class MirrorFacts:
    """The facts as the git mirror has them; the config is read once per base commit."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._configs: dict[tuple[str, str], RepoConfig | ConfigError] = {}

    def config(self, pr: PullRequestInfo, auth: Auth) -> RepoConfig | ConfigError:
        key = (pr.repo, pr.base_sha)
        if key in self._configs:
            return self._configs[key]
        mirror = self.workspace.mirror(pr.clone_url, pr.repo)
        try:
            mirror.resolve(pr.base_sha)
        except WorkspaceError:  # a base the mirror has not seen yet
            mirror.fetch(wanted=(pr.base_sha,), auth_header=auth())
        raw = mirror.read_file(pr.base_sha, CONFIG_PATH)
        config: RepoConfig | ConfigError
        try:
            config = parse_config(raw.decode("utf-8", errors="replace")) if raw is not None else RepoConfig()
        except ConfigError as error:
            config = error
        if len(self._configs) > 256:
            self._configs.clear()
        self._configs[key] = config
        return config

    def conflicts(self, pr: PullRequestInfo, auth: Auth) -> list[str]:
        try:
            mirror = self.workspace.mirror(pr.clone_url, pr.repo)
            mirror.fetch(wanted=(pr.base_sha, pr.head_sha), auth_header=auth())
            return mirror.conflicts(pr.base_sha, pr.head_sha)
        except WorkspaceError:
            return []

    def behind(self, pr: PullRequestInfo, auth: Auth) -> bool:
        try:
            mirror = self.workspace.mirror(pr.clone_url, pr.repo)
            mirror.fetch(wanted=(pr.base_sha, pr.head_sha), auth_header=auth())
            return not mirror.contains(pr.head_sha, pr.base_sha)
        except WorkspaceError:
            return False
