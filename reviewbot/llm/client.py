"""One structured chat request to an OpenAI-compatible server, and how it can fail.

Structured output is asked for as `json_schema` (strict). A server that refuses it
(llama.cpp's server answers 400; llama-cpp-python's answers 500 with an error naming
`response_format`) is asked again with `json_object`, and the client
remembers that for later reviews; either way the answer is validated by the same
pydantic model. An answer that does not validate gets one repair request, then the
client gives up. Every failure is a `ModelError` whose `kind` and `detail` become
the comment's note: a model problem never fails a review.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from reviewbot.redact import redact

log = logging.getLogger("reviewbot.llm")

M = TypeVar("M", bound=BaseModel)
PLACEHOLDER_KEY = "no-key"  # local servers (llama.cpp, vLLM, Ollama) usually need none; the client needs some
MAX_REPAIR_ECHO = 4000  # characters of the invalid answer sent back with the repair request
MODES = ("json_schema", "json_object")


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
    timeout_s: float = 60.0
    max_retries: int = 1
    max_tokens: int | None = None


@dataclass
class ModelClient:
    config: ClientConfig
    secrets: tuple[str, ...] = ()  # redacted from every message before it is sent
    mode: str = "json_schema"  # drops to "json_object" once a server refuses json_schema
    _openai: openai.OpenAI | None = field(default=None, init=False, repr=False)
    _model: str = field(default="", init=False)

    @property
    def client(self) -> openai.OpenAI:
        if self._openai is None:
            key = self.config.api_key or (PLACEHOLDER_KEY if self.config.base_url else "")
            if not key:
                raise ModelError("config", "no API key: set OPENAI_API_KEY (or REVIEWBOT_MODEL_API_KEY), or point "
                                           "OPENAI_BASE_URL at a local server")
            self._openai = openai.OpenAI(api_key=key, base_url=self.config.base_url or None,
                                         timeout=self.config.timeout_s, max_retries=self.config.max_retries)
        return self._openai

    @property
    def model(self) -> str:
        """The configured model, or the server's first listed one (asked once)."""
        if not self._model:
            self._model = self.config.model or self._first_model()
        return self._model

    @property
    def known_model(self) -> str:
        """The model's name if known without asking the server."""
        return self._model or self.config.model

    def complete(self, messages: list[dict[str, str]], schema: type[M]) -> M:
        """The answer as `schema`, after at most one repair; ModelError otherwise."""
        messages = [{**m, "content": redact(m["content"], self.secrets)} for m in messages]
        text = self._ask(messages, schema)
        try:
            return parse_answer(text, schema)
        except ValueError as first:
            log.info("model answer did not validate, asking once for a repair: %s", first)
            repair = [*messages, {"role": "assistant", "content": redact(text[:MAX_REPAIR_ECHO], self.secrets)},
                      {"role": "user", "content": repair_request(str(first))}]
            again = self._ask(repair, schema)
            try:
                return parse_answer(again, schema)
            except ValueError as second:
                raise ModelError("invalid_output", f"the answer was not valid JSON for the schema, even after one "
                                                   f"repair ({_short(str(second))})") from second

    def _ask(self, messages: list[dict[str, str]], schema: type[BaseModel]) -> str:
        if self.mode == "json_schema":
            format_ = {"type": "json_schema",
                       "json_schema": {"name": "lock_review", "strict": True, "schema": schema.model_json_schema()}}
            try:
                return self._create(messages, format_)
            except ModelError as exc:
                if exc.kind not in ("bad_request", "format_refused"):
                    raise
                log.info("server refused json_schema output (%s); trying json_object", exc.detail)
            text = self._create(messages, json_object(schema))
            self.mode = "json_object"  # remembered once json_object worked where json_schema did not
            return text
        return self._create(messages, json_object(schema))

    def _create(self, messages: list[dict[str, str]], response_format: dict[str, Any]) -> str:
        extra: dict[str, Any] = {}
        if self.config.max_tokens:
            extra["max_tokens"] = self.config.max_tokens
        with classified(self.config.timeout_s):
            response = self.client.chat.completions.create(model=self.model, messages=messages,  # type: ignore[arg-type]
                                                           response_format=response_format, **extra)  # type: ignore[arg-type]
        if not response.choices:
            raise ModelError("invalid_output", "the server answered with no choices")
        message = response.choices[0].message
        if getattr(message, "refusal", None):
            raise ModelError("refused", f"the model refused: {_short(message.refusal or '')}")
        return message.content or ""

    def _first_model(self) -> str:
        with classified(self.config.timeout_s):
            models = self.client.models.list()
            names = [m.id for m in models.data]
        if not names:
            raise ModelError("config", "the server lists no models: set REVIEWBOT_MODEL")
        return names[0]


def json_object(schema: type[BaseModel]) -> dict[str, Any]:
    """JSON mode, with the schema alongside: llama.cpp and llama-cpp-python turn it into a grammar."""
    return {"type": "json_object", "schema": schema.model_json_schema()}


@contextmanager
def classified(timeout_s: float) -> Iterator[None]:
    """Turn the openai client's exceptions into ModelError kinds."""
    try:
        yield
    except openai.OpenAIError as exc:
        raise classify(exc, timeout_s) from exc


def classify(exc: openai.OpenAIError, timeout_s: float) -> ModelError:
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
        return ModelError("bad_request", f"the server refused the request (HTTP {exc.status_code}: "
                                         f"{_short(_message(exc))})")
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
    elif not text.startswith("{") and "{" in text:
        text = text[text.index("{"): text.rindex("}") + 1]
    if not text:
        raise ValueError("the answer was empty")
    try:
        return schema.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(f"does not match the schema: {errors}") from exc


def repair_request(error: str) -> str:
    return (f"Your answer could not be used: {_short(error, 500)}. Reply again with only the JSON object, "
            "exactly the keys the instructions name (best_solution, reproduce, best_way, findings, earlier), "
            "no code fence, no text before or after it.")


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
