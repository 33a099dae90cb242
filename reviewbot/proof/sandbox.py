"""Run untrusted PR code under bubblewrap, with every limit enforced by the host.

What a sandboxed command sees: a fresh root with read-only `/usr` and the
toolchains (Python, Node) it needs, a writable worktree at `/workspace`, a
writable output folder at `/reviewbot-out`, a size-capped `/tmp`, an empty
environment plus an allowlist, and a network namespace of its own: no network, or,
for a networked setup step, only the bot's egress proxy (egress.py).

Why it is built the way it is (DESIGN.md, measured facts):

* Run as root, a sandboxed process that keeps host uid 0 ignores RLIMIT_NPROC,
  so a fork bomb is not stopped by rlimits. As root we therefore let bwrap set
  up its mounts, then drop to a per-run unprivileged host uid with `setpriv`
  inside the sandbox; RLIMIT_NPROC then counts only that run's processes. When
  the host offers cgroup controllers, a per-run `pids` and `memory` group bounds
  the whole tree as well, and lets us kill every member at once.
* `--unshare-pid` makes bwrap's reaper PID 1 of the run: when it dies every
  grandchild dies with it, even ones that double-forked or called setsid, and
  `--die-with-parent` ties that reaper to the launcher we kill on timeout.
* Output is read by us, not by a file the sandbox controls, so an endless
  printer is killed at the byte cap instead of filling the disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from reviewbot.model import SandboxOutcome
from reviewbot.proof import cgroups, disk_quota, egress, guarantees, hidden_argv, seccomp_filter
from reviewbot.proof.setup_step import CACHE_MOUNT
from reviewbot.redact import StreamRedactor, redact

WORKSPACE = "/workspace"
OUT_DIR = "/reviewbot-out"
SANDBOX_HOME = "/tmp/home"
TAIL_LINES = 40
TAIL_BYTES = 64 * 1024
UID_RANGE = (61000, 62000)  # host uids the sandbox runs as when we are root
UID_LOCK_DIR = Path("/run/reviewbot/sandbox-uids")

# Files under /etc a normal program needs (dynamic loader cache, name service).
# Nothing else of /etc is visible; TLS roots and resolvers only for networked setup.
ETC_ALLOWLIST = (
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/hosts",
)
ETC_NETWORK = (
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
)


class SandboxUnavailable(RuntimeError):
    """The host cannot sandbox (no bubblewrap, no user namespaces): an infrastructure error."""


@dataclass(frozen=True)
class Limits:
    """Per-run resource limits. Defaults suit lock suites on a 2-core, 24 GiB machine."""

    wall_clock_s: float = 120.0
    cpu_s: int = 600
    memory_bytes: int = 2 * 1024**3
    processes: int = 256
    output_bytes: int = 16 * 1024**2
    file_size_bytes: int = 1024**3
    tmp_bytes: int = 512 * 1024**2
    open_files: int = 4096
    # A proof's run folder (both worktrees, setup output, scratch) is one filesystem of this size
    # (disk_quota.py). Real node_modules hold 50k-200k files; head and base each have one.
    disk_bytes: int = 8 * 1024**3
    disk_inodes: int = 1_000_000


@dataclass(frozen=True)
class SandboxRequest:
    command: str  # a shell command, run by /bin/sh -c inside the sandbox
    worktree: Path  # bound writable at /workspace
    out_dir: Path  # bound writable at /reviewbot-out (JUnit reports, artefacts)
    limits: Limits = field(default_factory=Limits)
    network: bool = False
    env: Mapping[str, str] = field(default_factory=dict)  # allowlisted extras, values given here
    log_path: Path | None = None  # full output up to the output cap
    home: Path | None = None  # bound writable at $HOME, so what setup puts there is there for the suites
    cache_dir: Path | None = None  # this run's copy of the download caches, bound writable at CACHE_MOUNT


@dataclass(frozen=True)
class Toolchain:
    """Host paths outside /usr that tests need read-only (a venv, a pyenv Python, a Node prefix)."""

    ro_paths: tuple[str, ...]
    path_dirs: tuple[str, ...]  # PATH inside the sandbox, in order

    @classmethod
    def detect(cls) -> Toolchain:
        ro: list[str] = []
        path_dirs: list[str] = []
        venv_bin = str(Path(sys.prefix) / "bin")
        for prefix in dict.fromkeys([sys.prefix, sys.base_prefix]):
            if not prefix.startswith("/usr"):
                ro.append(prefix)
        path_dirs.append(venv_bin)
        for tool in ("node", "npm"):
            found = shutil.which(tool)
            if found:
                real_bin = Path(found).resolve().parent
                prefix = real_bin.parent
                if not str(prefix).startswith("/usr") and str(prefix) not in ro:
                    ro.append(str(prefix))
                if str(real_bin) not in path_dirs and not str(real_bin).startswith("/usr"):
                    path_dirs.append(str(real_bin))
        path_dirs += ["/usr/local/bin", "/usr/bin", "/bin"]
        return cls(tuple(ro), tuple(dict.fromkeys(path_dirs)))


@dataclass(frozen=True)
class HostSupport:
    """What this host can enforce; `doctor` prints it and tests assert on it."""

    bwrap: str | None
    root: bool
    cgroups: cgroups.CgroupSupport

    @classmethod
    def detect(cls) -> HostSupport:
        root = os.geteuid() == 0
        support = cgroups.detect() if root else cgroups.CgroupSupport(why_not="not running as root")
        return cls(bwrap=shutil.which("bwrap"), root=root, cgroups=support)

    def describe(self) -> list[str]:
        return [
            f"bubblewrap: {self.bwrap or 'MISSING (apt-get install bubblewrap)'}",
            "identity: "
            + (
                "root; each run drops to its own unprivileged uid"
                if self.root
                else f"uid {os.geteuid()}; runs use a user namespace"
            ),
            f"tree limits: {self.cgroups.describe()}",
        ]


class UidPool:
    """Hands out host uids so concurrent runs never share an RLIMIT_NPROC budget."""

    def __init__(self, lock_dir: Path, first: int = UID_RANGE[0], last: int = UID_RANGE[1]):
        self.lock_dir = lock_dir
        self.first, self.last = first, last
        lock_dir.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def lease(self) -> Iterator[int]:
        start = self.first + (os.getpid() * 7919 + threading.get_ident()) % (self.last - self.first)
        for offset in range(self.last - self.first):
            uid = self.first + (start - self.first + offset) % (self.last - self.first)
            with open(self.lock_dir / f"{uid}.lock", "w") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    yield uid
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        raise SandboxUnavailable("every sandbox uid is in use")


def build_argv(
    request: SandboxRequest,
    toolchain: Toolchain,
    run_uid: int | None,
    passwd_file: Path,
    group_file: Path,
    seccomp_fd: int | None = None,
    network: egress.Binding | None = None,
) -> list[str]:
    """The bwrap command line. Pure, so the security-relevant flags are easy to review and test.

    `run_uid` is the host uid to drop to (root mode); None means we are already
    unprivileged and bwrap makes a user namespace instead. `seccomp_fd` holds the
    compiled filter (seccomp_filter.py) that bwrap installs on the command it starts.
    """
    argv = ["bwrap", "--die-with-parent", "--new-session", "--clearenv"]
    argv += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    # Always a network namespace of its own: a networked setup reaches out only through `network`'s proxy.
    argv.append("--unshare-net")
    if run_uid is None:
        argv += ["--unshare-user", "--uid", str(os.getuid()), "--gid", str(os.getgid())]
    argv += ["--hostname", "reviewbot-sandbox"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), f"/{name}"]
    for etc in ETC_ALLOWLIST + (ETC_NETWORK if request.network else ()):
        if os.path.exists(etc):
            argv += ["--ro-bind", etc, etc]
    argv += ["--ro-bind", str(passwd_file), "/etc/passwd", "--ro-bind", str(group_file), "/etc/group"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    # POSIX semaphores and shared memory (Python's multiprocessing locks and queues, Node workers)
    # live in /dev/shm: without a writable one, real lock tests that start processes fail.
    argv += ["--size", str(request.limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/dev/shm"]
    # /tmp before any bind: a tmpfs mounted after a bind under /tmp would hide it (DESIGN.md).
    argv += ["--size", str(request.limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    if request.home is not None:
        argv += ["--bind", str(request.home), SANDBOX_HOME]
    else:
        argv += ["--perms", "0777", "--dir", SANDBOX_HOME]
    for path in toolchain.ro_paths:
        argv += ["--ro-bind", path, path]
    argv += ["--bind", str(request.worktree), WORKSPACE, "--bind", str(request.out_dir), OUT_DIR]
    if request.cache_dir is not None:
        argv += ["--bind", str(request.cache_dir), CACHE_MOUNT]
    argv += network.bwrap_args() if network else []
    # Directories bwrap creates for mount points copy the host's mode (/root is 0700);
    # open the ones on the toolchain's way so the unprivileged user can traverse them.
    for parent in ["/etc", *_mount_parents(toolchain.ro_paths)]:
        argv += ["--chmod", "0755", parent]
    argv += ["--chdir", WORKSPACE]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    env = {**sandbox_env(request, toolchain), **(network.env if network else {})}
    for key, value in env.items():
        argv += ["--setenv", key, value]
    if run_uid is not None:
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    else:
        argv += ["--cap-drop", "ALL"]
    argv += command_argv(request, run_uid, network)
    return argv


def command_argv(request: SandboxRequest, run_uid: int | None, network: egress.Binding | None = None) -> list[str]:
    """What bwrap runs: the shell command (behind the egress forwarder for a networked setup),
    behind setpriv's drop to `run_uid` in root mode."""
    argv: list[str] = []
    if run_uid is not None:
        argv += [
            "/usr/bin/setpriv",
            f"--reuid={run_uid}",
            f"--regid={run_uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    return [*argv, "/bin/sh", "-c", network.wrap(request.command) if network else request.command]


def _mount_parents(paths: tuple[str, ...]) -> list[str]:
    parents: set[str] = set()
    for path in paths:
        for parent in Path(path).parents:
            if str(parent) not in ("/", "/usr", "/tmp") and not str(parent).startswith("/usr/"):
                parents.add(str(parent))
    return sorted(parents, key=lambda p: p.count("/"))


def sandbox_env(request: SandboxRequest, toolchain: Toolchain) -> dict[str, str]:
    """The whole environment of a run: nothing from the host except what is listed here."""
    env = {
        "PATH": ":".join(toolchain.path_dirs),
        "HOME": SANDBOX_HOME,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "CI": "true",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    env.update(request.env)
    return env


class Sandbox:
    """Runs one command at a time per call; safe to call from several threads at once."""

    def __init__(
        self,
        state_dir: Path,
        host: HostSupport | None = None,
        toolchain: Toolchain | None = None,
        allow_per_process_limits: bool | None = None,
        setup_network: egress.SetupNetwork | None = None,
    ):
        self.host = host or HostSupport.detect()
        if not self.host.bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed: run scripts/install.sh as root, or `apt-get install bubblewrap`"
            )
        if allow_per_process_limits is None:  # the operator's setting (REVIEWBOT_ALLOW_PER_PROCESS_LIMITS)
            from reviewbot.settings import load_settings

            allow_per_process_limits = load_settings().allow_per_process_limits
        refused = guarantees.refusal(self.host, allow_per_process_limits)
        if refused:
            raise SandboxUnavailable(refused)
        self.toolchain = toolchain or Toolchain.detect()
        self.state_dir = state_dir
        # One host-wide pool: two bots, or two test workers, must never share a uid.
        self.uids = UidPool(UID_LOCK_DIR) if self.host.root else None
        # What a `network: true` request gets (proxy policy, CA bundle, package settings): REVIEWBOT_SETUP_*,
        # read at the first networked run, so a sandbox for suites never depends on them.
        self._setup_network = setup_network

    def run(self, request: SandboxRequest, cancel: threading.Event | None = None) -> SandboxOutcome:
        request.out_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            uid = stack.enter_context(self.uids.lease()) if self.uids is not None else None
            if uid is not None:
                for writable in (request.worktree, request.out_dir, request.home, request.cache_dir):
                    if writable is not None:
                        _chown_tree(writable, uid)
            # The egress proxy lives exactly as long as this run.
            network = stack.enter_context(egress.session(self.setup_network, uid)) if request.network else None
            return self._run_as(request, uid, cancel, network)

    @property
    def setup_network(self) -> egress.SetupNetwork:
        if self._setup_network is None:
            try:
                self._setup_network = egress.SetupNetwork.from_settings()
            except ValueError as exc:
                raise SandboxUnavailable(f"the REVIEWBOT_SETUP_* settings are invalid: {exc}") from exc
        return self._setup_network

    def _identity_files(self, identity: int) -> tuple[Path, Path]:
        """A synthetic /etc/passwd and /etc/group naming the run's uid, written once per uid."""
        folder = self.state_dir / "etc" / str(identity)
        passwd, group = folder / "passwd", folder / "group"
        if not group.exists():  # written whole then renamed: concurrent runs never see half a file
            folder.mkdir(parents=True, exist_ok=True)
            for path, text in (
                (
                    passwd,
                    f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{identity}:{identity}:"
                    f"sandbox:{SANDBOX_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
                ),
                (group, f"root:x:0:\nsandbox:x:{identity}:\nnogroup:x:65534:\n"),
            ):
                staging = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
                staging.write_text(text)
                os.replace(staging, path)
        return passwd, group

    def _run_as(
        self,
        request: SandboxRequest,
        uid: int | None,
        cancel: threading.Event | None,
        network: tuple[egress.Binding, egress.EgressProxy] | None = None,
    ) -> SandboxOutcome:
        limits = request.limits
        identity = uid if uid is not None else os.getuid()
        passwd, group = self._identity_files(identity)
        try:
            filter_fd = seccomp_filter.program_fd()
        except (seccomp_filter.SeccompUnavailable, OSError) as exc:
            raise SandboxUnavailable(f"cannot build the seccomp filter: {exc}") from exc
        binding, proxy = network if network is not None else (None, None)
        argv = build_argv(request, self.toolchain, uid, passwd, group, filter_fd, binding)
        try:  # bwrap's options from an fd: /proc/1/cmdline in the sandbox names no host path
            argv, data_fds = hidden_argv.hide_host_paths(
                argv,
                len(command_argv(request, uid, binding)),
                {"/etc/passwd": passwd.read_bytes(), "/etc/group": group.read_bytes()},
            )
        except BaseException:
            os.close(filter_fd)
            raise
        group_limits = None
        if self.host.cgroups.available:
            group_limits = cgroups.RunCgroup.create(self.host.cgroups, limits.processes, limits.memory_bytes)
        gate_read, gate_write = os.pipe()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                [*GATED_LAUNCHER, *argv],
                stdin=gate_read,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env={"PATH": "/usr/bin:/bin"},
                start_new_session=True,
                close_fds=True,
                pass_fds=(filter_fd, *data_fds),
            )
        except OSError as exc:
            os.close(gate_write)
            if group_limits:
                group_limits.remove()
            raise SandboxUnavailable(f"could not start bubblewrap: {exc}") from exc
        finally:
            os.close(gate_read)
            for fd in (filter_fd, *data_fds):
                os.close(fd)
        try:
            _confine(proc.pid, limits, group_limits)
        except OSError as exc:
            os.close(gate_write)
            _kill(proc, group_limits)
            proc.wait()
            if group_limits:
                group_limits.remove()
            raise SandboxUnavailable(f"could not apply sandbox limits: {exc}") from exc
        os.write(gate_write, b"go\n")  # the launcher now execs bwrap, already confined
        os.close(gate_write)
        reader = _OutputReader(proc, limits.output_bytes, request.log_path)
        reader.start()
        watchdog = _Watchdog(
            proc,
            group_limits,
            reader,
            started + limits.wall_clock_s,
            cancel,
            proxy.storm if proxy is not None else None,
        )
        watchdog.start()
        try:
            proc.wait()  # blocking waitpid: no polling delay between exit and return
        finally:
            watchdog.stop()
            if proc.poll() is None:  # an exception in this thread must not leave a run behind
                _kill(proc, group_limits)
                proc.wait()
            reader.join(timeout=10)
            if group_limits:
                group_limits.kill_all()
            duration = time.monotonic() - started
            memory_hit = bool(group_limits and group_limits.memory_exceeded())
            pids_hit = bool(group_limits and group_limits.pids_exceeded())
            if group_limits:
                group_limits.remove()
        limit_hit = watchdog.reason
        exit_code = None if limit_hit else proc.returncode
        if exit_code is not None and exit_code < 0:  # killed by a signal we did not send
            exit_code = 128 - exit_code
        if exit_code == 128 + signal.SIGXCPU:
            limit_hit = "cpu"
        elif limit_hit is None and memory_hit:
            limit_hit = "memory"
        elif limit_hit is None and pids_hit:
            limit_hit = "processes"
        elif limit_hit is None and any(disk_quota.is_full(path) for path in (request.worktree, request.out_dir)):
            limit_hit = "disk"
        if limit_hit is None and exit_code not in (0, None) and _looks_out_of_memory(reader.tail_text()):
            limit_hit = "memory"
        return SandboxOutcome(
            exit_code=exit_code,
            timed_out=limit_hit == "wall_clock",
            limit_hit=limit_hit,
            duration_s=duration,
            output_bytes=reader.total,
            log_tail=redact(reader.tail_text()),
            log_path=str(request.log_path) if request.log_path else None,
            egress_refused=proxy.refusals() if proxy is not None else [],
        )


