"""A PR's state, computed once from live facts: the review line, what blocks a merge and who can act, the
automerge phase and step, and the next step. Pure, tested by tables.

`status`, the automerge comment and automerge's own decision (`merge_gate.decide_merge`) all
render from `pull_request_state`, so they cannot disagree: a failing required check is
named the same way in all three, a draft or a pause is never "nothing blocks a merge", and
a head with no review queued is never said to be "queued or running".

Required checks are branch protection's and the rulesets' list when the bot could read it and
it names any; otherwise (`required_checks` None: unreadable, or empty: none configured) every
other check counts, as the bot always did, and the text says which case holds instead of
calling a failing check "required". The bot's own check never counts: its verdict is the
review gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from reviewbot.model import Check, Verdict
from reviewbot.names import CHECK_NAME
from reviewbot.review.markdown import code_span
from reviewbot.review.outcome import OutcomeKind

# `needs maintainer review`: the maintainer who armed automerge is that review
MERGEABLE_OUTCOMES = frozenset({OutcomeKind.PASSED, OutcomeKind.NEEDS_MAINTAINER})

CONTRIBUTOR = "the contributor"
MAINTAINER = "a maintainer"
AUTHOR_OR_MAINTAINER = "the author or a maintainer"
BOT = "reviewbot"
GITHUB = "GitHub"
CI = "CI"
UNKNOWN_REQUIRED = "required checks unknown: every other check counts"
NONE_REQUIRED = "no required checks configured: every other check counts"


class AutomergeState(StrEnum):
    """Where a PR's automerge stands. Stored as these strings (`pull_states.automerge`, a CHECK keeps them)."""

    OFF = "off"  # never armed, or disarmed because the PR closed
    ARMED = "armed"  # advancing: every event and the reconcile take the next step
    PAUSED = "paused"  # a person must act (conflicts, a failed fix, an unvetted push); re-arming resumes it
    REPLACED = "replaced"  # the work moved to a replacement PR; new commits here are carried over to it
    MERGED = "merged"


class Step(StrEnum):
    MERGE = "merge"
    FIX = "fix"  # run the repository's `fix:` commands on this head and commit what they change
    WAIT = "wait"  # nothing to do until an event (a review, a check, a push) changes the picture
    UPDATE_BRANCH = "update branch"
    PAUSE = "pause"  # a person must act (conflicts, an unvetted push); automerge stays armed but paused
    DONE = "done"  # merged, closed, or disarmed: nothing more to do


class ReviewWork(StrEnum):
    """What the queue holds for the PR's current head."""

    NONE = "nothing"
    QUEUED = "queued"
    RUNNING = "running"


class Phase(StrEnum):
    """The automerge comment's header and `status`'s automerge line."""

    OFF = "off"
    WAITING = "armed, waiting"  # only time, CI, GitHub or reviewbot itself stand in the way
    BLOCKED = "armed, blocked"  # a person must act first
    PAUSED = "paused"
    MERGED = "merged"
    REPLACED = "replaced"


@dataclass(frozen=True)
class MergeSnapshot:
    """The live facts about one PR, read right before a decision (`reviewbot.bot.pr_snapshot` gathers them)."""

    open: bool
    merged: bool
    draft: bool
    head_sha: str
    automerge: AutomergeState
    paused: bool  # a maintainer said `@reviewbot stop`
    reviewed_head: str  # the head the last published review is about ("" when none)
    review_verdict: Verdict | None  # None when no review was published
    review_outcome: OutcomeKind | None
    checks: list[Check] = field(default_factory=list)
    mergeable: bool | None = None  # None: GitHub is still computing it
    mergeable_state: str = "unknown"  # clean | behind | dirty | blocked | unstable | unknown | draft
    conflicts: list[str] = field(default_factory=list)  # files in conflict with the base, when known
    fixes_pending: bool = False  # `fix:` commands are configured and have not run on this head
    required_checks: tuple[str, ...] | None = None  # branch protection + rulesets; None: could not be read
    review_work: ReviewWork = ReviewWork.NONE  # the queue's review of this head
    review_rank: str = ""
    review_next_step: str = ""  # the published review's own next step (markdown)
    config_problem: str = ""  # markdown: the base's `.github/reviewbot.yml` is invalid


@dataclass(frozen=True)
class Blocker:
    what: str  # markdown; for a wait, "waiting for …"
    who: str  # who can act, or who moves it along
    action: str = ""  # what they do; "" when only waiting
    waits: bool = False  # nothing for a person to do: CI, GitHub or reviewbot moves it along

    @property
    def text(self) -> str:
        return self.what if self.waits else f"{self.what} — {self.who}: {self.action}"


