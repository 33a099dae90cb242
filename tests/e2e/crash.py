"""Crash harness: real worker processes, SIGKILLed at phases observed from outside, then restarted.

Used by `tests/e2e/test_crash.py` (a few kills) and `bench/crash.py` (20+). Nothing in the
service knows it is being crashed: the phase is seen from outside the worker.

* checkout: a `git fetch` / `git checkout-index` (the export) child of the worker, or a worktree folder appearing;
* sandbox: a `bwrap` child of the worker (killed after a random delay into the run);
* publish: the fake GitHub logging one of the review's writes (the placeholder POST, the
  review POST, the placeholder DELETE, the check-run POST, the labels POST). The listener kills the worker
  *before* the answer leaves: the write is applied and the worker never hears of it.

After each kill a new worker process starts (as a supervisor would restart it); its start
cleans up after the dead one, the job's lease runs out, and the new worker finishes the job.

    python -m tests.e2e.crash worker   # a worker process configured by REVIEWBOT_* (what the lab starts)
    python -m tests.e2e.crash serve PORT
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.github.client import GitHubEdge, default_retry
from reviewbot.review.markers import parse_marker
from reviewbot.service.main import build_service
from reviewbot.settings import Settings
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import REREVIEW, JobState

if TYPE_CHECKING:  # the worker processes import only what they run
    from tests.e2e.world import World

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("checkout", "sandbox", "publish")
FINISHED = (JobState.DONE, JobState.SUPERSEDED, JobState.CANCELLED)
ANY_REVIEW_COMMENT = "<!-- reviewbot:review"
CGROUP_PARENTS = (
    Path("/sys/fs/cgroup/pids/reviewbot"),
    Path("/sys/fs/cgroup/memory/reviewbot"),
    Path("/sys/fs/cgroup/reviewbot"),
)


# -- processes seen from outside ------------------------------------------------------------------


def _proc_entries() -> list[tuple[int, int, str]]:
    """(pid, ppid, cmdline) of every process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if fields[0] in ("Z", "X"):
            continue
        found.append((int(entry), int(fields[1]), cmdline))
    return found


def children(pid: int) -> list[tuple[int, str]]:
    return [(p, cmd) for p, ppid, cmd in _proc_entries() if ppid == pid]


def processes_mentioning(text: str, exclude: set[int] = frozenset()) -> list[tuple[int, str]]:
    me = os.getpid()
    return [(p, cmd[:200]) for p, _, cmd in _proc_entries() if text in cmd and p != me and p not in exclude]


# -- the child processes ---------------------------------------------------------------------------


