"""The per-hunk rules: each reads one `Window` and yields findings on lines the PR adds.

When the hunk does not show enough to be sure a rule stays quiet: a false alarm
on a lock fix costs a maintainer more time than a missed nit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reviewbot.model import Finding, Priority
from reviewbot.review.diff import Line
from reviewbot.review.lock_scan.catalogue import RULES
from reviewbot.review.lock_scan.locks import (
    acquired_by_scope,
    is_acquire,
    is_release,
    lock_held_at,
    lock_path,
    normalise,
    removes_lock,
)
from reviewbot.review.lock_scan.patterns import LOCKISH
from reviewbot.review.lock_scan.shape import (
    Window,
    added_lines,
    blank_strings,
    call_args,
    function_lines,
    indent,
    is_blank,
    is_comment,
    is_definition,
    js_blocks,
    py_header_indexes,
    py_headers,
    same_function,
    strip_js,
    texts,
)


def finding(rule: str, window: Window, line: Line, detail: str = "", priority: Priority | None = None) -> Finding:
    """A finding of `rule` on `line` of the window's file; its words and rank come from the catalogue."""
    return RULES[rule].finding(window.path, window.lang, line.number, detail, priority)


def release_not_guaranteed(w: Window) -> Iterator[Finding]:
    """An acquire whose release (in the same function, in this hunk) is never in finally/except/catch."""
    for i, line in enumerate(w.lines):
        if not is_acquire(line.text, w.lang) or acquired_by_scope(w, i) or re.match(r"\s*assert\b", line.text):
            continue
        owner = _receiver(line.text, "acquire|lock")
        releases = [
            j
            for j in same_function(w, i)
            if is_release(w.lines[j].text)
            and not _deferred(w, i, j)
            and (owner is None or _receiver(w.lines[j].text, "release|unlock") in (owner, None))
        ]
        if releases and _no_work_between(w, i, releases[0]):
            continue  # `if lock.acquire(False): lock.release()` - nothing can throw in between
        if not releases or any(_release_guarded(w, j) for j in releases):
            continue
        added = [j for j in releases if w.lines[j].added]
        if added or line.added:
            yield finding("release-not-guaranteed", w, w.lines[added[0]] if added else line)


_NO_WORK = re.compile(r"\s*(?:\}\s*)?(?:try|else|finally|except\b[^:]*|catch\s*(?:\([^)]*\))?|pass|\{|\})?\s*[:{]?\s*$")


def _receiver(text: str, verbs: str) -> str | None:
    """`self._a_lock` for `self._a_lock.acquire()`: pairs a release with its own acquire, not another lock's."""
    match = re.search(rf"([\w$.]+)\.(?:{verbs})\(", blank_strings(text))
    return normalise(match.group(1)) if match else None


def _no_work_between(w: Window, i: int, j: int) -> bool:
    return all(is_blank(w.lines[k].text) or _NO_WORK.fullmatch(w.lines[k].text) for k in range(i + 1, j))


def _deferred(w: Window, i: int, j: int) -> bool:
    """The release at j sits in a closure defined after the acquire at i (a returned release function)."""
    if w.lang == "python":
        return len([h for h in py_headers(w, j) if re.match(r"(?:async\s+)?def\b|lambda\b", h)]) > len(
            [h for h in py_headers(w, i) if re.match(r"(?:async\s+)?def\b", h)]
        )

    def functions(blocks: list[tuple[str, str]]) -> int:
        return sum(1 for kind, _ in blocks if kind == "function")

    return functions(js_blocks(w, j)) > functions(js_blocks(w, i))


def _release_guarded(w: Window, j: int) -> bool:
    text = w.lines[j].text
    if w.lang == "python":
        return any(re.match(r"(?:finally|except)\b", h) for h in py_headers(w, j))
    if re.search(r"\.finally\(|\.(?:on|once|addListener)\(", text):
        return True
    match = LOCKISH.RELEASE.search(text)
    kinds = [kind for kind, _ in js_blocks(w, j, match.start() if match else None)]
    return "finally" in kinds or "catch" in kinds


def acquire_without_timeout(w: Window) -> Iterator[Finding]:
    """A blocking acquire that can wait forever on a dead holder."""
    for i, line in added_lines(w):
        text = line.text
        if w.lang == "python":
            receiver = re.search(r"([\w.()]+)\.acquire\(\s*(?:True|blocking\s*=\s*True)?\s*\)", text)
            blocking = receiver and LOCKISH.NAME.search(receiver.group(1)) and "wait_for(" not in text
            flock = re.search(r"\b(?:flock|lockf)\s*\([^)]*LOCK_(?:EX|SH)", text) and "LOCK_NB" not in text
            if blocking or flock:
                yield finding("acquire-without-timeout", w, line)
            continue
        match = re.search(r"(?<![\w$])acquire(?:[A-Z]\w*)?\s*\(|\.lock\(\s*\)", blank_strings(text))
        if not match or not LOCKISH.NAME.search(text) or is_definition(text, w.lang) or LOCKISH.TIMEOUT.search(text):
            continue
        args = call_args(w, i, match.end() - 1)
        if args is not None and _no_timeout_given(args):
            yield finding("acquire-without-timeout", w, line)