@dataclass(frozen=True)
class PullRequestState:
    review: str  # the review line (markdown)
    blockers: tuple[Blocker, ...]  # what stands between this PR and a merge, in gate order
    phase: Phase
    next_step: str  # markdown
    step: Step  # automerge's next step (DONE when it is not armed)
    reason: str  # why: the progress row's outcome (markdown)
    required_note: str  # why every other check counts (unknown, or none configured); "" when the list rules
    required: tuple[str, ...]  # the checks branch protection requires, when it names any
    head_sha: str
    open: bool

    @property
    def first(self) -> Blocker | None:
        """The blocker to act on first: the first a person must act on, else the first awaited."""
        people = [blocker for blocker in self.blockers if not blocker.waits]
        return next(iter(people or self.blockers), None)


def pull_request_state(s: MergeSnapshot) -> PullRequestState:
    blockers = tuple(_blockers(s))
    step, reason = _step(s, blockers)
    phase = _phase(s, blockers)
    state = PullRequestState(
        review=_review_line(s),
        blockers=blockers,
        phase=phase,
        next_step="",
        step=step,
        reason=reason,
        required_note=_required_note(s),
        required=tuple(sorted(set(s.required_checks or ()) - {CHECK_NAME})),
        head_sha=s.head_sha,
        open=s.open and not s.merged,
    )
    return replace(state, next_step=_next_step(s, state))


def _current(s: MergeSnapshot) -> bool:
    return s.review_verdict is not None and s.reviewed_head == s.head_sha


def _review_line(s: MergeSnapshot) -> str:
    if _current(s):
        rank = f", rank {s.review_rank}" if s.review_rank else ""
        return f"{s.review_outcome or 'reviewed'} (proof `{s.review_verdict}`{rank})"
    head = code_span(s.head_sha[:12])
    work = {
        ReviewWork.RUNNING: "its review is running",
        ReviewWork.QUEUED: "its review is queued",
        ReviewWork.NONE: "no review of it is queued or running",
    }[s.review_work]
    older = (
        f"; the last review, of head {code_span(s.reviewed_head[:12])}, said {s.review_outcome}"
        if s.reviewed_head and s.review_outcome
        else ""
    )
    return f"head {head} not reviewed yet: {work}{older}"


def _blockers(s: MergeSnapshot) -> list[Blocker]:
    if s.merged or not s.open:
        return []
    out = []
    if s.draft:
        out.append(Blocker("draft", AUTHOR_OR_MAINTAINER, "mark it ready for review"))
    if s.paused:
        out.append(Blocker("paused", MAINTAINER, "comment `@reviewbot resume`"))
    if s.config_problem:
        out.append(Blocker(s.config_problem, MAINTAINER, "fix it with a push to the base branch"))
    out += _review_blockers(s)
    out += _check_blockers(s)
    if s.mergeable_state == "dirty" or s.mergeable is False:
        files = ", ".join(code_span(path) for path in s.conflicts[:10]) or "files GitHub did not name"
        out.append(Blocker(f"conflicts with the base in {files}", CONTRIBUTOR, "resolve them and push"))
    elif s.mergeable is None:
        out.append(Blocker("waiting for GitHub to compute whether it can merge", GITHUB, waits=True))
    elif s.mergeable_state == "behind" and not s.draft:
        behind = "behind the base, which branch protection wants up to date"
        if s.automerge is AutomergeState.ARMED:
            out.append(Blocker(f"waiting for reviewbot to update the branch ({behind})", BOT, waits=True))
        else:
            out.append(Blocker(behind, AUTHOR_OR_MAINTAINER, "update the branch"))
    return out


def _review_blockers(s: MergeSnapshot) -> list[Blocker]:
    head = code_span(s.head_sha[:12])
    if not _current(s):
        if s.review_work is ReviewWork.NONE:
            return [
                Blocker(
                    f"no review of head {head} is queued or running",
                    AUTHOR_OR_MAINTAINER,
                    "comment `@reviewbot re-review`",
                )
            ]
        return [Blocker(f"waiting for the review of head {head} ({s.review_work.value})", BOT, waits=True)]
    said = f"the review of this head says {s.review_outcome or 'nothing'} (proof `{s.review_verdict}`)"
    own = s.review_next_step.strip()
    if s.review_verdict is not Verdict.PROVEN or s.review_outcome not in MERGEABLE_OUTCOMES:
        who = MAINTAINER if s.review_outcome is OutcomeKind.DID_NOT_COMPLETE else CONTRIBUTOR
        return [
            Blocker(
                f"{said}; it must pass before a merge", who, _lower_first(own) or "push a fix; the new head is reviewed"
            )
        ]
    if s.review_outcome is OutcomeKind.NEEDS_MAINTAINER and s.automerge is not AutomergeState.ARMED:
        return [Blocker(said, MAINTAINER, _lower_first(own) or "decide; `@reviewbot automerge` is that decision")]
    return []


