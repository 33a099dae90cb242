"""The lock scan: heuristic rules over a PR's diff that point at classic locking mistakes.

Pure: parsed diff and the list of changed tests in, findings out. No I/O, no clock.

The rules read one hunk at a time (its added lines plus the unchanged context git
shows around them), using indentation for Python and brace depth for JS/TS. They
only ever report on a line the PR adds, and when the hunk does not show enough to
be sure they stay quiet: a false alarm on a lock fix costs a maintainer more time
than a missed nit, and the proof engine is the real judge of behaviour.

Test files are not scanned (tests hold locks carelessly on purpose); they only
count as evidence for `lock-change-without-test`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from reviewbot.model import Finding, Priority
from reviewbot.review.diff import FileDiff, Language, Line
from reviewbot.review.markdown import code_span

MAX_FINDINGS = 50
LOOKAHEAD = 12  # lines after a trigger a rule may look at (still inside the hunk)
LOOKBEHIND = 60  # how far back a rule looks for the acquire or the enclosing block (bounds the work per line)


class LOCKISH:
    """Every pattern that decides "this looks like locking", in one place. Case-sensitive on identifiers."""

    # an identifier or path that names a lock: lockPath, lock_path, self._lock, "x.lock", LOCK_FILE, pidfile
    NAME = re.compile(r"(?:(?<![a-z])lock|Lock)(?![a-z])|(?<![A-Z])LOCK|[Mm]utex|MUTEX|[Ss]emaphore|[Ll]ockfile|(?<![a-zA-Z])sem(?![a-z])")
    PATH = re.compile(r"(?:(?<![a-z])lock|Lock)(?![a-z])|(?<![A-Z])LOCK|[Ll]ockfile|\.pid(?=['\"`])|[Pp]id_?[Ff]ile|PID_?FILE")
    # package-manager lockfiles are not locks
    DEPENDENCY_LOCKFILE = re.compile(r"package-lock|npm-shrinkwrap|yarn\.lock|pnpm-lock|[Cc]argo\.lock|poetry\.lock"
                                     r"|Pipfile\.lock|Gemfile\.lock|composer\.lock|uv\.lock|bun\.lockb?|flake\.lock")
    # acquisitions: lock.acquire(), acquireSessionWriteLock(...), mutex.lock(), fcntl.flock(fd, LOCK_EX)
    ACQUIRE = re.compile(r"(?<![\w$])(?:acquire(?:[A-Z]\w*)?|lock(?:Sync)?|flock|lockf)\s*\(")
    EXCLUSIVE_CREATE = re.compile(r"""['"]wx\+?['"]|O_EXCL|['"]x[b+]?['"]|exist_ok\s*=\s*False""")
    RELEASE = re.compile(r"(?<![\w$])(?:release(?:[A-Z]\w*)?|unlock(?:Sync)?)\s*\(|LOCK_UN")
    REMOVE = re.compile(r"(?<![\w$])(?:unlink(?:Sync)?|rm(?:Sync)?|rmdir(?:Sync)?|remove|rimraf)\s*\(|\.unlink\(")
    CLOSE = re.compile(r"(?<![\w$])close(?:Sync)?\s*\(|\.close\(\)")
    OPEN = re.compile(r"(?<![\w$])(?:open(?:Sync)?|os\.open)\s*\(")
    EXISTS = re.compile(r"(?<![\w$])(?:exists(?:Sync)?|access(?:Sync)?|isfile)\s*\(|\.exists\(\)")
    # a write that is not an atomic exclusive create of the final path
    CREATE = re.compile(r"(?<![\w$])writeFile(?:Sync)?\s*\(|\.write_text\(|\.write_bytes\(|\.touch\("
                        r"""|(?<![\w$])open(?:Sync)?\s*\([^)]*,\s*['"]w\+?b?['"]"""
                        # O_CREAT, but not `flags & ~os.O_CREAT`: that clears the flag (open only if it exists)
                        r"|os\.open\s*\(.*(?<!~)(?<!~os\.)(?<!~\(os\.)(?<!~\()(?<!~ os\.)(?<!~ )O_CREAT")
    RENAME = re.compile(r"(?<![\w$])(?:rename(?:Sync)?|replace)\s*\(|\.rename\(|\.replace\(")
    TEMP = re.compile(r"[Tt]mp|TMP|[Tt]emp|TEMP|\.partial|[Ss]taging")
    STALE = re.compile(r"[Ss]tale|STALE|[Ff]orce[A-Z_]|force_|[Ee]xpired?|EXPIRE|[Bb]reak[A-Z_]|break_")
    AGE = re.compile(r"mtime|ctime|birthtime|Date\.now\(\)|time\.time\(\)|(?<![a-z])age(?![a-z])|Age(?![a-z])|st_mtime")
    OWNER = re.compile(r"(?<![a-z])pid|Pid|PID|hostname|[Hh]ost(?![a-z])|(?:process|os)\.kill\([^,]+,\s*0\)"
                       r"|[Ss]tart_?[Tt]ime|start_time|[Oo]wner|OWNER|[Ff]encing|[Tt]oken|[Ii]sAlive|is_alive|psutil")
    TIMEOUT = re.compile(r"[Tt]imeout|TIMEOUT|[Dd]eadline|[Ss]ignal|[a-z]Ms\b|\bms\b|[Rr]etries|withTimeout|Promise\.race")
    OPTIONS = re.compile(r"\.\.\.|(?<![a-z])opts?(?![a-z])|Opts?\b|[Oo]ptions|[Cc]onfig|[Ss]ettings")
    # work with no upper bound on how long it takes
    UNBOUNDED_PY = re.compile(r"\b(?:requests|httpx|session|client)\.(?:get|post|put|patch|delete|head|request|stream)\("
                              r"|urlopen\(|\bsubprocess\.(?:run|call|check_call|check_output)\(|create_subprocess_\w+\("
                              r"|\.communicate\(|os\.system\(")
    UNBOUNDED_JS = re.compile(r"(?<![\w$.])(?:fetch|got|spawn|exec|execFile|execa)\(|\bhttps?\.(?:get|request)\("
                              r"|\baxios\b|\b(?:child_process|childProcess|cp)\.\w+\(|new Promise\(")
    BLOCKING_JS = re.compile(r"(?<![\w$])(?:execSync|execFileSync|spawnSync)\(")
    LOCK_CALLBACK = re.compile(r"(?<![\w$])(?:with\w*Lock\w*|runExclusive|using\w*Lock|lock\.acquire|acquire\w*"
                               r"|locks\.request)\s*\(")


_TEXT: dict[str, tuple[str, str, dict[str, str]]] = {
    "release-not-guaranteed": (
        "Lock release is not guaranteed on error",
        "If anything between acquire and release throws, the release is skipped and the lock stays held: "
        "every later waiter blocks or times out until someone deletes it by hand.",
        {"python": "Release in `finally:` right after acquiring, or use `with lock:`.",
         "js": "Wrap the work in `try { … } finally { await release(); }` directly after the acquire."}),
    "acquire-without-timeout": (
        "Blocking lock acquire without a timeout",
        "A blocking acquire with no bound waits forever if the holder crashed or deadlocked, turning a "
        "stuck lock into a hung process instead of a clear error.",
        {"python": "Pass `timeout=` (or `blocking=False` and retry with a deadline); for flock use `LOCK_NB` in a "
                   "bounded retry loop; for asyncio wrap it in `asyncio.wait_for(…, timeout)`.",
         "js": "Pass a `timeoutMs` (or an AbortSignal) and fail with a clear error when it elapses."}),
    "lock-held-across-unbounded-await": (
        "Lock held across unbounded network/subprocess work",
        "While the lock is held, every other writer waits for a network call or child process that has no "
        "upper bound; one slow peer serialises or deadlocks the whole system.",
        {"python": "Do the slow work before taking the lock (or after releasing it), or give the call a `timeout=`.",
         "js": "Move the await outside the locked region, or bound it (`AbortSignal.timeout(ms)`, a timeout race)."}),
    "force-release-without-owner-check": (
        "Lock is broken without checking its owner",
        "Deleting a lock because it looks old also deletes locks whose owner is alive but slow; two processes "
        "then both believe they hold it and corrupt the protected state.",
        {"python": "Record pid/host/start time in the lock and break it only if `os.kill(pid, 0)` says the owner "
                   "is gone (same host), or use a fencing token.",
         "js": "Record pid/host/start time in the lock and break it only if `process.kill(pid, 0)` throws ESRCH "
               "(same host), or use a fencing token."}),
    "unlink-lock-held-open": (
        "Lock file unlinked while a handle may still be open",
        "Unlinking a lock path that is still open (or re-creating it right away) lets a second process create a "
        "new file at the same path while the first still holds the old inode: both hold 'the' lock.",
        {"python": "Close the lock fd before unlinking it, and never unlink-then-recreate; re-acquire through the "
                   "normal O_EXCL path.",
         "js": "Close the handle before unlinking, and re-acquire through the normal `'wx'` path instead of "
               "unlink-then-create."}),
    "check-then-create": (
        "Check-then-create race on a lock file",
        "Between the existence check and the create another process can create the lock too; both pass the "
        "check and both think they own it.",
        {"python": "Create atomically: `os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)` and handle "
                   "`FileExistsError`.",
         "js": "Create atomically with `fs.open(path, 'wx')` (or `writeFile(path, data, { flag: 'wx' })`) and "
               "handle `EEXIST`."}),
    "non-atomic-lock-write": (
        "Lock file content written in place",
        "A reader (or a crash) can see a half-written lock file: an empty or torn pid makes the lock look stale "
        "or unparsable and invites breaking a live lock.",
        {"python": "Write to a temp file in the same directory, fsync, then `os.replace()` it onto the final path.",
         "js": "Write to a temp file in the same directory, then `fs.rename()` it onto the final path."}),
    "inconsistent-lock-order": (
        "Locks taken in opposite orders",
        "Two code paths that take the same two locks in opposite orders can deadlock when they run concurrently.",
        {"python": "Pick one global order for these locks and take them in that order everywhere.",
         "js": "Pick one global order for these locks and take them in that order everywhere."}),
    "swallowed-release-error": (
        "Release error silently swallowed",
        "If releasing the lock fails the error vanishes, the lock may still be held, and the next waiter "
        "times out with no clue why.",
        {"python": "Catch only the expected case (e.g. `FileNotFoundError`) and log or re-raise anything else.",
         "js": "Ignore only the expected case (`err.code === 'ENOENT'`) and log or rethrow anything else."}),
    "lock-change-without-test": (
        "Lock code changed without a matching test",
        "Locking bugs are races and error paths that review alone rarely catches; without a regression test the "
        "bot cannot prove the fix on base and head.",
        {"python": "Add a test that fails without this change (e.g. a second holder, a crash mid-hold, a timeout).",
         "js": "Add a test that fails without this change (e.g. a second holder, a crash mid-hold, a timeout)."}),
}
_PRIORITY = {
    "release-not-guaranteed": Priority.P1, "acquire-without-timeout": Priority.P2,
    "lock-held-across-unbounded-await": Priority.P1, "force-release-without-owner-check": Priority.P1,
    "unlink-lock-held-open": Priority.P2, "check-then-create": Priority.P1, "non-atomic-lock-write": Priority.P2,
    "inconsistent-lock-order": Priority.P1, "swallowed-release-error": Priority.P2,
    "lock-change-without-test": Priority.P2,
}


@dataclass(frozen=True)
class Window:
    """One hunk of one scanned file: what a rule can see."""

    path: str
    lang: Language
    lines: list[Line]
    section: str = ""
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # per-hunk derived facts


def scan(files: list[FileDiff], changed_tests: list[str]) -> list[Finding]:
    """Run every rule; dedupe, rank by priority then path then line, and cap the output.

    `changed_tests` are the PR's test files as the proof engine classified them
    (`ChangedFiles.tests`): they are not scanned, only counted as evidence.
    """
    tests = set(changed_tests)
    windows = [Window(f.path, f.language, hunk.lines, hunk.section)  # type: ignore[arg-type]
               for f in files if _scannable(f, tests) for hunk in f.hunks]
    findings: list[Finding] = []
    for window in windows:
        for rule in WINDOW_RULES:
            findings.extend(rule(window))
    findings.extend(inconsistent_lock_order(windows))
    findings.extend(lock_change_without_test(files, changed_tests))
    return _rank(findings)


def _scannable(f: FileDiff, tests: set[str]) -> bool:
    return f.language is not None and not f.binary and f.status != "deleted" and f.path not in tests


def _rank(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str, int], Finding] = {}
    for finding in findings:
        key = (finding.rule, finding.path, finding.line)
        if key not in seen or finding.priority < seen[key].priority:
            seen[key] = finding
    creates = {(f.path, f.line) for f in seen.values() if f.rule == "check-then-create"}
    kept = [f for f in seen.values() if not (f.rule == "non-atomic-lock-write" and (f.path, f.line) in creates)]
    kept.sort(key=lambda f: (f.priority.value, f.path, f.line, f.rule))
    return kept[:MAX_FINDINGS]


