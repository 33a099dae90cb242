"""Automerge end to end: armed by a maintainer, advanced by webhooks, merged (or not) on the fake GitHub."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.world import CONTRIBUTOR, SECRET, World

pytestmark = pytest.mark.sandbox

MAINTAINER = "mona"


@pytest.fixture
def world(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as built:
        built.fake.set_permission(built.repo, MAINTAINER, "write")
        built.ci_token = built.fake.add_user("ci-robot")
        built.fake.set_permission(built.repo, "ci-robot", "write")
        yield built


def reviewed(world: World) -> None:
    world.deliver("opened")
    world.work()


def ci_status(world: World, state: str, context: str = "ci/build") -> None:
    """The repository's CI reports on the head, and GitHub sends the `status` webhook."""
    sha = world.head_sha()
    answer = httpx.post(
        f"{world.fake.url}/repos/{world.repo}/statuses/{sha}",
        json={"state": state, "context": context},
        headers={"Authorization": f"token {world.ci_token}"},
    )
    assert answer.status_code == 201
    payload = {
        "sha": sha,
        "state": state,
        "context": context,
        "repository": {"full_name": world.repo},
        "installation": {"id": world.installation},
    }
    world.fake.deliver(world.server.url, "status", payload, SECRET, str(uuid.uuid4()))


def automerge_comment(world: World) -> str:
    [comment] = world.bot_comments("<!-- reviewbot:status automerge")
    return comment.body


def merged(world: World) -> bool:
    return world.fake.pull_request(world.repo, world.number).merged


def base_message(world: World) -> str:
    git_dir = world.fake.repo_path(world.repo)
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "log", "-1", "--format=%B", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_armed_on_a_passing_review_it_merges_with_the_head_pinned_and_credits(world: World) -> None:
    reviewed(world)
    head = world.head_sha()
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert merged(world)
    body = automerge_comment(world)
    assert body.startswith("🦞✅ Automerged.") and "| armed | " in body and "| merge | " in body
    assert "reviewbot:automerge" in world.fake.labels(world.repo, world.number)
    message = base_message(world)
    assert f"Reviewed head: {head}" in message and "Approved-by: mona" in message
    assert "Co-authored-by: Sample Contributor <contributor@example.invalid>" in message
    world.fake.assert_contract_clean()


def test_a_push_after_the_review_is_never_merged_unreviewed(world: World) -> None:
    reviewed(world)
    world.push_commit("notes.txt", "pushed after the review\n")
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert not merged(world)
    assert "no review of head" in automerge_comment(world)  # no push event delivered: nothing is queued
    world.deliver("synchronize")
    world.work()  # the new head is reviewed, which advances automerge
    assert merged(world)


def test_a_failing_check_blocks_and_a_pending_one_waits(world: World) -> None:
    reviewed(world)
    ci_status(world, "pending")
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert not merged(world) and "waiting for `ci/build` (pending)" in automerge_comment(world)
    ci_status(world, "failure")
    world.work()
    # main requires no checks: every check counts, and it is not called "required"
    assert not merged(
        world
    ) and "failing check `ci/build` (no required checks configured: every other check counts)" in automerge_comment(
        world
    )
    ci_status(world, "success")
    world.work()
    assert merged(world)


def test_only_the_checks_a_ruleset_requires_block_and_they_are_named_required(world: World) -> None:
    world.fake.require_checks(world.repo, "main", ["ci/build"], via="ruleset")
    reviewed(world)
    ci_status(world, "failure")
    ci_status(world, "failure", context="ci/lint")
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    body = automerge_comment(world)
    assert not merged(world) and "blocked: required check `ci/build` failed — the contributor" in body
    assert "ci/lint" not in body
    world.comment("@reviewbot status", "passer-by")
    world.work()
    [status] = world.bot_comments("<!-- reviewbot:status status")
    assert "- Automerge: armed, blocked" in status.body and "- Required checks: `ci/build`." in status.body
    assert "required check `ci/build` failed" in status.body
    ci_status(world, "success")
    world.work()
    assert merged(world)  # ci/lint still fails: nobody requires it
    assert automerge_comment(world).startswith("🦞✅ Automerged.") and "Gates" not in automerge_comment(world)
    world.fake.assert_contract_clean()


def test_stop_pauses_automerge_and_approve_resumes_it(world: World) -> None:
    reviewed(world)
    ci_status(world, "pending")
    world.comment("@reviewbot automerge", MAINTAINER)
    world.comment("@reviewbot stop", MAINTAINER)
    world.work()
    ci_status(world, "success")
    world.work()
    assert not merged(world) and "paused" in automerge_comment(world)
    world.comment("@reviewbot approve", MAINTAINER)
    world.work()
    assert merged(world)


