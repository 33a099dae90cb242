"""`/webhook` under any signed delivery: the real payloads of tests/data/webhooks with one field mutated.

Every mutant is signed with the right secret, so it passes the one check an attacker cannot:
what follows must still never answer 5xx (on SQLite and on PostgreSQL), a 4xx must say which
field or header is wrong, and whatever is queued must be well formed (names GitHub allows,
ids the columns hold, text the database and git accept).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.names import valid_full_name
from reviewbot.service.app import create_app
from reviewbot.service.events import MAX_ID, MAX_PR_NUMBER
from reviewbot.service.intake import find_bad_text
from reviewbot.service.signature import sign
from reviewbot.store.db import make_engine
from reviewbot.store.queue import Queue

SECRET = "webhook-secret"
WEBHOOKS = Path(__file__).parents[1] / "data" / "webhooks"
PAYLOADS = sorted(WEBHOOKS.glob("*.json"))
PLACEHOLDER = "@@mutant@@"
SHA = re.compile(r"([0-9a-f]{40}([0-9a-f]{24})?)?")


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into the payload (objects, arrays and leaves), the root excluded."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            found += paths(child, (*prefix, index))
    return found


def replace(payload: Any, path: tuple, new: Any) -> Any:
    parent = payload
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return payload


# Raw JSON texts put where a value was: what json.dumps cannot produce from Python values.
RAW_MUTANTS = st.one_of(
    st.integers(min_value=60, max_value=20_000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=60, max_value=3_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(
        [
            r'"\ud800"',
            r'"x\udfffy"',
            r'"a\u0000b"',
            r'"\u0000"',
            r'"Codertocat/\ud83d"',
            r'"Codertocat/Hello\u0000World"',
            "1" + "0" * 5000,
            "-" + "9" * 40,
            "1e999",
            "-1e999",
        ]
    ),
)
HUGE = st.sampled_from([2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, -1, 0, 10**30])
NAMES = st.sampled_from(
    [
        "a/b",
        "a" * 40 + "/b",
        "o/" + "n" * 101,
        "o/" + "n" * 300,
        "/x",
        "x/",
        "o/..",
        "o/.",
        "-o/x",
        "o/x/y",
        "o/x\n",
        "o\x00/x",
        "Codertocat/Hello-World\x00",
        "ó/x",
        "o/x y",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    HUGE,
    st.integers(),
    st.text(st.characters(exclude_categories=()), max_size=50),  # lone surrogates and NUL included
    st.text(max_size=10).map(lambda t: t * 500),
    NAMES,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(event header, signed body, content type) of a real payload with one field replaced."""
    path = draw(st.sampled_from(PAYLOADS))
    event = path.name.split(".")[0]
    payload = json.loads(path.read_text())
    where = draw(st.sampled_from(paths(payload)))
    if draw(st.booleans()):
        text = json.dumps(replace(payload, where, PLACEHOLDER)).replace(f'"{PLACEHOLDER}"', draw(RAW_MUTANTS))
    else:
        text = json.dumps(replace(payload, where, draw(VALUES)))
    event = draw(
        st.one_of(
            st.just(event),
            st.sampled_from(["pull_request", "issue_comment", "status", "check_run"]),
            st.sampled_from(["x" * 61, "pull request", "pull_request\t", "é"]),
        )
    )
    if draw(st.booleans()):
        return event, text.encode("utf-8", "surrogatepass"), "application/json"
    return (
        event,
        b"payload=" + quote_plus(text.encode("utf-8", "surrogatepass")).encode(),
        "application/x-www-form-urlencoded",
    )


@pytest.fixture
def service(database_url: str):  # type: ignore[no-untyped-def]
    queue = Queue(make_engine(database_url))
    with TestClient(create_app(queue.engine, [SECRET], queue=queue)) as client:
        yield client, queue


DELIVERY_IDS = itertools.count()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutant=mutants())
def test_no_signed_delivery_gets_a_5xx_or_queues_anything_malformed(service, mutant) -> None:  # type: ignore[no-untyped-def]
    client, queue = service
    event, body, content_type = mutant
    response = client.post(
        "/webhook",
        content=body,
        headers={
            "X-Hub-Signature-256": sign(SECRET, body),
            "X-GitHub-Event": event.encode("utf-8"),
            "X-GitHub-Delivery": f"fuzz-{next(DELIVERY_IDS)}",
            "Content-Type": content_type,
        },
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert "`" in error or error.startswith(("body", "form body", "X-GitHub-Event")), error
    for job in queue.jobs():
        assert valid_full_name(job.repo), job.repo
        assert 0 <= job.pr_number <= MAX_PR_NUMBER
        assert job.installation_id is None or 0 < job.installation_id <= MAX_ID
        assert SHA.fullmatch(job.head_sha or "")
        assert find_bad_text(job.payload) is None
