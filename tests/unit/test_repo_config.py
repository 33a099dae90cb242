"""`.github/reviewbot.yml`: defaults, and errors that name the key and the line."""

from __future__ import annotations

import pytest

from reviewbot.repo_config import ConfigError, RepoConfig, parse_config

DESIGN_EXAMPLE = """\
suites:
  - name: session-lock regression
    run: node --test test/session-lock.test.mjs
    paths: ["src/session-lock/**", "test/session-lock*"]
    kind: regression
    timeout: 120
    repeat: 3
setup:
  run: npm ci --ignore-scripts
  network: true
  cache: [node_modules]
changed_tests: auto
automerge:
  method: squash
"""


def test_design_example_parses() -> None:
    config = parse_config(DESIGN_EXAMPLE)
    suite = config.suites[0]
    assert (suite.name, suite.kind, suite.timeout, suite.repeat) == ("session-lock regression", "regression", 120, 3)
    assert config.setup and config.setup.network and config.setup.cache == ["node_modules"]
    assert config.automerge.method == "squash"


def test_empty_file_gives_defaults() -> None:
    assert parse_config("") == RepoConfig()
    assert parse_config("# nothing yet\n").changed_tests == "auto"


def test_bare_off_is_accepted() -> None:
    assert parse_config("changed_tests: off\n").changed_tests == "off"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("suites:\n  - name: a\n    run: x\n    bogus: 1\n", "line 4: `suites.0.bogus`: unknown key"),
        ("suites:\n  - name: a\n    run: x\n    kind: stress\n", "line 4: `suites.0.kind`"),
        ("suites:\n  - name: a\n    run: x\n    timeout: 0\n", "line 4: `suites.0.timeout`"),
        ("suites:\n  - name: a\n", "line 2: `suites.0.run`: Field required"),
        ("setup:\n  run: npm ci\n  network: maybe\n", "line 3: `setup.network`"),
        ("automerge:\n  method: yolo\n", "line 2: `automerge.method`"),
        ("suites: [\n", "YAML syntax error"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("suites:\n  - name: a\n    run: '   '\n", "non-empty shell command"),
        ("suites:\n  - name: a\n    run: x\n    paths: ['src/[lock']\n", "never closed"),
        ("suites:\n  - name: a\n    run: x\n    paths: ['#lock.py']\n", "makes it a comment"),  # never matches
        ("suites:\n  - name: a\n    run: x\n    paths: ['!vendor']\n", "only what to include"),
    ],
)
def test_errors_name_key_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert expected in str(info.value)
    assert str(info.value).startswith(".github/reviewbot.yml is invalid")