class _Watchdog(threading.Thread):
    """Kills the run when it passes its deadline, prints past the cap, is cancelled, or loops on a
    refused address (the egress proxy's storm event)."""

    def __init__(
        self,
        proc: subprocess.Popen,
        group: cgroups.RunCgroup | None,
        reader: _OutputReader,
        deadline: float,
        cancel: threading.Event | None,
        storm: threading.Event | None = None,
    ):
        super().__init__(daemon=True)
        self.proc, self.group, self.reader = proc, group, reader
        self.deadline, self.cancel, self.storm = deadline, cancel, storm
        self.reason: str | None = None
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            if self.reader.over_limit.is_set():
                self.reason = "output"
            elif time.monotonic() > self.deadline:
                self.reason = "wall_clock"
            elif self.cancel is not None and self.cancel.is_set():
                self.reason = "cancelled"
            elif self.storm is not None and self.storm.is_set():
                self.reason = "network"
            if self.reason:
                _kill(self.proc, self.group)
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


# The launcher waits on a pipe (its stdin) until we have put it in its cgroups and set its
# rlimits from outside, then execs bwrap: everything bwrap forks starts confined, and no
# preexec_fn runs in a threaded parent.
# `&&`: if we die before the go-ahead, the pipe closes, `read` fails and nothing unconfined is started.
GATED_LAUNCHER = ["/bin/sh", "-c", 'read -r _ && exec "$@" </dev/null', "launcher"]


