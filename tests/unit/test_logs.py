"""The log format the CLI configures: JSON lines with the facts at the top level, or plain text."""

from __future__ import annotations

import io
import json
import logging

import pytest

from reviewbot.service.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_root_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level


def test_json_lines_carry_the_delivery_fields_at_the_top_level() -> None:
    out = io.StringIO()
    configure_logging("json", "INFO", stream=out)
    logging.getLogger("reviewbot.webhook").info(
        "delivery d-1",
        extra={"fields": {"delivery": "d-1", "repo": "o/r", "pr": 3, "head": "a" * 40, "job": 9, "outcome": "queued"}},
    )
    logging.getLogger("reviewbot.worker").debug("not at INFO")
    [line] = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "delivery d-1" and record["level"] == "info"
    assert (record["delivery"], record["repo"], record["pr"], record["job"], record["outcome"]) == (
        "d-1",
        "o/r",
        3,
        9,
        "queued",
    )


def test_plain_text_appends_the_fields_and_the_level_is_a_setting() -> None:
    out = io.StringIO()
    configure_logging("plain", "WARNING", stream=out)
    logging.getLogger("reviewbot.worker").info("hidden")
    logging.getLogger("reviewbot.worker").warning("job 3 failed", extra={"fields": {"job": 3, "repo": "o/r"}})
    assert (
        out.getvalue().count("\n") == 1 and "WARNING reviewbot.worker: job 3 failed [job=3 repo=o/r]" in out.getvalue()
    )
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml")
