"""Webhook ingest: `/webhook` (verify + dedup + enqueue) against a bare FastAPI endpoint, in the same run.

1. Throughput: signed `pull_request.synchronize` deliveries posted as fast as four
   client threads can, to reviewbot's endpoint (real SQLite queue, WAL) and to a
   bare endpoint that only returns 202. Target: at least 0.6 of the bare throughput in each
   of `--runs` consecutive runs (3 for the claim).
2. Latency at a steady 200 deliveries/s for 5 s: p50 and p99 of each answer.
   Target: p99 under 50 ms.

Both servers are real uvicorn servers on loopback, each in its own process; the
client is httpx with keep-alive. Figures are printed beside the baseline measured right before them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Measure the reviewbot beside this file: run as `python bench/webhook_ingest.py`, the script's own directory
# comes first on sys.path and `import reviewbot` would find whichever checkout the venv has installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from reviewbot.service.app import create_app
from reviewbot.service.signature import sign
from reviewbot.store.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
EXAMPLE = ROOT / "tests" / "data" / "webhooks" / "pull_request.synchronize.1.json"


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhook")
    async def webhook() -> JSONResponse:
        return JSONResponse({"jobs": []}, status_code=202)

    return app


def _serve(kind: str, port: int, db_dir: str) -> None:
    app = bare_app() if kind == "bare" else create_app(make_engine(f"sqlite:///{db_dir}/bench.db"), [SECRET])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


class Server:
    """A uvicorn server in its own process, as a deployment runs it (the client gets this process's GIL)."""

    def __init__(self, kind: str, db_dir: str):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(kind, self.port, db_dir), daemon=True
        )

    def __enter__(self) -> str:
        self.process.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return f"http://127.0.0.1:{self.port}/webhook"
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)


def deliveries(count: int) -> list[tuple[bytes, dict]]:
    template = json.loads(EXAMPLE.read_text())
    template["installation"] = {"id": 1}
    out = []
    for index in range(count):
        template["number"] = template["pull_request"]["number"] = 1 + index % 50
        template["pull_request"]["head"]["sha"] = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        body = json.dumps(template).encode()
        out.append(
            (
                body,
                {
                    "X-Hub-Signature-256": sign(SECRET, body),
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "Content-Type": "application/json",
                },
            )
        )
    return out


def throughput(url: str, count: int, threads: int = 4) -> float:
    work = deliveries(count)
    chunks = [work[i::threads] for i in range(threads)]

    def send(chunk: list[tuple[bytes, dict]]) -> None:
        with httpx.Client() as client:
            for body, headers in chunk:
                assert client.post(url, content=body, headers=headers).status_code == 202

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, chunks))
    return count / (time.perf_counter() - started)


def paced_latencies(url: str, rate: float, seconds: float) -> list[float]:
    work = deliveries(int(rate * seconds))
    latencies: list[float] = []
    lock = threading.Lock()

    def send(item: tuple[bytes, dict], client: httpx.Client) -> None:
        started = time.perf_counter()
        assert client.post(url, content=item[0], headers=item[1]).status_code == 202
        with lock:
            latencies.append(time.perf_counter() - started)

    clients = [httpx.Client() for _ in range(8)]
    begin = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        for index, item in enumerate(work):
            delay = begin + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, item, clients[index % len(clients)])
    for client in clients:
        client.close()
    return latencies


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=1, help="consecutive throughput runs (each ratio printed)")
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as tmp, Server("bare", tmp) as bare_url, Server("reviewbot", tmp) as bot_url:
        throughput(bare_url, 200), throughput(bot_url, 200)  # warm up both
        for _ in range(max(1, args.runs)):
            bare = throughput(bare_url, args.count)
            bot = throughput(bot_url, args.count)
            ratios.append(bot / bare)
        bare_lat = paced_latencies(bare_url, args.rate, args.seconds)
        bot_lat = paced_latencies(bot_url, args.rate, args.seconds)
    print(f"webhook ingest ({args.count} signed deliveries, 4 client threads)")
    print(f"  bare FastAPI endpoint (202 only):  {bare:8.0f} deliveries/s")
    print(f"  reviewbot /webhook (verify+dedup+enqueue): {bot:8.0f} deliveries/s")
    print(f"  ratio: {bot / bare:.2f}  (target >= 0.60)")
    if len(ratios) > 1:
        print(f"  ratios of {len(ratios)} consecutive runs: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"latency at {args.rate:.0f} deliveries/s for {args.seconds:.0f} s")
    print(
        f"  bare:      p50 {statistics.median(bare_lat) * 1000:6.1f} ms   p99 {percentile(bare_lat, 99) * 1000:6.1f} ms"
    )
    print(
        f"  reviewbot: p50 {statistics.median(bot_lat) * 1000:6.1f} ms   p99 {percentile(bot_lat, 99) * 1000:6.1f} ms"
        "  (target p99 < 50 ms)"
    )


if __name__ == "__main__":
    main()
