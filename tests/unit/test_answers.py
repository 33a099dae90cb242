"""The answers to people (who is mentioned, and how) and the re-review requests they carry, as pure functions."""

from __future__ import annotations

from reviewbot.review.answers import addressed, answer_marker, mention
from reviewbot.review.rereview_requests import RereviewRequests, carry_over


def test_only_a_real_github_login_is_mentioned() -> None:
    assert mention("alice") == "@alice" and mention("ci-helper[bot]") == "@ci-helper[bot]"
    for forged in ("alice @everyone", "org/team", "x\n# heading", "-leading-dash"):
        assert "@" + forged not in mention(forged)  # shown escaped: it pings nobody


def test_an_answer_names_its_people_first_and_carries_its_marker() -> None:
    body = addressed(["alice", "bob"], "done\n", 42)
    assert body == "@alice @bob: done\n<!-- reviewbot:answer to=42 -->\n"
    assert answer_marker(4) not in body  # `to=4` never matches the answer to comment 42


def test_requests_read_the_old_form_and_merge_without_repeats() -> None:
    old = RereviewRequests.from_payload({"requested_by": "alice", "focus": "the error path"})
    assert old == RereviewRequests(("alice",), (("alice", "the error path"),))
    newer = RereviewRequests.from_payload({"requested_by": ["ALICE", "bob"], "focus": [["bob", "retries"]]})
    merged = old.merged(newer)
    assert merged.requested_by == ("alice", "bob")
    assert merged.focus_text() == "alice: the error path\nbob: retries"
    assert old.focus_text() == "the error path"  # one note reads as written


def test_a_replacing_job_keeps_its_own_tracker_or_takes_the_waiting_ones() -> None:
    waiting = {"status_comment_id": 5, "requested_by": ["alice"], "focus": []}
    assert carry_over({"status_comment_id": 9, "requested_by": ["bob"]}, [waiting], [waiting])["status_comment_id"] == 9
    assert carry_over({}, [waiting], [waiting])["status_comment_id"] == 5
    assert carry_over({}, [waiting], []) == {"requested_by": ["alice"], "focus": []}  # a running one keeps its own
    assert carry_over({"pushed_by": "x"}, [{}], [{}]) == {"pushed_by": "x"}  # nobody asked: nothing added
