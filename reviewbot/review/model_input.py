"""What a model is shown: a bounded, prioritised, redacted context built from the review.

Pure: the deterministic review, its diff and the previous cycle in; text sections out.
The prompt templates (reviewbot/prompts/*.j2) only arrange these sections, so everything that
decides what leaves the machine lives here, where it is tested without a server.

Priority, most important first: the changed hunks of lock code (then other changed
code), the lock scan's findings, the proof, the PR description's proof sections, the
earlier review cycles. Each section has a share of the budget; what a section does
not use goes to the sections before it in that order, and what does not fit is left
out whole (a hunk, a finding, a line) and named, so the model knows it saw a part.

Every section is redacted and wrapped as untrusted data: PR text, code, test output
and even the maintainer's focus note are material to review, never instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewbot.model import SuiteResult
from reviewbot.redact import redact
from reviewbot.review.build import Review
from reviewbot.review.diff import FileDiff, Hunk, parse_unified_diff
from reviewbot.review.lock_scan import LOCKISH
from reviewbot.review.markers import Marker

DEFAULT_BUDGET = 12_000  # characters of context (about 3-4k tokens), prompts excluded: fits a 8k-token server
CHARS_PER_TOKEN = 3  # code and markdown tokenise densely; 3 keeps a derived budget inside the window
PROMPT_TOKENS = 1_500  # the prompt templates, the JSON schema sent as a grammar, chat framing
MIN_BUDGET = 2_000
MAX_FOCUS_CHARS = 1500
MAX_TAIL_LINES = 12
PR_SECTIONS = (
    ("summary", "Summary"),
    ("real_behavior_proof", "Real behavior proof"),
    ("test_plan", "Test plan"),
    ("not_tested", "Not tested"),
    ("risk", "Risk"),
)
# (name, share of the budget), in priority order
SHARES = (
    ("changed_code", 0.50),
    ("lock_scan", 0.12),
    ("proof", 0.14),
    ("pr_description", 0.14),
    ("earlier_reviews", 0.10),
)
_TAG = re.compile(r"(?i)<(/?\s*untrusted)")


@dataclass(frozen=True)
class Section:
    """One block of context: already redacted and bounded; `block` is how it reaches the model."""

    name: str
    text: str
    left_out: str = ""  # what the bound cut, for the model and for the review details

    @property
    def block(self) -> str:
        note = f"\n[left out to fit: {self.left_out}]" if self.left_out else ""
        return f'<untrusted name="{self.name}">\n{self.text}{note}\n</untrusted>'


@dataclass(frozen=True)
class ModelContext:
    """Everything the prompt templates may use."""

    sections: list[Section]
    rereview: bool
    focus: Section | None = None
    title: Section | None = None
    changed_paths: list[str] = field(default_factory=list)
    changed_lines: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # where a model finding may point
    scan_rules: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.all_sections)

    @property
    def all_sections(self) -> list[Section]:
        return [s for s in (self.title, self.focus, *self.sections) if s is not None]

    @property
    def left_out(self) -> list[str]:
        return [f"{s.name}: {s.left_out}" for s in self.all_sections if s.left_out]

    def prompt_vars(self) -> dict[str, object]:
        """The template variables; PR-controlled text only ever inside a section's `block`."""
        return {
            "sections": self.sections,
            "rereview": self.rereview,
            "focus": self.focus,
            "title": self.title,
            "scan_rules": self.scan_rules,
        }


def model_context(
    review: Review,
    diff: str,
    previous: Marker | None = None,
    previous_comment: str = "",
    budget: int = DEFAULT_BUDGET,
    secrets: tuple[str, ...] = (),
) -> ModelContext:
    """The context for one review (or re-review, when there is a previous cycle), within `budget` characters."""

    def clean(text: str) -> str:
        return _defuse(redact(text, secrets))

    files = [f for f in parse_unified_diff(diff) if not f.binary and not LOCKISH.DEPENDENCY_LOCKFILE.search(f.path)]
    tests = set(review.proof.changed.tests)
    items = {
        "changed_code": [clean(block) for block in _hunk_blocks(files, tests)],
        "lock_scan": [clean(line) for line in _scan_lines(review)],
        "proof": [clean(line) for line in _proof_lines(review)],
        "pr_description": [clean(block) for block in _pr_blocks(review)],
        "earlier_reviews": [clean(block) for block in _earlier_blocks(previous, previous_comment)],
    }
    focus = _focus(review.focus, clean)
    title = Section("pr_title", clean(review.pr.title[:300])) if review.pr.title.strip() else None
    room = max(0, budget - (len(focus.text) if focus else 0) - (len(title.text) if title else 0))
    limits = _allocate(room, {name: _size(parts) for name, parts in items.items()})
    sections = [
        _fit(name, items[name], limits[name], unit="hunk" if name == "changed_code" else "item") for name, _ in SHARES
    ]
    changed = sorted({f.path for f in files if f.status != "deleted"} | set(review.proof.changed.all))
    return ModelContext(
        sections=sections,
        rereview=previous is not None,
        focus=focus,
        title=title,
        changed_paths=changed,
        changed_lines=changed_lines(files),
        scan_rules=sorted({f.rule for f in review.findings}),
    )


