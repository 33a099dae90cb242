"""Logging for `serve`, `worker` and `replay`: one handler on the root, JSON lines or plain text.

Nothing configured a handler before, so `reviewbot.*` INFO lines vanished and warnings came
out bare. The service's log lines carry their facts in `extra={"fields": {...}}` (delivery id,
repo, PR, head, job id, outcome); the JSON format puts them at the top level of each line for
a log pipeline to index, the plain format appends them as `key=value`. Uvicorn's own loggers
go through the same handler; its access log is off because each delivery has its own line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("plain", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in (getattr(record, "fields", None) or {}).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None) or {}
        extra = " ".join(f"{key}={value}" for key, value in fields.items() if value not in (None, "", []))
        return f"{text} [{extra}]" if extra else text


def configure_logging(fmt: str = "plain", level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Replace the root handlers with one writing `fmt` at `level`; returns the handler."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = [], True
    logging.getLogger("uvicorn.access").disabled = True
    return handler
