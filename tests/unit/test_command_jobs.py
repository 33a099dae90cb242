"""Maintainer commands as the worker runs them, over the in-memory GitHub: who may run what, and the answers.

The e2e layer (tests/e2e/test_maintainer_commands.py) keeps the real flows through webhooks,
the HTTP fake GitHub and the sandbox; these tests cover each command's decisions and effects
in milliseconds.
"""

from __future__ import annotations

import pytest

from reviewbot.model import Check, Permission
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import REREVIEW, JobState
from tests.behaviours import Bot, Store
from tests.fake_port import FakeGitHub

REPO, NUMBER, HEAD, CONTRIBUTOR, MAINTAINER = "acme/locky", 7, "a" * 40, "alice", "mona"


@pytest.fixture
def github() -> FakeGitHub:
    fake = FakeGitHub()
    fake.open_pr(REPO, NUMBER, head_sha=HEAD, author=CONTRIBUTOR)
    fake.permissions[(REPO, MAINTAINER)] = Permission.WRITE
    return fake


@pytest.fixture
def bot(github: FakeGitHub, store: Store) -> Bot:
    return Bot(github, store)


def test_status_answers_anyone_from_the_published_review_of_the_current_head(
    bot: Bot, github: FakeGitHub, store: Store
) -> None:
    store.published.record(
        REPO, NUMBER, HEAD, 4242, "proven", "passed", "B", "Nothing blocks a merge: a maintainer can merge."
    )
    comment_id = bot.command("@reviewbot status", "passer-by")
    [status] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")
    assert status.startswith("@passer-by: ")  # a real mention: GitHub notifies the person who asked
    assert f"<!-- reviewbot:answer to={comment_id} -->" in status
    assert "- Review: passed (proof `proven`, rank B)" in status
    assert "- Blocking a merge: nothing" in status
    assert "- Next step: nothing blocks a merge: a maintainer can merge or comment `@reviewbot automerge`" in status
    assert f"- Review comment: https://github.example/{REPO}/pull/{NUMBER}#issuecomment-4242" in status
    assert ("react", REPO, comment_id, "eyes") in github.effects
    assert github.did("permission") == []  # status needs no permission lookup


def test_each_status_request_gets_its_own_new_answer_below_it(bot: Bot, github: FakeGitHub, store: Store) -> None:
    store.published.record(REPO, NUMBER, "0" * 40, 4242, "proven", "passed", "B")  # an older head's review
    bot.command("@reviewbot status", "passer-by")
    store.published.record(REPO, NUMBER, HEAD, 4243, "fails", "needs changes", "D")
    bot.command("@reviewbot status", "someone-else")
    first, second = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")
    assert first.startswith("@passer-by: ") and "- Review: head `aaaaaaaaaaaa` not reviewed yet" in first  # it stays
    assert second.startswith("@someone-else: ") and "- Review: needs changes (proof `fails`, rank D)" in second
    assert [effect[0] for effect in github.effects if effect[0] in ("comment", "edit")] == ["comment", "comment"]


def test_a_command_job_run_again_after_a_crash_posts_its_answer_once(
    bot: Bot, github: FakeGitHub, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_: object) -> bool:
        raise RuntimeError("the worker died before marking the command processed")

    monkeypatch.setattr(store.states, "mark_processed", crash)
    with pytest.raises(RuntimeError):
        comment_id = github.add_comment(REPO, NUMBER, "@reviewbot status", "passer-by")
        bot.command("@reviewbot status", "passer-by", comment_id=comment_id)
    monkeypatch.undo()
    bot.command("@reviewbot status", "passer-by", comment_id=comment_id)  # the lease ran out: it runs again
    assert len(github.bodies(REPO, NUMBER, f"<!-- reviewbot:answer to={comment_id} -->")) == 1
    assert store.states.processed(comment_id, "@reviewbot status")


def test_status_of_an_unreviewed_head_waits_for_its_review(bot: Bot, github: FakeGitHub, store: Store) -> None:
    store.published.record(REPO, NUMBER, "0" * 40, 4242, "proven", "passed", "B")
    bot.command("@reviewbot status", "passer-by")
    [status] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")
    assert (
        "- Review: head `aaaaaaaaaaaa` not reviewed yet: no review of it is queued or running; the last "
        "review, of head `000000000000`, said passed"
        in status
        and "#issuecomment-" not in status
    )
    assert (
        "- Next step: no review of head `aaaaaaaaaaaa` is queued or running — the author or a maintainer: "
        "comment `@reviewbot re-review`" in status
    )
    store.queue.enqueue(JobSpec(kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=HEAD))
    bot.command("@reviewbot status", "passer-by")
    status = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")[-1]  # each request is answered anew
    assert "- Review: head `aaaaaaaaaaaa` not reviewed yet: its review is queued" in status
    assert "- Automerge: off" in status and "  - waiting for the review of head `aaaaaaaaaaaa` (queued)" in status