def changed_lines(files: list[FileDiff]) -> dict[str, list[tuple[int, int]]]:
    """Each changed file's hunks at head as (first, last) line: the only lines a model finding may name.

    A hunk's head range holds lines that exist at head and that the model was shown, so a
    finding there can be clicked and checked; one at `file.py:999` of a 67-line file cannot.
    """
    ranges: dict[str, list[tuple[int, int]]] = {}
    for f in files:
        if f.status == "deleted":
            continue
        for hunk in f.hunks:
            if hunk.new_count > 0:
                ranges.setdefault(f.path, []).append((hunk.new_start, hunk.new_start + hunk.new_count - 1))
    return ranges


def budget_for(n_ctx: int | None, max_tokens: int | None, configured: int = DEFAULT_BUDGET) -> int:
    """The context budget in characters: the configured one, cut to what the server's window holds.

    When the server reports its context length (llama.cpp's /props), the prompt, the schema
    and the answer cap come off it first; what remains, at `CHARS_PER_TOKEN`, bounds the
    context. A server that does not say keeps the configured budget (see docs/model.md, sizing).
    """
    if not n_ctx:
        return configured
    room = n_ctx - (max_tokens or 1024) - PROMPT_TOKENS
    return max(MIN_BUDGET, min(configured, room * CHARS_PER_TOKEN))


def _defuse(text: str) -> str:
    """Data cannot close (or open) its own wrapper."""
    return _TAG.sub(r"‹\1", text)


def _focus(text: str, clean) -> Section | None:  # type: ignore[no-untyped-def]
    text = text.strip()
    if not text:
        return None
    cut = len(text) > MAX_FOCUS_CHARS
    return Section(
        "maintainer_focus", clean(text[:MAX_FOCUS_CHARS]), f"{len(text) - MAX_FOCUS_CHARS} characters" if cut else ""
    )


# --- the budget -----------------------------------------------------------------------------------


def _size(parts: list[str]) -> int:
    return sum(len(p) + 1 for p in parts)


def _allocate(budget: int, sizes: dict[str, int]) -> dict[str, int]:
    """Each section its share; what a section leaves unused goes to the others, highest priority first."""
    limits = {name: min(sizes[name], int(budget * share)) for name, share in SHARES}
    spare = budget - sum(limits.values())
    for name, _ in SHARES:
        extra = min(spare, sizes[name] - limits[name])
        limits[name] += extra
        spare -= extra
    return limits


def _fit(name: str, parts: list[str], limit: int, unit: str) -> Section:
    """Whole parts in order while they fit; the first part is cut by lines rather than dropped."""
    kept: list[str] = []
    used = 0
    for index, part in enumerate(parts):
        if used + len(part) + 1 <= limit:
            kept.append(part)
            used += len(part) + 1
            continue
        if not kept and limit > 200:
            kept.append(_cut_lines(part, limit - 60))
            index += 1
        left = len(parts) - index
        return Section(
            name,
            "\n".join(kept) or "(left out to fit)",
            f"{left} {unit}{'s' if left > 1 else ''}" if left else f"the end of a {unit}",
        )
    return Section(name, "\n".join(kept) or "(nothing)")


def _cut_lines(text: str, limit: int) -> str:
    lines, used = [], 0
    for line in text.splitlines():
        if used + len(line) + 1 > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) + "\n…"


# --- the sections -----------------------------------------------------------------------------


def _is_lock_hunk(f: FileDiff, hunk: Hunk) -> bool:
    if re.search(r"lock|mutex|semaphore", f.path.lower()):
        return True
    texts = [line.text for line in hunk.lines if line.added] + hunk.removed + [hunk.section]
    return any(LOCKISH.NAME.search(text) for text in texts)


def _hunk_blocks(files: list[FileDiff], tests: set[str]) -> list[str]:
    """Hunks with head line numbers (a finding must name one), lock code first, then code, then tests."""
    ranked = []
    for file_order, f in enumerate(files):
        for hunk in f.hunks:
            lock = _is_lock_hunk(f, hunk)
            ranked.append(((not lock, f.path in tests, file_order, hunk.new_start), _hunk_text(f, hunk, lock)))
    return [text for _, text in sorted(ranked, key=lambda pair: pair[0])]


