"""Lay the PR's tests over base, so base runs exactly the tests head runs.

"This test fails without the fix" only means something if base runs the PR's
own test files. When the PR also adds a test dependency, base needs it too:
we carry over only the added test dependencies (not the whole manifest, which
may hold part of the fix) and say so in the review.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reviewbot.model import ChangedFiles
from reviewbot.proof.changes import LOCKFILES, TEST_REQUIREMENTS, is_manifest
from reviewbot.proof.safe_fs import inside
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
    maintainers' code, but a destination must still stay inside the worktree.
    """
    for path in plan.remove:
        target = _safe_target(tree, path)
        if target.is_file() or target.is_symlink():
            target.unlink()
    for path in plan.from_head:
        blob = head_blob(path)
        if blob is None:
            continue
        data, mode = blob
        _write(tree, path, data, mode)
    for path, data in plan.rewritten.items():
        _write(tree, path, data, "100644")


def _write(tree: Path, path: str, data: bytes, mode: str) -> None:
    target = _safe_target(tree, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    if mode == "120000":
        os.symlink(data.decode("utf-8", errors="replace"), target)
        return
    target.write_bytes(data)
    target.chmod(0o755 if mode == "100755" else 0o644)


def _safe_target(tree: Path, path: str) -> Path:
    target = inside(tree, path)
    if target is None:
        raise ValueError(f"refusing to write outside the worktree or through a symlink: {path!r}")
    return target