def _finding(rule: str, window: Window, line: Line, detail: str = "", priority: Priority | None = None) -> Finding:
    title, why, suggestions = _TEXT[rule]
    return Finding(rule=rule, priority=priority or _PRIORITY[rule], path=window.path, line=line.number,
                   title=title + (f" ({detail})" if detail else ""), why=why, suggestion=suggestions[window.lang])


# --- rules ------------------------------------------------------------------------------------


def release_not_guaranteed(w: Window) -> Iterator[Finding]:
    """An acquire whose release (in the same function, in this hunk) is never in finally/except/catch."""
    for i, line in enumerate(w.lines):
        if not _is_acquire(line.text, w.lang) or _acquired_by_scope(w, i) or re.match(r"\s*assert\b", line.text):
            continue
        owner = _receiver(line.text, "acquire|lock")
        releases = [j for j in _same_function(w, i) if _is_release(w.lines[j].text) and not _deferred(w, i, j)
                    and (owner is None or _receiver(w.lines[j].text, "release|unlock") in (owner, None))]
        if releases and _no_work_between(w, i, releases[0]):
            continue  # `if lock.acquire(False): lock.release()` - nothing can throw in between
        if not releases or any(_release_guarded(w, j) for j in releases):
            continue
        added = [j for j in releases if w.lines[j].added]
        if added or line.added:
            yield _finding("release-not-guaranteed", w, w.lines[added[0]] if added else line)