def _hunk_text(f: FileDiff, hunk: Hunk, lock: bool) -> str:
    kind = ("lock code" if lock else "code") + (f", {f.status}" if f.status != "modified" else "")
    head = f"### {f.path} ({kind}) head lines {hunk.new_start}-{hunk.new_start + max(hunk.new_count - 1, 0)}"
    lines = [f"{'+' if line.added else ' '}{line.number:5d} | {line.text}" for line in hunk.lines]
    if hunk.removed:
        lines.append("removed from base:")
        lines += [f"-      | {text}" for text in hunk.removed]
    return "\n".join([head, *lines])


def _scan_lines(review: Review) -> list[str]:
    if not review.findings:
        return ["The lock scan found nothing in the changed code."]
    return [f"[{f.priority.value}] {f.path}:{f.line} {f.rule}: {f.title}. {f.why}" for f in review.findings]


def _proof_lines(review: Review) -> list[str]:
    proof = review.proof
    lines = [
        f"Verdict: {proof.verdict.value}. {proof.reason}",
        f"Outcome decided by the rules: {review.outcome.kind.value}; rank {review.rating.overall.tier.value} "
        f"(proof {review.rating.proof.tier.value}, patch {review.rating.patch.tier.value}).",
        f"Changed sources: {', '.join(proof.changed.sources) or 'none'}; "
        f"changed tests: {', '.join(proof.changed.tests) or 'none'}.",
    ]
    for pair in proof.suites:
        lines.append(
            f"Suite {pair.name} ({pair.kind}, `{pair.command}`): base+PR tests {_side(pair.base)}; "
            f"head {_side(pair.head)}."
        )
    for claim in proof.claims:
        status = claim.status.value if claim.status else f"not run ({claim.skipped})"
        lines.append(f"Claimed command `{claim.command}` on head: {status}.")
    lines += [f"Note: {note}" for note in proof.notes]
    for pair in proof.suites:
        for side, result in (("head", pair.head), ("base", pair.base)):
            if result and result.runs and result.status.value != "passed":
                tail = result.runs[-1].outcome.log_tail.splitlines()[-MAX_TAIL_LINES:]
                lines.append(f"Log tail of {pair.name} on {side}:\n" + "\n".join(tail))
    return lines


def _side(result: SuiteResult | None) -> str:
    if result is None or not result.runs:
        return "not run"
    counts = result.runs[-1].counts
    failing = sorted({name for run in result.runs for name in run.counts.failing})[:5]
    text = "/".join(s.value for s in result.statuses)
    if counts.source != "none":
        text += f" ({counts.passed} passed, {counts.failed} failed)"
    return text + (f", failing: {', '.join(failing)}" if failing else "")


def _pr_blocks(review: Review) -> list[str]:
    sections = review.body.sections
    blocks = [f"## {title}\n{sections[key]}" for key, title in PR_SECTIONS if sections.get(key, "").strip()]
    if not blocks and review.pr.body.strip():
        blocks.append(review.pr.body.strip())  # no recognised headings: the description as written
    return blocks or ["The PR has no description."]


def _earlier_blocks(previous: Marker | None, comment: str) -> list[str]:
    if previous is None:
        return ["This is the first review of this PR."]
    blocks = [
        f"Previous review of head {previous.head[:12]}: proof {previous.verdict}, outcome {previous.outcome}, "
        f"rank {previous.rank}; labels: {', '.join(previous.labels) or 'none'}."
    ]
    blocks += [
        f"Earlier cycle {entry.head}: proof {entry.verdict}, outcome {entry.outcome}, rank {entry.rank}."
        for entry in reversed(previous.history)
        if entry.head != previous.head[:12]
    ]
    risk = earlier_concerns(comment)
    if risk:
        blocks.insert(1, "The previous review's lock-scan findings:\n" + risk)
    return blocks


_SCAN_LINE = re.compile(r"^- (\*\*\[P[0-3]\]\*\*|\[P[0-3]\]) `[^`\n]+:\d+` ")


def earlier_concerns(comment: str) -> str:
    """The lock-scan findings of the bot's own previous comment: what a re-review verifies first.

    Only the finding lines the bot itself wrote from its rules: not the model's advisory
    findings (a model must not be fed its own earlier claims as facts), not security notes
    or anything else that may quote the contributor.
    """
    match = re.search(r"^### Risk before merge\n(.*?)(?=^### |\Z)", comment or "", re.MULTILINE | re.DOTALL)
    if not match:
        return ""
    return "\n".join(line for line in match.group(1).splitlines() if _SCAN_LINE.match(line))
