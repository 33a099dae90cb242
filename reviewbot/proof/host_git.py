"""The one way the host runs git: hardened environment, fixed config, a timeout, no token in argv.

The bot runs git on the host for its mirrors (fetch, diff, blame, merge-tree,
commit-tree, push). Whatever git would read besides the mirror is the
operator's machine or the PR's content, and either can make git run programs:
a global `filter.lfs.smudge`, a `core.fsmonitor`, a hook, a `GIT_DIR` left in
the service's environment. So every host git call goes through `HostGit`:

- the environment is built from nothing plus a short allowlist (PATH, proxies,
  CA settings): no `GIT_DIR`, `GIT_WORK_TREE`, `GIT_CONFIG_PARAMETERS` or
  `GIT_SSH_COMMAND` leaks in from the service;
- system and global config are off (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`),
  `HOME` is an empty directory the bot owns, prompts and LFS smudging are off;
- `-c` pins hooks, fsmonitor and the attributes file to nothing, turns auto gc
  off (it would rewrite a shared mirror outside its lock) and allows only the
  https, http and file protocols (file: the CLI and the tests fetch local repositories),
  and ssh only for the URL the operator gave (`protocol.ssh.allow=user`);
- a credential travels in the environment (`GIT_CONFIG_COUNT`/`KEY`/`VALUE`),
  never on the command line, where any local user could read it in /proc;
- every call has a timeout; on expiry git's whole process group is killed
  (remote helpers included) and the error names the command.

The host never points git at a tree the sandbox could write; `HostGit` runs
against a git dir the bot owns (`GIT_DIR`), or a repository path for tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT_S = 120.0
FETCH_TIMEOUT_S = 900.0  # a first fetch of a large repository; later ones are incremental

HARDENING = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.attributesFile=/dev/null",
    "core.askPass=",
    "credential.helper=",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.http.allow=always",
    "protocol.file.allow=always",  # local sources: `reviewbot review --repo PATH` and the tests
    "protocol.ssh.allow=user",  # an operator's `--repo git@host:...`; never a URL a fetched repo names
    "gc.auto=0",
    "maintenance.auto=false",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
)

# Operator settings git legitimately needs to reach a remote; nothing that configures git itself.
PASSED_THROUGH = (
    "PATH",
    "LANG",
    "TZ",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


class WorkspaceError(RuntimeError):
    """A git problem that stops the proof: unknown ref, unreachable remote, a command that hung."""


class GitFailed(WorkspaceError):
    """git exited non-zero; `status`, `stdout` and `stderr` say how."""

    def __init__(self, args: Sequence[str], status: int, stdout: bytes, stderr: bytes):
        self.args_ = list(args)
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        text = stderr.decode("utf-8", "replace").strip()[-500:]
        super().__init__(f"{describe_command(args)} exited {status}: {text}")

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()[-500:]


class GitTimedOut(WorkspaceError):
    """git ran past its timeout and was killed with its children."""


_home: Path | None = None


def empty_home() -> Path:
    """A private, empty HOME for git: nothing in it configures anything (made once per process)."""
    global _home
    if _home is None or not _home.is_dir():
        _home = Path(tempfile.mkdtemp(prefix="reviewbot-git-home-"))
        _home.chmod(0o700)
    return _home


@dataclass(frozen=True)
class HostGit:
    """git against one repository: `path` is a bare git dir (set as GIT_DIR) or a repository's root."""

    path: Path
    timeout: float = DEFAULT_TIMEOUT_S

    def command(
        self, args: Sequence[str], auth_header: str | None = None, env: Mapping[str, str] | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """(argv, environment) for `git <args>`; pure, so tests can read what would run."""
        argv = ["git"]
        for setting in HARDENING:
            argv += ["-c", setting]
        argv += list(args)
        base = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        base.setdefault("PATH", os.defpath)
        full = {
            **base,
            "LC_ALL": "C",
            "HOME": str(empty_home()),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_PROTOCOL_FROM_USER": "0",
        }
        if self._is_git_dir():
            full["GIT_DIR"] = str(self.path)
        if auth_header:
            full.update(
                {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": auth_header}
            )
        full.update(env or {})
        return argv, full

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        timeout: float | None = None,
        auth_header: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> bytes:
        """stdout of `git <args>`; GitFailed on a non-zero exit, GitTimedOut past the timeout."""
        argv, full_env = self.command(args, auth_header, env)
        limit = self.timeout if timeout is None else timeout
        proc = subprocess.Popen(
            argv,
            cwd=self.path,
            env=full_env,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )  # its own group: a timeout kills remote helpers too
        try:
            out, err = proc.communicate(input, timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise GitTimedOut(f"{describe_command(args)} timed out after {limit:.0f}s and was killed") from None
        except BaseException:
            _kill_group(proc)
            raise
        if proc.returncode != 0:
            raise GitFailed(args, proc.returncode, out, err)
        return out

    def text(self, *args: str, **kwargs: object) -> str:
        """stdout as text with the trailing newline removed (paths keep undecodable bytes)."""
        return self.run(*args, **kwargs).decode("utf-8", "surrogateescape").rstrip("\n")  # type: ignore[arg-type]

    def ok(self, *args: str, **kwargs: object) -> bool:
        """Whether `git <args>` exits 0 (a failed check, not an error); a timeout still raises."""
        try:
            self.run(*args, **kwargs)  # type: ignore[arg-type]
            return True
        except GitFailed:
            return False

    def _is_git_dir(self) -> bool:
        return (self.path / "HEAD").is_file() and (self.path / "objects").is_dir()


def describe_command(args: Sequence[str]) -> str:
    """`git <subcommand> <first operand>` for messages: the `-c` settings skipped, no credential (none is in argv)."""
    words, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not words or (len(words) == 1 and not arg.startswith("-")):
            words.append(re.sub(r"//[^/@]*@", "//***@", arg))  # a URL's user:password, should one be given
        if len(words) == 2:
            break
    return "git " + " ".join(words)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
