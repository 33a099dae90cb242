"""Routing real GitHub webhook payloads (tests/data/webhooks, see its NOTICE) to actions."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.names import CHECK_NAME
from reviewbot.review.commands import DEFAULT_HANDLES
from reviewbot.service.events import (
    DRAFT_REASON,
    PayloadError,
    command_handles,
    delivery_summary,
    has_command,
    route,
)
from reviewbot.store.jobs import Cancel, Enqueue, Ignore, JobKind, JobSpec

WEBHOOKS = Path(__file__).resolve().parents[1] / "data" / "webhooks"
FILES = sorted(WEBHOOKS.glob("*.json"))
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # the head of Codertocat/Hello-World#2 in the examples
REPO = "Codertocat/Hello-World"
COMMENT_ID = 492700400

# What each example must route to (event.action -> action type); every file must be listed.
EXPECTED: dict[str, type] = {
    "check_run.completed": Ignore,
    "check_run.rerequested": Ignore,  # another app's check run
    "check_suite.completed": Ignore,
    "check_suite.rerequested": Enqueue,  # "Re-run" on the bot's check suite: a re-review
    "installation.created": Ignore,
    "installation.deleted": Ignore,
    "installation.new_permissions_accepted": Ignore,
    "installation.suspend": Ignore,
    "installation.unsuspend": Ignore,
    "installation_repositories.added": Ignore,
    "installation_repositories.removed": Ignore,
    "issue_comment.created": Ignore,  # every example is on a plain issue
    "issue_comment.deleted": Ignore,
    "issue_comment.edited": Ignore,
    "ping.event": Ignore,
    "pull_request.assigned": Ignore,
    "pull_request.closed": Cancel,
    "pull_request.converted_to_draft": Ignore,
    "pull_request.labeled": Ignore,
    "pull_request.locked": Ignore,
    "pull_request.opened": Enqueue,
    "pull_request.ready_for_review": Enqueue,
    "pull_request.reopened": Enqueue,
    "pull_request.review_request_removed": Ignore,
    "pull_request.review_requested": Ignore,
    "pull_request.synchronize": Enqueue,
    "pull_request.unassigned": Ignore,
    "pull_request.unlabeled": Ignore,
    "pull_request.unlocked": Ignore,
    "push.event": Ignore,
    "status.event": Enqueue,
}


def load(name: str) -> dict[str, Any]:
    return json.loads((WEBHOOKS / name).read_text())


def event_of(path: Path) -> str:
    return path.name.split(".")[0]


def only(actions: list[Any]) -> Any:
    assert len(actions) == 1, actions
    return actions[0]


def pr_comment(body: str, *, name: str = "issue_comment.created.1.json", **user: str) -> dict[str, Any]:
    """A real issue_comment example moved onto a pull request, with the given comment body."""
    payload = load(name)
    payload["issue"]["pull_request"] = {
        "url": f"https://api.github.com/repos/{REPO}/pulls/1",
        "html_url": f"https://github.com/{REPO}/pull/1",
        "diff_url": f"https://github.com/{REPO}/pull/1.diff",
        "patch_url": f"https://github.com/{REPO}/pull/1.patch",
    }
    payload["comment"]["body"] = body
    payload["comment"]["user"].update(user)
    return payload


# --------------------------------------------------------------------------- every example


def test_the_examples_are_all_there() -> None:
    assert len(FILES) == 72
    assert (
        (WEBHOOKS / "NOTICE")
        .read_text()
        .startswith("Example webhook payloads from @octokit/webhooks-examples 7.6.1 (MIT License")
    )
    assert {".".join(path.name.split(".")[:2]) for path in FILES} == set(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_example_routes_to_well_formed_actions(path: Path) -> None:
    payload = json.loads(path.read_text())
    before = copy.deepcopy(payload)
    actions = route(event_of(path), payload)
    assert payload == before  # routing never mutates the payload
    action = actions[0]
    expected = EXPECTED[".".join(path.name.split(".")[:2])]
    if path.name.startswith(("check_suite.completed", "check_run.completed")):
        expected = Enqueue if (payload[event_of(path)].get("pull_requests")) else Ignore
    assert type(action) is expected
    # Well-formed: survives a JSON round trip through its own model unchanged.
    assert type(action).model_validate_json(action.model_dump_json()) == action
    if isinstance(action, Ignore):
        assert action.action == "ignore" and action.reason.strip() == action.reason != ""
    elif isinstance(action, Cancel):
        assert (action.action, action.repo, action.pr_number) == ("cancel", REPO, 2)
    elif action.job.kind == JobKind.AUTOMERGE:  # checks and statuses advance an armed automerge
        assert (action.job.repo, action.job.reason.split()[0]) == (payload["repository"]["full_name"], event_of(path))
    else:
        job = action.job
        assert (action.action, job.kind, job.repo, job.pr_number, job.head_sha) == (
            "enqueue",
            JobKind.REVIEW,
            REPO,
            2,
            HEAD_SHA,
        )
        if payload["action"] == "rerequested":  # the check's "Re-run" button: a re-review, no delivery reason
            assert job.reason == "re-review"
            return
        assert job.reason == payload["action"] == job.payload["delivery_reason"]
        expected_installation = payload["installation"]["id"] if "installation" in payload else None
        assert job.installation_id == expected_installation
    summary = delivery_summary(event_of(path), payload)
    assert summary.endswith(f" {event_of(path)}" + (f".{payload['action']}" if "action" in payload else ""))


# --------------------------------------------------------------------------- pull_request


@pytest.mark.parametrize("name", [f"pull_request.opened.{n}.json" for n in (1, 2, 3, 4)])
def test_opened_enqueues_one_review_of_the_head(name: str) -> None:
    payload = load(name)
    action = only(route("pull_request", payload))
    assert action == Enqueue(
        job=JobSpec(
            kind=JobKind.REVIEW,
            repo=REPO,
            pr_number=payload["number"],
            head_sha=payload["pull_request"]["head"]["sha"],
            installation_id=None if name.endswith(".1.json") else 1,
            reason="opened",
            payload={"base_ref": "master", "head_ref": "changes", "draft": False, "delivery_reason": "opened"},
        )
    )


def test_synchronize_enqueues_the_new_head() -> None:
    payload = load("pull_request.synchronize.1.json")
    new_head = "0123456789abcdef0123456789abcdef01234567"
    payload["pull_request"]["head"]["sha"] = new_head
    job = only(route("pull_request", payload)).job
    assert (job.kind, job.head_sha, job.pr_number, job.reason) == (JobKind.REVIEW, new_head, 2, "synchronize")
    assert job.payload == {
        "base_ref": "master",
        "head_ref": "changes",
        "draft": False,
        "delivery_reason": "synchronize",
        "pushed_by": payload["sender"]["login"],
    }


def test_sha256_object_names_are_accepted() -> None:
    payload = load("pull_request.synchronize.1.json")
    payload["pull_request"]["head"]["sha"] = "ab" * 32
    assert route("pull_request", payload)[0].job.head_sha == "ab" * 32


def test_reopened_enqueues() -> None:
    job = only(route("pull_request", load("pull_request.reopened.1.json"))).job
    assert (job.reason, job.head_sha, job.installation_id) == ("reopened", HEAD_SHA, 1)


@pytest.mark.parametrize("name", ["pull_request.opened.1.json", "pull_request.synchronize.1.json"])
def test_drafts_wait_until_ready_for_review(name: str) -> None:
    payload = load(name)
    payload["pull_request"]["draft"] = True
    assert route("pull_request", payload) == [Ignore(reason=DRAFT_REASON)]
    assert DRAFT_REASON == "draft PR: reviewed when ready for review"


def test_ready_for_review_enqueues() -> None:
    payload = load("pull_request.ready_for_review.2.json")
    job = only(route("pull_request", payload)).job
    assert (job.kind, job.reason, job.head_sha, job.installation_id) == (
        JobKind.REVIEW,
        "ready_for_review",
        HEAD_SHA,
        1,
    )
    assert job.payload["draft"] is False and job.payload["delivery_reason"] == "ready_for_review"


def test_closed_cancels_and_merged_says_so() -> None:
    payload = load("pull_request.closed.1.json")
    assert route("pull_request", payload) == [Cancel(repo=REPO, pr_number=2, reason="closed")]
    payload["pull_request"]["merged"] = True
    assert route("pull_request", payload) == [Cancel(repo=REPO, pr_number=2, reason="merged")]


def test_closed_needs_only_the_repo_and_number() -> None:
    payload = load("pull_request.closed.2.json")
    del payload["pull_request"]["head"]
    assert route("pull_request", payload) == [Cancel(repo=REPO, pr_number=2, reason="closed")]


def edited(changes: dict[str, Any]) -> dict[str, Any]:
    payload = load("pull_request.synchronize.1.json")  # a real PR payload, re-labelled as an edit
    payload["action"] = "edited"
    payload["changes"] = changes
    return payload


def test_edited_body_re_reviews() -> None:
    job = only(route("pull_request", edited({"body": {"from": "old claims"}}))).job
    assert (job.kind, job.reason, job.head_sha, job.pr_number) == (JobKind.REVIEW, "edited", HEAD_SHA, 2)
    assert job.payload == {
        "base_ref": "master",
        "head_ref": "changes",
        "draft": False,
        "delivery_reason": "edited",
        "edited_fields": ["body"],
    }


def test_edited_base_re_reviews() -> None:
    changes = {"base": {"ref": {"from": "develop"}, "sha": {"from": "f" * 40}}, "title": {"from": "x"}}
    job = only(route("pull_request", edited(changes))).job
    assert (job.reason, job.payload["edited_fields"], job.payload["base_ref"]) == ("edited", ["base"], "master")


def test_edited_title_only_is_ignored() -> None:
    assert route("pull_request", edited({"title": {"from": "Update the README"}})) == [
        Ignore(reason="pull_request edited (title): neither the body nor the base changed")
    ]
    assert route("pull_request", edited({})) == [
        Ignore(reason="pull_request edited (nothing): neither the body nor the base changed")
    ]


def test_edited_body_of_a_draft_waits() -> None:
    payload = edited({"body": {"from": ""}})
    payload["pull_request"]["draft"] = True
    assert route("pull_request", payload) == [Ignore(reason=DRAFT_REASON)]


@pytest.mark.parametrize(
    "name", ["pull_request.labeled.1.json", "pull_request.labeled.2.json", "pull_request.unlabeled.1.json"]
)
def test_labels_are_ignored(name: str) -> None:
    action = json.loads((WEBHOOKS / name).read_text())["action"]
    assert route("pull_request", load(name)) == [Ignore(reason=f"pull_request action {action!r} is not handled")]


def test_installation_id_is_picked_up() -> None:
    payload = load("pull_request.opened.1.json")
    assert "installation" not in payload
    assert only(route("pull_request", payload)).job.installation_id is None
    payload["installation"] = {"id": 42}
    assert only(route("pull_request", payload)).job.installation_id == 42
    comment = pr_comment("@reviewbot review")
    comment["installation"] = {"id": 42}
    assert only(route("issue_comment", comment)).job.installation_id == 42


# --------------------------------------------------------------------------- payload errors


def without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    node = payload
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return payload


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        ("pull_request.opened.1.json", ("pull_request", "number"), "pull_request payload has no `pull_request.number`"),
        (
            "pull_request.opened.1.json",
            ("repository", "full_name"),
            "pull_request payload has no `repository.full_name`",
        ),
        ("pull_request.opened.1.json", ("repository",), "pull_request payload has no `repository`"),
        (
            "pull_request.synchronize.1.json",
            ("pull_request", "head", "sha"),
            "pull_request payload has no `pull_request.head.sha`",
        ),
        ("pull_request.opened.1.json", ("pull_request", "base"), "pull_request payload has no `pull_request.base`"),
        ("pull_request.opened.1.json", ("action",), "pull_request payload has no `action`"),
        ("pull_request.closed.1.json", ("pull_request", "number"), "pull_request payload has no `pull_request.number`"),
        (
            "pull_request.closed.1.json",
            ("repository", "full_name"),
            "pull_request payload has no `repository.full_name`",
        ),
        ("issue_comment.created.1.json", ("comment", "id"), "issue_comment payload has no `comment.id`"),
        ("issue_comment.created.1.json", ("issue", "number"), "issue_comment payload has no `issue.number`"),
        (
            "issue_comment.edited.1.json",
            ("repository", "full_name"),
            "issue_comment payload has no `repository.full_name`",
        ),
        (
            "issue_comment.created.1.json",
            ("comment", "user", "login"),
            "issue_comment payload has no `comment.user.login`",
        ),
    ],
)
def test_missing_keys_raise_payload_error_naming_the_key(name: str, path: tuple[str, ...], message: str) -> None:
    event = name.split(".")[0]
    with pytest.raises(PayloadError) as caught:
        route(event, without(load(name), *path))
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("pull_request", "number"),
            "2",
            "pull_request payload has an invalid `pull_request.number`: Input should be a valid integer",
        ),
        (
            ("pull_request", "number"),
            True,
            "pull_request payload has an invalid `pull_request.number`: Input should be a valid integer",
        ),
        (
            ("pull_request", "number"),
            0,
            "pull_request payload has an invalid `pull_request.number`: Input should be greater than 0",
        ),
        (
            ("pull_request", "head", "sha"),
            "HEAD; rm -rf /",
            "pull_request payload has an invalid `pull_request.head.sha`",
        ),
        (("repository", "full_name"), "../../etc", "pull_request payload has an invalid `repository.full_name`"),
        (
            ("installation", "id"),
            "42",
            "pull_request payload has an invalid `installation.id`: Input should be a valid integer",
        ),
        (("pull_request",), None, "pull_request payload has no `pull_request`"),
        (("action",), 3, "pull_request payload has an invalid `action`: not a string"),
    ],
)
def test_garbled_values_raise_payload_error(path: tuple[str, ...], value: Any, message: str) -> None:
    payload = load("pull_request.synchronize.1.json")
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(PayloadError) as caught:
        route("pull_request", payload)
    assert str(caught.value).startswith(message)


def test_a_body_replayed_under_another_event_header_is_a_payload_error() -> None:
    # X-GitHub-Event is not covered by the signature: a signed comment body sent as a PR event.
    with pytest.raises(PayloadError, match=r"^pull_request payload has no `pull_request`$"):
        route("pull_request", load("issue_comment.edited.1.json"))  # "edited" is a handled PR action
    # An action the target event does not handle is acknowledged, not enqueued.
    assert route("pull_request", load("issue_comment.created.1.json")) == [
        Ignore(reason="pull_request action 'created' is not handled")
    ]


def test_a_non_object_payload_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match=r"^pull_request payload is not a JSON object$"):
        route("pull_request", [1, 2])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- issue_comment


@pytest.mark.parametrize("name", sorted(path.name for path in WEBHOOKS.glob("issue_comment.*.json")))
def test_real_issue_comments_are_ignored(name: str) -> None:
    payload = load(name)
    action = payload["action"]
    expected = (
        f"issue_comment action {action!r} is not handled"
        if action == "deleted"
        else f"issue_comment {action} on issue #1, not a pull request"
    )
    assert route("issue_comment", payload) == [Ignore(reason=expected)]


@pytest.mark.parametrize(
    "body",
    [
        "@reviewbot review",
        "  @ReviewBot  review",
        "   /reviewbot retry",  # up to 3 spaces of indentation
        "@reviewbot[bot] review",
        "@REVIEWBOT[BOT]",
        "Thanks for the fix!\r\n\r\n@reviewbot review please\r\n",
        "- @reviewbot review",  # a list item
        "```\nlog output\n```\n@reviewbot review",  # after a closed fence
        "```js `inline`\n@reviewbot review",  # a backtick info string: not a fence
    ],
)
def test_command_on_a_pr_enqueues_a_command_job(body: str) -> None:
    action = only(route("issue_comment", pr_comment(body)))
    assert action == Enqueue(
        job=JobSpec(
            kind=JobKind.COMMAND,
            repo=REPO,
            pr_number=1,
            installation_id=None,
            reason="created",
            payload={
                "comment_id": COMMENT_ID,
                "comment_body": body,
                "author": "Codertocat",
                "author_type": "User",
                "author_association": "OWNER",
            },
        )
    )
    assert action.job.head_sha == ""


def test_edited_comment_with_a_command_enqueues() -> None:
    job = only(route("issue_comment", pr_comment("@reviewbot review", name="issue_comment.edited.1.json"))).job
    assert (job.kind, job.reason, job.pr_number, job.payload["comment_id"]) == (
        JobKind.COMMAND,
        "edited",
        1,
        COMMENT_ID,
    )


NO_COMMAND = "issue_comment created: no command line in comment 492700400"


@pytest.mark.parametrize(
    "body",
    [
        "```\n@reviewbot review\n```",
        "~~~markdown\n@reviewbot review\n~~~",
        "  ```\n  @reviewbot review\n  ```",
        "````\n```\n@reviewbot review\n````",  # a shorter fence does not close a longer one
        "~~~\n```\n@reviewbot review\n```\n~~~",  # a backtick fence does not close a tilde fence
        "```\nunclosed fence runs to the end\n@reviewbot review",
        "> @reviewbot review",
        "  >@reviewbot review",
        "> quoted\n> @reviewbot review",
        "> quoted\n@reviewbot review",  # a lazy continuation line is still quoted
        "\t/reviewbot retry",  # a tab (or 4 spaces) is an indented code block
        "    @reviewbot review",
        "Thanks for the fix!\r\n\r\n@reviewbot:review please\r\n",  # the handle (and its colon) ends at whitespace
        "<!-- @reviewbot review -->",
        "`@reviewbot review`",
        "please ask @reviewbot to review",  # not at the start of a line
        "@reviewbotx review",  # a different name
        "@reviewbot-ci review",
        "/reviewbots",
        "You are totally right! I'll get this fixed right away.",
        "",
    ],
)
def test_comments_without_a_command_line_are_ignored(body: str) -> None:
    assert route("issue_comment", pr_comment(body)) == [Ignore(reason=NO_COMMAND)]


def test_null_comment_body_has_no_command() -> None:
    payload = pr_comment("")
    payload["comment"]["body"] = None
    assert route("issue_comment", payload) == [Ignore(reason=NO_COMMAND)]


def test_the_bots_own_comments_are_ignored() -> None:
    payload = pr_comment("@reviewbot review", login="reviewbot[bot]", type="Bot")
    assert route("issue_comment", payload) == [Ignore(reason="issue_comment created by the bot itself")]
    payload = pr_comment("@reviewbot review", login="ReviewBot[bot]", type="Bot")  # logins are case-insensitive
    assert route("issue_comment", payload) == [Ignore(reason="issue_comment created by the bot itself")]


def test_a_command_on_a_plain_issue_is_ignored() -> None:
    payload = load("issue_comment.created.2.json")
    payload["comment"]["body"] = "@reviewbot review"
    assert "pull_request" not in payload["issue"]
    assert route("issue_comment", payload) == [Ignore(reason="issue_comment created on issue #1, not a pull request")]


def test_a_deleted_comment_is_ignored_even_with_a_command() -> None:
    payload = pr_comment("@reviewbot review", name="issue_comment.deleted.1.json")
    assert route("issue_comment", payload) == [Ignore(reason="issue_comment action 'deleted' is not handled")]


def test_custom_bot_login_and_prefixes() -> None:
    kwargs = {"bot_login": "lockbot[bot]", "command_prefixes": ("!lock",)}
    assert only(route("issue_comment", pr_comment("!lock retry"), **kwargs)).job.kind is JobKind.COMMAND
    assert (
        only(route("issue_comment", pr_comment("@lockbot[bot] retry"), **kwargs)).job.payload["comment_id"]
        == COMMENT_ID
    )
    assert route("issue_comment", pr_comment("@reviewbot review"), **kwargs) == [Ignore(reason=NO_COMMAND)]
    by_bot = pr_comment("!lock retry", login="lockbot[bot]")
    assert route("issue_comment", by_bot, **kwargs) == [Ignore(reason="issue_comment created by the bot itself")]


def test_has_command_scanner() -> None:
    assert has_command("intro\n\n@reviewbot review\n") is True
    assert has_command("~~~\n@reviewbot review\n~~~~\n/reviewbot retry") is True  # longer closing fence closes
    assert has_command("```\n@reviewbot review\n``` not a close\n```") is False
    assert has_command("@other review", bot_login="other") is True
    assert has_command("@reviewbot", command_prefixes=()) is False  # only @<bot_login> is left
    assert has_command("@reviewbot[bot]", command_prefixes=()) is True
    assert has_command("@ review", bot_login="", command_prefixes=()) is False  # no login: no "@" handle
    assert set(command_handles()) == set(DEFAULT_HANDLES)


# --------------------------------------------------------------------------- other events


@pytest.mark.parametrize("event", ["check_suite", "check_run"])
def test_completed_checks_advance_the_automerge_of_the_prs_they_name(event: str) -> None:
    for path in sorted(WEBHOOKS.glob(f"{event}.completed.*.json")):
        payload = json.loads(path.read_text())
        named = sorted(p["number"] for p in payload[event].get("pull_requests") or [])
        actions = route(event, payload)
        if named:
            assert [(a.job.kind, a.job.pr_number) for a in actions] == [(JobKind.AUTOMERGE, n) for n in named]
        else:
            assert actions == [Ignore(reason=f"{event} completed: recorded, automerge not armed")]
    payload = load(f"{event}.completed.1.json")
    payload["action"] = "requested_action"
    assert route(event, payload) == [Ignore(reason=f"{event} action 'requested_action' is not handled")]


def test_re_run_on_the_bots_check_suite_re_reviews_that_head() -> None:
    payload = load("check_suite.rerequested.1.json")
    [action] = route("check_suite", payload)
    job = action.job
    assert (job.kind, job.pr_number, job.head_sha, job.reason) == (
        JobKind.REVIEW,
        2,
        payload["check_suite"]["head_sha"],
        "re-review",
    )
    assert job.payload == {"requested_by": payload["sender"]["login"]}


def test_re_run_on_a_check_run_re_reviews_only_the_bots_own_check() -> None:
    payload = load("check_run.rerequested.1.json")
    payload["check_run"]["pull_requests"] = [{"number": 12}]
    [ignored] = route("check_run", payload)  # another app's check (GitHub sends these to its owner only)
    assert isinstance(ignored, Ignore) and "not 'reviewbot / lock proof'" in ignored.reason
    payload["check_run"]["name"] = CHECK_NAME
    [action] = route("check_run", payload)
    assert (action.job.kind, action.job.pr_number, action.job.head_sha, action.job.reason) == (
        JobKind.REVIEW,
        12,
        payload["check_run"]["head_sha"],
        "re-review",
    )
    payload["check_run"]["pull_requests"] = []
    assert route("check_run", payload) == [
        Ignore(reason="check_run rerequested: it names no pull request of this repository")
    ]
    payload["check_run"]["head_sha"] = "not-a-sha"
    with pytest.raises(PayloadError, match=r"check_run\.head_sha"):
        route("check_run", payload)


def test_a_status_advances_every_armed_automerge_of_the_repository() -> None:
    payload = load("status.event.1.json")
    [action] = route("status", payload)
    assert (action.job.kind, action.job.pr_number, action.job.repo) == (
        JobKind.AUTOMERGE,
        0,
        payload["repository"]["full_name"],
    )
    payload["state"] = "pending"
    assert route("status", payload) == [Ignore(reason="status pending: nothing can merge on a pending check")]
    del payload["repository"]
    payload["state"] = "failure"
    with pytest.raises(PayloadError, match="no `repository`"):
        route("status", payload)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("installation.created.1.json", "installation created for Codertocat"),
        ("installation.deleted.1.json", "installation deleted for octocat"),
        ("installation.suspend.1.json", "installation suspend for Codertocat"),
        ("installation.unsuspend.1.json", "installation unsuspend for Codertocat"),
        ("installation.new_permissions_accepted.1.json", "installation new_permissions_accepted for Codertocat"),
        ("installation_repositories.added.1.json", "installation_repositories added for Codertocat (1 repository)"),
        ("installation_repositories.removed.1.json", "installation_repositories removed for octocat (1 repository)"),
    ],
)
def test_installation_events_are_logged_only(name: str, reason: str) -> None:
    assert route(name.split(".")[0], load(name)) == [
        Ignore(reason=f"{reason}: logged, no per-installation state is kept")
    ]


def test_ping_and_unknown_events_are_ignored() -> None:
    for n in (1, 2, 3, 4):
        assert route("ping", load(f"ping.event.{n}.json")) == [Ignore(reason="ping")]
    assert route("push", load("push.event.1.json")) == [Ignore(reason="event 'push' is not handled")]
    assert route("deployment", {}) == [Ignore(reason="event 'deployment' is not handled")]
    assert route("evil\nheader", {}) == [Ignore(reason="event 'evil?header' is not handled")]


# --------------------------------------------------------------------------- delivery_summary


def test_delivery_summary() -> None:
    assert delivery_summary("pull_request", load("pull_request.opened.1.json")) == f"{REPO}#2 pull_request.opened"
    assert delivery_summary("issue_comment", load("issue_comment.created.1.json")) == f"{REPO}#1 issue_comment.created"
    assert delivery_summary("check_suite", load("check_suite.completed.1.json")) == f"{REPO}#2 check_suite.completed"
    assert delivery_summary("installation", load("installation.created.1.json")) == "- installation.created"
    assert delivery_summary("ping", load("ping.event.1.json")) == "Octocoders/Hello-World ping"
    assert delivery_summary("push", {"repository": 5, "action": ["x"], "number": True}) == "- push"
    assert delivery_summary("pull_request", {"repository": {"full_name": "a/b\nFAKE LOG LINE"}, "number": 3}) == (
        "a/b?FAKE LOG LINE#3 pull_request"
    )
    assert delivery_summary("push", None) == "- push"  # type: ignore[arg-type]
