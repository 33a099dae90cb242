"""The rule catalogue: one record per lock-scan rule, the single source of its id, rank and words.

The rules (rules.py, diff_rules.py) decide *where* a problem is; everything a
maintainer reads about it - title, why it matters, how to fix it per language,
and its priority - lives here, so the docs table (docs/ranks-and-lock-scan.md) and the findings
cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from reviewbot.model import Finding, Priority
from reviewbot.review.diff import Language


@dataclass(frozen=True)
class Rule:
    """One rule as a maintainer sees it."""

    id: str
    priority: Priority
    title: str
    why: str
    fix_python: str
    fix_js: str
    escalation: str = ""  # when a finding is ranked above `priority` (shown in the docs table)

    def suggestion(self, lang: Language) -> str:
        return self.fix_python if lang == "python" else self.fix_js

    def finding(
        self, path: str, lang: Language, line: int, detail: str = "", priority: Priority | None = None
    ) -> Finding:
        """A finding of this rule at path:line; `detail` qualifies the title, `priority` escalates it."""
        return Finding(
            rule=self.id,
            priority=priority or self.priority,
            path=path,
            line=line,
            title=self.title + (f" ({detail})" if detail else ""),
            why=self.why,
            suggestion=self.suggestion(lang),
        )


_ORDER_FIX = "Pick one global order for these locks and take them in that order everywhere."
_TEST_FIX = "Add a test that fails without this change (e.g. a second holder, a crash mid-hold, a timeout)."

_RULES = (
    Rule(
        id="release-not-guaranteed",
        priority=Priority.P1,
        title="Lock release is not guaranteed on error",
        why="If anything between acquire and release throws, the release is skipped and the lock stays held: "
        "every later waiter blocks or times out until someone deletes it by hand.",
        fix_python="Release in `finally:` right after acquiring, or use `with lock:`.",
        fix_js="Wrap the work in `try { … } finally { await release(); }` directly after the acquire.",
    ),
    Rule(
        id="acquire-without-timeout",
        priority=Priority.P2,
        title="Blocking lock acquire without a timeout",
        why="A blocking acquire with no bound waits forever if the holder crashed or deadlocked, turning a "
        "stuck lock into a hung process instead of a clear error.",
        fix_python="Pass `timeout=` (or `blocking=False` and retry with a deadline); for flock use `LOCK_NB` in a "
        "bounded retry loop; for asyncio wrap it in `asyncio.wait_for(…, timeout)`.",
        fix_js="Pass a `timeoutMs` (or an AbortSignal) and fail with a clear error when it elapses.",
    ),
    Rule(
        id="lock-held-across-unbounded-await",
        priority=Priority.P1,
        title="Lock held across unbounded network/subprocess work",
        why="While the lock is held, every other writer waits for a network call or child process that has no "
        "upper bound; one slow peer serialises or deadlocks the whole system.",
        fix_python="Do the slow work before taking the lock (or after releasing it), or give the call a `timeout=`.",
        fix_js="Move the await outside the locked region, or bound it (`AbortSignal.timeout(ms)`, a timeout race).",
    ),
    Rule(
        id="force-release-without-owner-check",
        priority=Priority.P1,
        title="Lock is broken without checking its owner",
        why="Deleting a lock because it looks old also deletes locks whose owner is alive but slow; two processes "
        "then both believe they hold it and corrupt the protected state.",
        fix_python="Record pid/host/start time in the lock and break it only if `os.kill(pid, 0)` says the owner "
        "is gone (same host), or use a fencing token.",
        fix_js="Record pid/host/start time in the lock and break it only if `process.kill(pid, 0)` throws ESRCH "
        "(same host), or use a fencing token.",
        escalation="P0 when it breaks a lock by age alone",
    ),
    Rule(
        id="unlink-lock-held-open",
        priority=Priority.P2,
        title="Lock file unlinked while a handle may still be open",
        why="Unlinking a lock path that is still open (or re-creating it right away) lets a second process create "
        "a new file at the same path while the first still holds the old inode: both hold 'the' lock.",
        fix_python="Close the lock fd before unlinking it, and never unlink-then-recreate; re-acquire through the "
        "normal O_EXCL path.",
        fix_js="Close the handle before unlinking, and re-acquire through the normal `'wx'` path instead of "
        "unlink-then-create.",
    ),
    Rule(
        id="check-then-create",
        priority=Priority.P1,
        title="Check-then-create race on a lock file",
        why="Between the existence check and the create another process can create the lock too; both pass the "
        "check and both think they own it.",
        fix_python="Create atomically: `os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)` and handle "
        "`FileExistsError`.",
        fix_js="Create atomically with `fs.open(path, 'wx')` (or `writeFile(path, data, { flag: 'wx' })`) and "
        "handle `EEXIST`.",
    ),
    Rule(
        id="non-atomic-lock-write",
        priority=Priority.P2,
        title="Lock file content written in place",
        why="A reader (or a crash) can see a half-written lock file: an empty or torn pid makes the lock look "
        "stale or unparsable and invites breaking a live lock.",
        fix_python="Write to a temp file in the same directory, fsync, then `os.replace()` it onto the final path.",
        fix_js="Write to a temp file in the same directory, then `fs.rename()` it onto the final path.",
    ),
    Rule(
        id="inconsistent-lock-order",
        priority=Priority.P1,
        title="Locks taken in opposite orders",
        why="Two code paths that take the same two locks in opposite orders can deadlock when they run concurrently.",
        fix_python=_ORDER_FIX,
        fix_js=_ORDER_FIX,
    ),
    Rule(
        id="swallowed-release-error",
        priority=Priority.P2,
        title="Release error silently swallowed",
        why="If releasing the lock fails the error vanishes, the lock may still be held, and the next waiter "
        "times out with no clue why.",
        fix_python="Catch only the expected case (e.g. `FileNotFoundError`) and log or re-raise anything else.",
        fix_js="Ignore only the expected case (`err.code === 'ENOENT'`) and log or rethrow anything else.",
    ),
    Rule(
        id="lock-change-without-test",
        priority=Priority.P2,
        title="Lock code changed without a matching test",
        why="Locking bugs are races and error paths that review alone rarely catches; without a regression test "
        "the bot cannot prove the fix on base and head.",
        fix_python=_TEST_FIX,
        fix_js=_TEST_FIX,
    ),
)

RULES: Mapping[str, Rule] = MappingProxyType({rule.id: rule for rule in _RULES})


def rules_markdown() -> str:
    """The rule table for docs/ranks-and-lock-scan.md (a test keeps the two the same)."""
    lines = ["| rule | priority | finding |", "| --- | --- | --- |"]
    for rule in RULES.values():
        escalation = f" ({rule.escalation})" if rule.escalation else ""
        lines.append(f"| `{rule.id}` | {rule.priority.value}{escalation} | {rule.title} |")
    return "\n".join(lines) + "\n"
