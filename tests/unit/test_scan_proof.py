"""The lock scan never calls a PR untested when the proof watched its test catch the bug."""

from __future__ import annotations

import pytest

from reviewbot.model import Priority, PullRequest
from reviewbot.review.build import ReviewInput, build_review
from reviewbot.review.scan_proof import agree_with_proof, proof_shows_a_catching_test
from tests.builders import E, F, P, T, finding, pair, proof_of

NO_TEST = finding(Priority.P2, path="src/filelock/_unix.py", rule="lock-change-without-test")
OTHER = finding(Priority.P1, path="src/filelock/_unix.py", rule="release-not-guaranteed")

# (suite pairs as (base statuses, head statuses), does the proof show a test catching the bug)
CASES = [
    ("fails on base, passes on head", [((F, F), (P, P))], True),
    ("fails once on base, passes on head", [((F, P), (P, P))], True),
    ("one of two suites catches it", [((P,), (P,)), ((F,), (P,))], True),
    ("passes on both: the test does not catch the bug", [((P, P), (P, P))], False),
    ("fails on head too", [((F,), (F,))], False),
    ("flaky on head", [((F, F), (P, F))], False),
    ("hangs on base: the deadlock is caught", [((T,), (P,))], True),
    ("hangs on head", [((F,), (T,))], False),
    ("infrastructure error on base", [((E,), (P,))], False),
    ("no suites ran", [], False),
]


@pytest.mark.parametrize(("pairs", "caught"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_missing_test_finding_yields_to_the_proof(pairs, caught: bool) -> None:
    proof = proof_of(*(pair(f"suite {i}", base, head) for i, (base, head) in enumerate(pairs)))
    assert proof_shows_a_catching_test(proof) is caught
    kept = agree_with_proof([OTHER, NO_TEST], proof)
    assert kept == ([OTHER] if caught else [OTHER, NO_TEST])  # other rules never yield


# filelock ffed0a8 (#594): the fix is in src/filelock/_unix.py, the test in tests/test_filelock.py;
# no word in common, and the test never names `_unix`, so the scan alone calls it untested
REAL_DIFF = """\
diff --git a/src/filelock/_unix.py b/src/filelock/_unix.py
--- a/src/filelock/_unix.py
+++ b/src/filelock/_unix.py
@@ -70,6 +70,8 @@ else:  # pragma: win32 no cover
             try:
                 fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
+            except BlockingIOError:
+                os.close(fd)
             except OSError as exception:
diff --git a/tests/test_filelock.py b/tests/test_filelock.py
--- a/tests/test_filelock.py
+++ b/tests/test_filelock.py
@@ -10,3 +10,6 @@ def test_simple(tmp_path: Path) -> None:
     assert lock.is_locked
+
+def test_contender_preserves_holder_contents(held_lock_path: Path) -> None:
+    assert held_lock_path.read_text() == "holder"
"""


@pytest.mark.parametrize(("base", "head", "reported"), [((F, F), (P, P), False), ((P, P), (P, P), True)])
def test_a_review_of_a_real_fix_drops_the_finding_only_when_proven(base, head, reported: bool) -> None:
    proof = proof_of(
        pair("contender", base, head), tests=("tests/test_filelock.py",), sources=("src/filelock/_unix.py",)
    )
    review = build_review(
        ReviewInput(pr=PullRequest(), proof=proof, diff=REAL_DIFF, reviewed_at="2026-12-04 12:00 UTC")
    )
    assert ("lock-change-without-test" in [f.rule for f in review.findings]) is reported
