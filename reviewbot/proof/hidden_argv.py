"""Keep host paths out of what a sandboxed process can read about its own sandbox.

bwrap's own argv is the command line of PID 1 in the sandbox, and `/proc/1/cmdline`
is readable by everyone: it named the data dir, the worktree and state folders,
and every bind. bwrap reads its options from a file descriptor instead (`--args FD`),
so only `bwrap --args N` and the command itself remain visible. Files bound from
the host also show their host path in `/proc/self/mountinfo`; the small synthetic
ones (`/etc/passwd`, `/etc/group`) are handed over as data (`--ro-bind-data FD`),
which bwrap copies into its own tmpfs.

What stays visible, and cannot be hidden with bwrap 0.8: the source path of every
other bind in mountinfo (relative to its filesystem: a proof's run folder is its
own loop filesystem, so its worktrees show as `/head/...`; without a disk quota
they show their host path) and the toolchain folders, bound at their own paths
because scripts in them name those paths.
"""

from __future__ import annotations

import os


def data_fd(data: bytes, name: str = "reviewbot-bwrap") -> int:
    """A memfd holding `data` at offset 0, for bwrap to read once; the caller closes it."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


def hide_host_paths(argv: list[str], command_len: int, files: dict[str, bytes]) -> tuple[list[str], list[int]]:
    """(`bwrap --args FD <command>`, the fds to pass): bwrap's options move into a memfd.

    `command_len` is how many trailing entries are the command bwrap runs (they stay
    in argv: bwrap takes its command from the real argv). A `--ro-bind SRC DEST` whose
    DEST is in `files` becomes `--perms 0644 --ro-bind-data FD DEST` with those bytes.
    """
    assert argv[0] == "bwrap" and 0 < command_len < len(argv)
    options, command = argv[1 : len(argv) - command_len], argv[len(argv) - command_len :]
    fds: list[int] = []
    try:
        rewritten: list[str] = []
        index = 0
        while index < len(options):
            if options[index] == "--ro-bind" and options[index + 2] in files:
                fd = data_fd(files[options[index + 2]])
                fds.append(fd)
                rewritten += ["--perms", "0644", "--ro-bind-data", str(fd), options[index + 2]]
                index += 3
                continue
            rewritten.append(options[index])
            index += 1
        if any("\0" in part for part in rewritten):
            raise ValueError("a bwrap option contains a NUL byte")
        args_fd = data_fd(b"".join(part.encode() + b"\0" for part in rewritten))
        fds.append(args_fd)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return ["bwrap", "--args", str(args_fd), *command], fds
