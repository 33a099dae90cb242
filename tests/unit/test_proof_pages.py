"""Proof pages: retention and log capping (pure), access, the store, and the HTML through the real app."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reviewbot.bot.review import ReviewJob
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.pages.access import Access, PagesMode, ProofLinks, credentials_ok, listing_access, page_access
from reviewbot.pages.retention import TRUNCATED_MARK, Retention, StoredPage, cap_log, plan_pruning, read_plan
from reviewbot.review.comment import render_comment
from reviewbot.service.app import create_app
from reviewbot.service.pages import PagesConfig, pages_router
from reviewbot.store.db import JobRow, ProofLogRow, ProofPageRow, make_engine
from reviewbot.store.proof_store import ProofStore
from tests.pages_seed import HEAD, OLD_HEAD, SCRIPT, seeded_review

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TOKEN = "pages-token-123"
PAGE = f"/proofs/octo/locks/pull/7/{HEAD}"


def basic(password: str, user: str = "maintainer") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- retention and capping: pure ---------------------------------------------------------------


def stored(id: int, pr: int, days_ago: float, pruned: bool = False, repo: str = "o/r") -> StoredPage:
    return StoredPage(id=id, repo=repo, pr_number=pr, published_at=NOW - timedelta(days=days_ago), logs_pruned=pruned)


def test_only_the_newest_heads_of_each_pr_keep_their_logs() -> None:
    pages = [stored(1, 1, 3), stored(2, 1, 2), stored(3, 1, 1), stored(4, 2, 5), stored(5, 1, 4, pruned=True)]
    plan = plan_pruning(pages, Retention(keep_heads=2, keep_days=30), NOW)
    assert plan.drop_logs == {1}  # PR 1's third-newest; 5 is already pruned; PR 2 has one head
    assert plan.delete_pages == set()


def test_pages_past_the_age_limit_are_deleted_whatever_their_rank() -> None:
    pages = [stored(1, 1, 31), stored(2, 1, 29), stored(3, 2, 40, repo="o/other")]
    plan = plan_pruning(pages, Retention(keep_heads=5, keep_days=30), NOW)
    assert plan.delete_pages == {1, 3}
    assert plan.drop_logs == set()


def test_a_short_log_is_kept_whole() -> None:
    data = b"one\ntwo\n"
    assert read_plan(len(data), 100) == (len(data), 0)
    log = cap_log(data, b"", len(data))
    assert (log.text, log.lines, log.truncated) == ("one\ntwo\n", 2, False)


def test_a_long_log_keeps_its_start_and_end_around_a_clear_mark() -> None:
    data = b"".join(b"line %d\n" % n for n in range(1, 20_001))
    start, end = read_plan(len(data), 4096)
    assert start + end == 4096
    log = cap_log(data[:start], data[-end:], len(data))
    assert log.truncated and log.original_bytes == len(data)
    lines = log.text.splitlines()
    assert lines[0] == "line 1" and lines[-1] == "line 20000"
    assert TRUNCATED_MARK in log.text and f"{len(data):,}-byte log" in log.text
    assert all(line.startswith(("line ", TRUNCATED_MARK)) for line in lines)  # cut on line boundaries


# --- access: pure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "public", "signed_in", "token", "expected"),
    [
        (PagesMode.PUBLIC, True, False, False, Access.ALLOW),
        (PagesMode.PUBLIC, False, False, False, Access.NOT_FOUND),
        (PagesMode.PUBLIC, False, False, True, Access.CHALLENGE),
        (PagesMode.PUBLIC, None, False, True, Access.CHALLENGE),  # missing answers like private: nothing leaks
        (PagesMode.PUBLIC, None, True, True, Access.NOT_FOUND),
        (PagesMode.PUBLIC, False, True, True, Access.ALLOW),
        (PagesMode.PRIVATE, True, False, True, Access.CHALLENGE),
        (PagesMode.PRIVATE, True, False, False, Access.NOT_FOUND),
        (PagesMode.PRIVATE, True, True, True, Access.ALLOW),
        (PagesMode.OFF, True, True, True, Access.NOT_FOUND),
    ],
)
def test_page_access(mode: PagesMode, public: bool | None, signed_in: bool, token: bool, expected: Access) -> None:
    assert page_access(mode, public, signed_in, token) is expected


def test_listings_are_open_in_public_mode_and_need_the_token_in_private_mode() -> None:
    assert listing_access(PagesMode.PUBLIC, False, False) is Access.ALLOW
    assert listing_access(PagesMode.PRIVATE, False, True) is Access.CHALLENGE
    assert listing_access(PagesMode.PRIVATE, True, True) is Access.ALLOW
    assert listing_access(PagesMode.OFF, True, True) is Access.NOT_FOUND


def test_the_token_is_a_basic_auth_password_or_a_bearer_token() -> None:
    assert credentials_ok(basic(TOKEN)["Authorization"], TOKEN)
    assert credentials_ok(basic(TOKEN, user="")["Authorization"], TOKEN)
    assert credentials_ok(f"Bearer {TOKEN}", TOKEN)
    assert not credentials_ok(basic("wrong")["Authorization"], TOKEN)
    assert not credentials_ok("Basic !!!", TOKEN)
    assert not credentials_ok(f"Bearer {TOKEN}", "")  # no token configured: nobody signs in


def test_links_only_point_at_pages_someone_can_open() -> None:
    url = ProofLinks("https://bot.example/", PagesMode.PUBLIC).url("octo/locks", 7, HEAD, public_repo=True)
    assert url == f"https://bot.example{PAGE}"
    assert ProofLinks("", PagesMode.PUBLIC).url("octo/locks", 7, HEAD, True) == ""
    assert ProofLinks("https://bot.example", PagesMode.PUBLIC).url("octo/locks", 7, HEAD, False) == ""
    assert ProofLinks("https://bot.example", PagesMode.PUBLIC, token_set=True).url("octo/locks", 7, HEAD, False)
    assert ProofLinks("https://bot.example", PagesMode.OFF, token_set=True).url("octo/locks", 7, HEAD, True) == ""


# --- the store ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_a_saved_proof_keeps_every_run_and_its_full_log(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    page_id = store.save(seeded_review(tmp_path, log_lines=30), public=True)
    page = store.page("octo/locks", 7, HEAD)
    assert page is not None and page.id == page_id and page.public
    runs = page.facts.data["runs"]
    assert [(run["side"], run["repeat"]) for run in runs] == [
        ("base", 1),
        ("base", 2),
        ("head", 1),
        ("head", 2),
        ("claim", 1),
    ]
    logs = store.logs(page.id)
    assert sorted(logs) == [0, 1, 2, 3, 4]
    assert logs[3].lines == 31 and logs[3].text.endswith("END OF HEAD RUN 2 \n")


def test_a_re_review_of_the_same_head_replaces_its_page(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path, log_lines=5), public=True)
    store.save(seeded_review(tmp_path, log_lines=8, reviewed_at="2026-03-02 10:00 UTC"), public=True)
    with Session(engine) as session:
        assert session.query(ProofPageRow).count() == 1
        assert session.query(ProofLogRow).count() == 5
    page = store.page("octo/locks", 7, HEAD)
    assert page is not None and page.facts.data["review"]["reviewed_at"] == "2026-03-02 10:00 UTC"


def test_saving_prunes_older_heads_logs_then_old_pages(engine: Engine, tmp_path: Path) -> None:
    clock = Clock()
    store = ProofStore(engine, Retention(keep_heads=2, keep_days=7), clock=clock)
    heads = [f"{n:x}" * 40 for n in range(1, 4)]
    for index, head in enumerate(heads):
        clock.now = NOW + timedelta(hours=index)
        store.save(seeded_review(tmp_path, head=head), public=True)
    oldest = store.page("octo/locks", 7, heads[0])
    assert oldest is not None and oldest.facts.logs_pruned and store.logs(oldest.id) == {}
    assert all(store.logs(store.page("octo/locks", 7, head).id) for head in heads[1:])  # type: ignore[union-attr]

    clock.now = NOW + timedelta(days=8)
    store.save(seeded_review(tmp_path, repo="octo/other", number=1), public=True)
    assert store.heads("octo/locks", 7) == []
    with Session(engine) as session:
        assert session.query(ProofLogRow).count() == 5  # only the new page's
        assert session.query(ProofPageRow).count() == 1


def test_a_huge_log_is_capped_and_marked(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine, max_log_bytes=64 * 1024)
    store.save(seeded_review(tmp_path, log_lines=20_000), public=True)
    page = store.page("octo/locks", 7, HEAD)
    log = store.log(page.id, 0)  # type: ignore[union-attr]
    assert log is not None and log.truncated and len(log.text.encode()) <= 64 * 1024 + 300
    assert TRUNCATED_MARK in log.text
    assert log.text.splitlines()[0] == "log line 1: acquiring /tmp/session.jsonl.lock"
    assert log.text.splitlines()[-1] == "END OF BASE RUN 1 "


def test_stored_logs_and_titles_are_redacted(engine: Engine, tmp_path: Path) -> None:
    secret = "ghp_" + "A" * 36
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path, extra=secret, title=f"leak {secret}"), public=True)
    page = store.page("octo/locks", 7, HEAD)
    assert page is not None and secret not in page.facts.title and secret not in str(page.facts.data)
    assert all(secret not in log.text for log in store.logs(page.id).values())


def test_the_review_job_stores_the_proof_and_links_it(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    job = ReviewJob(
        github=None,
        engine=None,
        published=None,
        states=None,  # type: ignore[arg-type]
        proof_store=store,
        proof_links=ProofLinks("https://bot.example"),
    )
    info = PullRequestInfo(
        repo="octo/locks",
        number=7,
        title="t",
        body="",
        author="a",
        state="open",
        merged=False,
        draft=False,
        head_sha=HEAD,
        head_ref="fix",
        head_repo="octo/locks",
        base_ref="main",
        base_sha="a" * 40,
        clone_url="",
        html_url="https://github.example/octo/locks/pull/7",
        maintainer_can_modify=True,
        private=False,
    )
    page_id, url = job._store_proof(info, seeded_review(tmp_path))
    assert page_id is not None and url == f"https://bot.example{PAGE}"
    page_id, url = job._store_proof(PullRequestInfo(**{**info.__dict__, "private": True}), seeded_review(tmp_path))
    assert page_id is not None and url == ""  # stored, but nobody without a token could open it


def test_the_comment_links_the_proof_page_only_when_given_one(tmp_path: Path) -> None:
    review = seeded_review(tmp_path)
    plain = render_comment(review)
    linked = render_comment(review, proof_url=f"https://bot.example{PAGE}")
    assert "full proof and logs" not in plain
    assert f"[full proof and logs](https://bot.example{PAGE})" in linked
    assert linked.replace(f" · [full proof and logs](https://bot.example{PAGE})", "") == plain


# --- the pages through the app -----------------------------------------------------------------


def client_for(engine: Engine, config: PagesConfig, store: ProofStore | None = None) -> TestClient:
    store = store or ProofStore(engine)
    return TestClient(create_app(engine, ["secret"], pages=pages_router(store, engine, config)))


def test_the_proof_page_shows_suites_repeats_claims_and_history(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path, head=OLD_HEAD, reviewed_at="2026-02-28 09:00 UTC"), public=True)
    store.save(seeded_review(tmp_path, previous_head=OLD_HEAD), public=True)
    client = client_for(engine, PagesConfig(), store)
    overview = client.get("/proofs")
    assert overview.status_code == 200 and f'href="{PAGE}"' in overview.text and "🦞 diamond lobster" in overview.text
    assert client.get("/proofs/octo/locks/pull/7", follow_redirects=False).headers["location"] == PAGE
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    for expected in (
        "session-lock regression",
        "base + PR tests",
        "3.25 s",
        "releases on timeout",
        "Claimed vs observed",
        "3/3 pass",
        "reproduced",
        "Review history",
        "END OF HEAD RUN 2",
        f'href="/proofs/octo/locks/pull/7/{OLD_HEAD}"',
        "<details",
    ):
        assert expected in text, expected
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_logs_page_from_the_end_and_raw_text(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path, log_lines=12_000), public=True)
    client = client_for(engine, PagesConfig(), store)
    proof = client.get(PAGE).text
    assert "The last 1,000 of 12,001 lines" in proof and "log line 11002:" in proof and "log line 11001:" not in proof
    last = client.get(f"{PAGE}/logs/0").text
    assert "page 3 of 3" in last and "END OF BASE RUN 1" in last and "End of log." in last
    first = client.get(f"{PAGE}/logs/0?page=1").text
    assert "log line 1:" in first and "log line 5001:" not in first and "?page=2" in first
    raw = client.get(f"{PAGE}/logs/0/raw")
    assert raw.headers["content-type"].startswith("text/plain") and raw.text.endswith("END OF BASE RUN 1 \n")
    assert client.get(f"{PAGE}/logs/99").status_code == 404


def test_script_in_a_title_or_log_is_inert(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path, title=f"Fix {SCRIPT}", extra=SCRIPT), public=True)
    client = client_for(engine, PagesConfig(), store)
    for url in ("/proofs", PAGE, f"{PAGE}/logs/0"):
        text = client.get(url).text
        assert "<script" not in text.lower(), url
        assert "&lt;script&gt;" in text, url
    assert client.get(f"{PAGE}/logs/0/raw").headers["x-content-type-options"] == "nosniff"


def test_the_queue_shows_running_waiting_and_dead_jobs(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path), public=True)
    store.save(seeded_review(tmp_path, repo="octo/secret", number=2), public=False)
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                JobRow(
                    kind="review",
                    repo="octo/locks",
                    pr_number=7,
                    head_sha=HEAD,
                    reason="synchronize",
                    state="running",
                    attempts=1,
                    lease_owner="worker-a",
                ),
                JobRow(
                    kind="review", repo="octo/locks", pr_number=8, head_sha="d" * 40, reason="opened", state="queued"
                ),
                JobRow(
                    kind="review",
                    repo="octo/locks",
                    pr_number=9,
                    head_sha="e" * 40,
                    reason="opened",
                    state="dead",
                    attempts=4,
                    last_error=f"git fetch failed <b>bold</b> ghp_{'B' * 36}",
                    finished_at=NOW,
                ),
                JobRow(
                    kind="review", repo="octo/secret", pr_number=2, head_sha="f" * 40, reason="opened", state="queued"
                ),
                JobRow(kind="review", repo="octo/locks", pr_number=10, reason="opened", state="done"),
            ]
        )
    client = client_for(engine, PagesConfig(token=TOKEN), store)
    text = client.get("/queue").text
    assert "Running (1)" in text and "worker-a" in text and 'href="/proofs/octo/locks/pull/7"' in text
    assert "Waiting (1)" in text and "Dead-lettered (1)" in text
    assert "git fetch failed &lt;b&gt;bold&lt;/b&gt; [redacted]" in text
    assert "octo/secret" not in text and "1 job(s) of private repositories are hidden" in text
    signed_in = client.get("/queue", headers=basic(TOKEN)).text
    assert "Waiting (2)" in signed_in and "octo/secret" in signed_in


def test_private_repositories_need_the_token(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path), public=False)
    hidden = client_for(engine, PagesConfig(), store)
    assert hidden.get(PAGE).status_code == 404  # no token configured: nobody can open it
    assert "octo/locks" not in hidden.get("/proofs").text
    client = client_for(engine, PagesConfig(token=TOKEN), store)
    refused = client.get(PAGE)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert client.get(f"{PAGE}/logs/0/raw").status_code == 401
    assert client.get(PAGE.replace(HEAD, "1" * 40)).status_code == 401  # a missing page looks the same
    assert client.get(PAGE, headers=basic(TOKEN)).status_code == 200
    assert client.get(PAGE, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/login", follow_redirects=False).status_code == 401
    assert client.get("/login", headers=basic(TOKEN), follow_redirects=False).headers["location"] == "/proofs"


def test_private_mode_closes_even_public_repositories(engine: Engine, tmp_path: Path) -> None:
    store = ProofStore(engine)
    store.save(seeded_review(tmp_path), public=True)
    client = client_for(engine, PagesConfig(mode=PagesMode.PRIVATE, token=TOKEN), store)
    assert [client.get(url).status_code for url in ("/proofs", "/queue", PAGE)] == [401, 401, 401]
    assert [client.get(url, headers=basic(TOKEN)).status_code for url in ("/proofs", "/queue", PAGE)] == [200] * 3


def test_pages_off_serves_nothing(engine: Engine) -> None:
    client = TestClient(create_app(engine, ["secret"]))
    assert client.get("/proofs").status_code == 404 and client.get("/queue").status_code == 404
