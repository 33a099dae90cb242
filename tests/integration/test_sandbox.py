"""Hostile suites against the real sandbox: every limit is proved by an attempt to break it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from reviewbot.proof.cgroups import CgroupSupport
from reviewbot.proof.sandbox import HostSupport, Limits, Sandbox, SandboxRequest, Toolchain, build_argv
from tests.hostile import LoopbackListener, processes_with
from tests.waiting import wait_until

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def host() -> HostSupport:
    support = HostSupport.detect()
    if not support.bwrap:
        pytest.fail("bubblewrap is missing: scripts/install.sh installs it")
    return support


@pytest.fixture
def box(tmp_path: Path, host: HostSupport) -> Box:
    return Box(tmp_path, Sandbox(tmp_path / "state", host=host))


@pytest.fixture(params=["with cgroups", "rlimits and uid only"])
def any_host_box(request: pytest.FixtureRequest, tmp_path: Path, host: HostSupport) -> Box:
    """The tree limits must hold on a host that offers no cgroup controllers too."""
    if request.param == "with cgroups":
        if not host.cgroups.available:
            pytest.skip(f"this host offers no cgroups: {host.cgroups.describe()}")
        return Box(tmp_path, Sandbox(tmp_path / "state", host=host))
    bare = HostSupport(bwrap=host.bwrap, root=host.root, cgroups=CgroupSupport(why_not="disabled by the test"))
    return Box(tmp_path, Sandbox(tmp_path / "state", host=bare, allow_per_process_limits=True))


class Box:
    def __init__(self, root: Path, sandbox: Sandbox):
        self.root = root
        self.sandbox = sandbox
        self.worktree = root / "worktree"
        self.worktree.mkdir()
        self.runs = 0

    def run(self, command: str, **limits):
        self.runs += 1
        network = limits.pop("network", False)
        return self.sandbox.run(
            SandboxRequest(
                command=command,
                worktree=self.worktree,
                out_dir=self.root / f"out{self.runs}",
                limits=Limits(**{"wall_clock_s": 30, **limits}),
                network=network,
                log_path=self.root / f"run{self.runs}.log",
            )
        )


def test_runs_as_unprivileged_user_without_capabilities(box: Box) -> None:
    outcome = box.run("id -u; grep CapEff /proc/self/status")
    assert outcome.exit_code == 0, outcome.log_tail
    uid_line, caps = outcome.log_tail.splitlines()[:2]
    assert int(uid_line) != 0
    assert caps.split()[1] == "0000000000000000"


def test_cannot_connect_to_a_listener_on_host_loopback(box: Box) -> None:
    with LoopbackListener() as listener:
        probe = (
            'python -c "import socket,sys\n'
            f"try:\n socket.create_connection(('127.0.0.1',{listener.port}),timeout=2); print('CONNECTED')\n"
            "except OSError as e: print('BLOCKED', e)\""
        )
        outcome = box.run(probe)
    assert "BLOCKED" in outcome.log_tail and "CONNECTED" not in outcome.log_tail
    assert listener.accepted == []


def test_setup_step_network_is_a_proxy_not_the_host_network(box: Box) -> None:
    """`network=True` gives the proxy variables, not the host's namespace (tests/integration/test_egress.py)."""
    with LoopbackListener() as listener:
        outcome = box.run(
            f"python -c \"import socket; socket.create_connection(('127.0.0.1',{listener.port}),timeout=2); "
            'print(\'CONNECTED\')"; echo "proxy=$HTTPS_PROXY"',
            network=True,
        )
    assert "CONNECTED" not in outcome.log_tail and listener.accepted == []
    assert "proxy=http://127.0.0.1:" in outcome.log_tail