def test_a_draft_waits_to_be_marked_ready(world: World) -> None:
    reviewed(world)
    world.fake.pull_request(world.repo, world.number).draft = True
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert not merged(world)
    assert "draft — the author or a maintainer: mark it ready for review" in automerge_comment(world)


def test_a_push_by_someone_without_write_pauses_it_until_re_armed(world: World) -> None:
    reviewed(world)
    ci_status(world, "pending")
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    world.push_commit("notes.txt", "a drive-by push\n")
    payload = world.fake.payload_for_pull_request(
        world.repo, world.number, "synchronize", world.installation, sender=CONTRIBUTOR
    )
    world.fake.deliver(world.server.url, "pull_request", payload, SECRET, str(uuid.uuid4()))
    world.work()
    ci_status(world, "success")
    world.work()
    assert not merged(world)
    assert "cannot write here: paused" in automerge_comment(world)
    world.comment("@reviewbot automerge", MAINTAINER)  # re-armed by a maintainer for the new head
    world.work()
    assert merged(world)


def test_conflicts_pause_it_with_the_files_named(world: World) -> None:
    reviewed(world)
    world.fake.commit_to_branch(
        world.repo,
        "main",
        {"lockfile.py": "# rewritten on main meanwhile\n"},
        message="Rewrite lockfile on main",
        author=MAINTAINER,
    )
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert not merged(world)
    body = automerge_comment(world)
    assert "conflicts with the base in `lockfile.py`" in body and "| pause |" in body


def test_behind_a_strict_base_it_updates_the_branch_reviews_again_and_merges(world: World) -> None:
    reviewed(world)
    world.fake.require_up_to_date(world.repo, "main")
    world.fake.commit_to_branch(
        world.repo,
        "main",
        {"CHANGELOG.md": "# Changelog\n\n- moved on\n"},
        message="Another change on main",
        author=MAINTAINER,
    )
    old_head = world.head_sha()
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()  # update-branch makes a new head; GitHub's synchronize for it follows
    new_head = world.head_sha()
    assert new_head != old_head and not merged(world)
    assert "| update branch |" in automerge_comment(world)
    payload = world.fake.payload_for_pull_request(
        world.repo, world.number, "synchronize", world.installation, sender=world.bot_login
    )  # GitHub names the bot as the pusher
    world.fake.deliver(world.server.url, "pull_request", payload, SECRET, str(uuid.uuid4()))
    world.work()  # the new head is reviewed, then merged
    assert merged(world)


def test_a_fork_branch_it_may_not_update_moves_to_a_credited_replacement_that_merges(world: World) -> None:
    fork = world.fake.fork(world.repo, CONTRIBUTOR)
    world.fake.push_to_branch(fork, "fix/from-fork", world.sample.path, ref=world.sample.head)
    source = world.number = world.fake.open_pull_request(
        world.repo,
        head=f"{CONTRIBUTOR}:fix/from-fork",
        title="Release the lock file",
        user=CONTRIBUTOR,
        body=f"Fixes #12\n\n{world.sample.body}",
        maintainer_can_modify=False,
    )  # with a Test plan
    reviewed(world)
    httpx.post(
        f"{world.fake.url}/repos/{world.repo}/issues/{source}/labels",
        json={"labels": ["bug"]},
        headers={"Authorization": f"token {world.ci_token}"},
    ).raise_for_status()
    world.fake.require_up_to_date(world.repo, "main")
    world.fake.commit_to_branch(world.repo, "main", {"CHANGELOG.md": "- moved on\n"}, message="m", author=MAINTAINER)
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()  # refused update-branch -> replacement branch + PR, armed, reviewed, merged
    assert not merged(world)
    [replacement] = [p for p in world.fake.state.repo(world.repo).pulls() if p.number > source]
    assert replacement.title == f"Release the lock file (replaces #{source})"
    assert replacement.head_ref == f"reviewbot/pr-{source}"
    assert "Fixes #12" in replacement.body and "could not update the source PR branch directly" in replacement.body
    assert "armed-by=mona" in replacement.body
    labels = world.fake.labels(world.repo, replacement.number)
    assert "bug" in labels and "reviewbot:automerge" in labels  # copied, and automerge armed there
    assert "status: passed" in labels and not any(name.startswith("status: needs") for name in labels)
    source_comments = world.bot_comments("<!-- reviewbot:status replacement")
    assert len(source_comments) == 1 and source_comments[0].body.startswith("🐠 reef update")
    assert "Co-author credit kept: Sample Contributor" in source_comments[0].body
    assert "merged; this PR is left open for maintainer and contributor comparison." in source_comments[0].body
    assert "| replacement |" in automerge_comment(world)
    assert replacement.merged  # reviewed like any PR, then automerged there
    assert f"From #{source} by @\u200b{CONTRIBUTOR}:" in replacement.body and "## Test plan" in replacement.body
    [review] = [c for c in world.fake.comments(world.repo, replacement.number) if "<!-- reviewbot:review" in c.body]
    assert "names no test command" not in review.body  # its review reads the contributor's Test plan
    assert "tests/test_lockfile.py" in review.body
    tracker = automerge_comment(world)  # the source's automerge comment ends where its work went
    assert "| merged via replacement |" in tracker and f"merged via #{replacement.number}" in tracker
    assert "re-arm" not in tracker
    source_labels = world.fake.labels(world.repo, source)
    assert "status: merged via replacement" in source_labels and "bug" in source_labels
    assert "reviewbot:automerge" not in source_labels and "status: passed" not in source_labels
    message = base_message(world)
    assert "Co-authored-by: Sample Contributor <contributor@example.invalid>" in message
    world.fake.assert_contract_clean()