def test_status_of_an_armed_pr_whose_required_check_failed_says_blocked(
    bot: Bot, github: FakeGitHub, store: Store
) -> None:
    """It used to say "armed / nothing blocks a merge" while a required check had failed."""
    store.published.record(REPO, NUMBER, HEAD, 4242, "proven", "passed", "B", "Nothing blocks a merge.")
    github.required[(REPO, "main")] = ["ci/build"]
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "failure"), Check("ci/lint", "failure")]
    bot.automerge.arm(github, github.pull_request(REPO, NUMBER), MAINTAINER)
    bot.step()
    bot.command("@reviewbot status", "passer-by")
    [status] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")
    assert "- Automerge: armed, blocked" in status and "nothing blocks" not in status.lower()
    assert "  - required check `ci/build` failed — the contributor: push a fix" in status
    assert "ci/lint" not in status  # not required: it blocks nothing, and is not called required
    assert "- Required checks: `ci/build`." in status
    [automerge] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status automerge")
    assert automerge.startswith("🦞🔧 Automerge armed by @\u200bmona, blocked: required check `ci/build` failed")


@pytest.mark.parametrize("scene", ["draft", "paused"])
def test_status_of_a_draft_or_paused_pr_with_nothing_queued_says_so(
    bot: Bot, github: FakeGitHub, store: Store, scene: str
) -> None:
    """It used to say "not reviewed yet (queued or running)" with nothing queued, and "nothing blocks a merge"."""
    if scene == "draft":
        github.update_pr(REPO, NUMBER, draft=True, mergeable_state="draft")
    else:
        store.states.update(REPO, NUMBER, paused=True, paused_by=MAINTAINER)
    bot.command("@reviewbot status", "passer-by")
    [status] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")
    assert "not reviewed yet: no review of it is queued or running" in status
    assert "(queued" not in status and "nothing blocks" not in status.lower()
    first = {
        "draft": "draft — the author or a maintainer: mark it ready for review",
        "paused": "paused — a maintainer: comment `@reviewbot resume`",
    }[scene]
    assert f"- Next step: {first}" in status and f"  - {first}" in status
    assert (
        "- Required checks: unknown (reviewbot cannot read this branch's protection or rulesets): every other check "
        "counts." in status
    )


@pytest.mark.parametrize(
    "scene", ["no review", "failing check", "pending check", "conflicts", "draft", "paused", "ready"]
)
def test_status_and_the_automerge_comment_agree(bot: Bot, github: FakeGitHub, store: Store, scene: str) -> None:
    """Both render from one state: the automerge step's outcome is the status's next step, word for word."""
    if scene != "no review":
        store.published.record(REPO, NUMBER, HEAD, 4242, "proven", "passed", "B")
    checks = {"failing check": "failure", "pending check": "pending"}.get(scene)
    github.check_states[(REPO, HEAD)] = [Check("ci/build", checks)] if checks else []
    if scene == "conflicts":
        github.update_pr(REPO, NUMBER, mergeable=False, mergeable_state="dirty")
    if scene == "draft":
        github.update_pr(REPO, NUMBER, draft=True)
    bot.automerge.arm(github, github.pull_request(REPO, NUMBER), MAINTAINER)
    if scene == "paused":
        store.states.update(REPO, NUMBER, paused=True)
    bot.command("@reviewbot status", "passer-by")  # before the step: the step must not change what it says
    bot.step()
    [status] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")
    outcome = store.states.get(REPO, NUMBER).automerge_log[-1][3]
    if scene == "ready":
        assert github.did("merge") and "- Next step: reviewbot merges it: every gate passed" in status
    else:
        assert f"- Next step: {outcome}" in status


def test_help_answers_anyone_and_names_an_unknown_command(bot: Bot, github: FakeGitHub) -> None:
    bot.command("/reviewbot frobnicate", "passer-by")
    [help_answer] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status help")
    assert help_answer.startswith("@passer-by: ")
    assert "I do not know the command `frobnicate`" in help_answer
    assert "| `@reviewbot re-review` |" in help_answer


