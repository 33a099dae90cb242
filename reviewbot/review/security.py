"""What in a PR deserves a security look before merge, from the paths it changes and how its runs ended.

Pure: a Proof in, notes out. The bot ran the PR's code only in its sandbox, so
nothing here is about the bot's own safety; it is about what the PR would do
once merged and run with the repository's real credentials (workflows, install
scripts, hooks), which only a maintainer can judge.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pydantic import BaseModel

from reviewbot.model import Proof
from reviewbot.repo_config import CONFIG_PATH

WORKFLOW_DIRS = (".github/workflows/", ".github/actions/")
HOOK_PATHS = (
    ".husky/",
    ".githooks/",
    ".pre-commit-config.yaml",
    ".gitattributes",
    ".gitmodules",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
)
LIMIT_NAMES = {"memory": "memory", "processes": "process", "output": "output", "cpu": "CPU-time", "disk": "disk-space"}


class SecurityNote(BaseModel):
    text: str  # one sentence; paths in it are shown as code by the renderer
    paths: list[str] = []
    needs_human: bool = False  # a maintainer must read it before merging


def security_notes(proof: Proof) -> list[SecurityNote]:
    changed = sorted(set(proof.changed.all) | set(proof.changed.deleted))
    notes: list[SecurityNote] = []
    workflows = [p for p in changed if p.startswith(WORKFLOW_DIRS)]
    if workflows:
        notes.append(
            SecurityNote(
                text="Changes GitHub Actions workflows, which run with the repository's secrets once merged.",
                paths=workflows,
                needs_human=True,
            )
        )
    if CONFIG_PATH in changed:
        notes.append(
            SecurityNote(
                text="Edits the bot's own config; the proof used the base branch's version, and the new one "
                "decides what later reviews check.",
                paths=[CONFIG_PATH],
                needs_human=True,
            )
        )
    if proof.changed.manifests:
        notes.append(
            SecurityNote(
                text="Changes dependency manifests or lockfiles: new packages and install scripts run on "
                "every developer machine and in CI.",
                paths=proof.changed.manifests,
            )
        )
    hooks = [p for p in changed if p.startswith(HOOK_PATHS) or PurePosixPath(p).name in HOOK_PATHS]
    if hooks:
        notes.append(
            SecurityNote(
                text="Changes git hooks, attributes, submodules or package-manager settings that act outside "
                "the test run.",
                paths=hooks,
            )
        )
    limits = sorted(
        {
            LIMIT_NAMES[run.outcome.limit_hit]
            for pair in proof.suites
            for side in (pair.base, pair.head)
            if side is not None
            for run in side.runs
            if run.outcome.limit_hit in LIMIT_NAMES
        }
    )
    if limits:
        notes.append(
            SecurityNote(
                text=f"A run hit the sandbox's {', '.join(limits)} limit and was stopped.",
            )
        )
    return notes
