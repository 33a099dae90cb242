"""One structured chat request to an OpenAI-compatible server, and how it can fail.

Structured output is asked for as `json_schema` (strict). A server that refuses it
(llama.cpp's server answers 400; llama-cpp-python's answers 500 with an error naming
`response_format`) is asked again with `json_object`, at once and without a retry,
and the client remembers that for later reviews; either way the answer is validated
by the same pydantic model. An answer that does not validate gets one repair request,
unless it was cut off at the length limit (a repair would be cut off too).

One budget, `timeout_s`, bounds the whole step: model lookup, fallback, retries and
repair together. The openai client's own retries are off (it would retry the 500 a
json_schema refusal is, and each retry would get the full timeout again); this client
retries transient failures itself while the budget lasts, and a watchdog abandons a
request whose server trickles bytes past the deadline.

The body is read raw and checked here: a 200 with HTML, a truncated JSON document or
no choices is an answer the model did not give, never an exception in the review.
Every failure is a `ModelError` whose `kind` and `detail` become the comment's note.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from reviewbot.extras import require
from reviewbot.redact import redact

if TYPE_CHECKING:  # the `model` extra: imported when a model is configured, never by the rule-based review
    import openai

log = logging.getLogger("reviewbot.llm")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
PLACEHOLDER_KEY = "no-key"  # local servers (llama.cpp, vLLM, Ollama) usually need none; the client needs some
MAX_REPAIR_ECHO = 4000  # characters of the invalid answer sent back with the repair request
MODES = ("json_schema", "json_object")
DEFAULT_MAX_TOKENS = 1024  # the answer cap: the schema's answer fits in well under this
RETRYABLE = ("connection", "rate_limited", "server_error")
PROBE_TIMEOUT_S = 3.0  # asking a server for its context length: a small part of the budget at most


def openai_module() -> ModuleType:
    """The openai package (the `model` extra), or MissingExtra saying how to install it."""
    return require("openai", "model", "The model review (REVIEWBOT_MODEL / OPENAI_BASE_URL)")


class ModelError(RuntimeError):
    """Why the model could not help; `kind` is stable (tests, metrics), `detail` is for people."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class ClientConfig:
    model: str  # "" asks the server for its first model (a local server usually serves one)
    base_url: str = ""  # "" is OpenAI's API
    api_key: str = ""
    timeout_s: float = 60.0  # the whole model step, everything included
    max_retries: int = 1  # retries of transient failures, inside timeout_s
    max_tokens: int | None = DEFAULT_MAX_TOKENS


@dataclass(frozen=True)
class Completion:
    """What a chat completion body said, checked: the text and why the model stopped."""

    text: str
    finish_reason: str = ""
    refusal: str = ""


@dataclass
class Deadline:
    """The one budget of a model step, shared by every request in it."""

    timeout_s: float
    started: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> float:
        return self.timeout_s - (time.monotonic() - self.started)

    def check(self) -> float:
        left = self.remaining
        if left <= 0:
            raise ModelError("timeout", f"no answer within {self.timeout_s:g} s")
        return left


