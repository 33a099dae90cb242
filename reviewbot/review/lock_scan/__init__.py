"""The lock scan: heuristic rules over a PR's diff that point at classic locking mistakes.

Pure: parsed diff and the list of changed tests in, findings out. No I/O, no clock.

The rules read one hunk at a time (its added lines plus the unchanged context git
shows around them), using indentation for Python and brace depth for JS/TS. They
only ever report on a line the PR adds, and when the hunk does not show enough to
be sure they stay quiet: a false alarm on a lock fix costs a maintainer more time
than a missed nit, and the proof engine is the real judge of behaviour.

Test files are not scanned (tests hold locks carelessly on purpose); they only
count as evidence for `lock-change-without-test`.

Layout: `catalogue` (one `Rule` record per rule: id, priority, words), `patterns`
(the lock vocabulary), `shape` (the hunk's code shape: blocks, functions, calls),
`locks` (acquire/release/held facts built on it), `rules` (per hunk),
`diff_rules` (across the diff) and `scanner` (run, dedupe, rank, cap).
"""

from reviewbot.review.lock_scan.catalogue import RULES, Rule, rules_markdown
from reviewbot.review.lock_scan.diff_rules import touches_lock_code
from reviewbot.review.lock_scan.patterns import LOCKISH
from reviewbot.review.lock_scan.scanner import MAX_FINDINGS, scan

__all__ = ["LOCKISH", "MAX_FINDINGS", "RULES", "Rule", "rules_markdown", "scan", "touches_lock_code"]