def _confine(pid: int, limits: Limits, group: cgroups.RunCgroup | None) -> None:
    """Join the run's cgroups and set its rlimits (inherited by bwrap and all it runs)."""
    if group is not None:
        for procs in group.procs_files:
            Path(procs).write_text(str(pid))
    cpu_hard = limits.cpu_s + 5  # SIGXCPU at the soft limit first, so the cause is visible
    for which, value in (
        (resource.RLIMIT_NPROC, (limits.processes, limits.processes)),
        (resource.RLIMIT_CPU, (limits.cpu_s, cpu_hard)),
        (resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.prlimit(pid, which, value)


def _kill(proc: subprocess.Popen, group: cgroups.RunCgroup | None) -> None:
    """Kill the launcher's session; bwrap's PID 1 then takes the whole namespace down with it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if group is not None:
        group.kill_all()


def _chown_tree(root: Path, uid: int) -> None:
    os.lchown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            with contextlib.suppress(FileNotFoundError):
                os.lchown(os.path.join(dirpath, name), uid, uid)


def _looks_out_of_memory(text: str) -> bool:
    markers = ("JavaScript heap out of memory", "MemoryError", "Cannot allocate memory", "std::bad_alloc")
    return any(marker in text for marker in markers)


class _OutputReader(threading.Thread):
    """Drains the pipe, keeps a tail, writes a capped log, and flags a run that prints too much.

    Every chunk is redacted as a stream before it reaches the tail or the log, so a
    secret longer than the tail, or split between two reads, is never kept in clear.
    """

    def __init__(self, proc: subprocess.Popen, cap: int, log_path: Path | None):
        super().__init__(daemon=True)
        self.proc = proc
        self.cap = cap
        self.log_path = log_path
        self.total = 0
        self.tail = bytearray()
        self.over_limit = threading.Event()
        self.redactor = StreamRedactor()
        self.written = 0

    def run(self) -> None:
        with open(self.log_path, "wb") if self.log_path else contextlib.nullcontext() as log:
            try:
                assert self.proc.stdout is not None
                while chunk := self.proc.stdout.read1(65536):
                    self.total += len(chunk)
                    self._keep(self.redactor.feed(chunk[: max(0, self.cap - self.total + len(chunk))]), log)
                    if self.total > self.cap:
                        self.over_limit.set()
                        break
            finally:
                with contextlib.suppress(Exception):
                    self._keep(self.redactor.finish(), log)

    def _keep(self, text: str, log: BinaryIO | None) -> None:
        data = text.encode("utf-8")
        if log is not None and self.written < self.cap:
            log.write(data[: self.cap - self.written])
            self.written += min(len(data), self.cap - self.written)
        self.tail += data
        if len(self.tail) > TAIL_BYTES:
            del self.tail[: len(self.tail) - TAIL_BYTES]

    def tail_text(self) -> str:
        text = self.tail.decode("utf-8", errors="replace")
        lines = text.splitlines()[-TAIL_LINES:]
        return "\n".join(line[:500] for line in lines)