def acquire_without_timeout(w: Window) -> Iterator[Finding]:
    """A blocking acquire that can wait forever on a dead holder."""
    for i, line in _added(w):
        text = line.text
        if w.lang == "python":
            receiver = re.search(r"([\w.()]+)\.acquire\(\s*(?:True|blocking\s*=\s*True)?\s*\)", text)
            blocking = receiver and LOCKISH.NAME.search(receiver.group(1)) and "wait_for(" not in text
            flock = re.search(r"\b(?:flock|lockf)\s*\([^)]*LOCK_(?:EX|SH)", text) and "LOCK_NB" not in text
            if blocking or flock:
                yield _finding("acquire-without-timeout", w, line)
            continue
        match = re.search(r"(?<![\w$])acquire(?:[A-Z]\w*)?\s*\(|\.lock\(\s*\)", _code(text))
        if not match or not LOCKISH.NAME.search(text) or _is_definition(text, w.lang) or LOCKISH.TIMEOUT.search(text):
            continue
        args = _call_args(w, i, match.end() - 1)
        if args is not None and _no_timeout_given(args):
            yield _finding("acquire-without-timeout", w, line)


def _no_timeout_given(args: str) -> bool:
    """Sure only when there are no args, an options literal without a timeout, or just paths/names."""
    if LOCKISH.TIMEOUT.search(args) or LOCKISH.OPTIONS.search(args):
        return False
    if not args.strip() or "{" in args:
        return True
    items = [a.strip() for a in args.split(",") if a.strip()]
    return all(re.fullmatch(r"""(['"`]).*\1|[\w$.]*(?:[Pp]ath|[Ff]ile|[Dd]ir|[Ll]ock|LOCK|[Nn]ame|[Kk]ey)""", a)
               for a in items)


