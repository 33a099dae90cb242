"""The `reviewbot` command's entry point: `serve` takes its port before the service loads.

Loading the service (FastAPI, SQLAlchemy, PyGithub, the proof engine) takes one to
three seconds on a busy host, and a delivery that arrives meanwhile would meet a
closed port (GitHub marks it failed and does not resend it). Binding the listening
socket first, as systemd socket activation does, lets the kernel queue those
connections until the app answers them. Standard library only, so it loads at once.
"""

from __future__ import annotations

import argparse
import socket
import sys

BACKLOG = 2048  # uvicorn's default: a burst of deliveries waits here while the service loads


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    listener = early_listener(argv)
    from reviewbot import cli

    return cli.main(argv, listener=listener)


# The top-level options of `reviewbot` that take a value (tests/unit/test_launch.py keeps this true to cli.py).
VALUE_OPTIONS = frozenset({"--data-dir", "--setup-ca-bundle", "--setup-allow", "--setup-env", "--setup-upstream-proxy"})


def command_index(argv: list[str]) -> int | None:
    """Where the subcommand is: the first word that is neither an option nor an option's value
    (`review --head serve` is not `serve`)."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if not word.startswith("-"):
            return index
        index += 2 if word in VALUE_OPTIONS else 1
    return None


def early_listener(argv: list[str]) -> socket.socket | None:
    """A listening socket for `serve`'s --host/--port, or None (another command, a bad flag, a busy port:
    the full parser and uvicorn then say what is wrong)."""
    command = command_index(argv)
    if command is None or argv[command] != "serve":
        return None
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--host", default="0.0.0.0")
    options.add_argument("--port", type=int, default=8080)
    try:
        known, _ = options.parse_known_args(argv[command + 1 :])
    except SystemExit:
        return None
    family = socket.AF_INET6 if ":" in known.host else socket.AF_INET
    try:
        return socket.create_server((known.host, known.port), family=family, backlog=BACKLOG)
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