def fork_pr_behind(world: World, body: str = "") -> int:
    fork = world.fake.fork(world.repo, CONTRIBUTOR)
    world.fake.push_to_branch(fork, "fix/from-fork", world.sample.path, ref=world.sample.head)
    world.number = world.fake.open_pull_request(
        world.repo, head=f"{CONTRIBUTOR}:fix/from-fork", title="Release the lock file", user=CONTRIBUTOR, body=body
    )
    reviewed(world)  # a passing review of the source's head, before the base moves on
    world.fake.require_up_to_date(world.repo, "main")
    world.fake.commit_to_branch(world.repo, "main", {"CHANGELOG.md": "- moved on\n"}, message="m", author=MAINTAINER)
    return world.number


def test_a_second_attempt_reuses_the_replacement_and_new_source_commits_are_carried_over(world: World) -> None:
    source = fork_pr_behind(world)
    world.comment("@reviewbot automerge", MAINTAINER)
    worker = world.service.worker(name="step-by-step")

    def replacements() -> list:
        return [p for p in world.fake.state.repo(world.repo).pulls() if p.number > source]

    while not replacements():
        assert worker.run_once()
    branch = f"reviewbot/pr-{source}"
    before = world.fake.branch_sha(world.repo, branch)
    answer = httpx.post(
        f"{world.fake.url}/repos/{world.repo}/statuses/{before}",
        json={"state": "pending", "context": "ci/build"},
        headers={"Authorization": f"token {world.ci_token}"},
    )
    assert answer.status_code == 201  # the replacement waits for CI, so it is still open when the source moves
    world.fake.commit_to_branch(
        f"{CONTRIBUTOR}/locky",
        "fix/from-fork",
        {"NOTES.md": "more\n"},
        message="More from the contributor",
        author=CONTRIBUTOR,
    )
    world.fake.sync_pull_request(world.repo, source)
    world.deliver("synchronize")
    while worker.run_once():
        pass
    after = world.fake.branch_sha(world.repo, branch)
    assert len(replacements()) == 1  # reused, never a second one (its refreshed head may well have merged)
    git_dir = world.fake.repo_path(world.repo)
    forward = subprocess.run(["git", "--git-dir", str(git_dir), "merge-base", "--is-ancestor", before, after])
    assert after != before and forward.returncode == 0  # new commits on top, never a force-push
    source_head = world.fake.pull_request(world.repo, source).head_sha
    contains = subprocess.run(["git", "--git-dir", str(git_dir), "merge-base", "--is-ancestor", source_head, after])
    assert contains.returncode == 0


def test_the_source_is_closed_after_the_replacement_merges_when_configured(world: World) -> None:
    world.fake.commit_to_branch(
        world.repo,
        "main",
        {
            ".github/reviewbot.yml": (
                world.fake.state.repo(world.repo).git.run("show", "main:.github/reviewbot.yml").stdout.decode()
                + "automerge:\n  method: squash\n  close_replaced: true\n"
            )
        },
        message="close replaced PRs",
        author=MAINTAINER,
    )
    source = fork_pr_behind(world)
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    [replacement] = [p for p in world.fake.state.repo(world.repo).pulls() if p.number > source]
    assert replacement.merged
    assert world.fake.pull_request(world.repo, source).state == "closed"
    [reef] = world.bot_comments("<!-- reviewbot:status replacement")
    assert f"Source PR status: closed now that #{replacement.number} merged" in reef.body
    assert "Co-author credit kept: Sample Contributor" in reef.body


