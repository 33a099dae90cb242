"""Likely related people: who last wrote the lines a pull request touches.

The review names a few people who know the code a PR changes, so a maintainer
can ask them. "Knows the code" is approximated by `git blame` on the merge-base:
the touched lines are the old-side lines of the diff (modified and deleted lines;
for a pure insertion, the lines around the insertion point), and each is
credited to the author of the commit that last changed it there.

Only names are reported, never email addresses: an address would leak personal
data into a public comment, and GitHub pings handles, not names. Names come
from commits the PR author may control, so they are treated as untrusted text:
control characters go, whitespace collapses, email-shaped tokens are dropped,
and the length is capped. The renderer still escapes them.

The work is bounded (a busy repository's PR may touch thousands of files): at
most `MAX_FILES` files, `MAX_RANGES` line ranges, `MAX_LINES_PER_FILE` lines per
file, a timeout per git call and an overall time budget. A file whose blame
fails (a submodule, a symlink, a path git refuses) is skipped; a diff that fails
(an unknown revision) yields no people. Nothing here raises for git's sake.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reviewbot.model import RelatedPerson
from reviewbot.proof.host_git import HostGit, WorkspaceError

log = logging.getLogger(__name__)

MAX_FILES = 50  # files blamed per review
MAX_RANGES = 400  # `-L` ranges across all files
MAX_LINES_PER_FILE = 10_000  # touched lines blamed per file (a rewritten generated file is not a signal)
GIT_TIMEOUT_S = 30.0  # one git call; HostGit kills it (and its children) after this
TOTAL_BUDGET_S = 120.0  # all calls together: later files are skipped once spent
MAX_NAME_CHARS = 80

NOT_COMMITTED = "Not Committed Yet"
REGULAR_FILE_MODES = frozenset({"100644", "100755"})  # symlinks (120000) and submodules (160000) are not blamed

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_BLAME_HEADER = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64}) \d+ \d+(?: \d+)?$")
_ZERO_SHA = re.compile(r"^0+$")
# A token with something on both sides of an "@": an address, or close enough to one.
_EMAIL_TOKEN = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


Range = tuple[int, int]  # 1-based, inclusive, on the merge-base


@dataclass(frozen=True)
class _Change:
    """One path of `git diff --raw --numstat` between base and head."""

    path: str
    status: str  # M, D, T, A ...
    old_mode: str
    old_blob: str
    new_blob: str
    added: int | None  # None for binary
    deleted: int | None


@dataclass
class _Tally:
    lines: int = 0
    last_time: int = -(2**63)
    last_commit: str = ""


def related_people(
    git_dir: Path,
    base_sha: str,
    head_sha: str,
    *,
    limit: int = 5,
    exclude_names: Collection[str] = (),
) -> list[RelatedPerson]:
    """Up to `limit` people who last changed, on `base_sha`, the lines `head_sha` touches.

    Ordered by touched lines (most first), then by their latest such commit (newest
    first), then by name. `[bot]` accounts and `exclude_names` (case-insensitive,
    e.g. the PR's own author) are left out. Returns [] when git cannot diff the
    revisions; never raises because of git.
    """
    if limit <= 0:
        return []
    runner = _Git.open(git_dir)
    if runner is None:
        return []
    base = runner.commit_sha(base_sha)
    head = runner.commit_sha(head_sha)
    if base is None or head is None:
        return []
    changes = runner.changes(base, head)
    if changes is None:
        return []

    excluded = {_fold(name) for name in exclude_names} | {_fold(sanitize_name(name)) for name in exclude_names}
    tallies: dict[str, _Tally] = {}
    files, ranges_left = 0, MAX_RANGES
    for change in changes:
        if files >= MAX_FILES or ranges_left <= 0 or runner.out_of_time():
            break
        ranges = _cap_lines(runner.touched_ranges(change))[:ranges_left]
        if not ranges:
            continue
        files += 1
        ranges_left -= len(ranges)
        for name, author_time, sha in runner.blame(base, change.path, ranges):
            clean = sanitize_name(name)
            if not clean or clean == NOT_COMMITTED or _ZERO_SHA.match(sha):
                continue
            if _fold(clean).endswith("[bot]") or _fold(clean) in excluded:
                continue
            tally = tallies.setdefault(clean, _Tally())
            tally.lines += 1
            if (author_time, sha) > (tally.last_time, tally.last_commit):
                tally.last_time, tally.last_commit = author_time, sha

    people = [
        RelatedPerson(name=name, lines=t.lines, last_commit=t.last_commit, last_date=_iso_date(t.last_time))
        for name, t in tallies.items()
    ]
    people.sort(key=lambda p: p.name)
    people.sort(key=lambda p: p.last_date, reverse=True)
    people.sort(key=lambda p: p.lines, reverse=True)
    return people[:limit]


def sanitize_name(raw: str) -> str:
    """A display name safe to put in a comment: one line, no controls, no addresses, <= 80 chars.

    Line breaks and tabs become spaces; other control, format (bidi overrides,
    zero-width) and surrogate characters are removed; email-shaped tokens are
    dropped; whitespace collapses; the result is cut at `MAX_NAME_CHARS`.
    """
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f\x85" or category in ("Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs"):  # Cf: bidi overrides, zero-width marks
            continue
        else:
            kept.append(char)
    text = _EMAIL_TOKEN.sub(" ", "".join(kept))
    text = " ".join(text.split())
    return text[:MAX_NAME_CHARS].rstrip()


# -- git ----------------------------------------------------------------------------


class _Git:
    """The few git calls this module makes, each with a timeout and no exceptions leaking."""

    def __init__(self, git: HostGit):
        self.git = git
        self.deadline = time.monotonic() + TOTAL_BUDGET_S

    @classmethod
    def open(cls, git_dir: Path) -> _Git | None:
        runner = cls(HostGit(git_dir))
        try:
            runner.git.run("rev-parse", "--git-dir", timeout=GIT_TIMEOUT_S)
        except (WorkspaceError, OSError) as exc:  # not a repository, no such path
            log.info("related people: cannot open %s: %s", git_dir, exc)
            return None
        return runner

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def run(self, *args: str) -> bytes | None:
        """stdout of `git <args>` as bytes, or None when git failed or timed out."""
        timeout = max(1.0, min(GIT_TIMEOUT_S, self.deadline - time.monotonic()))
        try:
            return self.git.run("-c", "core.quotePath=false", *args, timeout=timeout)
        except (WorkspaceError, OSError, ValueError) as exc:
            log.info("related people: git %s failed: %s", args[:2], str(exc)[-300:])
            return None

    def commit_sha(self, rev: str) -> str | None:
        """The full SHA of a commit; `--end-of-options` keeps a rev like `--output=x` a rev."""
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        sha = out.decode("ascii", "replace").strip() if out else ""
        return sha if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) else None

    def changes(self, base: str, head: str) -> list[_Change] | None:
        """Every changed path with its modes, blobs and line counts; renames split into D + A."""
        out = self.run(
            "diff", "--raw", "--numstat", "-z", "--no-renames", "--no-abbrev",
            "--no-ext-diff", "--no-textconv", "--no-color", base, head,
        )  # fmt: skip
        if out is None:
            return None
        tokens = out.split(b"\0")
        raw: list[tuple[list[str], str]] = []
        numstat: dict[str, tuple[int | None, int | None]] = {}
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.startswith(b":") and i + 1 < len(tokens):
                raw.append((token[1:].decode("ascii", "replace").split(), _path(tokens[i + 1])))
                i += 2
                continue
            parts = token.split(b"\t", 2)
            if len(parts) == 3:
                numstat[_path(parts[2])] = (_count(parts[0]), _count(parts[1]))
            i += 1
        changes = []
        for meta, path in raw:
            if len(meta) < 5:
                continue
            added, deleted = numstat.get(path, (None, None))
            changes.append(_Change(path, meta[4][:1], meta[0], meta[2], meta[3], added, deleted))
        return changes

    def touched_ranges(self, change: _Change) -> list[Range]:
        """Old-side line ranges the change touches; [] for added, binary and non-regular files."""
        if change.old_mode not in REGULAR_FILE_MODES or change.status not in ("M", "D", "T"):
            return []
        if change.added is None or change.deleted is None:  # binary (numstat "-")
            return []
        if change.status in ("D", "T"):  # every line of the old file goes
            return [(1, change.deleted)] if change.deleted > 0 else []
        if change.added == 0 and change.deleted == 0:  # mode change only
            return []
        out = self.run(
            "diff", "-U0", "--no-ext-diff", "--no-textconv", "--no-color", change.old_blob, change.new_blob,
        )  # fmt: skip
        if out is None:
            return []
        ranges: list[Range] = []
        for line in out.split(b"\n"):
            if line.startswith(b"Binary files "):
                return []
            match = _HUNK.match(line)
            if not match:
                continue
            start, count = int(match.group(1)), int(match.group(2) or b"1")
            if count > 0:
                ranges.append((start, start + count - 1))
            elif start == 0:  # insertion at the top: the first line, if there is one
                ranges.append((1, 1))
            else:  # insertion after `start`: it and the next line (blame clamps a range past the end)
                ranges.append((start, start + 1))
        return _merge(ranges)

    def blame(self, base: str, path: str, ranges: list[Range]) -> list[tuple[str, int, str]]:
        """(author name, author time, commit SHA) per blamed line; [] when blame fails.

        Names are mailmap-canonical: `git blame` applies the mailmap to porcelain
        author names (checked on git 2.39). `mailmap.blob` points at the base's
        `.mailmap`, so a bare mirror uses it too instead of its HEAD's.
        """
        spans = [arg for start, end in ranges for arg in ("-L", f"{start},{end}")]
        out = self.run(
            "-c", f"mailmap.blob={base}:.mailmap",
            "blame", "--line-porcelain", "-w", *spans, base, "--", path,
        )  # fmt: skip
        if out is None:
            return []
        return list(_parse_porcelain(out.split(b"\n")))


def _parse_porcelain(lines: Iterable[bytes]) -> Iterable[tuple[str, int, str]]:
    sha, name, author_time = "", "", 0
    for line in lines:
        if line.startswith(b"\t"):  # the blamed line's content closes its record
            if sha:
                yield name, author_time, sha
            sha, name, author_time = "", "", 0
        elif line.startswith(b"author "):
            name = line[7:].decode("utf-8", "replace")
        elif line.startswith(b"author-time "):
            try:
                author_time = int(line[12:].strip())
            except ValueError:
                author_time = 0
        elif not sha and _BLAME_HEADER.match(line):
            sha = line.split(b" ", 1)[0].decode("ascii")


def _merge(ranges: list[Range]) -> list[Range]:
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _cap_lines(ranges: list[Range], budget: int = MAX_LINES_PER_FILE) -> list[Range]:
    capped = []
    for start, end in ranges:
        if budget <= 0:
            break
        end = min(end, start + budget - 1)
        capped.append((start, end))
        budget -= end - start + 1
    return capped


def _path(raw: bytes) -> str:
    # surrogateescape round-trips any byte sequence back to the same argv bytes
    return raw.decode("utf-8", "surrogateescape")


def _count(raw: bytes) -> int | None:
    return int(raw) if raw.isdigit() else None


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _iso_date(epoch: int) -> str:
    try:
        return datetime.fromtimestamp(epoch, tz=UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return "1970-01-01"