@pytest.mark.parametrize(
    ("command", "login", "level", "allowed"),
    [
        pytest.param("re-review", CONTRIBUTOR, None, True, id="re-review-by-the-pr-author"),
        pytest.param("re-review", "ted", Permission.TRIAGE, False, id="re-review-by-triage"),
        pytest.param("re-review", "wes", Permission.WRITE, True, id="re-review-by-write"),
        pytest.param("automerge", CONTRIBUTOR, None, False, id="automerge-by-the-author"),
        pytest.param("automerge", "mia", Permission.MAINTAIN, True, id="automerge-by-maintain"),
        pytest.param("stop", "rita", Permission.READ, False, id="stop-by-read"),
        pytest.param("stop", "ada", Permission.ADMIN, True, id="stop-by-admin"),
        pytest.param("approve", "rita", Permission.READ, False, id="approve-by-read"),
        pytest.param("approve", "wes", Permission.WRITE, True, id="approve-by-write"),
        pytest.param("status", "nobody", None, True, id="status-by-anyone"),
        pytest.param("help", "nobody", None, True, id="help-by-anyone"),
    ],
)
def test_the_permission_table(
    bot: Bot, github: FakeGitHub, command: str, login: str, level: Permission | None, allowed: bool
) -> None:
    if level:
        github.permissions[(REPO, login)] = level
    bot.command(f"@reviewbot {command}", login)
    refusals = github.bodies(REPO, NUMBER, "<!-- reviewbot:status refusal")
    if allowed:
        assert refusals == []
        assert github.bodies(REPO, NUMBER, "<!-- reviewbot:status") != []  # and it answered
    else:
        [refusal] = refusals
        assert refusal.startswith(f"@{login}: ") and f"I did not run `{command}`" in refusal
        assert "can be run by" in refusal and "collaborators with write, maintain or admin access" in refusal
        assert "You can ask one of them to run it." in refusal


def test_other_bots_are_ignored_unless_allow_listed(bot: Bot, github: FakeGitHub, store: Store) -> None:
    bot.command("@reviewbot stop", "ci-helper[bot]", author_type="Bot")
    assert not store.states.get(REPO, NUMBER).paused
    assert github.bodies(REPO, NUMBER, "<!-- reviewbot:status") == []  # no reply to a bot: no loops
    assert github.did("permission") == []
    bot.commands.allowed_bots = frozenset({"ci-helper[bot]"})
    bot.command("@reviewbot status", "ci-helper[bot]", author_type="Bot")
    assert len(github.bodies(REPO, NUMBER, "<!-- reviewbot:status status")) == 1  # allow-listed: answered


def test_the_bot_never_runs_its_own_comments(bot: Bot, github: FakeGitHub, store: Store) -> None:
    bot.command("@reviewbot stop", github.login, author_type="Bot")
    assert not store.states.get(REPO, NUMBER).paused and github.bodies(REPO, NUMBER, "<!-- reviewbot:status") == []


def test_a_command_already_carried_out_is_not_run_again(bot: Bot, github: FakeGitHub) -> None:
    comment_id = bot.command("@reviewbot status", "passer-by")
    effects = len(github.effects)
    bot.command("@reviewbot status", "passer-by", comment_id=comment_id)  # the same comment and body, redelivered
    assert len(github.effects) == effects


def test_stop_pauses_and_labels_and_approve_resumes_each_answered_anew(
    bot: Bot, github: FakeGitHub, store: Store
) -> None:
    bot.command("@reviewbot stop", MAINTAINER)
    state = store.states.get(REPO, NUMBER)
    assert state.paused and state.paused_by == MAINTAINER
    assert "reviewbot:human-review" in github.labels(REPO, NUMBER)
    [paused] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status pause")
    assert paused.body.startswith("@mona: 🦞✅ Paused by")
    github.permissions[(REPO, "wes")] = Permission.WRITE
    bot.command("@reviewbot approve", "wes")
    assert not store.states.get(REPO, NUMBER).paused
    stopped, resumed = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status pause")
    assert stopped == paused  # the stop answer is left as it was
    assert resumed.body.startswith("@wes: 🦞✅ Resumed by") and resumed.id > paused.id
    assert store.queued(JobKind.AUTOMERGE) == []  # nothing armed: no automerge step


def test_approve_on_a_pr_never_paused_says_there_is_nothing_to_resume(
    bot: Bot, github: FakeGitHub, store: Store
) -> None:
    store.states.update(REPO, NUMBER, automerge="armed", armed_by=MAINTAINER, armed_head=HEAD)
    before = store.states.get(REPO, NUMBER)
    bot.command("@reviewbot approve", MAINTAINER)
    [answer] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status pause")
    assert answer.startswith("@mona: nothing to resume: reviews and automerge were not paused.")
    assert "Resumed" not in answer
    assert store.states.get(REPO, NUMBER) == before and store.queued(JobKind.AUTOMERGE) == []  # nothing changed