def test_a_draft_fork_pr_behind_and_not_writable_ends_in_a_credited_replacement_that_merges(world: World) -> None:
    """The whole chain: a draft left alone until it is ready, behind a strict base, a fork the bot cannot push to."""
    fork = world.fake.fork(world.repo, CONTRIBUTOR)
    world.fake.push_to_branch(fork, "fix/draft", world.sample.path, ref=world.sample.head)
    source = world.number = world.fake.open_pull_request(
        world.repo, head=f"{CONTRIBUTOR}:fix/draft", draft=True, title="Release the lock file", user=CONTRIBUTOR
    )
    world.fake.require_up_to_date(world.repo, "main")
    world.fake.commit_to_branch(world.repo, "main", {"CHANGELOG.md": "- moved on\n"}, message="m", author=MAINTAINER)
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert not merged(world) and world.fake.pull_request(world.repo, source).draft  # the draft is never merged
    assert "draft — the author or a maintainer: mark it ready" in automerge_comment(world)
    assert [p.number for p in world.fake.state.repo(world.repo).pulls() if p.number > source] == []  # no replacement
    assert world.fake.count("PUT", "/repos/*/pulls/*/update-branch") == 0  # nor an update of the draft's branch
    world.fake.pull_request(world.repo, source).draft = False  # the contributor marks it ready for review
    world.deliver("ready_for_review")
    world.work()
    [replacement] = [p for p in world.fake.state.repo(world.repo).pulls() if p.number > source]
    assert replacement.merged and not replacement.draft
    [reef] = world.bot_comments("<!-- reviewbot:status replacement")
    assert reef.body.startswith("🐠 reef update") and f"#{replacement.number}" in reef.body
    assert "Co-authored-by: Sample Contributor <contributor@example.invalid>" in base_message(world)
    world.fake.assert_contract_clean()


FIX = (
    "python3 -c \"p='lockfile.py'; s=open(p).read(); open(p,'w').write(s if s.startswith('# fmt') else '# fmt\\n'+s)\""
)


def configure_fix(world: World) -> None:
    config = world.fake.state.repo(world.repo).git.run("show", "main:.github/reviewbot.yml").stdout.decode()
    world.fake.commit_to_branch(
        world.repo,
        "main",
        {".github/reviewbot.yml": config + f"fix:\n  - run: {json.dumps(FIX)}\n"},
        message="Format lockfile.py before merging",
        author=MAINTAINER,
    )


def test_fix_commands_are_committed_to_the_pr_reviewed_and_merged(world: World) -> None:
    configure_fix(world)
    reviewed(world)
    before = world.head_sha()
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    fixed = world.head_sha()
    assert fixed != before and not merged(world)  # the fix commit is the new head, reviewed before any merge
    assert "| fix |" in automerge_comment(
        world
    ) and "committed the fix commands' changes to 1 file(s)" in automerge_comment(world)
    payload = world.fake.payload_for_pull_request(
        world.repo, world.number, "synchronize", world.installation, sender=world.bot_login
    )
    world.fake.deliver(world.server.url, "pull_request", payload, SECRET, str(uuid.uuid4()))
    world.work()
    assert merged(world)
    git_dir = world.fake.repo_path(world.repo)
    content = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", "main:lockfile.py"], capture_output=True, text=True, check=True
    ).stdout
    assert content.startswith("# fmt\n")


def test_the_number_of_open_replacements_is_capped(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import reviewbot.bot.replacement as replacement

    monkeypatch.setattr(replacement, "MAX_OPEN_REPLACEMENTS", 0)
    source = fork_pr_behind(world)
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert [p for p in world.fake.state.repo(world.repo).pulls() if p.number > source] == []
    assert "already has 0 open replacement PRs" in automerge_comment(world)


def test_an_invalid_config_on_the_base_blocks_the_merge_and_says_why(world: World) -> None:
    """Its merge method and fix commands are what the maintainers asked for: automerge never merges on defaults."""
    reviewed(world)
    config = world.fake.state.repo(world.repo).git.run("show", "main:.github/reviewbot.yml").stdout.decode()
    assert "automerge:" not in config
    world.fake.commit_to_branch(
        world.repo,
        "main",
        {".github/reviewbot.yml": config + "automerge:\n  method: yolo\n"},
        message="Merge with yolo",
        author=MAINTAINER,
    )
    world.comment("@reviewbot automerge", MAINTAINER)
    world.work()
    assert not merged(world)
    body = automerge_comment(world)
    assert "| config |" in body and "`automerge.method`" in body and "automerge waits until a push to the base" in body
    assert "valid again" in body.splitlines()[0]
    world.fake.assert_contract_clean()