def lock_held_across_unbounded_await(w: Window) -> Iterator[Finding]:
    """Network or subprocess work started while a lock is held (a `with lock:` block, a lock callback, or after acquire)."""
    for i, line in _added(w):
        text = line.text
        if LOCKISH.TIMEOUT.search(text) or not _is_unbounded(w, i):
            continue
        if _lock_held_at(w, i):
            yield _finding("lock-held-across-unbounded-await", w, line)


def force_release_without_owner_check(w: Window) -> Iterator[Finding]:
    """Breaking a 'stale' lock with no proof its owner is gone; P0 when age is the only evidence."""
    for i, line in _added(w):
        if not _removes_lock(line.text):
            continue
        before = _texts(w, max(0, i - 15), i + 1)
        if not (LOCKISH.STALE.search(before) or LOCKISH.STALE.search(w.section)):
            continue  # a plain release by the holder, not a break
        if LOCKISH.OWNER.search(_texts(w, max(0, i - 20), i + 4)):
            continue
        aged = LOCKISH.AGE.search(before)
        yield _finding("force-release-without-owner-check", w, line, "on age alone" if aged else "",
                       Priority.P0 if aged else None)


def unlink_lock_held_open(w: Window) -> Iterator[Finding]:
    """Unlink of a lock path before its handle is closed, or unlink immediately followed by re-creating it."""
    for i, line in _added(w):
        if not _removes_lock(line.text):
            continue
        scope, function = _same_function(w, i), _function_lines(w, i)
        opened = any(LOCKISH.OPEN.search(w.lines[j].text) and _lock_path(w.lines[j].text)
                     for j in function if j < i)
        closed_after = any(LOCKISH.CLOSE.search(w.lines[j].text) for j in scope)
        target = _removed_target(line.text)
        recreated = target is not None and any(
            target in w.lines[j].text and (LOCKISH.CREATE.search(w.lines[j].text) or LOCKISH.OPEN.search(w.lines[j].text))
            for j in scope)
        if (opened and closed_after) or recreated:
            yield _finding("unlink-lock-held-open", w, line, "re-created right after" if recreated else "")


def check_then_create(w: Window) -> Iterator[Finding]:
    """exists()/access() on a lock path, then a create that does not fail if someone else won the race."""
    for i, line in enumerate(w.lines):
        if not (LOCKISH.EXISTS.search(line.text) and _lock_path(line.text)) or _is_comment(line.text):
            continue
        for j in _same_function(w, i):
            create = w.lines[j]
            if LOCKISH.CREATE.search(create.text) and not LOCKISH.EXCLUSIVE_CREATE.search(create.text) \
                    and _lock_path(create.text) and (create.added or line.added):
                yield _finding("check-then-create", w, create if create.added else line)
                break


def non_atomic_lock_write(w: Window) -> Iterator[Finding]:
    """Lock content written straight onto the final path instead of temp-then-rename."""
    for i, line in _added(w):
        text = line.text
        if not (LOCKISH.CREATE.search(text) and _lock_path(text)) or LOCKISH.EXCLUSIVE_CREATE.search(text):
            continue
        if re.search(r"""['"]a\+?b?['"]""", text) or re.search(r"\.touch\(", text):
            continue  # append / touch: opening to flock it, not writing content
        if LOCKISH.TEMP.search(text) or any(LOCKISH.RENAME.search(w.lines[j].text) for j in _same_function(w, i)):
            continue
        yield _finding("non-atomic-lock-write", w, line)


def swallowed_release_error(w: Window) -> Iterator[Finding]:
    """A release inside a try whose catch/except discards every error without a word."""
    for i, line in _added(w):
        text = line.text
        if not _is_release(text) or _is_definition(text, w.lang):
            continue
        if w.lang == "js":
            if re.search(r"\.catch\(\s*(?:\(\s*\w*\s*\)|\w+)\s*=>\s*(?:\{\s*\}|undefined|null|void 0)\s*\)"
                         r"|\.catch\(\s*noop\s*\)", text) or _js_empty_catch_after(w, i):
                yield _finding("swallowed-release-error", w, line)
        elif _py_bare_except_after(w, i):
            yield _finding("swallowed-release-error", w, line)