def child_env(settings: Settings, lease_s: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env.update(
        {
            "REVIEWBOT_DATA_DIR": str(settings.data_dir),
            "REVIEWBOT_DATABASE_URL": settings.resolved_database_url,
            "REVIEWBOT_GITHUB_API_URL": settings.github_api_url,
            "REVIEWBOT_WEBHOOK_SECRETS": ",".join(s.get_secret_value() for s in settings.webhook_secrets),
            "REVIEWBOT_LEASE_S": str(lease_s),
            "REVIEWBOT_RECONCILE_INTERVAL_S": "3600",
            "PYTHONPATH": str(ROOT),
        }
    )
    if settings.token is not None:
        env["REVIEWBOT_TOKEN"] = settings.token.get_secret_value()
        env["REVIEWBOT_BOT_LOGIN"] = settings.bot_login
    else:
        env["REVIEWBOT_APP_ID"] = str(settings.app_id)
        env["REVIEWBOT_PRIVATE_KEY"] = settings.private_key_pem() or ""
    return env


def _service_from_env():  # type: ignore[no-untyped-def]
    settings = Settings()
    edge = GitHubEdge.from_settings(
        settings, retry=default_retry(total=3, backoff_factor=0.01, max_wait_s=2), throttle=False
    )
    return build_service(settings, edge=edge)


def _worker_main() -> None:
    """What `reviewbot worker` runs in each process (main.py `_worker_process`), with the test's edge."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    service = _service_from_env()
    service.worker(name=f"crash-worker-{os.getpid()}").run(stop, idle_s=0.05)


def _serve_main(port: int) -> None:
    import uvicorn

    uvicorn.run(_service_from_env().app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the lab ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the service did not listen on {port}")


@dataclass
class Kill:
    phase: str
    point: str  # what was seen when the worker was killed
    pr: int
    pid: int
    survivors: list = field(default_factory=list)  # sandbox processes still alive 3 s after the kill


class CrashLab:
    """Worker processes on a World; kills them at phases and checks what is left."""

    def __init__(self, world: World, lease_s: float = 2.0, seed: int = 0):
        self.world = world
        self.rng = random.Random(seed)
        self.settings = world.service.settings
        self.env = child_env(self.settings, lease_s)
        self.data_dir = Path(self.settings.data_dir).resolve()
        self.logs = world.tmp / "worker-logs"
        self.logs.mkdir(exist_ok=True)
        self.workers: list[subprocess.Popen] = []
        self.dead_pids: list[int] = []
        self.kills: list[Kill] = []
        self.numbers: list[int] = [world.number]
        self._started = 0

    # -- processes --

    def start_worker(self) -> subprocess.Popen:
        self._started += 1
        with open(self.logs / f"worker-{self._started}.log", "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.crash", "worker"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(proc)
        return proc

    def live_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def sigkill(self, proc: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)

    def stop(self) -> None:
        for proc in self.live_workers():
            proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- GitHub's side --

    def open_pull_request(self) -> int:
        from tests.e2e.world import CONTRIBUTOR

        index = len(self.numbers)
        branch = f"fix/crash-{index}"
        world = self.world
        world.fake.push_to_branch(world.repo, branch, world.sample.path, ref=world.sample.head)
        number = world.fake.open_pull_request(
            world.repo, head=branch, title=f"{world.sample.title} ({index})", body=world.sample.body, user=CONTRIBUTOR
        )
        self.numbers.append(number)
        return number

    def deliver_opened(self, number: int, url: str | None = None) -> int:
        import uuid

        from tests.e2e.world import SECRET

        world = self.world
        payload = world.fake.payload_for_pull_request(world.repo, number, "opened", world.installation)

        return world.fake.deliver(
            url or world.server.url, "pull_request", payload, SECRET, str(uuid.uuid4())
        ).status_code

    def enqueue_rereview(self, number: int) -> int:
        """A second review job of the same head (as `@reviewbot re-review` makes): two workers race on one PR."""
        world = self.world
        head = world.fake.pull_request(world.repo, number).head_sha
        job_id, _ = world.service.queue.enqueue(
            JobSpec(
                kind=JobKind.REVIEW,
                repo=world.repo,
                pr_number=number,
                head_sha=head,
                installation_id=world.installation,
                reason=REREVIEW,
                payload={},
            )
        )
        return job_id

    def race(self, number: int, timeout: float = 120) -> int:
        """Two workers review one PR at once; returns how many comments they posted (4 when each posted its
        own "review started" note and then its own review).

        Needs two idle workers. The fake holds the first two comment POSTs (the notes) for two
        seconds, so the second job (a re-review of the same head, claimed while the first runs)
        also finds no comment and posts its own note, then its own review: the two must converge
        on one comment.
        """
        world, queue = self.world, self.world.service.queue
        path = f"/repos/{world.repo}/issues/{number}/comments"
        slow = world.fake.faults.add("slow", method="POST", path_glob=path, times=2, seconds=2.0)
        try:
            assert self.deliver_opened(number) == 202
            deadline = time.monotonic() + timeout
            while not queue.jobs(JobState.RUNNING) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.enqueue_rereview(number)
            self.wait_until_idle(timeout)
        finally:
            world.fake.faults.remove(slow)
        return sum(1 for c in world.fake.calls if c.method == "POST" and c.path == path and c.status == 201)

    # -- killing at a phase --

    def kill_at(self, phase: str, proc: subprocess.Popen, number: int, timeout: float = 60) -> Kill | None:
        point = {"checkout": self._watch_checkout, "sandbox": self._watch_sandbox, "publish": self._watch_publish}[
            phase
        ](proc, number, time.monotonic() + timeout)
        if point is None:
            return None
        proc.wait()
        self.dead_pids.append(proc.pid)
        kill = Kill(phase, point, number, proc.pid)
        deadline = time.monotonic() + 3  # --die-with-parent: the sandbox goes with the worker
        while True:
            kill.survivors = processes_mentioning(str(self.data_dir), exclude={w.pid for w in self.live_workers()})
            if not kill.survivors or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.kills.append(kill)
        return kill

    def _watch_checkout(self, proc: subprocess.Popen, number: int, deadline: float) -> str | None:
        want = self.rng.choice(("git fetch", "git checkout-index", "worktree folder"))
        runs = self.data_dir / "runs"
        while time.monotonic() < deadline and proc.poll() is None:
            for _, cmd in children(proc.pid):
                if (want == "git fetch" and " fetch " in cmd) or (
                    want == "git checkout-index" and " checkout-index" in cmd
                ):
                    self.sigkill(proc)
                    return want
            if any(runs.glob("*/head-*")):
                if want != "worktree folder":
                    time.sleep(self.rng.uniform(0, 0.05))
                self.sigkill(proc)
                return "worktree folder" if want == "worktree folder" else f"worktree folder (no {want} seen)"
            time.sleep(0.002)
        return None

    def _watch_sandbox(self, proc: subprocess.Popen, number: int, deadline: float) -> str | None:
        while time.monotonic() < deadline and proc.poll() is None:
            if any("bwrap" in cmd.split(" ", 1)[0] for _, cmd in children(proc.pid)):
                delay = self.rng.uniform(0, 0.4)
                time.sleep(delay)
                self.sigkill(proc)
                return f"bwrap running (+{delay:.2f} s)"
            time.sleep(0.005)
        return None

    def _watch_publish(self, proc: subprocess.Popen, number: int, deadline: float) -> str | None:
        repo = self.world.repo
        # (methods, path, which matching call, counted from the PR's start, what the kill point is called): this
        # PR's comments are counted from its start (its placeholder may come before the listener does); the other
        # paths from now, since earlier PRs' runs used them too
        methods, glob, nth, from_start, name = self.rng.choice(
            (
                (("POST",), f"/repos/{repo}/issues/{number}/comments", 1, True, "placeholder POST applied"),
                (("POST",), f"/repos/{repo}/issues/{number}/comments", 2, True, "review POST applied"),
                (("DELETE",), f"/repos/{repo}/issues/comments/*", 1, False, "placeholder DELETE applied"),
                # a head another PR's run already checked gets its run edited: one check run per head
                (("POST", "PATCH"), f"/repos/{repo}/check-runs*", 1, False, "check-run write applied"),
                (("POST",), f"/repos/{repo}/issues/{number}/labels", 1, False, "labels POST applied"),
            )
        )
        fired = threading.Event()
        fake = self.world.fake

        def matching() -> int:
            return sum(1 for c in list(fake.calls) if c.method in methods and fnmatch.fnmatchcase(c.path, glob))

        before = 0 if from_start else matching()

        def listener(call) -> None:  # type: ignore[no-untyped-def]
            if fired.is_set() or call.method not in methods or not fnmatch.fnmatchcase(call.path, glob):
                return
            if matching() - before == nth:  # the log holds this call already
                fired.set()
                self.sigkill(proc)  # before the answer is sent

        fake.call_listeners.append(listener)
        try:
            while time.monotonic() < deadline and proc.poll() is None and not fired.is_set():
                time.sleep(0.01)
        finally:
            fake.call_listeners.remove(listener)
        return name if fired.is_set() else None

    # -- waiting and checking --

    def wait_until_idle(self, timeout: float = 120) -> bool:
        """Every job finished (no queued or running job left)."""
        queue = self.world.service.queue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not queue.jobs(JobState.QUEUED, JobState.RUNNING):
                return True
            time.sleep(0.1)
        return False

    def review_state(self, number: int) -> tuple[int, bool]:
        """(bot review comments on the PR, whether exactly one names the current head with a real verdict)."""
        world = self.world
        head = world.fake.pull_request(world.repo, number).head_sha
        ours = [
            c
            for c in world.fake.comments(world.repo, number)
            if c.user.login == world.bot_login and ANY_REVIEW_COMMENT in c.body
        ]
        markers = [parse_marker(c.body) for c in ours]
        current = [m for m in markers if m is not None and m.head == head and m.verdict != "error"]
        return len(ours), len(ours) == 1 and len(current) == 1

    def leftovers(self) -> dict[str, list]:
        """What a dead worker could leave behind, looked for while every live worker is idle."""
        runs = sorted(str(p) for p in (self.data_dir / "runs").iterdir())
        worktrees, locks = [], []
        for mirror in (self.data_dir / "mirrors").glob("*.git"):
            worktrees += [str(p) for p in (mirror / "worktrees").glob("*")]
            locks += [
                str(p)
                for p in (
                    *mirror.glob("*.lock"),
                    *(mirror / "refs").rglob("*.lock"),
                    *(mirror / "objects").rglob("*.lock"),
                    *(mirror / "worktrees").rglob("*.lock"),
                )
            ]
        cgroups = [
            str(path) for parent in CGROUP_PARENTS for pid in self.dead_pids for path in parent.glob(f"run-{pid}-*")
        ]
        processes = processes_mentioning(str(self.data_dir), exclude={w.pid for w in self.live_workers()})
        return {
            "processes": processes,
            "run folders": runs,
            "worktrees": worktrees,
            "git locks": locks,
            "cgroups": cgroups,
        }

    def summary(self) -> dict:
        jobs = self.world.service.queue.jobs()
        states = Counter(job.state for job in jobs)
        per_pr = {n: self.review_state(n) for n in self.numbers}
        duplicates = sum(max(0, count - 1) for count, _ in per_pr.values())
        active = {job.pr_number for job in jobs if JobState(job.state) in (JobState.QUEUED, JobState.RUNNING)}
        lost = [n for n, (_, ok) in per_pr.items() if not ok and n not in active]
        unfinished = [job.id for job in jobs if JobState(job.state) not in FINISHED]
        return {
            "jobs": len(jobs),
            "states": dict(states),
            "duplicates": duplicates,
            "lost": lost,
            "unfinished": unfinished,
            "kills": Counter(k.phase for k in self.kills),
            "survivors": [k for k in self.kills if k.survivors],
        }

    def service_restart(self, deliveries: int) -> dict:
        """Kill the webhook service mid-burst, restart it, redeliver what got no answer; count lost accepted ones."""
        from tests.e2e.world import SECRET

        lab = self
        world = lab.world
        port = free_port()
        url = f"http://127.0.0.1:{port}/webhook"

        def start() -> subprocess.Popen:
            with open(lab.logs / f"service-{time.monotonic_ns()}.log", "w") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "tests.e2e.crash", "serve", str(port)],
                    env=lab.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            wait_for_port(port)
            return proc

        numbers = [lab.open_pull_request() for _ in range(deliveries)]
        sent: list[tuple[int, str, dict]] = []
        answers: dict[str, int] = {}
        service = start()
        kill_after = lab.rng.randint(1, max(1, deliveries - 2))

        def burst() -> None:
            for number in numbers:
                payload = world.fake.payload_for_pull_request(world.repo, number, "opened", world.installation)
                delivery_id = str(uuid.uuid4())
                sent.append((number, delivery_id, payload))
                try:
                    answers[delivery_id] = world.fake.deliver(
                        url, "pull_request", payload, SECRET, delivery_id
                    ).status_code
                except Exception:  # noqa: BLE001 - the service died under this delivery
                    answers[delivery_id] = 0
                time.sleep(0.01)

        sender = threading.Thread(target=burst)
        sender.start()
        while sum(1 for status in answers.values() if status) < kill_after and sender.is_alive():
            time.sleep(0.001)
        service.kill()
        service.wait()
        sender.join()
        unanswered = [(n, d, p) for n, d, p in sent if answers.get(d) != 202]
        service = start()
        for _, delivery_id, payload in unanswered:  # GitHub's "redeliver": same id, same body
            answers[delivery_id] = world.fake.deliver(url, "pull_request", payload, SECRET, delivery_id).status_code
        service.terminate()
        service.wait()
        queue = world.service.queue
        accepted = [d for _, d, _ in sent if answers[d] in (200, 202)]
        lost = [d for d in accepted if queue.delivery_jobs(d) is None]
        return {
            "deliveries": len(sent),
            "answered before the kill": len(sent) - len(unanswered),
            "redelivered": len(unanswered),
            "accepted": len(accepted),
            "lost accepted deliveries": len(lost),
            "not accepted": [d for _, d, _ in sent if answers[d] not in (200, 202)],
        }


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        _worker_main()
    elif sys.argv[1:2] == ["serve"]:
        _serve_main(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
