"""Automerge and replacement steps over the in-memory GitHub port: what each decision does on GitHub.

`merge_gate.decide_merge` is tested by tables (test_merge_gate.py); here the job around it:
the snapshot it reads (the published review of the head, checks, mergeability), the effect
of each step, and the progress comment. The git side (the base's config, conflicts, the
replacement branch) is given, so no repository, sandbox or HTTP is needed.
"""

from __future__ import annotations

import pytest

from reviewbot.model import Check, Permission
from reviewbot.repo_config import ConfigError, RepoConfig
from reviewbot.store.jobs import JobKind, JobSpec
from tests.behaviours import Bot, GivenBase, GivenBranches, Store
from tests.fake_port import FakeGitHub

REPO, NUMBER, HEAD, MAINTAINER = "acme/locky", 7, "a" * 40, "mona"
AT = "@\u200b"  # how the bot writes a login it quotes (escaped: no mention)


@pytest.fixture
def github() -> FakeGitHub:
    fake = FakeGitHub()
    fake.open_pr(REPO, NUMBER, head_sha=HEAD)
    fake.permissions[(REPO, MAINTAINER)] = Permission.WRITE
    return fake


def armed(
    github: FakeGitHub,
    store: Store,
    *,
    branches: GivenBranches | None = None,
    base: GivenBase | None = None,
    reviewed: str = "passed",
) -> Bot:
    """Armed by a maintainer; with `reviewed`, the head's published review says that."""
    bot = Bot(github, store, base=base or GivenBase(), branches=branches)
    if reviewed:
        store.published.record(REPO, NUMBER, HEAD, 4242, "proven" if reviewed == "passed" else "fails", reviewed, "B")
    bot.automerge.arm(github, github.pull_request(REPO, NUMBER), MAINTAINER)
    return bot


def progress(github: FakeGitHub, number: int = NUMBER) -> str:
    [comment] = github.bodies(REPO, number, "<!-- reviewbot:status automerge")
    return comment


def test_a_passing_review_of_the_head_merges_it_pinned_with_credits(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    bot.step()
    [(_, repo, number, head, method, title, message)] = github.did("merge")
    assert (repo, number, head, method) == (REPO, NUMBER, HEAD, "squash")
    assert title == "Release the lock file (#7)"
    assert f"Reviewed head: {HEAD}" in message and "Approved-by: mona <mona@users.noreply.github.com>" in message
    assert "Co-authored-by: Sample Contributor <contributor@example.invalid>" in message
    assert "reviewbot: proof proven, rank B" in message
    assert store.states.get(REPO, NUMBER).automerge == "merged"
    assert progress(github).startswith(
        "🦞✅ Automerged."
    ) and "| merge | `aaaaaaaaaaaa` | merged with `squash` |" in progress(github)


def test_a_head_without_its_review_waits_and_says_so_once(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store, reviewed="")
    bot.step()
    assert github.did("merge") == [] and "no review of head `aaaaaaaaaaaa` is queued or running" in progress(github)
    edits = len(github.did("edit"))
    bot.step()  # nothing changed: no new row, no edit
    assert len(github.did("edit")) == edits


def test_a_review_of_an_older_head_is_not_a_review_of_this_one(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.update_pr(REPO, NUMBER, head_sha="d" * 40)  # pushed after the review
    bot.step()
    assert github.did("merge") == [] and "no review of head `dddddddddddd` is queued or running" in progress(github)
    store.queue.enqueue(JobSpec(kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha="d" * 40))
    bot.step()  # the push's review is queued now: it says so, and waits
    assert "waiting for the review of head `dddddddddddd` (queued)" in progress(github)
    assert progress(github).startswith(f"🦞🔧 Automerge armed by {AT}mona, waiting for the review")


def test_a_failing_review_never_merges(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store, reviewed="needs changes")
    bot.step()
    assert github.did("merge") == [] and "it must pass before a merge" in progress(github)


def test_a_pending_check_waits_and_a_failing_one_blocks(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "pending"), Check("reviewbot / lock proof", "success")]
    bot.step()
    assert "waiting for `ci/build` (pending)" in progress(github)
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "failure")]
    bot.step()
    # branch protection could not be read: every other check counts, and it is not called "required"
    assert "failing check `ci/build` (required checks unknown: every other check counts)" in progress(github)
    assert "required check `ci/build`" not in progress(github) and github.did("merge") == []
    assert progress(github).startswith(f"🦞🔧 Automerge armed by {AT}mona, blocked: failing check `ci/build`")
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "success")]
    bot.step()
    assert len(github.did("merge")) == 1