def inconsistent_lock_order(windows: list[Window]) -> list[Finding]:
    """Nested acquisitions of the same two named locks in both orders somewhere in the diff."""
    pairs: list[tuple[str, str, Window, Line]] = []
    for w in windows:
        for i, line in enumerate(w.lines):
            inner = _acquired_names(line.text, w.lang)
            if not inner:
                continue
            outer = _held_names(w, i)
            chain = outer + inner
            pairs.extend((a, b, w, line) for k, a in enumerate(chain) for b in chain[k + 1:]
                         if a != b and b in inner)
    orders = {(a, b) for a, b, _, _ in pairs}
    return [_finding("inconsistent-lock-order", w, line, f"{code_span(a)} then {code_span(b)}")
            for a, b, w, line in pairs if line.added and (b, a) in orders]


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
        if not _scannable(f, tests) or not added:
            continue
        lockish_path = re.search(r"lock|mutex|semaphore", f.path.lower()) and not LOCKISH.DEPENDENCY_LOCKFILE.search(f.path)
        lockish_lines = any(_is_acquire(line.text, f.language) or _is_release(line.text) for line in added)  # type: ignore[arg-type]
        if not (lockish_path or lockish_lines):
            continue
        if any(_stem_words(f.path) & words for words in test_words) or _module_named(f.path, test_text):
            continue
        window = Window(f.path, f.language, [], "")  # type: ignore[arg-type]
        findings.append(_finding("lock-change-without-test", window, added[0]))
    return findings


def _module_named(path: str, text: str) -> bool:
    """Whether test code names the module: its file name without extension, as a whole word."""
    module = path.rsplit("/", 1)[-1].split(".")[0]
    return len(module) >= 3 and module not in _GENERIC_WORDS and bool(
        re.search(rf"(?<![\w-]){re.escape(module)}(?![\w-])", text))


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


def rules_markdown() -> str:
    """The rule table for the README (a test keeps the two the same)."""
    lines = ["| rule | priority | finding |", "| --- | --- | --- |"]
    for rule, (title, _, _) in _TEXT.items():
        escalation = " (P0 when it breaks a lock by age alone)" if rule == "force-release-without-owner-check" else ""
        lines.append(f"| `{rule}` | {_PRIORITY[rule].value}{escalation} | {title} |")
    return "\n".join(lines) + "\n"


WINDOW_RULES = (release_not_guaranteed, acquire_without_timeout, lock_held_across_unbounded_await,
                force_release_without_owner_check, unlink_lock_held_open, check_then_create,
                non_atomic_lock_write, swallowed_release_error)


# --- shared helpers ---------------------------------------------------------------------------

_GENERIC_WORDS = {"src", "lib", "index", "main", "test", "tests", "spec", "utils", "util", "core", "common",
                  "the", "and", "for", "mjs", "cjs", "mts", "cts", "tsx", "jsx"}


def _stem_words(path: str) -> set[str]:
    """Words of a file name (not its folders): `src/SessionWriteLock.ts` -> {session, write, lock}."""
    name = path.rsplit("/", 1)[-1].split(".")[0]
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return {w.lower() for w in words if len(w) >= 3 and w.lower() not in _GENERIC_WORDS}


MAX_LINE = 400  # longer lines are minified or generated code: nothing a reviewer would anchor on


def _added(w: Window) -> Iterator[tuple[int, Line]]:
    for i, line in enumerate(w.lines):
        if line.added and not _is_comment(line.text) and len(line.text) <= MAX_LINE:
            yield i, line


def _texts(w: Window, start: int, stop: int) -> str:
    return "\n".join(line.text for line in w.lines[start:stop] if not _is_comment(line.text))


def _is_comment(text: str) -> bool:
    return text.lstrip().startswith(("//", "#", "*", "/*"))


def _indent(text: str) -> int:
    return len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip())


def _blank(text: str) -> bool:
    return not text.strip() or _is_comment(text)


_JS_DEF = re.compile(r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\b"
                     r"|^\s*(?:(?:public|private|protected|static|async|override|readonly)\s+)*(?!(?:if|for|while|switch|catch|return|await)\b)[\w$]+\s*\([^)]*\)\s*(?::[^={]*)?\{\s*$"
                     r"|^\s*(?:export\s+)?(?:const|let|var)\s+[\w$]+\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]*)?=>)"
                     r"|^\s*[\w$]+\??\s*\([^)]*\)\s*:\s*[^;{]+;\s*$")


def _is_definition(text: str, lang: Language) -> bool:
    if lang == "python":
        return bool(re.match(r"\s*(?:async\s+)?def\s", text))
    return bool(_JS_DEF.search(text))


def _is_acquire(text: str, lang: Language) -> bool:
    """An acquire call on something named like a lock (a pool's `acquire()` is not a lock)."""
    if _is_comment(text) or _is_definition(text, lang) or "LOCK_UN" in text:
        return False
    if LOCKISH.ACQUIRE.search(_code(text)) and LOCKISH.NAME.search(text):
        return True
    return bool(LOCKISH.OPEN.search(text) and LOCKISH.EXCLUSIVE_CREATE.search(text) and _lock_path(text))


