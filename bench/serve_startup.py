"""How soon `reviewbot serve` takes deliveries after it starts, with GitHub unreachable.

Starts the real command (a token, an unreachable GitHub API, no workers) and polls its port
every 5 ms. Printed, for --rounds starts: the time until the port accepts a connection (a
delivery sent then waits in the kernel's queue and is answered) and until `/healthz` answers,
next to a bare `python -c pass` measured in the same run (these machines are noisy).

    python bench/serve_startup.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def once(data_dir: str) -> tuple[float, float]:
    port = free_port()
    env = {
        **os.environ,
        "REVIEWBOT_WEBHOOK_SECRETS": "bench",
        "REVIEWBOT_TOKEN": "ghp_bench",
        "REVIEWBOT_GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",
        "REVIEWBOT_WORKERS": "0",
        "REVIEWBOT_RECONCILE_INTERVAL_S": "3600",
        "REVIEWBOT_ALLOW_PER_PROCESS_LIMITS": "1",
    }
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reviewbot.launch",
            "--data-dir",
            data_dir,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listening = ready = None
    try:
        while ready is None and time.perf_counter() - started < 60:
            try:
                if listening is None:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    listening = time.perf_counter() - started
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.05):
                    ready = time.perf_counter() - started
            except OSError:
                time.sleep(0.005)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if listening is None or ready is None:
        raise SystemExit("serve did not start within 60 s")
    return listening, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bare = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as scratch:
        runs = [once(os.path.join(scratch, str(i))) for i in range(args.rounds)]
    listening = statistics.median(r[0] for r in runs)
    ready = statistics.median(r[1] for r in runs)
    baseline = statistics.median(bare)
    print(
        f"median of {args.rounds}: python -c pass {baseline:.3f}s · port accepts {listening:.3f}s "
        f"({listening / baseline:.1f}x bare python) · /healthz answers {ready:.3f}s ({ready / baseline:.1f}x)"
    )


if __name__ == "__main__":
    main()