def _check_blockers(s: MergeSnapshot) -> list[Blocker]:
    others = [check for check in s.checks if check.name != CHECK_NAME]
    note = _required_note(s)
    if note:
        counted, missing, noun = others, [], "failing check"
    else:
        required = set(s.required_checks or ()) - {CHECK_NAME}  # a note covers None
        counted = [check for check in others if check.name in required]
        missing = sorted(required - {check.name for check in others})
        noun = "required check"
    out = []
    failed = sorted({check.name for check in counted if check.state == "failure"})
    if failed:
        names = ", ".join(code_span(name) for name in failed)
        what = f"{noun} {names} ({note})" if note else f"{noun} {names} failed"
        out.append(Blocker(what, CONTRIBUTOR, "push a fix (a new push re-runs it)"))
    pending = sorted({check.name for check in counted if check.state == "pending"})
    if pending:
        out.append(Blocker(f"waiting for {', '.join(code_span(name) for name in pending)} (pending)", CI, waits=True))
    if missing:
        out.append(
            Blocker(
                f"waiting for required check {', '.join(code_span(name) for name in missing)} (not "
                "reported on this head yet)",
                CI,
                waits=True,
            )
        )
    return out


def _required_note(s: MergeSnapshot) -> str:
    if s.required_checks is None:
        return UNKNOWN_REQUIRED
    return "" if set(s.required_checks) - {CHECK_NAME} else NONE_REQUIRED


def _step(s: MergeSnapshot, blockers: tuple[Blocker, ...]) -> tuple[Step, str]:
    """Automerge's next step: the gates in order, each blocker's text as the reason."""
    if s.merged:
        return Step.DONE, "merged"
    if not s.open:
        return Step.DONE, "the PR was closed without merging"
    if s.automerge is not AutomergeState.ARMED:
        return Step.DONE, "automerge is not armed"
    if s.draft:  # never fixed, updated or merged: the contributor's branch is theirs until they mark it ready
        return Step.WAIT, blockers[0].text
    if s.paused:
        return Step.WAIT, next(b.text for b in blockers if b.what == "paused")
    if s.fixes_pending and not s.config_problem:
        return Step.FIX, "running the repository's fix commands on this head"
    for blocker in blockers:
        if blocker.what.startswith("conflicts with the base"):
            return Step.PAUSE, blocker.text
        if blocker.who == BOT and "behind the base" in blocker.what:
            return Step.UPDATE_BRANCH, "the base moved on and branch protection wants the PR up to date"
        return Step.WAIT, blocker.text
    return Step.MERGE, f"every gate passed for head {s.head_sha[:12]}"


def _phase(s: MergeSnapshot, blockers: tuple[Blocker, ...]) -> Phase:
    if s.merged or s.automerge is AutomergeState.MERGED:
        return Phase.MERGED
    if s.automerge is AutomergeState.REPLACED:
        return Phase.REPLACED
    if not s.open or s.automerge is AutomergeState.OFF:
        return Phase.OFF
    if s.automerge is AutomergeState.PAUSED or s.paused:
        return Phase.PAUSED
    return Phase.BLOCKED if any(not blocker.waits for blocker in blockers) else Phase.WAITING


def _next_step(s: MergeSnapshot, state: PullRequestState) -> str:
    if state.phase is Phase.MERGED:
        return "nothing: it is merged"
    if not s.open:
        return "nothing: the PR is closed"
    if state.phase is Phase.REPLACED:
        return "the work continues in the replacement PR; new commits here are carried over to it"
    first = state.first
    rearm = "a maintainer re-arms automerge with `@reviewbot automerge`"
    if first is None:
        if state.phase is Phase.PAUSED and s.automerge is AutomergeState.PAUSED:
            return rearm
        if s.automerge is AutomergeState.ARMED:
            return "reviewbot merges it: every gate passed"
        return "nothing blocks a merge: a maintainer can merge or comment `@reviewbot automerge`"
    step = first.text
    return f"{step}; then {rearm}" if s.automerge is AutomergeState.PAUSED else step


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
