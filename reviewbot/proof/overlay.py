"""Lay the PR's tests over base, so base runs exactly the tests head runs.

"This test fails without the fix" only means something if base runs the PR's
own test files. When the PR also adds a test dependency, base needs it too:
we carry over only the added test dependencies (not the whole manifest, which
may hold part of the fix) and say so in the review.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reviewbot.model import ChangedFiles
from reviewbot.proof.changes import LOCKFILES, TEST_REQUIREMENTS, is_manifest
from reviewbot.review.markdown import code_span

DEV_SECTIONS = ("devDependencies",)


@dataclass
class OverlayPlan:
    """What to write into the base worktree. Paths are repository-relative."""

    from_head: list[str] = field(default_factory=list)  # copied byte for byte from head
    remove: list[str] = field(default_factory=list)  # tests the PR deletes
    rewritten: dict[str, bytes] = field(default_factory=dict)  # manifests merged with head's test deps
    notes: list[str] = field(default_factory=list)

    @property
    def touches_install(self) -> bool:
        """Whether base's install would read a file from the PR: then base's setup is not a trusted run."""
        return bool(self.rewritten) or any(is_manifest(path) for path in [*self.from_head, *self.remove])

    @property
    def touched(self) -> list[str]:
        return sorted(set(self.from_head) | set(self.rewritten) | set(self.remove))


def plan_overlay(
    changed: ChangedFiles,
    manifests: dict[str, tuple[bytes | None, bytes | None]],
    deleted_tests: list[str] | None = None,
) -> OverlayPlan:
    """Decide the overlay from the changed files and (base, head) contents of changed manifests."""
    plan = OverlayPlan(from_head=sorted(changed.tests), remove=sorted(deleted_tests or []))
    package_json_changed = False
    for path, (base_bytes, head_bytes) in sorted(manifests.items()):
        name = PurePosixPath(path).name
        if head_bytes is None:
            continue
        if name in TEST_REQUIREMENTS:
            plan.from_head.append(path)
            plan.notes.append(f"{code_span(path)} (test dependencies) was laid over base from the PR.")
        elif name == "package.json":
            merged, added = merge_dev_dependencies(base_bytes, head_bytes)
            if added:
                plan.rewritten[path] = merged
                package_json_changed = True
                plan.notes.append(
                    f"The PR adds test dependencies to {code_span(path)} ({', '.join(code_span(a) for a in added)}); "
                    "they were added to base's copy for the base run."
                )
    if package_json_changed:
        for path, (_, head_bytes) in sorted(manifests.items()):
            if PurePosixPath(path).name in LOCKFILES and head_bytes is not None:
                plan.from_head.append(path)
                plan.notes.append(f"{code_span(path)} was laid over base so the added test dependencies install.")
    plan.from_head = sorted(set(plan.from_head))
    return plan


def merge_dev_dependencies(base_bytes: bytes | None, head_bytes: bytes) -> tuple[bytes, list[str]]:
    """Base's package.json plus the dev dependencies head adds; (new bytes, added names)."""
    try:
        head = json.loads(head_bytes)
        base = json.loads(base_bytes) if base_bytes is not None else {}
    except ValueError:
        return base_bytes or b"", []
    if not isinstance(head, dict) or not isinstance(base, dict):
        return base_bytes or b"", []
    added: list[str] = []
    for section in DEV_SECTIONS:
        head_deps = head.get(section) or {}
        base_deps = dict(base.get(section) or {})
        for name, version in head_deps.items():
            if base_deps.get(name) != version:
                base_deps[name] = version
                added.append(name)
        if base_deps:
            base[section] = base_deps
    return (json.dumps(base, indent=2) + "\n").encode(), added


def apply_overlay(tree: Path, plan: OverlayPlan, head_blob: Callable[[str], tuple[bytes, str] | None]) -> None:
    """Write the plan into `tree`. `head_blob(path)` gives (bytes, git mode) at head.

    Never follows a symlink on the way to a destination: the base tree is the
    maintainers' code, but a destination must still stay inside the tree. A
    path that cannot be laid over (base has a directory where the PR has a
    file, a file where it has a directory, a symlink on the way) is skipped and
    said in `plan.notes`, with repository-relative paths only: the reader
    learns what happened, and no host path reaches a comment.
    """
    for path in list(plan.remove):
        if overlay_obstacle(tree, path) is not None:  # then base has no such file: nothing to remove
            continue
        target = tree.joinpath(*PurePosixPath(path).parts)
        if target.is_file() or target.is_symlink():
            _attempt(lambda: target.unlink(), path, plan, "removed from base")  # noqa: B023 - called at once
    for path in list(plan.from_head):
        blob = head_blob(path)
        if blob is None:
            continue
        data, mode = blob
        target = _target_or_note(tree, path, plan)
        if target is not None:
            _attempt(lambda: _write(target, data, mode), path, plan)  # noqa: B023 - called at once
    for path, data in list(plan.rewritten.items()):
        target = _target_or_note(tree, path, plan)
        if target is not None:
            _attempt(lambda: _write(target, data, "100644"), path, plan)  # noqa: B023 - called at once


def overlay_obstacle(tree: Path, path: str) -> str | None:
    """Why `path` cannot be written into `tree` (repository-relative words only), or None when it can."""
    pure = PurePosixPath(path)
    if not pure.parts or pure.is_absolute() or ".." in pure.parts:
        return "the path leaves the repository"
    current = tree
    for depth, part in enumerate(pure.parts):
        current = current / part
        so_far = code_span("/".join(pure.parts[: depth + 1]))
        try:
            info = current.lstat()
        except FileNotFoundError:
            return None  # nothing further down exists either: the write makes the directories
        except OSError as exc:
            return f"{so_far} cannot be read in base ({exc.strerror or 'error'})"
        last = depth == len(pure.parts) - 1
        if stat.S_ISLNK(info.st_mode) and not last:
            return f"base has a symlink at {so_far}, and the bot does not write through symlinks"
        if stat.S_ISDIR(info.st_mode) and last:
            return "base has a directory there, the PR a file"
        if not stat.S_ISDIR(info.st_mode) and not last:
            return f"base has a file at {so_far} where the PR has a directory"
    return None


def _target_or_note(tree: Path, path: str, plan: OverlayPlan) -> Path | None:
    obstacle = overlay_obstacle(tree, path)
    if obstacle is None:
        return tree.joinpath(*PurePosixPath(path).parts)
    _skip(path, plan, f"{code_span(path)} was not laid over base: {obstacle}.")
    return None


def _attempt(action: Callable[[], None], path: str, plan: OverlayPlan, verb: str = "laid over base") -> None:
    try:
        action()
    except OSError as exc:  # the message would carry a host path; strerror does not
        _skip(path, plan, f"{code_span(path)} was not {verb}: {exc.strerror or type(exc).__name__}.")


def _skip(path: str, plan: OverlayPlan, note: str) -> None:
    plan.notes.append(note)
    plan.from_head = [p for p in plan.from_head if p != path]
    plan.remove = [p for p in plan.remove if p != path]
    plan.rewritten.pop(path, None)


def _write(target: Path, data: bytes, mode: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    if mode == "120000":
        os.symlink(data.decode("utf-8", errors="replace"), target)
        return
    target.write_bytes(data)
    target.chmod(0o755 if mode == "100755" else 0o644)
