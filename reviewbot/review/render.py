"""Markdown for people: the proof summary a contributor reads to see what stands in the way.

Pure: a Proof in, text out. Everything that came from the PR or its test runs
(suite names, test names, log lines) is escaped or fenced, so a hostile test
name cannot inject markdown, mentions or links into the comment.
"""

from __future__ import annotations

import html

from reviewbot.model import Proof, RunStatus, SuitePair, SuiteResult, Verdict

VERDICT_BADGES = {
    Verdict.PROVEN: "✅ proven",
    Verdict.WEAK: "⚠️ weak",
    Verdict.FAILS: "❌ fails",
    Verdict.TIMEOUT: "⏱️ timeout",
    Verdict.FLAKY: "🎲 flaky",
    Verdict.NO_TESTS: "🫥 no tests",
    Verdict.ERROR: "🛠️ error",
}
STATUS_ICONS = {
    RunStatus.PASSED: "✅ pass",
    RunStatus.FAILED: "❌ fail",
    RunStatus.TIMEOUT: "⏱️ hung",
    RunStatus.ERROR: "🛠️ error",
}
MAX_TAIL_LINES = 20


def escape_inline(text: str) -> str:
    """Neutralise markdown, HTML and @mentions in untrusted one-line text."""
    text = html.escape(text.replace("\r", " ").replace("\n", " "), quote=False)
    for char in "\\`*_{}[]()#+!|~":
        text = text.replace(char, "\\" + char)
    return text.replace("@", "@\u200b")


def code_span(text: str) -> str:
    """Inline code for untrusted text: backslash escapes do not apply inside, so pick a longer fence."""
    text = text.replace("\r", " ").replace("\n", " ")
    run = 1
    while "`" * run in text:
        run += 1
    ticks = "`" * run
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, lang: str = "text") -> str:
    """A code fence longer than any backtick run inside the text, so it cannot be closed early."""
    run = 3
    while "`" * run in text:
        run += 1
    ticks = "`" * run
    return f"{ticks}{lang}\n{text}\n{ticks}"


def cell(result: SuiteResult | None) -> str:
    if result is None or not result.runs:
        return "—"
    statuses = result.statuses
    if len(statuses) > 1 and len(set(statuses)) > 1:
        icon = "🎲 " + "/".join(s.value for s in statuses)
    else:
        icon = STATUS_ICONS[result.status]
        if len(statuses) > 1:
            icon += f" ×{len(statuses)}"
    counts = result.runs[-1].counts
    detail = ""
    if counts.source != "none":
        detail = f" ({counts.passed} passed, {counts.failed} failed"
        detail += f", {counts.skipped} skipped)" if counts.skipped else ")"
    return f"{icon}{detail}, {result.duration_s:.1f}s"


def proof_table(pairs: list[SuitePair]) -> str:
    rows = ["| suite | kind | base + PR tests | head |", "|---|---|---|---|"]
    for pair in pairs:
        rows.append(f"| {escape_inline(pair.name)} | {pair.kind} | {cell(pair.base)} | {cell(pair.head)} |")
    return "\n".join(rows)


def render_proof(proof: Proof) -> str:
    """The proof summary: verdict, reason, the base/head table, notes and failure tails."""
    lines = [
        f"## reviewbot proof: {VERDICT_BADGES[proof.verdict]}",
        "",
        proof.reason,
        "",
    ]
    if proof.head_sha:
        lines += [
            f"Head `{proof.head_sha[:12]}`, base = merge-base `{proof.merge_base_sha[:12]}` "
            f"(base branch tip `{proof.base_sha[:12]}`), config: {escape_inline(proof.config_source)}.",
            "",
        ]
    if proof.suites:
        lines += ["### Real behavior proof", "", proof_table(proof.suites), ""]
    if proof.overlaid:
        shown = ", ".join(code_span(p) for p in proof.overlaid[:10])
        more = f" and {len(proof.overlaid) - 10} more" if len(proof.overlaid) > 10 else ""
        lines += [f"Laid over base from the PR: {shown}{more}.", ""]
    for note in proof.notes:
        lines.append(f"- {note}")
    if proof.notes:
        lines.append("")
    for pair in proof.suites:
        for side, result in (("head", pair.head), ("base", pair.base)):
            if result is None or result.status == RunStatus.PASSED:
                continue
            failing = sorted({name for run in result.runs for name in run.counts.failing})
            tail = "\n".join(result.runs[-1].outcome.log_tail.splitlines()[-MAX_TAIL_LINES:])
            summary = f"{escape_inline(pair.name)} on {side}: {result.status.value}"
            limit = result.runs[-1].outcome.limit_hit
            if limit:
                summary += f" (limit hit: {limit})"
            lines += ["<details>", f"<summary>{summary}</summary>", ""]
            if failing:
                lines += ["Failing tests: " + ", ".join(code_span(n) for n in failing[:10]), ""]
            lines += [fence(tail or "(no output)"), "", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"