def test_environment_secret_is_not_visible(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "ghs_" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    monkeypatch.setenv("REVIEWBOT_WEBHOOK_SECRET", secret)
    outcome = box.run("env; cat /proc/1/environ /proc/self/environ 2>/dev/null | tr '\\0' '\\n'")
    full_log = (box.root / f"run{box.runs}.log").read_text()
    assert secret not in full_log
    assert "GITHUB_TOKEN" not in full_log
    assert "PATH=" in outcome.log_tail  # the allowlist is there


def test_cannot_read_a_host_file_outside_the_binds(box: Box, tmp_path: Path) -> None:
    secret_file = tmp_path / "host-secret.txt"
    secret_file.write_text("TOP-SECRET-" + uuid.uuid4().hex)
    outcome = box.run(f"cat {secret_file}; cat /root/.bash_history; ls /root /work 2>&1; cat /etc/shadow")
    log = (box.root / f"run{box.runs}.log").read_text()
    assert "TOP-SECRET" not in log
    assert outcome.exit_code != 0


def test_cannot_write_outside_the_worktree(box: Box, tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    outcome = box.run(
        f"echo x > {target}; echo x > /usr/escaped; echo x > /escaped; echo x > /etc/escaped; "
        "echo x > /tmp/ok && echo TMP-WRITABLE; echo x > inside.txt && echo WORKTREE-WRITABLE"
    )
    assert not target.exists()
    assert not Path("/usr/escaped").exists() and not Path("/escaped").exists()
    assert "Read-only file system" in outcome.log_tail
    assert "TMP-WRITABLE" in outcome.log_tail and "WORKTREE-WRITABLE" in outcome.log_tail
    assert (box.worktree / "inside.txt").exists()


def test_symlink_in_the_repo_does_not_escape(box: Box, tmp_path: Path) -> None:
    secret_file = tmp_path / "host-secret.txt"
    secret_file.write_text("SYMLINK-SECRET-" + uuid.uuid4().hex)
    (box.worktree / "leak").symlink_to(secret_file)
    (box.worktree / "up").symlink_to("../../../../../..")
    outcome = box.run(f"cat leak; cat up{secret_file}; echo pwned > leak")
    log = (box.root / f"run{box.runs}.log").read_text()
    assert "SYMLINK-SECRET" not in log
    assert secret_file.read_text().startswith("SYMLINK-SECRET")  # not overwritten through the link
    assert outcome.exit_code != 0


def test_fork_bomb_is_bounded(any_host_box: Box) -> None:
    token = f"forkbomb-{uuid.uuid4().hex}"
    bomb = (
        "python - <<'EOF'\n"
        "import os, sys, time\n"
        "count = 0\n"
        "try:\n"
        "    for _ in range(100000):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60); os._exit(0)\n"
        "        count += 1\n"
        "except OSError as exc:\n"
        "    print('STOPPED', count, exc, flush=True)\n"
        "    sys.exit(3)\n"
        "print('UNBOUNDED', count, flush=True)\n"
        "EOF\n"
        f": {token}"
    )
    outcome = any_host_box.run(bomb, processes=64, wall_clock_s=20)
    assert "UNBOUNDED" not in outcome.log_tail
    stopped = [line for line in outcome.log_tail.splitlines() if line.startswith("STOPPED")]
    assert stopped, outcome.log_tail
    assert int(stopped[0].split()[1]) < 64
    assert not outcome.timed_out  # ended by the limit, not by the wall clock
    wait_until(lambda: processes_with(token) == [], "the bomb's processes are gone", timeout=10)


def test_unbounded_allocation_is_stopped(any_host_box: Box) -> None:
    hog = (
        "python - <<'EOF'\n"
        "chunks = []\n"
        "for i in range(1, 100):\n"
        "    chunks.append(bytearray(32 * 1024 * 1024))\n"
        "    print('allocated', i * 32, 'MiB', flush=True)\n"
        "EOF"
    )
    outcome = any_host_box.run(hog, memory_bytes=256 * 1024**2)
    assert outcome.exit_code != 0
    allocated = [int(line.split()[1]) for line in outcome.log_tail.splitlines() if line.startswith("allocated")]
    assert allocated and max(allocated) <= 256
    assert outcome.limit_hit == "memory"


def test_printing_gigabytes_is_cut_at_the_output_cap(box: Box) -> None:
    outcome = box.run("yes 'spam spam spam spam spam spam spam spam'", output_bytes=1024 * 1024)
    assert outcome.limit_hit == "output" and not outcome.timed_out
    assert (box.root / f"run{box.runs}.log").stat().st_size <= 1024 * 1024
    assert "spam spam spam" in outcome.log_tail  # the tail of what it printed is kept


def test_grandchild_that_outlives_the_suite_is_killed(any_host_box: Box) -> None:
    token = f"orphan-{uuid.uuid4().hex}"
    command = (
        f"setsid python -c 'import time; time.sleep(300)' {token} </dev/null >/dev/null 2>&1 &\n"
        f"(python -c 'import time; time.sleep(300)' {token}-2 &) \n"
        "sleep 0.3; echo suite-done"
    )
    outcome = any_host_box.run(command)
    assert outcome.exit_code == 0 and "suite-done" in outcome.log_tail
    wait_until(lambda: processes_with(token) == [], "the orphaned grandchildren are gone", timeout=10)


def test_hung_suite_is_killed_with_its_whole_tree_and_reports_the_tail(any_host_box: Box) -> None:
    token = f"hang-{uuid.uuid4().hex}"
    command = (
        "echo 'acquiring session write lock'; echo 'waiting forever'\n"
        f"setsid python -c 'import time; time.sleep(300)' {token} </dev/null >/dev/null 2>&1 &\n"
        f"python -c 'import time; time.sleep(300)' {token}-main"
    )
    outcome = any_host_box.run(command, wall_clock_s=1.5)
    assert outcome.timed_out and outcome.limit_hit == "wall_clock"
    assert outcome.exit_code is None
    assert "waiting forever" in outcome.log_tail
    wait_until(lambda: processes_with(token) == [], "the hung suite's whole tree is gone", timeout=10)


def test_cpu_time_is_limited(box: Box) -> None:
    outcome = box.run("python -c 'while True: pass'", cpu_s=1, wall_clock_s=20)
    assert outcome.limit_hit == "cpu" and not outcome.timed_out


def test_argv_clears_the_environment_and_the_network(box: Box) -> None:
    argv = build_argv(
        SandboxRequest(command="true", worktree=box.worktree, out_dir=box.root / "o", env={"A": "1"}),
        Toolchain.detect(),
        61000,
        box.root / "p",
        box.root / "g",
        seccomp_fd=9,
    )
    assert "--clearenv" in argv and "--unshare-net" in argv and "--die-with-parent" in argv
    assert argv[argv.index("--seccomp") + 1] == "9" and argv.index("--seccomp") < argv.index("/usr/bin/setpriv")
    setenv = {argv[i + 1] for i, part in enumerate(argv) if part == "--setenv"}
    assert not {name for name in setenv if "TOKEN" in name or "SECRET" in name or "KEY" in name}


# -- more escape attempts: other processes, ptrace, hardlinks, disk, signals ---------------------------


def test_other_processes_and_their_secrets_are_invisible(box: Box) -> None:
    import subprocess

    secret = "PROC-SECRET-" + uuid.uuid4().hex
    host = subprocess.Popen(["sleep", "60"], env={"PATH": "/usr/bin:/bin", "LEAKED": secret})
    try:
        outcome = box.run(
            "ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '; echo; "
            "cat /proc/*/environ /proc/*/cmdline 2>/dev/null | tr '\\0' ' '"
        )
        log = (box.root / f"run{box.runs}.log").read_text()
        assert secret not in log
        visible = [int(pid) for pid in outcome.log_tail.splitlines()[0].split()]
        assert host.pid not in visible and max(visible) < 100  # a fresh PID namespace: only the run's own tree
    finally:
        host.kill()


def test_ptrace_cannot_attach_to_anything(box: Box) -> None:
    outcome = box.run(
        'python3 -c "import ctypes; libc = ctypes.CDLL(None, use_errno=True); '
        "print('ATTACH', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\""
    )
    assert "ATTACH -1" in outcome.log_tail  # PTRACE_ATTACH to the sandbox's init fails (no CAP_SYS_PTRACE)


def test_hardlinks_to_system_files_are_refused(box: Box) -> None:
    outcome = box.run("ln /etc/passwd passwd-link; ln /usr/bin/env env-link")
    assert not (box.worktree / "passwd-link").exists() and not (box.worktree / "env-link").exists()
    assert outcome.exit_code != 0 and ("cross-device" in outcome.log_tail or "not permitted" in outcome.log_tail)


def test_filling_the_disk_stops_at_the_file_size_limit(box: Box) -> None:
    outcome = box.run(
        "dd if=/dev/zero of=big bs=1M count=64 2>&1; dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1",
        file_size_bytes=8 * 1024 * 1024,
    )
    assert (box.worktree / "big").stat().st_size <= 8 * 1024 * 1024
    assert "File size limit exceeded" in outcome.log_tail or "File too large" in outcome.log_tail


def test_signals_cannot_reach_the_bot_or_the_host(box: Box) -> None:
    import os
    import subprocess

    bystander = subprocess.Popen(["sleep", "60"])
    try:
        box.run(f"kill -9 -1; kill -9 {os.getpid()} {bystander.pid}; kill -9 1; echo survived")
        assert bystander.poll() is None  # the host's process lives on, and so does this test's
    finally:
        bystander.kill()


# -- the seccomp filter: kernel surfaces a test suite never needs ------------------------------------------

SYSCALL_PROBE = (
    "python3 - <<'EOF'\n"
    "import ctypes, errno, os, socket\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def call(name, *args):\n"
    "    result = libc.syscall(*args)\n"
    "    print(name, 'OK' if result >= 0 else errno.errorcode[ctypes.get_errno()], flush=True)\n"
    "    return result\n"
    "{body}\n"
    "EOF"
)


def _probe(box: Box, body: str) -> dict[str, str]:
    """Run syscalls in the sandbox; {name: "OK" or the errno name} for each `call(name, ...)`."""
    outcome = box.run(SYSCALL_PROBE.format(body=body))
    results = {}
    for line in outcome.log_tail.splitlines():
        name, _, result = line.partition(" ")
        if result in ("OK",) or result.startswith("E"):
            results[name] = result
    return results


def test_new_namespaces_are_refused(box: Box) -> None:
    outcome = box.run("unshare -Urn true && echo UNSHARED")
    assert "UNSHARED" not in outcome.log_tail and "Operation not permitted" in outcome.log_tail
    # clone(CLONE_NEWUSER) directly: the filter reads clone's flag argument; clone3 says ENOSYS so glibc falls back
    found = _probe(
        box,
        "pid = call('clone_newuser', 56, 0x10000000 | 17, 0, 0, 0, 0)\n"
        "if pid == 0: os._exit(0)\n"
        "call('clone3', 435, 0, 0)\n"
        "call('setns', 308, -1, 0)",
    )
    assert found == {"clone_newuser": "EPERM", "clone3": "ENOSYS", "setns": "EPERM"}


def test_mounting_a_tmpfs_is_refused(box: Box) -> None:
    outcome = box.run(
        "unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo MOUNTED'; "
        "mount -t tmpfs none /tmp && echo MOUNTED-DIRECTLY"
    )
    assert "MOUNTED" not in outcome.log_tail
    found = _probe(box, "call('mount', 165, b'none', b'/tmp', b'tmpfs', 0, 0)\ncall('fsopen', 430, b'tmpfs', 0)")
    assert found == {"mount": "EPERM", "fsopen": "EPERM"}


def _sandbox_key_users() -> set[str]:
    """/proc/key-users lines of the sandbox uids: a key a run made would persist here, past the run."""
    from reviewbot.proof.sandbox import UID_RANGE

    lines = Path("/proc/key-users").read_text().splitlines()
    return {line.strip() for line in lines if UID_RANGE[0] <= int(line.split(":")[0]) < UID_RANGE[1]}


def test_kernel_keyrings_are_refused_so_no_key_survives_into_a_later_run(box: Box) -> None:
    before = _sandbox_key_users()
    # KEY_SPEC_USER_KEYRING (-4) is the uid's persistent keyring: a key put there would meet a later PR's run
    planted = _probe(
        box, "call('add_key', 248, b'user', b'planted', b'secret-from-pr-1', 9, -4)\ncall('keyctl', 250, 0, -4, 1)"
    )  # KEYCTL_GET_KEYRING_ID, create
    later = _probe(
        box,
        "call('request_key', 249, b'user', b'planted', 0, 0)\n"
        "call('keyctl_search', 250, 10, -4, b'user', b'planted', 0)",
    )  # KEYCTL_SEARCH
    assert planted == {"add_key": "EPERM", "keyctl": "EPERM"}
    assert later == {"request_key": "EPERM", "keyctl_search": "EPERM"}
    assert _sandbox_key_users() == before  # no keyring state was created on the host


def test_ptrace_of_the_runs_own_children_is_refused(box: Box) -> None:
    found = _probe(
        box,
        "child = os.fork()\n"
        "if child == 0:\n"
        "    import time; time.sleep(5); os._exit(0)\n"
        "call('ptrace_attach', 101, 16, child, 0, 0)\n"
        "call('process_vm_readv', 310, child, 0, 0, 0, 0, 0)\n"
        "os.kill(child, 9)",
    )
    assert found == {"ptrace_attach": "EPERM", "process_vm_readv": "EPERM"}


def test_bpf_is_refused(box: Box) -> None:
    # An unknown command: the kernel itself answers EINVAL (or E2BIG); only the filter answers EPERM.
    found = _probe(box, "call('bpf', 321, 999, 0, 0)\ncall('perf_event_open', 298, 0, 0, -1, -1, 0)")
    assert found == {"bpf": "EPERM", "perf_event_open": "EPERM"}


def test_netfilter_and_audit_netlink_sockets_are_refused(box: Box) -> None:
    found = _probe(
        box,
        "for name, proto in (('netfilter', 12), ('audit', 9), ('route', 0)):\n"
        "    try:\n"
        "        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto).close(); print(name, 'OK')\n"
        "    except OSError as exc:\n"
        "        print(name, errno.errorcode[exc.errno])",
    )
    assert found == {"netfilter": "EPERM", "audit": "EPERM", "route": "OK"}  # ordinary netlink still works


def test_io_uring_is_refused(box: Box) -> None:
    found = _probe(box, "params = ctypes.create_string_buffer(120)\ncall('io_uring_setup', 425, 4, params)")
    assert found == {"io_uring_setup": "EPERM"}


def test_ordinary_toolchains_run_under_the_filter(box: Box) -> None:
    outcome = box.run(
        "grep '^Seccomp:' /proc/self/status; "
        'node -e \'require("child_process").execSync("true"); console.log("NODE-OK")\'; '
        "npm --version >/dev/null && echo NPM-OK; git init -q repo && echo GIT-OK; "
        "python -c 'import subprocess, threading; threading.Thread(target=print).start(); "
        'subprocess.run(["true"], check=True); print("PYTHON-OK")\''
    )
    assert outcome.exit_code == 0, outcome.log_tail
    assert "Seccomp:\t2" in outcome.log_tail  # filtered mode
    for marker in ("NODE-OK", "NPM-OK", "GIT-OK", "PYTHON-OK"):
        assert marker in outcome.log_tail, outcome.log_tail


# -- redaction over the whole stream, before the tail is cut --------------------------------------------------


def test_a_private_key_longer_than_the_tail_is_redacted_in_the_tail_and_the_log(box: Box) -> None:
    body = [f"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC{i:013d}" for i in range(200)]
    (box.worktree / "key.txt").write_text(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    outcome = box.run("echo starting; cat key.txt; echo done")
    log = (box.root / f"run{box.runs}.log").read_text()
    assert "BEGIN OPENSSH" not in outcome.log_tail  # the tail starts inside the key ...
    for text in (outcome.log_tail, log):  # ... and still shows none of it
        assert not any(line[-13:] in text for line in body)
        assert "done" in text
    assert log == "starting\n[redacted]\ndone\n"


def test_a_token_split_between_two_reads_is_redacted(box: Box) -> None:
    token = "ghp_" + uuid.uuid4().hex + "abcd"
    printer = (
        "python3 - <<'EOF'\n"
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'x' * 65535 + b'\\n'); out.flush(); time.sleep(0.3)\n"
        f"out.write(b'{token[:9]}'); out.flush(); time.sleep(0.3)\n"
        f"out.write(b'{token[9:]} end\\n'); out.flush()\n"
        "EOF"
    )
    outcome = box.run(printer)
    log = (box.root / f"run{box.runs}.log").read_text()
    assert outcome.exit_code == 0
    for text in (outcome.log_tail, log):
        assert token[9:] not in text and "[redacted] end" in text


# -- disk and inode quotas: a run fills its own filesystem, never the host's ----------------------------------


@pytest.fixture
def capped_box(box: Box):
    """A box whose worktree is a 64 MiB, 5,000-inode filesystem (as a proof's run folder is, bigger)."""
    from reviewbot.proof.disk_quota import capped_dir

    with capped_dir(box.worktree, 64 * 1024**2, 5000) as quota:
        if not quota.enforced:
            pytest.fail(f"this host should cap folders (root, loop, mkfs.ext4): {quota.why_not}")
        yield box


def test_writing_five_gigabytes_stops_at_the_disk_quota(box: Box) -> None:
    import shutil

    from reviewbot.proof.disk_quota import capped_dir

    host_free = shutil.disk_usage(box.root).free
    with capped_dir(box.worktree, 64 * 1024**2, 5000) as quota:
        assert quota.enforced, quota.why_not
        outcome = box.run(
            "for i in 1 2 3 4 5; do dd if=/dev/zero of=big$i bs=1M count=1024 2>&1; done", wall_clock_s=60
        )
        written = sum(path.stat().st_size for path in box.worktree.glob("big*"))
        during = host_free - shutil.disk_usage(box.root).free
    assert written <= 64 * 1024**2 and "No space left on device" in outcome.log_tail
    assert outcome.limit_hit == "disk"
    assert during < 128 * 1024**2  # the host paid for the capped image only, never for 5 GB
    assert abs(shutil.disk_usage(box.root).free - host_free) < 64 * 1024**2  # and got it back


def test_a_million_files_stop_at_the_inode_quota(capped_box: Box) -> None:
    outcome = capped_box.run(
        "python3 - <<'EOF'\n"
        "import os\n"
        "os.mkdir('many')\n"
        "for i in range(1_000_000):\n"
        "    try:\n"
        "        open(f'many/{i}', 'w').close()\n"
        "    except OSError as exc:\n"
        "        print('STOPPED', i, exc.strerror, flush=True); raise SystemExit(1)\n"
        "print('UNBOUNDED')\n"
        "EOF",
        wall_clock_s=60,
    )
    stopped = [line.split() for line in outcome.log_tail.splitlines() if line.startswith("STOPPED")]
    assert stopped and int(stopped[0][1]) <= 5000, outcome.log_tail
    assert "No space left on device" in outcome.log_tail and outcome.limit_hit == "disk"


# -- without a memory cgroup, PR code runs only when the operator accepts per-process limits ------------------


def test_a_host_without_a_memory_cgroup_refuses_to_run_pr_code_unless_accepted(
    tmp_path: Path, host: HostSupport, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewbot.cli import main
    from reviewbot.proof.sandbox import SandboxUnavailable

    bare = HostSupport(bwrap=host.bwrap, root=host.root, cgroups=CgroupSupport(why_not="disabled by the test"))
    monkeypatch.delenv("REVIEWBOT_ALLOW_PER_PROCESS_LIMITS", raising=False)
    with pytest.raises(SandboxUnavailable, match="REVIEWBOT_ALLOW_PER_PROCESS_LIMITS=1"):
        Sandbox(tmp_path / "state", host=bare)  # the setting is off by default
    monkeypatch.setenv("REVIEWBOT_ALLOW_PER_PROCESS_LIMITS", "1")
    accepted = Box(tmp_path, Sandbox(tmp_path / "state", host=bare))
    assert accepted.run("echo ran").log_tail == "ran"
    # the CLI refuses before any work starts, naming the setting; the flag accepts
    monkeypatch.delenv("REVIEWBOT_ALLOW_PER_PROCESS_LIMITS")
    monkeypatch.setattr(HostSupport, "detect", classmethod(lambda cls: bare))
    assert main(["--data-dir", str(tmp_path / "d"), "demo"]) == 3
    assert main(["doctor"]) == 3
    assert main(["--allow-per-process-limits", "doctor"]) == 0


# -- host paths: what the sandbox can read about its own making ----------------------------------------------


def test_proc_1_cmdline_and_mountinfo_name_no_host_path(tmp_path: Path, host: HostSupport) -> None:
    from reviewbot.proof.disk_quota import capped_dir

    data_dir = tmp_path / "data-dir-secret-name"
    run_dir = data_dir / "runs" / "r"
    run_dir.mkdir(parents=True)
    sandbox = Sandbox(data_dir / "sandbox", host=host)
    with capped_dir(run_dir, 32 * 1024**2, 2000) as quota:  # as a proof's run folder is
        assert quota.enforced, quota.why_not
        (run_dir / "head").mkdir()
        outcome = sandbox.run(
            SandboxRequest(
                command="tr '\\0' ' ' </proc/1/cmdline; echo; cut -d' ' -f4 /proc/self/mountinfo",
                worktree=run_dir / "head",
                out_dir=run_dir / "out",
                limits=Limits(wall_clock_s=30),
                log_path=tmp_path / "log",
            )
        )
    log = (tmp_path / "log").read_text()
    assert outcome.exit_code == 0, log
    assert log.startswith("bwrap --args ")  # bwrap's options were read from an fd
    assert "data-dir-secret-name" not in log and str(tmp_path) not in log