@dataclass
class ModelClient:
    config: ClientConfig
    secrets: tuple[str, ...] = ()  # redacted from every message before it is sent
    mode: str = "json_schema"  # drops to "json_object" once a server refuses json_schema
    _openai: openai.OpenAI | None = field(default=None, init=False, repr=False)
    _model: str = field(default="", init=False)
    _n_ctx: int | None = field(default=None, init=False)
    _probed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        # the extra is imported here, on the caller's thread: imported first inside a watchdog thread, a
        # half-initialised module could be seen by another thread importing it at the same time
        openai_module()
        require("httpx", "model", "The model review")

    @property
    def client(self) -> openai.OpenAI:
        if self._openai is None:
            key = self.config.api_key or (PLACEHOLDER_KEY if self.config.base_url else "")
            if not key:
                raise ModelError(
                    "config",
                    "no API key: set OPENAI_API_KEY (or REVIEWBOT_MODEL_API_KEY), or point "
                    "OPENAI_BASE_URL at a local server",
                )
            # max_retries=0: retries happen in `_retrying`, inside the one budget, and never for a format refusal
            self._openai = openai_module().OpenAI(
                api_key=key, base_url=self.config.base_url or None, timeout=self.config.timeout_s, max_retries=0
            )
        return self._openai

    @property
    def model(self) -> str:
        """The configured model, or the server's first listed one (asked once)."""
        if not self._model:
            self._model = self.config.model or self._first_model(Deadline(self.config.timeout_s))
        return self._model

    @property
    def known_model(self) -> str:
        """The model's name if known without asking the server (configured, or as the server listed it)."""
        return display_name(self._model or self.config.model)

    def complete(self, messages: list[dict[str, str]], schema: type[M], deadline: Deadline | None = None) -> M:
        """The answer as `schema`, after at most one repair, within the budget; ModelError otherwise."""
        deadline = deadline or Deadline(self.config.timeout_s)
        if not self._model:
            self._model = self.config.model or self._first_model(deadline)
        messages = [{**m, "content": redact(m["content"], self.secrets)} for m in messages]
        first = self._ask(messages, schema, deadline)
        try:
            return parse_answer(first.text, schema)
        except ValueError as exc:
            error = exc
        if first.finish_reason == "length":
            cap = f"{self.config.max_tokens} tokens" if self.config.max_tokens else "the server's default"
            raise ModelError(
                "truncated",
                f"the answer was cut off at the length limit ({cap}); not sent for "
                "repair, since a repair would be cut off too (REVIEWBOT_MODEL_MAX_TOKENS)",
            )
        log.info("model answer did not validate, asking once for a repair: %s", error)
        repair = [
            *messages,
            {"role": "assistant", "content": redact(first.text[:MAX_REPAIR_ECHO], self.secrets)},
            {"role": "user", "content": repair_request(str(error))},
        ]
        again = self._ask(repair, schema, deadline)
        try:
            return parse_answer(again.text, schema)
        except ValueError as second:
            cut = " (cut off at the length limit)" if again.finish_reason == "length" else ""
            raise ModelError(
                "invalid_output",
                f"the answer was not valid JSON for the schema, even after one repair{cut} ({_short(str(second))})",
            ) from second

    def context_tokens(self, deadline: Deadline | None = None) -> int | None:
        """The server's context length when it reports one (llama.cpp: /props `n_ctx`, or /v1/models `meta`).

        Asked once per client, with a few seconds at most of the step's budget; a server that
        does not say (llama-cpp-python, OpenAI) leaves the configured context budget as it is.
        """
        if self._probed or not self.config.base_url:
            return self._n_ctx
        self._probed = True
        deadline = deadline or Deadline(self.config.timeout_s)
        root = re.sub(r"/v1/?$", "", self.config.base_url.rstrip("/"))
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        for url in (f"{root}/props", f"{self.config.base_url.rstrip('/')}/models"):
            probe = Deadline(min(PROBE_TIMEOUT_S, deadline.remaining / 4))
            if probe.timeout_s <= 0.01:
                break

            def get(url: str = url, timeout: float = probe.timeout_s) -> Any:
                httpx = require("httpx", "model", "The model review")
                try:
                    return httpx.get(url, timeout=timeout, headers=headers).json()
                except (httpx.HTTPError, ValueError, RecursionError):
                    return None

            try:
                answer = self._within(probe, get, drop_client=False)  # a trickling answer is abandoned too
            except ModelError:
                continue
            n_ctx = find_n_ctx(answer)
            if n_ctx:
                self._n_ctx = n_ctx
                break
        return self._n_ctx

    def _ask(self, messages: list[dict[str, str]], schema: type[BaseModel], deadline: Deadline) -> Completion:
        if self.mode == "json_schema":
            format_ = {
                "type": "json_schema",
                "json_schema": {"name": "lock_review", "strict": True, "schema": schema.model_json_schema()},
            }
            try:
                return self._retrying(messages, format_, deadline)
            except ModelError as exc:
                if exc.kind not in ("bad_request", "format_refused"):
                    raise
                log.info("server refused json_schema output (%s); trying json_object", exc.detail)
            answer = self._retrying(messages, json_object(schema), deadline)
            self.mode = "json_object"  # remembered once json_object worked where json_schema did not
            return answer
        return self._retrying(messages, json_object(schema), deadline)

    def _retrying(
        self, messages: list[dict[str, str]], response_format: dict[str, Any], deadline: Deadline
    ) -> Completion:
        """Transient failures (connection, 429, 5xx) are retried while the budget lasts; nothing else is."""
        attempt = 0
        while True:
            try:
                return self._create(messages, response_format, deadline)
            except ModelError as exc:
                if exc.kind not in RETRYABLE or attempt >= self.config.max_retries:
                    raise
                pause = min(0.5 * 2**attempt, 4.0)
                if deadline.remaining <= pause:
                    raise
                attempt += 1
                log.info("model request failed (%s); retry %d", exc.detail, attempt)
                time.sleep(pause)

    def _create(
        self, messages: list[dict[str, str]], response_format: dict[str, Any], deadline: Deadline
    ) -> Completion:
        extra: dict[str, Any] = {}
        if self.config.max_tokens:
            extra["max_tokens"] = self.config.max_tokens

        def call() -> tuple[str, bytes]:
            raw = self.client.chat.completions.with_raw_response.create(
                model=self.model,
                messages=messages,
                response_format=response_format,  # type: ignore[arg-type]
                timeout=max(deadline.remaining, 0.05),
                **extra,
            )
            return raw.headers.get("content-type", ""), raw.content  # the body is read inside the watchdog too

        return read_completion(*self._within(deadline, call))

    def _first_model(self, deadline: Deadline) -> str:
        def call() -> list[str]:
            return [m.id for m in self.client.models.list(timeout=max(deadline.remaining, 0.05)).data]

        names = self._within(deadline, call)
        if not names:
            raise ModelError("config", "the server lists no models: set REVIEWBOT_MODEL")
        return names[0]

    def _within(self, deadline: Deadline, call: Callable[[], T], drop_client: bool = True) -> T:
        """`call` in a watchdog thread: past the deadline it is abandoned and its connection closed."""
        left = deadline.check()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                with classified(self.config.timeout_s):
                    box["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                box["error"] = exc

        worker = threading.Thread(target=run, daemon=True, name="model-request")
        worker.start()
        worker.join(left)
        if worker.is_alive() and not drop_client:
            raise ModelError("timeout", f"no answer within {deadline.timeout_s:g} s")
        if worker.is_alive():
            stuck, self._openai = self._openai, None  # a fresh client next time; this one's socket is dropped
            if stuck is not None:
                threading.Thread(target=stuck.close, daemon=True).start()
            raise ModelError("timeout", f"no answer within {self.config.timeout_s:g} s")
        if "error" in box:
            error = box["error"]
            if isinstance(error, ModelError):
                raise error
            raise ModelError(
                "invalid_output", f"the answer could not be read ({_short(type(error).__name__ + ': ' + str(error))})"
            ) from error
        return box["value"]


def read_completion(content_type: str, body: bytes) -> Completion:
    """A 200's body, checked: JSON, with a first choice holding a message. ModelError otherwise."""
    if "json" not in content_type.lower():
        raise ModelError(
            "invalid_output", f"the server answered {_short(content_type or 'no content type', 80)}, not JSON"
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelError("invalid_output", f"the server's answer is not valid JSON ({_short(str(exc), 120)})") from exc
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        raise ModelError("invalid_output", "the server answered with no choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise ModelError("invalid_output", "the server's first choice has no message")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        raise ModelError("refused", f"the model refused: {_short(refusal)}")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise ModelError("invalid_output", "the server's message content is not text")
    finish = choice.get("finish_reason")
    return Completion(text=content or "", finish_reason=finish if isinstance(finish, str) else "")


def find_n_ctx(answer: Any) -> int | None:
    """The serving context length in a llama.cpp /props or /v1/models answer (not the training length)."""
    candidates: list[Any] = []
    if isinstance(answer, dict):
        settings = answer.get("default_generation_settings")
        candidates += [answer.get("n_ctx"), settings.get("n_ctx") if isinstance(settings, dict) else None]
        for entry in answer.get("data") or []:
            meta = entry.get("meta") if isinstance(entry, dict) else None
            if isinstance(meta, dict):
                candidates.append(meta.get("n_ctx"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def display_name(name: str) -> str:
    """A model's name for people: a served file path (`/models/x.Q4.gguf`) becomes its file's stem (`x.Q4`)."""
    name = (name or "").strip()
    if "/" in name or "\\" in name:
        tail = re.split(r"[\\/]", name.rstrip("/\\"))[-1]
        if name.startswith(("/", "~", ".")) or "\\" in name or tail.lower().endswith((".gguf", ".bin", ".ggml")):
            name = tail  # a file path; "org/model" names (Hugging Face, OpenRouter) stay as they are
    return re.sub(r"(?i)\.(gguf|bin|ggml)$", "", name)


def json_object(schema: type[BaseModel]) -> dict[str, Any]:
    """JSON mode, with the schema alongside: llama.cpp and llama-cpp-python turn it into a grammar."""
    return {"type": "json_object", "schema": schema.model_json_schema()}


@contextmanager
def classified(timeout_s: float) -> Iterator[None]:
    """Turn the openai client's exceptions into ModelError kinds."""
    openai = openai_module()
    try:
        yield
    except openai.OpenAIError as exc:
        raise classify(exc, timeout_s) from exc


def classify(exc: openai.OpenAIError, timeout_s: float) -> ModelError:
    openai = openai_module()
    if isinstance(exc, openai.APITimeoutError):
        return ModelError("timeout", f"no answer within {timeout_s:g} s")
    if isinstance(exc, openai.APIConnectionError):
        return ModelError("connection", f"could not reach the server ({_short(str(exc))})")
    if isinstance(exc, openai.RateLimitError):
        return ModelError("rate_limited", "the server is rate limiting requests (HTTP 429)")
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return ModelError("auth", f"the server refused the API key (HTTP {exc.status_code})")
    if isinstance(exc, openai.NotFoundError):
        return ModelError("not_found", "the server does not know this model or endpoint (HTTP 404)")
    if isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return ModelError(
            "bad_request", f"the server refused the request (HTTP {exc.status_code}: {_short(_message(exc))})"
        )
    if isinstance(exc, openai.APIStatusError) and "response_format" in _message(exc):
        return ModelError("format_refused", f"the server refused the response format (HTTP {exc.status_code})")
    if isinstance(exc, openai.APIStatusError):
        kind = "server_error" if exc.status_code >= 500 else "bad_request"
        return ModelError(kind, f"the server answered HTTP {exc.status_code}")
    return ModelError("error", _short(str(exc)))


def parse_answer(text: str, schema: type[M]) -> M:
    """Validate a JSON answer; a code fence or prose around the object is tolerated. ValueError when invalid."""
    text = (text or "").strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    elif not text.startswith("{") and "{" in text and "}" in text:
        text = text[text.index("{") : text.rindex("}") + 1]
    if not text:
        raise ValueError("the answer was empty")
    try:
        return schema.model_validate(json.loads(text))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(f"does not match the schema: {errors}") from exc


def repair_request(error: str) -> str:
    return (
        f"Your answer could not be used: {_short(error, 500)}. Reply again with only the JSON object, "
        "exactly the keys the instructions name (best_solution, reproduce, best_way, findings, earlier), "
        "no code fence, no text before or after it."
    )


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return exc.message


def _short(text: str, limit: int = 200) -> str:
    text = redact(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