def _is_release(text: str) -> bool:
    """release()/unlock()/LOCK_UN of a lock, a bare `release()` handle, or removing a lock file."""
    if _is_comment(text):
        return False
    if LOCKISH.RELEASE.search(_code(text)) and (LOCKISH.NAME.search(text) or re.search(r"(?<![\w$.])(?:release|unlock)\(\s*\)", text)):
        return True
    return _removes_lock(text)


def _lock_path(text: str) -> bool:
    return bool(LOCKISH.PATH.search(text)) and not LOCKISH.DEPENDENCY_LOCKFILE.search(text)


def _removes_lock(text: str) -> bool:
    return not _is_comment(text) and bool(LOCKISH.REMOVE.search(_code(text))) and _lock_path(text)


def _removed_target(text: str) -> str | None:
    """The path expression an unlink/rm acts on: the first argument, or the receiver of `.unlink()`."""
    match = re.search(r"([\w$.\[\]'\"]+)\.unlink\(\s*\)", text)
    if match:
        return match.group(1)
    match = re.search(r"(?:unlink(?:Sync)?|rm(?:Sync)?|remove)\s*\(\s*([^,)]+)", text)
    return match.group(1).strip() if match and LOCKISH.PATH.search(match.group(1)) else None


def _call_args(w: Window, i: int, paren: int) -> str | None:
    """The argument text of the call whose '(' is at `paren` on line i, across lines; None if cut off by the hunk."""
    depth, out = 0, []
    for k, line in enumerate(w.lines[i:i + 8]):
        text = line.text[paren:] if k == 0 else line.text
        for char in text:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                return "".join(out)[1:]
            out.append(char)
        out.append("\n")
    return None


def _function_lines(w: Window, i: int) -> set[int]:
    """Indexes of lines that (as far as the hunk shows) belong to the same function as line i."""
    before = set()
    for j in range(i - 1, max(-1, i - 1 - LOOKBEHIND), -1):
        text = w.lines[j].text
        if _is_definition(text, w.lang) and _indent(text) < _indent(w.lines[i].text):
            break
        before.add(j)
    return before | {i} | set(_same_function(w, i))


def _same_function(w: Window, i: int) -> list[int]:
    """Indexes after line i, up to the end of its enclosing block or function as far as the hunk shows."""
    out: list[int] = []
    if w.lang == "python":
        base = _indent(w.lines[i].text)
        for j in range(i + 1, min(len(w.lines), i + 1 + LOOKAHEAD * 3)):
            text = w.lines[j].text
            if _blank(text):
                continue
            if _indent(text) < base and not re.match(r"\s*(?:finally|except|else|elif)\b", text):
                if _indent(text) < base and re.match(r"\s*(?:async\s+)?(?:def|class)\s", text) or _indent(text) == 0:
                    break
                base = _indent(text)
            out.append(j)
        return out
    depth = _brace_delta(w.lines[i].text)
    for j in range(i + 1, min(len(w.lines), i + 1 + LOOKAHEAD * 3)):
        text = w.lines[j].text
        stripped = _strip_js(text).strip()
        depth += _brace_delta(text)
        if depth < 0 and not re.match(r"\}\s*(?:finally|catch|else)\b", stripped):
            if depth < -1 or _closes_function(w, j):
                break
        out.append(j)
    return out


def _closes_function(w: Window, j: int) -> bool:
    """A closing brace whose line is followed by a new definition (or nothing): the function ended."""
    for k in range(j + 1, len(w.lines)):
        if not _blank(w.lines[k].text):
            return _is_definition(w.lines[k].text, w.lang) or _indent(w.lines[k].text) <= _indent(w.lines[j].text) - 2
    return True


def _code(text: str) -> str:
    """The line with string contents blanked (same length), so `"lock.acquire()"` in a message is not a call."""
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`",
                  lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def _strip_js(text: str) -> str:
    """Code without string contents and trailing comments, so braces in strings don't count."""
    text = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`", "''", text)
    return re.sub(r"//.*$", "", text)


def _brace_delta(text: str) -> int:
    code = _strip_js(text)
    return code.count("{") - code.count("}")


def _js_blocks(w: Window, i: int, column: int | None = None) -> list[tuple[str, str]]:
    """The blocks enclosing line i (up to `column`): (kind, text before the brace), outermost first."""
    if "blocks" not in w.cache:  # the stack at the start of every line, computed once per hunk
        starts, stack = [], []
        for j in range(len(w.lines)):
            starts.append(tuple(stack))
            stack = _push_braces(w, j, list(stack), None)
        w.cache["blocks"] = starts
    return _push_braces(w, i, list(w.cache["blocks"][i]), column)