def _no_timeout_given(args: str) -> bool:
    """Sure only when there are no args, an options literal without a timeout, or just paths/names."""
    if LOCKISH.TIMEOUT.search(args) or LOCKISH.OPTIONS.search(args):
        return False
    if not args.strip() or "{" in args:
        return True
    items = [a.strip() for a in args.split(",") if a.strip()]
    return all(
        re.fullmatch(r"""(['"`]).*\1|[\w$.]*(?:[Pp]ath|[Ff]ile|[Dd]ir|[Ll]ock|LOCK|[Nn]ame|[Kk]ey)""", a) for a in items
    )


def lock_held_across_unbounded_await(w: Window) -> Iterator[Finding]:
    """Network or subprocess work started while a lock is held (a `with lock:` block, a lock callback, or after acquire)."""
    for i, line in added_lines(w):
        text = line.text
        if LOCKISH.TIMEOUT.search(text) or not _is_unbounded(w, i):
            continue
        if lock_held_at(w, i):
            yield finding("lock-held-across-unbounded-await", w, line)


def _is_unbounded(w: Window, i: int) -> bool:
    text = w.lines[i].text
    if w.lang == "python":
        match = LOCKISH.UNBOUNDED_PY.search(text)
        args = call_args(w, i, match.end() - 1) if match and match.group(0).endswith("(") else ""
        return bool(match) and args is not None and not LOCKISH.TIMEOUT.search(args)
    if LOCKISH.BLOCKING_JS.search(text):
        return True
    if not re.search(r"\bawait\b", text) or not LOCKISH.UNBOUNDED_JS.search(text):
        return False
    if "new Promise(" in text:
        return not re.search(r"setTimeout|[Tt]imeout", texts(w, i, i + 6))
    return True


def force_release_without_owner_check(w: Window) -> Iterator[Finding]:
    """Breaking a 'stale' lock with no proof its owner is gone; P0 when age is the only evidence."""
    for i, line in added_lines(w):
        if not removes_lock(line.text):
            continue
        before = texts(w, max(0, i - 15), i + 1)
        if not (LOCKISH.STALE.search(before) or LOCKISH.STALE.search(w.section)):
            continue  # a plain release by the holder, not a break
        if LOCKISH.OWNER.search(texts(w, max(0, i - 20), i + 4)):
            continue
        aged = LOCKISH.AGE.search(before)
        yield finding(
            "force-release-without-owner-check", w, line, "on age alone" if aged else "", Priority.P0 if aged else None
        )


def unlink_lock_held_open(w: Window) -> Iterator[Finding]:
    """Unlink of a lock path before its handle is closed, or unlink immediately followed by re-creating it."""
    for i, line in added_lines(w):
        if not removes_lock(line.text):
            continue
        scope, function = same_function(w, i), function_lines(w, i)
        opened = any(LOCKISH.OPEN.search(w.lines[j].text) and lock_path(w.lines[j].text) for j in function if j < i)
        closed_after = any(LOCKISH.CLOSE.search(w.lines[j].text) for j in scope)
        target = _removed_target(line.text)
        recreated = target is not None and any(
            target in w.lines[j].text
            and (LOCKISH.CREATE.search(w.lines[j].text) or LOCKISH.OPEN.search(w.lines[j].text))
            for j in scope
        )
        if (opened and closed_after) or recreated:
            yield finding("unlink-lock-held-open", w, line, "re-created right after" if recreated else "")


def _removed_target(text: str) -> str | None:
    """The path expression an unlink/rm acts on: the first argument, or the receiver of `.unlink()`."""
    match = re.search(r"([\w$.\[\]'\"]+)\.unlink\(\s*\)", text)
    if match:
        return match.group(1)
    match = re.search(r"(?:unlink(?:Sync)?|rm(?:Sync)?|remove)\s*\(\s*([^,)]+)", text)
    return match.group(1).strip() if match and LOCKISH.PATH.search(match.group(1)) else None


