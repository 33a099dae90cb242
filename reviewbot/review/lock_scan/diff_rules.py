"""Rules over the whole diff rather than one hunk, and whether the PR touches lock code at all."""

from __future__ import annotations

import re

from reviewbot.model import Finding
from reviewbot.review.diff import FileDiff, Line
from reviewbot.review.lock_scan.locks import acquired_names, held_names, is_acquire, is_release
from reviewbot.review.lock_scan.patterns import LOCKISH
from reviewbot.review.lock_scan.rules import finding
from reviewbot.review.lock_scan.shape import Window
from reviewbot.review.markdown import code_span


def scannable(f: FileDiff, tests: set[str]) -> bool:
    return f.language is not None and not f.binary and f.status != "deleted" and f.path not in tests


def inconsistent_lock_order(windows: list[Window]) -> list[Finding]:
    """Nested acquisitions of the same two named locks in both orders somewhere in the diff."""
    pairs: list[tuple[str, str, Window, Line]] = []
    for w in windows:
        for i, line in enumerate(w.lines):
            inner = acquired_names(line.text, w.lang)
            if not inner:
                continue
            outer = held_names(w, i)
            chain = outer + inner
            pairs.extend((a, b, w, line) for k, a in enumerate(chain) for b in chain[k + 1 :] if a != b and b in inner)
    orders = {(a, b) for a, b, _, _ in pairs}
    return [
        finding("inconsistent-lock-order", w, line, f"{code_span(a)} then {code_span(b)}")
        for a, b, w, line in pairs
        if line.added and (b, a) in orders
    ]


def lock_change_without_test(files: list[FileDiff], changed_tests: list[str]) -> list[Finding]:
    """One finding per lock-related source file that no changed test is about.

    A test is about a file when its name shares a word with the file's name, or when
    the test's changed lines name the file's module (`import … from '../src/run-attempt.mjs'`).
    """
    test_words = [_stem_words(t) for t in changed_tests]
    tests = set(changed_tests)
    test_text = "\n".join(line.text for f in files if f.path in tests for line in f.added_lines)
    findings = []
    for f in files:
        added = f.added_lines
        if not scannable(f, tests) or not added:
            continue
        lockish_path = re.search(r"lock|mutex|semaphore", f.path.lower()) and not LOCKISH.DEPENDENCY_LOCKFILE.search(
            f.path
        )
        lockish_lines = any(is_acquire(line.text, f.language) or is_release(line.text) for line in added)  # type: ignore[arg-type]
        if not (lockish_path or lockish_lines):
            continue
        if any(_stem_words(f.path) & words for words in test_words) or _module_named(f.path, test_text):
            continue
        window = Window(f.path, f.language, [], "")  # type: ignore[arg-type]
        findings.append(finding("lock-change-without-test", window, added[0]))
    return findings


def _module_named(path: str, text: str) -> bool:
    """Whether test code names the module: its file name without extension, as a whole word."""
    module = path.rsplit("/", 1)[-1].split(".")[0]
    return (
        len(module) >= 3
        and module not in _GENERIC_WORDS
        and bool(re.search(rf"(?<![\w-]){re.escape(module)}(?![\w-])", text))
    )


def touches_lock_code(files: list[FileDiff], changed_tests: list[str]) -> bool:
    """Whether the PR changes lock code at all (any language): a lock-named path, or changed lines naming a lock.

    Decides whether a PR without tests is in this bot's field (ranked F) or off-meta (N/A).
    """
    tests = set(changed_tests)
    for f in files:
        if f.binary or f.path in tests or LOCKISH.DEPENDENCY_LOCKFILE.search(f.path):
            continue
        if re.search(r"lock|mutex|semaphore", f.path.lower()):
            return True
        changed = [line.text for line in f.added_lines] + [text for hunk in f.hunks for text in hunk.removed]
        if any(LOCKISH.NAME.search(text) and not LOCKISH.DEPENDENCY_LOCKFILE.search(text) for text in changed):
            return True
    return False


_GENERIC_WORDS = {
    "src",
    "lib",
    "index",
    "main",
    "test",
    "tests",
    "spec",
    "utils",
    "util",
    "core",
    "common",
    "the",
    "and",
    "for",
    "mjs",
    "cjs",
    "mts",
    "cts",
    "tsx",
    "jsx",
}


def _stem_words(path: str) -> set[str]:
    """Words of a file name (not its folders): `src/SessionWriteLock.ts` -> {session, write, lock}."""
    name = path.rsplit("/", 1)[-1].split(".")[0]
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return {w.lower() for w in words if len(w) >= 3 and w.lower() not in _GENERIC_WORDS}