def _push_braces(w: Window, j: int, stack: list[tuple[str, str]], column: int | None) -> list[tuple[str, str]]:
    text = _strip_js(w.lines[j].text if column is None else w.lines[j].text[:column])
    start = 0
    for k, char in enumerate(text):
        if char == "{":
            prefix = text[start:k]
            if j > 0 and not prefix.strip():
                prefix = _strip_js(w.lines[j - 1].text)  # `finally\n{` style
            stack.append((_block_kind(prefix), prefix))
            start = k + 1
        elif char == "}":
            if stack:
                stack.pop()
            start = k + 1
        elif char == ";":
            start = k + 1
    return stack


def _block_kind(prefix: str) -> str:
    stripped = prefix.strip()
    if re.search(r"\bfinally\s*$", stripped):
        return "finally"
    if re.search(r"\bcatch\s*(?:\([^)]*\))?\s*$", stripped):
        return "catch"
    if re.search(r"\btry\s*$", stripped):
        return "try"
    if LOCKISH.LOCK_CALLBACK.search(prefix) and re.search(r"(?:=>|\))\s*$", stripped):
        return "lock"
    if re.search(r"=>\s*$|\bfunction\b[^{]*\)\s*$", stripped):
        return "function"
    return "block"


def _py_headers(w: Window, i: int) -> list[str]:
    """Block headers enclosing line i (innermost first), read from indentation."""
    return [w.lines[j].text.strip() for j in _py_header_indexes(w, i)]


def _py_header_indexes(w: Window, i: int) -> list[int]:
    out, level = [], _indent(w.lines[i].text)
    if level == 0:
        return out
    for j in range(i - 1, max(-1, i - 1 - 4 * LOOKBEHIND), -1):
        text = w.lines[j].text
        if _blank(text) or _indent(text) >= level:
            continue
        level = _indent(text)
        out.append(j)
        if level == 0:
            break
    return out


def _acquired_by_scope(w: Window, i: int) -> bool:
    """`with lock.acquire…` / `using lock = …`: the language releases it."""
    text = w.lines[i].text
    return bool(re.match(r"\s*(?:async\s+)?with\b", text) or re.search(r"\busing\b", text))


_NO_WORK = re.compile(r"\s*(?:\}\s*)?(?:try|else|finally|except\b[^:]*|catch\s*(?:\([^)]*\))?|pass|\{|\})?\s*[:{]?\s*$")


def _receiver(text: str, verbs: str) -> str | None:
    """`self._a_lock` for `self._a_lock.acquire()`: pairs a release with its own acquire, not another lock's."""
    match = re.search(rf"([\w$.]+)\.(?:{verbs})\(", _code(text))
    return _normalise(match.group(1)) if match else None


def _no_work_between(w: Window, i: int, j: int) -> bool:
    return all(_blank(w.lines[k].text) or _NO_WORK.fullmatch(w.lines[k].text) for k in range(i + 1, j))


def _deferred(w: Window, i: int, j: int) -> bool:
    """The release at j sits in a closure defined after the acquire at i (a returned release function)."""
    if w.lang == "python":
        return len([h for h in _py_headers(w, j) if re.match(r"(?:async\s+)?def\b|lambda\b", h)]) > \
            len([h for h in _py_headers(w, i) if re.match(r"(?:async\s+)?def\b", h)])
    def functions(blocks: list[tuple[str, str]]) -> int:
        return sum(1 for kind, _ in blocks if kind == "function")

    return functions(_js_blocks(w, j)) > functions(_js_blocks(w, i))


def _release_guarded(w: Window, j: int) -> bool:
    text = w.lines[j].text
    if w.lang == "python":
        return any(re.match(r"(?:finally|except)\b", h) for h in _py_headers(w, j))
    if re.search(r"\.finally\(|\.(?:on|once|addListener)\(", text):
        return True
    match = LOCKISH.RELEASE.search(text)
    kinds = [kind for kind, _ in _js_blocks(w, j, match.start() if match else None)]
    return "finally" in kinds or "catch" in kinds


def _is_unbounded(w: Window, i: int) -> bool:
    text = w.lines[i].text
    if w.lang == "python":
        match = LOCKISH.UNBOUNDED_PY.search(text)
        args = _call_args(w, i, match.end() - 1) if match and match.group(0).endswith("(") else ""
        return bool(match) and args is not None and not LOCKISH.TIMEOUT.search(args)
    if LOCKISH.BLOCKING_JS.search(text):
        return True
    if not re.search(r"\bawait\b", text) or not LOCKISH.UNBOUNDED_JS.search(text):
        return False
    if "new Promise(" in text:
        return not re.search(r"setTimeout|[Tt]imeout", _texts(w, i, i + 6))
    return True


def _lock_held_at(w: Window, i: int) -> bool:
    """Inside `with <lock>:`, a lock callback, or after an acquire with no release in between."""
    if w.lang == "python":
        if any(re.match(r"(?:async\s+)?with\b", h) and LOCKISH.NAME.search(h) for h in _py_headers(w, i)):
            return True
    elif any(kind == "lock" for kind, _ in _js_blocks(w, i)):
        return True
    for j in range(i - 1, max(-1, i - 1 - LOOKBEHIND), -1):
        text = w.lines[j].text
        if _is_definition(text, w.lang) and _indent(text) < _indent(w.lines[i].text):
            return False
        if _is_release(text):
            return False
        if _is_acquire(text, w.lang) and not _acquired_by_scope(w, j):
            return j in _function_lines(w, i)
    return False


