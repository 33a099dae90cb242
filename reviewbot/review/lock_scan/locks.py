"""Lock facts several rules share: is this line an acquire or a release, which locks are held here."""

from __future__ import annotations

import re

from reviewbot.review.diff import Language
from reviewbot.review.lock_scan.patterns import LOCKISH
from reviewbot.review.lock_scan.shape import (
    LOOKBEHIND,
    Window,
    blank_strings,
    function_lines,
    indent,
    is_comment,
    is_definition,
    js_blocks,
    py_headers,
)


def is_acquire(text: str, lang: Language) -> bool:
    """An acquire call on something named like a lock (a pool's `acquire()` is not a lock)."""
    if is_comment(text) or is_definition(text, lang) or "LOCK_UN" in text:
        return False
    if LOCKISH.ACQUIRE.search(blank_strings(text)) and LOCKISH.NAME.search(text):
        return True
    return bool(LOCKISH.OPEN.search(text) and LOCKISH.EXCLUSIVE_CREATE.search(text) and lock_path(text))


def is_release(text: str) -> bool:
    """release()/unlock()/LOCK_UN of a lock, a bare `release()` handle, or removing a lock file."""
    if is_comment(text):
        return False
    if LOCKISH.RELEASE.search(blank_strings(text)) and (
        LOCKISH.NAME.search(text) or re.search(r"(?<![\w$.])(?:release|unlock)\(\s*\)", text)
    ):
        return True
    return removes_lock(text)


def lock_path(text: str) -> bool:
    return bool(LOCKISH.PATH.search(text)) and not LOCKISH.DEPENDENCY_LOCKFILE.search(text)


def removes_lock(text: str) -> bool:
    return not is_comment(text) and bool(LOCKISH.REMOVE.search(blank_strings(text))) and lock_path(text)


def acquired_by_scope(w: Window, i: int) -> bool:
    """`with lock.acquire…` / `using lock = …`: the language releases it."""
    text = w.lines[i].text
    return bool(re.match(r"\s*(?:async\s+)?with\b", text) or re.search(r"\busing\b", text))


def lock_held_at(w: Window, i: int) -> bool:
    """Inside `with <lock>:`, a lock callback, or after an acquire with no release in between."""
    if w.lang == "python":
        if any(re.match(r"(?:async\s+)?with\b", h) and LOCKISH.NAME.search(h) for h in py_headers(w, i)):
            return True
    elif any(kind == "lock" for kind, _ in js_blocks(w, i)):
        return True
    for j in range(i - 1, max(-1, i - 1 - LOOKBEHIND), -1):
        text = w.lines[j].text
        if is_definition(text, w.lang) and indent(text) < indent(w.lines[i].text):
            return False
        if is_release(text):
            return False
        if is_acquire(text, w.lang) and not acquired_by_scope(w, j):
            return j in function_lines(w, i)
    return False


def normalise(name: str) -> str:
    name = re.sub(r"^(?:await\s+)?(?:self|this)\.", "", name.strip())
    return name.strip("'\"` ")


PY_WITH_ITEM = re.compile(r"^\s*(?:async\s+)?with\s+(.+?):\s*$")


def acquired_names(text: str, lang: Language) -> list[str]:
    """Names of the locks a line takes, in order (`with a, b:`, `a.acquire()`, `withLock(a, …)`)."""
    if is_comment(text) or is_definition(text, lang):
        return []
    names: list[str] = []
    if lang == "python":
        match = PY_WITH_ITEM.match(text)
        if match:
            for item in match.group(1).split(","):
                expr = re.sub(r"\s+as\s+\w+$", "", item.strip())
                if LOCKISH.NAME.search(expr) and not expr.startswith("open("):
                    names.append(normalise(expr))
    for match in re.finditer(r"([\w$.]+)\.(?:acquire|lock)\(", text):
        if LOCKISH.NAME.search(match.group(1)):
            names.append(normalise(match.group(1)))
    if lang == "js":
        for match in re.finditer(r"(?<![\w$.])(?:with\w*Lock\w*|acquire\w*)\(\s*([^,()]+?)\s*[,)]", text):
            names.append(normalise(match.group(1)))
    return [n for n in names if n]


def held_names(w: Window, i: int) -> list[str]:
    """Locks held at line i, outermost first: enclosing `with`/lock callbacks, then unreleased acquires."""
    held: list[str] = []
    if w.lang == "python":
        for header in reversed(py_headers(w, i)):
            if header.startswith(("with ", "async with ")):
                held.extend(acquired_names(header, "python"))
    else:
        for _, prefix in js_blocks(w, i):
            if LOCKISH.LOCK_CALLBACK.search(prefix):
                held.extend(acquired_names(prefix, "js"))
    for j in sorted(function_lines(w, i)):
        if j >= i:
            break
        text = w.lines[j].text
        if w.lang == "python" and PY_WITH_ITEM.match(text):
            continue
        if w.lang == "js" and re.search(r"=>\s*\{\s*$|function\s*\([^)]*\)\s*\{\s*$", text):
            continue  # callback style: counted through the enclosing blocks
        for name in acquired_names(text, w.lang):
            held.append(name)
        for match in re.finditer(r"([\w$.]+)\.(?:release|unlock)\(", text):
            name = normalise(match.group(1))
            if name in held:
                held.remove(name)
    return list(dict.fromkeys(held))
