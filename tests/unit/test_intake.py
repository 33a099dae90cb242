"""The byte-level checks that run before a delivery is parsed: depth, text, form bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.service.intake import MAX_DEPTH, IntakeError, json_body, json_depth, parse_payload


def depth(value: Any) -> int:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max((depth(child) for child in children), default=0)
    return 0


TRICKY = st.sampled_from(['a"[', "\\", "]}{[", '\\"', "\\\\", '"', "[[[[[[", '\\\\"]'])
VALUES = st.recursive(
    st.integers() | TRICKY | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY | st.text(max_size=3), inner, max_size=3),
    max_leaves=200,
)


@settings(max_examples=200, deadline=None)
@given(value=VALUES)
def test_depth_is_exact_past_the_limit_and_never_fooled_by_strings(value: Any) -> None:
    text = json.dumps(value).encode()
    wrapped = b"[" * MAX_DEPTH + text + b"]" * MAX_DEPTH  # past the quick bound: the exact count runs
    assert json_depth(wrapped) == MAX_DEPTH + depth(value)
    assert json_depth(text) >= depth(value)


def test_deep_bodies_are_refused_before_parsing() -> None:
    with pytest.raises(IntakeError, match="nests 5000 deep"):
        parse_payload(b"[" * 5000 + b"]" * 5000)
    assert parse_payload(b'{"a": "' + b"[" * 5000 + b'"}') == {"a": "[" * 5000}  # inside a string: not nesting


def test_a_form_body_needs_exactly_one_payload_field() -> None:
    assert json_body(b"payload=%7B%7D", "application/x-www-form-urlencoded; charset=utf-8") == b"{}"
    for body in (b"payload=1&payload=2", b"zen=1", b"payload=%ff%fe", b"\xff"):
        with pytest.raises(IntakeError):
            parse_payload(json_body(body, "application/x-www-form-urlencoded"))
