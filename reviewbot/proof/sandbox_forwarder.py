"""Runs INSIDE the setup sandbox: relays 127.0.0.1:PORT to the bot's egress proxy socket.

The sandbox has its own network namespace with only loopback, and package
managers speak to an HTTP proxy over TCP, so this relay is the bridge to the
unix socket the bot bind-mounts in. It returns once it is listening (the
setup command starts after it) and keeps serving in a forked child, which
dies with the sandbox's PID namespace. Standard library only: it runs on the
sandbox's Python, not the bot's environment.

Usage: python sandbox_forwarder.py SOCKET_PATH PORT
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _serve_one(client: socket.socket, socket_path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(socket_path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main(argv: list[str]) -> int:
    socket_path, port = argv[1], int(argv[2])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
    except OSError as exc:
        print(f"reviewbot: the setup step's proxy relay could not listen on 127.0.0.1:{port}: {exc}", file=sys.stderr)
        return 1
    if os.fork():
        return 0  # listening: the setup command may start
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # never hold the run's output pipe open
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(client, socket_path), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
