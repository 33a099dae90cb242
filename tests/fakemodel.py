"""A tiny OpenAI-compatible server for tests: scripted answers, every request recorded and checked.

It speaks just enough of `/v1/chat/completions` and `/v1/models` for the openai
client, on 127.0.0.1 in a thread. Each request is checked as it arrives (model
name, message shape, response_format, no secret shapes, bounded size) and kept in
`requests`, so a test can assert what really left the process. Replies come from a
script: a list of `Reply` consumed in order (the last one repeats).

Besides well-formed answers it has the faults a real server shows: a 200 with HTML or
any raw body, a wrong content type, no choices, an answer cut at the length limit, a
body that stalls half-way (bytes trickling in, so no read timeout fires), and a late 200.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reviewbot.redact import redact

MAX_REQUEST_BYTES = 200_000


@dataclass
class Reply:
    content: str | None = None  # the assistant message (a JSON string, usually)
    status: int = 200
    error: str = ""  # the error message for a non-200 status
    delay_s: float = 0.0  # sleep before answering (timeouts)
    refuse_json_schema: bool = False  # answer 400 to a json_schema request, like llama.cpp's server
    refuse_json_schema_status: int = 400  # llama-cpp-python's server answers 500 (its request validation)
    raw: bytes | None = None  # a 200 with exactly this body (HTML, truncated JSON, anything)
    content_type: str = "application/json"
    finish_reason: str = "stop"  # "length": the answer was cut at max_tokens
    no_choices: bool = False  # a 200 whose "choices" is empty
    stall_s: float = 0.0  # send half the body, then trickle a byte every 0.2 s for this long


@dataclass
class FakeModelServer:
    model: str = "fake-lock-model"
    n_ctx: int | None = None  # reported at /props, like llama.cpp's server; None: 404 like llama-cpp-python
    props_stall_s: float = 0.0  # /props trickles its answer for this long
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # request checks that failed (asserted empty by tests)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeModelServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-model"
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def next_reply(self) -> Reply:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def check(self, body: dict[str, Any], size: int) -> None:
        """What every chat request must look like, whatever the test."""
        if body.get("model") != self.model:
            self.problems.append(f"model {body.get('model')!r}, expected {self.model!r}")
        messages = body.get("messages") or []
        if not messages or messages[0].get("role") != "system":
            self.problems.append("the first message is not the system prompt")
        if size > MAX_REQUEST_BYTES:
            self.problems.append(f"request of {size} bytes")
        for message in messages:
            if redact(message.get("content", "")) != message.get("content", ""):
                self.problems.append(f"a secret shape reached the server in a {message.get('role')} message")
        kind = (body.get("response_format") or {}).get("type")
        if kind not in ("json_schema", "json_object"):
            self.problems.append(f"response_format {kind!r}")
        if kind == "json_schema":
            schema = body["response_format"]["json_schema"].get("schema", {})
            if set(schema.get("required", [])) != {"best_solution", "reproduce", "best_way", "findings", "earlier"}:
                self.problems.append("the json_schema does not require the review keys")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeModelServer

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/props" and self.fake.props_stall_s:
            self._stall(
                json.dumps({"default_generation_settings": {"n_ctx": 512}, "pad": "x" * 200}).encode(),
                self.fake.props_stall_s,
            )
        elif self.path.rstrip("/") == "/props" and self.fake.n_ctx:
            self._json(200, {"default_generation_settings": {"n_ctx": self.fake.n_ctx}, "total_slots": 1})
        elif self.path.rstrip("/").endswith("/models"):
            self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": self.fake.model, "object": "model", "created": 0, "owned_by": "test"}],
                },
            )
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(size)
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        body = json.loads(raw)
        fake = self.fake
        fake.requests.append({**body, "_bytes": size, "_auth": self.headers.get("Authorization", "")})
        fake.check(body, size)
        reply = fake.next_reply()
        if reply.delay_s:
            time.sleep(reply.delay_s)
        kind = (body.get("response_format") or {}).get("type")
        if reply.refuse_json_schema and kind == "json_schema" and reply.refuse_json_schema_status == 400:
            # llama.cpp's server: a 400 with an OpenAI-style error body
            self._json(
                400,
                {
                    "error": {
                        "code": 400,
                        "type": "invalid_request_error",
                        "message": "Unsupported response_format type: json_schema",
                    }
                },
            )
            return
        if reply.refuse_json_schema and kind == "json_schema":
            # llama-cpp-python's server (as measured with 0.3): its request validation fails as a 500
            self._json(
                reply.refuse_json_schema_status,
                {
                    "error": {
                        "message": "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', "
                        "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}",
                        "type": "internal_server_error",
                    }
                },
            )
            return
        if reply.status != 200:
            self._json(
                reply.status, {"error": {"message": reply.error or f"HTTP {reply.status}", "type": "server_error"}}
            )
            return
        if reply.raw is not None:
            self._send(200, reply.raw, reply.content_type)
            return
        choices = (
            []
            if reply.no_choices
            else [
                {
                    "index": 0,
                    "finish_reason": reply.finish_reason,
                    "message": {"role": "assistant", "content": reply.content},
                }
            ]
        )
        payload = json.dumps(
            {
                "id": f"chatcmpl-{len(fake.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": fake.model,
                "choices": choices,
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        if reply.stall_s:
            self._stall(payload, reply.stall_s)
            return
        self._send(200, payload, reply.content_type)

    def _stall(self, data: bytes, seconds: float) -> None:
        """Half the body, then a byte at a time: every read makes progress, the answer never completes in time."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            half = len(data) // 2
            self.wfile.write(data[:half])
            self.wfile.flush()
            end = time.monotonic() + seconds
            for byte in data[half:]:
                if time.monotonic() > end:
                    return
                time.sleep(0.2)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
