"""A published review leaves its full proof behind: stored logs from the real sandbox, linked from the PR.

The world's repository is private, so the link appears only because a pages token is set;
the page then opens with it and shows the runs' real output.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviewbot.pages.access import PagesMode, ProofLinks
from reviewbot.service.app import create_app
from reviewbot.service.pages import PagesConfig, pages_router
from reviewbot.store.proof_store import ProofStore
from tests.e2e.world import World

# What this file checks does not depend on the database (the queue and service tests run on both): SQLite only.
pytestmark = [pytest.mark.sandbox, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PUBLIC_URL = "https://reviewbot.example"
TOKEN = "e2e-pages-token"


@pytest.fixture
def world(tmp_path: Path):
    from tests.repos import build_python_proven

    with World(tmp_path, build_python_proven) as built:
        engine = built.service.queue.engine
        built.service.review_job.proof_store = ProofStore(engine)
        built.service.review_job.proof_links = ProofLinks(PUBLIC_URL, PagesMode.PUBLIC, token_set=True)
        yield built


def test_the_review_links_its_stored_proof_page(world: World) -> None:
    world.deliver("opened")
    assert world.work() == 1
    head = world.head_sha()
    path = f"/proofs/{world.repo}/pull/{world.number}/{head}"
    [comment] = world.bot_comments("<!-- reviewbot:review")
    assert f"[full proof and logs]({PUBLIC_URL}{path})" in comment.body
    [check] = world.fake.check_runs(world.repo, head)
    assert check.details_url == PUBLIC_URL + path

    engine = world.service.queue.engine
    store = world.service.review_job.proof_store
    assert store is not None
    client = TestClient(create_app(engine, ["secret"], pages=pages_router(store, engine, PagesConfig(token=TOKEN))))
    assert client.get(path).status_code == 401  # a private repository's page needs the token
    auth = {"Authorization": "Basic " + base64.b64encode(f"x:{TOKEN}".encode()).decode()}
    page = client.get(path, headers=auth)
    assert page.status_code == 200 and "proven" in page.text
    stored = store.page(world.repo, world.number, head)
    assert stored is not None and stored.facts.comment_url.endswith(f"#issuecomment-{comment.id}")
    logs = store.logs(stored.id)
    assert logs and any("passed" in log.text for log in logs.values())  # the sandbox's real output
    world.fake.assert_contract_clean()
