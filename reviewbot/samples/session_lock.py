"""The demo repository: a PR that fixes a session write lock leaked by a hung compaction.

Modelled on a real incident: a post-run compaction step runs under a session's
JSONL write lock and hangs (its `await` never settles), so the lock is never
released and every later turn on that session times out acquiring it
(`SessionWriteLockTimeoutError`) until a restart. The fix tracks the locks an
attempt (re-)acquires and force-releases the ones still held in the attempt's
cleanup, awaiting each release so the on-disk `.jsonl.lock` is gone before
cleanup returns.

The Node sources are real files next to this module (package data):

- `session_lock/base/`      the whole tree on `main` (`dot_github` -> `.github`)
- `session_lock/fix/`       files the PR branch changes or adds (src + both tests)
- `session_lock/followup/`  one unrelated commit on `main` after the branch point
- `session_lock/PR_BODY.md` the PR description, with a Test plan the review checks

The PR's tests fail on base in about a second (short acquire timeouts, never a
hang) and pass on the fix: the expected verdict is `proven`.
"""

from __future__ import annotations

from pathlib import Path

from reviewbot.samples.repos import BASE_BRANCH, CONTRIBUTOR, RepoWriter, SampleRepo

SOURCES = Path(__file__).with_name("session_lock")

HEAD_BRANCH = "fix/release-stuck-session-write-lock"
TITLE = "fix(session-lock): release session write locks a hung compaction still holds"

REGRESSION_TEST = "test/session-lock.test.mjs"
INTEGRATION_TEST = "test/session-lock.integration.test.mjs"


def build_session_lock_demo(root: Path) -> SampleRepo:
    writer = RepoWriter(root)
    writer.copy_tree(SOURCES / "base")
    writer.commit("session-lock: JSONL transcripts under an on-disk write lock")

    writer.branch(HEAD_BRANCH)
    writer.copy_tree(SOURCES / "fix")
    writer.commit(
        f"{TITLE}\n\n"
        "A post-run compaction that never settles kept the session's .jsonl.lock\n"
        "forever: every later turn failed with SessionWriteLockTimeoutError until a\n"
        "restart. Track the locks an attempt (re-)acquires and force-release the ones\n"
        "still held in the attempt's cleanup, awaiting each release.\n",
        author=CONTRIBUTOR,
    )

    writer.checkout(BASE_BRANCH)
    writer.copy_tree(SOURCES / "followup")
    writer.commit("docs: where session transcripts and their locks live")

    return SampleRepo(
        path=Path(root),
        base=BASE_BRANCH,
        head=HEAD_BRANCH,
        expected_verdict="proven",
        description=(
            "Node: a hung post-run compaction keeps the session's JSONL write lock "
            "(SessionWriteLockTimeoutError on every later turn); the PR force-releases "
            "locks still held in the attempt's cleanup and adds a regression test and a "
            "two-process real-filesystem integration test."
        ),
        title=TITLE,
        body=(SOURCES / "PR_BODY.md").read_text(encoding="utf-8"),
    )
