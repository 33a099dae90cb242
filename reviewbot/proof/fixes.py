"""The repository's `fix:` commands (formatters): run in the sandbox on a PR head, their diff committed.

The commands are the base branch's configuration but run over the PR's code, so
they get the same sandbox as any suite: no network, no secrets, limits. What
they change is committed by the bot as one commit on top of the head, in the
mirror (from a throwaway worktree), ready to be pushed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import git

from reviewbot.proof.branches import Identity
from reviewbot.proof.sandbox import Limits, Sandbox, SandboxRequest
from reviewbot.proof.workspace import Mirror
from reviewbot.repo_config import FixCommand


@dataclass(frozen=True)
class FixResult:
    sha: str | None  # the fix commit; None when nothing changed or a command failed
    changed: list[str] = field(default_factory=list)
    failed: str = ""  # which command failed, and how


def apply_fixes(sandbox: Sandbox, mirror: Mirror, head_sha: str, commands: list[FixCommand], scratch: Path,
                who: Identity, message: str) -> FixResult:
    scratch.mkdir(parents=True, exist_ok=True)
    with mirror.worktree(head_sha, scratch, "fix") as tree:
        for index, command in enumerate(commands):
            outcome = sandbox.run(SandboxRequest(command=command.run, worktree=tree, out_dir=scratch / f"out{index}",
                                                 limits=Limits(wall_clock_s=command.timeout)))
            if outcome.exit_code != 0 or outcome.limit_hit:
                why = f"hit the {outcome.limit_hit} limit" if outcome.limit_hit else f"exited {outcome.exit_code}"
                return FixResult(None, failed=f"`{command.run}` {why}")
        env = {**os.environ, "GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
               "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
        work = git.Repo(tree).git

        def run(*args: str) -> str:
            # the sandbox gave the worktree to its unprivileged user; git would call that "dubious ownership"
            # no auto gc: it would write the shared mirror's refs outside the mirror lock (workspace.py)
            return work.execute(["git", "-c", f"safe.directory={tree}", "-c", "commit.gpgsign=false", "-c",
                                 "gc.auto=0", *args],
                                env=env)

        run("add", "-A")
        changed = [path for path in run("diff", "--cached", "--name-only").splitlines() if path]
        if not changed:
            return FixResult(None)
        run("commit", "-q", "--no-verify", "-m", message)
        return FixResult(run("rev-parse", "HEAD").strip(), changed)
