"""The proof pages in a real headless Chromium, JavaScript off: they render, link, and stay usable with huge logs.

The service's app runs under uvicorn on loopback with a database seeded through the real
store; Debian's `chromium` is driven by Playwright (never a downloaded browser).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from reviewbot.pages.views import LOG_PAGE_LINES
from reviewbot.service.app import create_app
from reviewbot.service.pages import PagesConfig, pages_router
from reviewbot.store.db import JobRow, make_engine
from reviewbot.store.proof_store import ProofStore
from tests.e2e.world import ServiceServer
from tests.pages_seed import HEAD, OLD_HEAD, SCRIPT, seeded_review

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "browser-pages-token"
LONG_LINES = 20_000

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("pages")
    engine = make_engine(f"sqlite:///{tmp / 'service.db'}")
    store = ProofStore(engine, max_log_bytes=4 * 1024 * 1024)
    store.save(seeded_review(tmp, head=OLD_HEAD, reviewed_at="2026-02-28 09:00 UTC"), public=True)
    store.save(seeded_review(tmp, previous_head=OLD_HEAD), public=True)
    store.save(seeded_review(tmp, number=8, log_lines=LONG_LINES, title="Huge log"), public=True)
    store.save(seeded_review(tmp, number=9, title=f"Hostile {SCRIPT}", extra=SCRIPT), public=True)
    store.save(seeded_review(tmp, repo="octo/secret", number=1, title="Private fix"), public=False)
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
                    lease_owner="worker-7",
                ),
                JobRow(
                    kind="review", repo="octo/locks", pr_number=11, head_sha="d" * 40, reason="opened", state="queued"
                ),
                JobRow(
                    kind="review",
                    repo="octo/locks",
                    pr_number=12,
                    head_sha="e" * 40,
                    reason="opened",
                    state="dead",
                    attempts=4,
                    last_error="sandbox unavailable: bwrap missing",
                ),
            ]
        )
    server = ServiceServer(create_app(engine, ["secret"], pages=pages_router(store, engine, PagesConfig(token=TOKEN))))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with sync_api.sync_playwright() as handle:
        yield handle


def launch(playwright: Any, profile: Path, javascript: bool) -> Any:
    """Debian's Chromium with a fresh profile and the flags this closed network needs."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, java_script_enabled=javascript
    )
    context.set_default_timeout(20_000)
    return context


@pytest.fixture(scope="module")
def browser_context(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"), javascript=False)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    page = browser_context.new_page()
    yield page
    page.close()


def test_overview_to_proof_page_to_queue(site: str, page: Any) -> None:
    response = page.goto(f"{site}/proofs")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Recent reviews"
    assert "Private fix" not in page.content() and "hidden" in page.content()
    page.click(f'a[href="/proofs/octo/locks/pull/7/{HEAD}"] >> nth=0')
    assert page.url.endswith(f"/proofs/octo/locks/pull/7/{HEAD}")
    assert "passed" in page.locator("h1").inner_text()
    assert page.locator("table").first.is_visible()
    assert page.get_by_text("Claimed vs observed").is_visible()
    page.click(f'#history a[href$="{OLD_HEAD}"], a[href="/proofs/octo/locks/pull/7/{OLD_HEAD}"]')
    assert page.url.endswith(OLD_HEAD)
    page.click("nav >> text=Queue")
    assert page.url == f"{site}/queue"
    assert page.get_by_text("Running (1)").is_visible() and page.get_by_text("worker-7").is_visible()
    assert page.get_by_text("sandbox unavailable: bwrap missing").is_visible()
    page.click("nav >> text=Recent reviews")
    assert page.url == f"{site}/proofs"


def test_a_20000_line_log_stays_usable(site: str, page: Any) -> None:
    page.goto(f"{site}/proofs/octo/locks/pull/8/{HEAD}")
    first_log = page.locator("details").first
    assert first_log.get_attribute("open") is None  # collapsed: the page is a summary first
    first_log.locator("summary").click()  # <details> opens without JavaScript
    assert first_log.get_attribute("open") is not None
    pre = first_log.locator("pre")
    pre.scroll_into_view_if_needed()
    assert pre.inner_text().rstrip().endswith("END OF BASE RUN 1")  # the end of the log is right there
    first_log.get_by_text("the whole log, page by page").click()
    assert "/logs/0" in page.url
    pages = -(-(LONG_LINES + 1) // LOG_PAGE_LINES)  # the log ends with one more line than LONG_LINES
    assert page.get_by_text(f"page {pages} of {pages}").first.is_visible()
    page.locator("#end").scroll_into_view_if_needed()
    assert page.locator("#end").inner_text() == "End of log."
    assert page.locator("pre").inner_text().rstrip().endswith("END OF BASE RUN 1")
    page.get_by_role("link", name="first").first.click()
    assert page.url.endswith("?page=1") and page.locator("pre").inner_text().startswith("log line 1:")
    page.get_by_role("link", name="last").first.click()
    assert page.url.endswith(f"?page={pages}")
    page.get_by_role("link", name="raw text").first.click()
    assert page.locator("body").inner_text().rstrip().endswith("END OF BASE RUN 1")


def test_no_page_needs_or_carries_javascript(site: str, page: Any) -> None:
    for path in (
        "/proofs",
        f"/proofs/octo/locks/pull/7/{HEAD}",
        f"/proofs/octo/locks/pull/7/{HEAD}/logs/2",
        "/queue",
        f"/proofs/octo/locks/pull/9/{HEAD}",
    ):
        response = page.goto(site + path)
        assert response.status == 200, path
        assert page.locator("script").count() == 0, path
        assert page.locator("main").is_visible(), path


def test_script_in_a_pr_title_and_a_test_log_is_inert(site: str, playwright: Any, tmp_path: Path) -> None:
    context = launch(playwright, tmp_path / "profile", javascript=True)  # JavaScript on: escaping must hold
    try:
        page = context.new_page()
        page.goto(f"{site}/proofs/octo/locks/pull/9/{HEAD}")
        assert page.evaluate("document.title") != "pwned"
        assert page.locator("script").count() == 0
        assert SCRIPT in page.locator("main p").first.inner_text()  # shown as text
        page.locator("details").first.locator("summary").click()
        assert SCRIPT in page.locator("details").first.locator("pre").inner_text()
        page.goto(f"{site}/proofs")
        assert page.evaluate("document.title") != "pwned" and SCRIPT in page.locator("table").inner_text()
    finally:
        context.close()


def test_private_pages_ask_for_the_token(site: str, playwright: Any, browser_context: Any, tmp_path: Path) -> None:
    url = f"{site}/proofs/octo/secret/pull/1/{HEAD}"
    refused = browser_context.request.get(url)
    assert refused.status == 401 and refused.headers["www-authenticate"].startswith("Basic")
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=FLAGS,
        java_script_enabled=False,
        http_credentials={"username": "maintainer", "password": TOKEN},
    )  # what a browser's password prompt sends
    try:
        page = context.new_page()
        response = page.goto(url)
        assert response.status == 200 and "Private fix" in page.locator("main").inner_text()
        page.goto(f"{site}/proofs")  # not challenged, so the browser has not sent the token here yet
        assert "Private fix" not in page.locator("main").inner_text()
        # /login challenges at the root, so from then on the browser sends the token everywhere
        page.get_by_role("link", name="Sign in", exact=True).click()
        assert page.url == f"{site}/proofs"
        assert "Private fix" in page.locator("table").inner_text()
        page.goto(f"{site}/queue")
        assert page.get_by_role("link", name="Sign in", exact=True).count() == 0
    finally:
        context.close()