def _js_empty_catch_after(w: Window, i: int) -> bool:
    """The release sits in a `try` whose `catch` (within a few lines) has an empty or comment-only body."""
    text = _code(w.lines[i].text)
    match = LOCKISH.RELEASE.search(text) or LOCKISH.REMOVE.search(text)
    if not any(kind == "try" for kind, _ in _js_blocks(w, i, match.start() if match else None)):
        return False
    for j in range(i, min(len(w.lines), i + 6)):
        code = _strip_js(w.lines[j].text)
        match = re.search(r"\bcatch\s*(?:\([^)]*\))?\s*\{(.*)$", code)
        if not match:
            continue
        rest = match.group(1)
        if "}" in rest:
            return not rest.split("}", 1)[0].strip()
        if rest.strip():
            return False
        for k in range(j + 1, min(len(w.lines), j + 5)):
            body = _strip_js(w.lines[k].text).strip()
            if body.startswith("}"):
                return True
            if body and not body.startswith(("/*", "*")):
                return False
        return False
    return False


def _py_bare_except_after(w: Window, i: int) -> bool:
    """The release sits in a `try:` whose `except` catches everything and only passes (or a broad `suppress`)."""
    headers = _py_headers(w, i)
    if any(re.match(r"with\s+(?:contextlib\.)?suppress\((?:Base)?Exception\)", h) for h in headers):
        return True
    try_index = next((j for j in _py_header_indexes(w, i) if re.match(r"\s*try\s*:", w.lines[j].text)), None)
    if try_index is None:
        return False
    level = _indent(w.lines[try_index].text)
    for j in range(i + 1, len(w.lines)):
        text = w.lines[j].text
        if _blank(text) or _indent(text) > level:
            continue
        match = re.match(r"\s*except\s*(\(?[\w., ]*\)?)?\s*(?:as\s+\w+)?\s*:\s*(.*)$", text)
        if not match:
            return False
        caught = (match.group(1) or "").strip("() ")
        if caught and not re.fullmatch(r"(?:Base)?Exception|RuntimeError", caught):
            continue  # a narrow except (FileNotFoundError ...) is deliberate; look at the next clause
        body = [match.group(2).strip()] if match.group(2).strip() else []
        for k in range(j + 1, len(w.lines)):
            if _blank(w.lines[k].text):
                continue
            if _indent(w.lines[k].text) <= level:
                break
            body.append(w.lines[k].text.strip())
        return bool(body) and all(b in ("pass", "...") for b in body)
    return False


_PY_WITH_ITEM = re.compile(r"^\s*(?:async\s+)?with\s+(.+?):\s*$")


def _normalise(name: str) -> str:
    name = re.sub(r"^(?:await\s+)?(?:self|this)\.", "", name.strip())
    return name.strip("'\"` ")


def _acquired_names(text: str, lang: Language) -> list[str]:
    """Names of the locks a line takes, in order (`with a, b:`, `a.acquire()`, `withLock(a, …)`)."""
    if _is_comment(text) or _is_definition(text, lang):
        return []
    names: list[str] = []
    if lang == "python":
        match = _PY_WITH_ITEM.match(text)
        if match:
            for item in match.group(1).split(","):
                expr = re.sub(r"\s+as\s+\w+$", "", item.strip())
                if LOCKISH.NAME.search(expr) and not expr.startswith("open("):
                    names.append(_normalise(expr))
    for match in re.finditer(r"([\w$.]+)\.(?:acquire|lock)\(", text):
        if LOCKISH.NAME.search(match.group(1)):
            names.append(_normalise(match.group(1)))
    if lang == "js":
        for match in re.finditer(r"(?<![\w$.])(?:with\w*Lock\w*|acquire\w*)\(\s*([^,()]+?)\s*[,)]", text):
            names.append(_normalise(match.group(1)))
    return [n for n in names if n]


def _held_names(w: Window, i: int) -> list[str]:
    """Locks held at line i, outermost first: enclosing `with`/lock callbacks, then unreleased acquires."""
    held: list[str] = []
    if w.lang == "python":
        for header in reversed(_py_headers(w, i)):
            if header.startswith(("with ", "async with ")):
                held.extend(_acquired_names(header, "python"))
    else:
        for _, prefix in _js_blocks(w, i):
            if LOCKISH.LOCK_CALLBACK.search(prefix):
                held.extend(_acquired_names(prefix, "js"))
    for j in sorted(_function_lines(w, i)):
        if j >= i:
            break
        text = w.lines[j].text
        if w.lang == "python" and _PY_WITH_ITEM.match(text):
            continue
        if w.lang == "js" and re.search(r"=>\s*\{\s*$|function\s*\([^)]*\)\s*\{\s*$", text):
            continue  # callback style: counted through the enclosing blocks
        for name in _acquired_names(text, w.lang):
            held.append(name)
        for match in re.finditer(r"([\w$.]+)\.(?:release|unlock)\(", text):
            name = _normalise(match.group(1))
            if name in held:
                held.remove(name)
    return list(dict.fromkeys(held))
