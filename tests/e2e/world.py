"""One end-to-end world: a fake GitHub with a repository and an open PR, and the service pointed at it."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn

from reviewbot.github.client import GitHubEdge, default_retry
from reviewbot.samples.repos import SampleRepo
from reviewbot.service.main import Service, build_service
from reviewbot.settings import Settings
from reviewbot.store.queue import JobState
from tests.fakegithub import FakeGitHub

SECRET = "e2e-webhook-secret"
OWNER, NAME, CONTRIBUTOR = "acme", "locky", "alice"


class ServiceServer:
    """The service's FastAPI app under a real uvicorn server on loopback, in a thread."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, lifespan="on")
        )  # as `serve` runs it
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="service")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("service did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class World:
    database_url: str | None = None  # tests/e2e/conftest.py sets it: every test runs on SQLite and PostgreSQL

    def __init__(self, tmp: Path, build: Callable[[Path], SampleRepo], auth: str = "app"):
        self.tmp = tmp
        self.auth = auth  # "app" (check runs) or "token" (a bot user's token: commit statuses)
        self.sample = build(tmp / "sample")
        self.fake = FakeGitHub(root=tmp / "github")
        self.last_delivery = ""

    def __enter__(self) -> World:
        fake = self.fake.start()
        identity = fake.create_app()
        self.bot_login = identity.bot_login
        self.repo = fake.create_repo(OWNER, NAME, source=self.sample.path, private=True)
        self.installation = fake.install(identity.app_id, OWNER, [NAME])
        self.number = fake.open_pull_request(
            self.repo, head=self.sample.head, title=self.sample.title, body=self.sample.body, user=CONTRIBUTOR
        )
        credentials: dict = {"app_id": identity.app_id, "private_key": identity.private_key_pem}
        if self.auth == "token":
            self.bot_login = "lock-review-bot"
            credentials = {"token": fake.add_user(self.bot_login)}
            fake.set_permission(self.repo, self.bot_login, "write")
        settings = Settings(
            data_dir=self.tmp / "data",
            database_url=self.database_url or f"sqlite:///{self.tmp / 'service.db'}",
            webhook_secrets=[SECRET],
            github_api_url=fake.url,
            lease_s=10,
            reconcile_interval_s=3600,
            **credentials,
        )
        edge = GitHubEdge.from_settings(
            settings, retry=default_retry(total=3, backoff_factor=0.01, max_wait_s=2), throttle=False
        )
        self.service: Service = build_service(settings, edge=edge)
        self.server = ServiceServer(self.service.app())
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.fake.stop()
        if exc[0] is None:  # every e2e test, not only those that remember to: no answer broke GitHub's contract
            self.fake.assert_contract_clean()

    # -- GitHub's side ------------------------------------------------------------------------

    def head_sha(self) -> str:
        return self.fake.pull_request(self.repo, self.number).head_sha

    def push_commit(self, path: str, content: str) -> str:
        """A contributor's push to the PR branch; returns the new head."""
        sha = self.fake.commit_to_branch(
            self.repo, self.sample.head, {path: content}, message=f"Update {path}", author=CONTRIBUTOR
        )
        self.fake.sync_pull_request(self.repo, self.number)
        return sha

    def open_second_pull_request(self) -> int:
        """Another PR off the same fix (pushed from the sample repository), with one more commit."""
        branch = "fix/second"
        self.fake.push_to_branch(self.repo, branch, self.sample.path, ref=self.sample.head)
        self.fake.commit_to_branch(self.repo, branch, {"SECOND.md": "second\n"}, message="second", author=CONTRIBUTOR)
        return self.fake.open_pull_request(self.repo, head=branch, title="Second fix", user=CONTRIBUTOR)

    def open_pull_requests(self, count: int, title: str = "") -> list[int]:
        """The World's own PR and count-1 more off the same fix, each on its own branch (for the benchmarks)."""
        numbers = [self.number]
        for i in range(1, count):
            branch = f"fix/pr-{i}"
            self.fake.push_to_branch(self.repo, branch, self.sample.path, ref=self.sample.head)
            numbers.append(
                self.fake.open_pull_request(
                    self.repo,
                    head=branch,
                    title=f"{title or self.sample.title} ({i})",
                    body=self.sample.body,
                    user=CONTRIBUTOR,
                )
            )
        return numbers

    def deliver(self, action: str, *, head_sha: str | None = None, delivery_id: str | None = None) -> httpx.Response:
        payload = self.fake.payload_for_pull_request(self.repo, self.number, action, self.installation)
        if head_sha is not None:
            payload["pull_request"]["head"]["sha"] = head_sha
        self.last_delivery = delivery_id or str(uuid.uuid4())
        return self.fake.deliver(self.server.url, "pull_request", payload, SECRET, self.last_delivery)

    def comment(
        self, body: str, user: str, *, edit: int | None = None, delivery_id: str | None = None, bot: bool = False
    ) -> tuple[int, httpx.Response]:
        """A user's PR comment (or an edit of one), delivered as GitHub would; returns (comment id, answer)."""
        if edit is None:
            if bot:
                self.fake.state.ensure_user(user, type="Bot")
            comment_id = self.fake.add_comment(self.repo, self.number, body, user)
        else:
            comment_id = edit
            self.fake.state.comments[edit].body = body
        payload = self.fake.payload_for_issue_comment(
            self.repo, comment_id, "edited" if edit else "created", self.installation
        )
        self.last_delivery = delivery_id or str(uuid.uuid4())
        return comment_id, self.fake.deliver(self.server.url, "issue_comment", payload, SECRET, self.last_delivery)

    def bot_comments(self, marker: str) -> list:
        return [
            c for c in self.fake.comments(self.repo, self.number) if c.user.login == self.bot_login and marker in c.body
        ]

    # -- the service's side -------------------------------------------------------------------

    def work(self) -> int:
        """Run one worker until the queue has nothing runnable; returns how many jobs it ran."""
        worker = self.service.worker(name="e2e-worker")
        ran = 0
        while worker.run_once():
            ran += 1
        return ran

    def wait_for_state(self, state: JobState, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(JobState(job.state) == state for job in self.service.queue.jobs()):
                return
            time.sleep(0.05)
        raise AssertionError(f"no job reached {state.value}")