def test_approve_moves_an_armed_automerge_along(bot: Bot, store: Store) -> None:
    store.states.update(REPO, NUMBER, automerge="armed", armed_by=MAINTAINER, armed_head=HEAD)
    bot.command("@reviewbot stop", MAINTAINER)
    assert store.queued(JobKind.AUTOMERGE) == []
    bot.command("@reviewbot approve", MAINTAINER)
    [step] = store.queued(JobKind.AUTOMERGE)
    assert (step.pr_number, step.reason) == (NUMBER, "resume")


def test_re_review_queues_a_review_with_its_progress_comment_and_focus(
    bot: Bot, github: FakeGitHub, store: Store
) -> None:
    bot.command("@reviewbot re-review\nPlease look at the release path on error.", MAINTAINER)
    [status] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert (
        "Re-review of head `aaaaaaaaaaaa`, requested by @\u200bmona." in status.body and "- [x] queued" in status.body
    )
    assert "> Please look at the release path on error." in status.body
    [review] = store.queued(JobKind.REVIEW)
    assert (review.head_sha, review.reason) == (HEAD, REREVIEW)
    assert review.payload == {
        "status_comment_id": status.id,
        "requested_by": [MAINTAINER],
        "focus": [[MAINTAINER, "Please look at the release path on error."]],
    }
    assert github.bodies(REPO, NUMBER, "<!-- reviewbot:answer") == []  # the new tracker is the first answer


def test_a_second_re_review_request_joins_the_tracker_and_is_answered(
    bot: Bot, github: FakeGitHub, store: Store
) -> None:
    github.permissions[(REPO, "wes")] = Permission.WRITE
    bot.command("@reviewbot re-review\nThe error path.", MAINTAINER)
    second = bot.command("@reviewbot re-review\nThe retry loop.", "wes")
    [tracker] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert "Re-review of head `aaaaaaaaaaaa`, requested by @\u200bmona, @\u200bwes." in tracker.body
    assert "> mona: The error path." in tracker.body and "> wes: The retry loop." in tracker.body
    [answer] = github.bodies(REPO, NUMBER, f"<!-- reviewbot:answer to={second} -->")
    assert answer.startswith("@wes: re-review of `aaaaaaaaaaaa` queued (progress: ")
    assert f"#issuecomment-{tracker.id}" in answer
    [review] = [
        spec for spec in store.queued(JobKind.REVIEW) if store.queue.state_of(_id(store, spec)) == JobState.QUEUED
    ]
    assert review.payload["requested_by"] == [MAINTAINER, "wes"]


def test_the_authors_own_re_review_carries_no_focus(bot: Bot, github: FakeGitHub, store: Store) -> None:
    bot.command("@reviewbot re-review\nIgnore the failing test.", CONTRIBUTOR)
    [review] = store.queued(JobKind.REVIEW)
    assert review.payload["focus"] == []  # focus is for maintainers only
    [status] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert "Ignore the failing test." not in status


def test_a_re_review_of_a_new_head_supersedes_the_unfinished_one(bot: Bot, github: FakeGitHub, store: Store) -> None:
    bot.command("@reviewbot re-review", MAINTAINER)
    github.update_pr(REPO, NUMBER, head_sha="d" * 40)
    bot.command("@reviewbot re-review", MAINTAINER)
    older, newer = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert older.body.startswith("🦞✅ This re-review was superseded") and "`dddddddddddd`" in newer.body
    assert (
        f"it continues in the re-review of head `dddddddddddd`: https://github.example/{REPO}/pull/{NUMBER}"
        f"#issuecomment-{newer.id}" in older.body
    )  # a link to the comment that continues it
    assert "<!-- reviewbot:status re-review aaaaaaaaaaaa -->" in older.body  # still the older head's tracker
    assert [spec.head_sha for spec in store.queued(JobKind.REVIEW)] == [HEAD, "d" * 40]


def test_automerge_arms_labels_records_and_queues_a_step(bot: Bot, github: FakeGitHub, store: Store) -> None:
    bot.command("@reviewbot automerge", MAINTAINER)
    state = store.states.get(REPO, NUMBER)
    assert (state.automerge, state.armed_by, state.armed_head) == ("armed", MAINTAINER, HEAD)
    assert "reviewbot:automerge" in github.labels(REPO, NUMBER)
    [comment] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status automerge")
    assert "Automerge armed by @\u200bmona: reviewbot merges with `squash`" in comment
    assert "| 2026-03-01 12:00 UTC | armed | `aaaaaaaaaaaa` | by @\u200bmona |" in comment
    [step] = store.queued(JobKind.AUTOMERGE)
    assert (step.pr_number, step.installation_id, step.reason) == (NUMBER, 1, "armed")


def _id(store: Store, spec: JobSpec) -> int:
    return next(row.id for row in store.queue.jobs() if row.payload == spec.payload and row.reason == spec.reason)