def test_only_required_checks_block_when_branch_protection_says_which(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.required[(REPO, "main")] = ["ci/build"]
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "failure"), Check("ci/lint", "failure")]
    bot.step()
    comment = progress(github)
    assert "required check `ci/build` failed — the contributor" in comment and "ci/lint" not in comment
    assert "Required checks: unknown" not in comment and github.did("merge") == []
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "success"), Check("ci/lint", "failure")]
    bot.step()  # a failing check nobody requires does not hold the merge
    assert len(github.did("merge")) == 1


def test_the_header_follows_the_state_and_the_gates_go_once_merged(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "failure")]
    bot.step()
    blocked = progress(github)
    assert blocked.startswith(f"🦞🔧 Automerge armed by {AT}mona, blocked: failing check `ci/build`")
    assert "every gate passes" in blocked and "Gates, re-checked" in blocked and "✅" not in blocked
    assert (
        "Required checks: unknown (reviewbot cannot read this branch's protection or rulesets): every other check counts."
        in blocked
    )
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "success")]
    bot.step()
    merged = progress(github)
    assert merged.startswith("🦞✅ Automerged.") and "Gates" not in merged and "Required checks" not in merged


def test_paused_by_a_maintainer_it_waits(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    store.states.update(REPO, NUMBER, paused=True)
    bot.step()
    assert github.did("merge") == [] and "| paused — a maintainer: comment `@reviewbot resume` |" in progress(github)
    assert progress(github).startswith(
        f"🦞⏸️ Automerge armed by {AT}mona is paused by `@reviewbot stop`: a "
        "maintainer comments `@reviewbot resume` to go on.\n"
    )
    assert "✅" not in progress(github)


def test_a_draft_waits_to_be_marked_ready(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.update_pr(REPO, NUMBER, draft=True)
    bot.step()
    assert github.did("merge") == [] and github.did("update_branch") == []
    assert "| wait | `aaaaaaaaaaaa` | draft — the author or a maintainer: mark it ready for review |" in progress(
        github
    )
    assert "nothing blocks" not in progress(github)


def test_conflicts_pause_it_with_the_files_named(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store, base=GivenBase(conflicting=["lockfile.py"]))
    github.update_pr(REPO, NUMBER, mergeable=False, mergeable_state="dirty")
    bot.step()
    assert github.did("merge") == []
    assert (
        "| pause | `aaaaaaaaaaaa` | conflicts with the base in `lockfile.py` — the contributor: resolve them and "
        "push |" in progress(github)
    )


def test_behind_a_strict_base_it_updates_the_branch(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.update_pr(REPO, NUMBER, mergeable_state="behind")
    bot.step()
    assert github.did("update_branch") == [("update_branch", REPO, NUMBER, HEAD)] and github.did("merge") == []
    # only what is true: the new head's review comes with GitHub's push event, and automerge waits for it
    assert (
        "| update branch | `aaaaaaaaaaaa` | asked GitHub to merge the base into the PR branch; automerge waits "
        "for the review of the new head |" in progress(github)
    )
    assert store.states.get(REPO, NUMBER).automerge == "armed"


def test_a_draft_behind_its_base_is_never_updated(github: FakeGitHub, store: Store) -> None:
    """The contributor's draft branch is theirs: no merge of the base into it until they mark it ready."""
    bot = armed(github, store, base=GivenBase(is_behind=True))
    github.update_pr(REPO, NUMBER, draft=True, mergeable_state="draft")
    bot.step()
    github.update_pr(REPO, NUMBER, mergeable_state="behind")
    bot.step()
    assert github.did("update_branch") == [] and github.did("merge") == [] and github.did("create_pull") == []
    assert "draft — the author or a maintainer: mark it ready for review" in progress(github)


def test_a_branch_it_may_not_update_without_replacements_pauses(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.update_pr(REPO, NUMBER, mergeable_state="behind", head_repo="alice/locky", maintainer_can_modify=False)
    bot.step()
    assert github.did("update_branch") == []  # a fork it may not push to: GitHub would refuse anyway
    assert "and replacement PRs are not enabled; paused" in progress(github)
    assert store.states.get(REPO, NUMBER).automerge == "paused"


def test_github_refusing_to_merge_is_said_not_raised(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.merge_answer = (False, "Head branch was modified. Review and try the merge again.")
    bot.step()
    assert "GitHub did not merge: Head branch was modified." in progress(github)
    assert store.states.get(REPO, NUMBER).automerge == "armed"


def test_a_merged_pr_is_done(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.update_pr(REPO, NUMBER, state="closed", merged=True)  # a maintainer merged it by hand
    bot.step()
    assert github.did("merge") == [] and store.states.get(REPO, NUMBER).automerge == "merged"


def test_a_closed_pr_turns_it_off_and_the_header_says_so(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    github.update_pr(REPO, NUMBER, state="closed")
    bot.step()
    assert store.states.get(REPO, NUMBER).automerge == "off"
    assert progress(github).startswith("🦞🔧 Automerge is off: the PR was closed without merging.\n")
    assert "Gates" not in progress(github) and "✅" not in progress(github)


def test_a_push_by_someone_without_write_pauses_it(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    pushed = github.update_pr(REPO, NUMBER, head_sha="d" * 40)
    bot.automerge.check_push(github, pushed, "drive-by")
    assert store.states.get(REPO, NUMBER).automerge == "paused"
    assert f"pushed by {AT}drive-by, who cannot write here: paused" in progress(github)


def test_a_push_by_a_writer_or_by_the_bot_keeps_it_armed(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store)
    pushed = github.update_pr(REPO, NUMBER, head_sha="d" * 40)
    bot.automerge.check_push(github, pushed, MAINTAINER)
    bot.automerge.check_push(github, pushed, github.login)
    assert store.states.get(REPO, NUMBER).automerge == "armed"
    assert [effect[2] for effect in github.did("permission")] == [MAINTAINER]  # the bot's own push is not looked up


# --- replacement PRs ------------------------------------------------------------------------------


def fork_behind(github: FakeGitHub) -> None:
    github.update_pr(
        REPO,
        NUMBER,
        mergeable_state="behind",
        head_repo="alice/locky",
        maintainer_can_modify=False,
        body="Fixes #12\n\nSee the tests.",
    )
    github.label_sets[(REPO, NUMBER)] = ["bug", "status: passed"]


def test_a_fork_it_may_not_update_moves_to_a_credited_replacement(github: FakeGitHub, store: Store) -> None:
    branches = GivenBranches(answer=("c" * 40, True))
    bot = armed(github, store, branches=branches)
    fork_behind(github)
    bot.step()
    assert branches.carried == [(NUMBER, f"reviewbot/pr-{NUMBER}", None)]
    [(_, _, replacement, title)] = github.did("create_pull")
    assert title == f"Release the lock file (replaces #{NUMBER})"
    pr = github.pull_request(REPO, replacement)
    assert pr.head_ref == f"reviewbot/pr-{NUMBER}" and "Inherited from the source: Fixes #12." in pr.body
    assert f"<!-- reviewbot:replacement source={NUMBER} armed-by={MAINTAINER} -->" in pr.body
    assert github.labels(REPO, replacement) == ["bug", "reviewbot:automerge"]  # the bot's own labels are not copied
    assert store.states.get(REPO, replacement).automerge == "armed"  # armed the same way, by the same maintainer
    assert store.states.get(REPO, NUMBER).automerge == "replaced"
    [review] = store.queued(JobKind.REVIEW)
    assert (review.pr_number, review.head_sha, review.installation_id, review.reason) == (
        replacement,
        "c" * 40,
        1,
        "replacement",
    )
    [reef] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status replacement")
    assert reef.startswith("🐠 reef update") and "Co-author credit kept: Sample Contributor" in reef
    assert f"the work continues in #{replacement}, armed the same way" in progress(github)


def test_a_second_attempt_reuses_the_open_replacement(github: FakeGitHub, store: Store) -> None:
    bot = armed(github, store, branches=GivenBranches())
    fork_behind(github)
    bot.step()
    github.update_pr(REPO, NUMBER, head_sha="d" * 40)  # the contributor pushed again
    bot.step()  # "replaced": the source's new commits go to the same replacement
    assert len(github.did("create_pull")) == 1 and len(bot.branches.carried) == 2  # type: ignore[union-attr]
    assert len(github.bodies(REPO, NUMBER, "<!-- reviewbot:status replacement")) == 1


def test_the_number_of_open_replacements_is_capped(
    github: FakeGitHub, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewbot.bot.replacement as replacement

    monkeypatch.setattr(replacement, "MAX_OPEN_REPLACEMENTS", 0)
    bot = armed(github, store, branches=GivenBranches())
    fork_behind(github)
    bot.step()
    assert github.did("create_pull") == [] and "already has 0 open replacement PRs" in progress(github)
    assert store.states.get(REPO, NUMBER).automerge == "paused"


def test_a_branch_that_cannot_take_the_changes_pauses_with_why(github: FakeGitHub, store: Store) -> None:
    bot = armed(
        github,
        store,
        branches=GivenBranches(answer="the replacement branch cannot take the changes without conflicts (lockfile.py)"),
    )
    fork_behind(github)
    bot.step()
    assert github.did("create_pull") == [] and "cannot take the changes without conflicts" in progress(github)


@pytest.mark.parametrize("close", [False, True])
def test_a_merged_replacement_tells_its_source_and_closes_it_when_asked(
    github: FakeGitHub, store: Store, close: bool
) -> None:
    base = GivenBase()
    bot = armed(github, store, branches=GivenBranches(), base=base)
    fork_behind(github)
    bot.step()
    [(_, _, replacement, _)] = github.did("create_pull")
    base.repo_config = RepoConfig.model_validate({"automerge": {"close_replaced": close}})
    store.published.record(
        REPO, replacement, github.pull_request(REPO, replacement).head_sha, 1, "proven", "passed", "B"
    )
    bot.step(number=replacement)
    assert github.pull_request(REPO, replacement).merged
    assert store.states.get(REPO, NUMBER).automerge == "merged"  # nothing more to carry over
    assert github.pull_request(REPO, NUMBER).open is not close
    [reef] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status replacement")
    assert (f"closed now that #{replacement} merged" in reef) is close
    assert "tick **Allow edits by maintainers**" in reef  # the advice for next time stays
    tracker = progress(github)  # the source's automerge comment ends, with where its work went
    assert (
        tracker.startswith(f"🦞✅ Merged via #{replacement}: ")
        and "re-arm" not in tracker
        and "is paused" not in tracker
    )
    assert (
        f"| merged via replacement | `aaaaaaaaaaaa` | merged via #{replacement}: this PR's work is in the base "
        "branch now" in tracker
    )
    assert github.labels(REPO, NUMBER) == ["bug", "status: merged via replacement"]  # no longer armed, nor passed


def test_a_merged_pr_whose_body_names_a_source_leaves_that_pr_alone(github: FakeGitHub, store: Store) -> None:
    """Anyone can write the replacement marker into a PR body; only a PR the bot opened names a source."""
    github.open_pr(REPO, 3, head_sha="e" * 40, author="carol")
    github.label_sets[(REPO, 3)] = ["status: passed"]
    github.update_pr(REPO, NUMBER, body="Tidy.\n\n<!-- reviewbot:replacement source=3 armed-by=mona -->")
    bot = armed(
        github,
        store,
        branches=GivenBranches(),
        base=GivenBase(repo_config=RepoConfig.model_validate({"automerge": {"close_replaced": True}})),
    )
    bot.step()
    assert github.pull_request(REPO, NUMBER).merged
    assert github.pull_request(REPO, 3).open and github.labels(REPO, 3) == ["status: passed"]
    assert github.bodies(REPO, 3) == [] and store.states.get(REPO, 3).automerge != "merged"


def test_an_invalid_base_config_blocks_the_merge_instead_of_merging_on_defaults(
    github: FakeGitHub, store: Store
) -> None:
    broken = ConfigError(".github/reviewbot.yml", ["automerge.method: must be one of merge, squash, rebase"])
    bot = armed(github, store, base=GivenBase(repo_config=broken))
    bot.step()
    assert github.did("merge") == []
    assert store.states.get(REPO, NUMBER).automerge == "armed"
    assert (
        "| config | `aaaaaaaaaaaa` | `.github/reviewbot.yml` on the base branch is invalid "
        "(`automerge.method: must be one of merge, squash, rebase`); automerge waits until a push to the base "
        "fixes it |" in progress(github)
    )


def test_a_replacement_merged_by_hand_still_brings_its_source_to_its_final_state(
    github: FakeGitHub, store: Store
) -> None:
    bot = armed(github, store, branches=GivenBranches())
    fork_behind(github)
    bot.step()
    [(_, _, replacement, _)] = github.did("create_pull")
    github.update_pr(REPO, replacement, state="closed", merged=True)  # a maintainer pressed Merge first
    bot.step(number=replacement)
    assert store.states.get(REPO, NUMBER).automerge == "merged"
    assert progress(github).startswith(f"🦞✅ Merged via #{replacement}: ")
    assert github.labels(REPO, NUMBER) == ["bug", "status: merged via replacement"]