def check_then_create(w: Window) -> Iterator[Finding]:
    """exists()/access() on a lock path, then a create that does not fail if someone else won the race."""
    for i, line in enumerate(w.lines):
        if not (LOCKISH.EXISTS.search(line.text) and lock_path(line.text)) or is_comment(line.text):
            continue
        for j in same_function(w, i):
            create = w.lines[j]
            if (
                LOCKISH.CREATE.search(create.text)
                and not LOCKISH.EXCLUSIVE_CREATE.search(create.text)
                and lock_path(create.text)
                and (create.added or line.added)
            ):
                yield finding("check-then-create", w, create if create.added else line)
                break


def non_atomic_lock_write(w: Window) -> Iterator[Finding]:
    """Lock content written straight onto the final path instead of temp-then-rename."""
    for i, line in added_lines(w):
        text = line.text
        if not (LOCKISH.CREATE.search(text) and lock_path(text)) or LOCKISH.EXCLUSIVE_CREATE.search(text):
            continue
        if re.search(r"""['"]a\+?b?['"]""", text) or re.search(r"\.touch\(", text):
            continue  # append / touch: opening to flock it, not writing content
        if LOCKISH.TEMP.search(text) or any(LOCKISH.RENAME.search(w.lines[j].text) for j in same_function(w, i)):
            continue
        yield finding("non-atomic-lock-write", w, line)


def swallowed_release_error(w: Window) -> Iterator[Finding]:
    """A release inside a try whose catch/except discards every error without a word."""
    for i, line in added_lines(w):
        text = line.text
        if not is_release(text) or is_definition(text, w.lang):
            continue
        if w.lang == "js":
            if re.search(
                r"\.catch\(\s*(?:\(\s*\w*\s*\)|\w+)\s*=>\s*(?:\{\s*\}|undefined|null|void 0)\s*\)"
                r"|\.catch\(\s*noop\s*\)",
                text,
            ) or _js_empty_catch_after(w, i):
                yield finding("swallowed-release-error", w, line)
        elif _py_bare_except_after(w, i):
            yield finding("swallowed-release-error", w, line)


def _js_empty_catch_after(w: Window, i: int) -> bool:
    """The release sits in a `try` whose `catch` (within a few lines) has an empty or comment-only body."""
    text = blank_strings(w.lines[i].text)
    match = LOCKISH.RELEASE.search(text) or LOCKISH.REMOVE.search(text)
    if not any(kind == "try" for kind, _ in js_blocks(w, i, match.start() if match else None)):
        return False
    for j in range(i, min(len(w.lines), i + 6)):
        code = strip_js(w.lines[j].text)
        match = re.search(r"\bcatch\s*(?:\([^)]*\))?\s*\{(.*)$", code)
        if not match:
            continue
        rest = match.group(1)
        if "}" in rest:
            return not rest.split("}", 1)[0].strip()
        if rest.strip():
            return False
        for k in range(j + 1, min(len(w.lines), j + 5)):
            body = strip_js(w.lines[k].text).strip()
            if body.startswith("}"):
                return True
            if body and not body.startswith(("/*", "*")):
                return False
        return False
    return False


def _py_bare_except_after(w: Window, i: int) -> bool:
    """The release sits in a `try:` whose `except` catches everything and only passes (or a broad `suppress`)."""
    headers = py_headers(w, i)
    if any(re.match(r"with\s+(?:contextlib\.)?suppress\((?:Base)?Exception\)", h) for h in headers):
        return True
    try_index = next((j for j in py_header_indexes(w, i) if re.match(r"\s*try\s*:", w.lines[j].text)), None)
    if try_index is None:
        return False
    level = indent(w.lines[try_index].text)
    for j in range(i + 1, len(w.lines)):
        text = w.lines[j].text
        if is_blank(text) or indent(text) > level:
            continue
        match = re.match(r"\s*except\s*(\(?[\w., ]*\)?)?\s*(?:as\s+\w+)?\s*:\s*(.*)$", text)
        if not match:
            return False
        caught = (match.group(1) or "").strip("() ")
        if caught and not re.fullmatch(r"(?:Base)?Exception|RuntimeError", caught):
            continue  # a narrow except (FileNotFoundError ...) is deliberate; look at the next clause
        body = [match.group(2).strip()] if match.group(2).strip() else []
        for k in range(j + 1, len(w.lines)):
            if is_blank(w.lines[k].text):
                continue
            if indent(w.lines[k].text) <= level:
                break
            body.append(w.lines[k].text.strip())
        return bool(body) and all(b in ("pass", "...") for b in body)
    return False


WINDOW_RULES = (
    release_not_guaranteed,
    acquire_without_timeout,
    lock_held_across_unbounded_await,
    force_release_without_owner_check,
    unlink_lock_held_open,
    check_then_create,
    non_atomic_lock_write,
    swallowed_release_error,
)
