"""Golden reviews: the comment each fixture scenario gets, end to end through `reviewbot review`.

Real git repositories, the real sandbox, the CLI with the PR's title and body.
The expected markdown lives in `tests/golden/<scenario>.md`; what varies from run
to run (durations, the review time, runner timings in log tails) is normalised
first, and log tails are reduced to their fence (the escaping of real runner
output is tested on its own in tests/unit/test_comment.py). After a deliberate change, regenerate with `REVIEWBOT_UPDATE_GOLDEN=1`
and read every diff as a maintainer would before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.review.markers import parse_marker
from reviewbot.samples.session_lock import build_session_lock_demo
from tests.repos import ALL_BUILDERS

pytestmark = pytest.mark.sandbox

GOLDEN = Path(__file__).parent.parent / "golden"
SCENARIOS = {"session_lock_demo": build_session_lock_demo, **ALL_BUILDERS}
VOLATILE = [
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"), "YYYY-MM-DD HH:MM UTC"),
    (re.compile(r"\b\d+\.\d+ ?s\b"), "N.Ns"),
    # Log tails are runner output; under load their timing-dependent lines differ (which racer lost, which
    # timeout fired first), so the golden keeps the fence and its place, not its text.
    (re.compile(r"^(`{3,})text\n.*?\n\1$", re.DOTALL | re.MULTILINE), r"\1text\n(log tail)\n\1"),
    (re.compile(r"cache key [0-9a-f]{12}"), "cache key KEY"),
    (re.compile(r"reviewbot \d+\.\d+\.\d+"), "reviewbot VERSION"),
]


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reviewbot-data")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_review(name: str, tmp_path: Path, data_dir: Path) -> None:
    sample = SCENARIOS[name](tmp_path / name)
    body = tmp_path / "body.md"
    body.write_text(sample.body, encoding="utf-8")
    out = tmp_path / "review.md"
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "review",
            "--repo",
            str(sample.path),
            "--base",
            sample.base,
            "--head",
            sample.head,
            "--out",
            str(out),
            "--title",
            sample.title or name,
            "--body",
            str(body),
            "--number",
            "42",
            "--repo-name",
            f"example/{name}",
            "--author",
            "sample-contributor",
        ]
    )
    text = out.read_text(encoding="utf-8")
    marker = parse_marker(text)
    assert marker is not None and marker.verdict == sample.expected_verdict, text[-3000:]
    assert code == (3 if sample.expected_verdict == "error" else 0)

    golden = GOLDEN / f"{name}.md"
    actual = normalise(text)
    if os.environ.get("REVIEWBOT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with REVIEWBOT_UPDATE_GOLDEN=1 and read it"
    assert actual == golden.read_text(encoding="utf-8")
