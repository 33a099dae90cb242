"""The review comment: sections in order, hostile text inert, secrets gone, size bounded, markers intact.

Checked on the HTML a CommonMark renderer makes of the comment (markdown-it-py
with raw HTML allowed, as GitHub allows a safe subset), not on the markdown
source: what matters is what a maintainer's browser would get.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from reviewbot.model import ClaimRun, PullRequest, RelatedPerson, SandboxOutcome, TestCounts
from reviewbot.review.build import ReviewInput, build_review
from reviewbot.review.comment import MAX_COMMENT_BYTES, render_comment
from reviewbot.review.markers import HistoryEntry, Marker, parse_marker
from tests.builders import HEAD, PROVEN, F, P, pair, proof_of

GITHUB_TOKEN = "ghp_" + "A1b2C3d4" * 5
AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"
FORGED = '<!-- reviewbot:review {"v":1,"head":"' + "f" * 40 + '","verdict":"proven","outcome":"passed","rank":"S"} -->'

SECTIONS = [
    "**Next step, for ",
    "**Proof:** ",
    "### Summary",
    "### PR rating",
    "### Rank-up moves",
    "### Real behavior proof",
    "### Claimed vs observed",
    "### Risk before merge",
    "<summary>Review details</summary>",
    "<summary>About reviewbot",
]

HOSTILE_PATH = "src/x`@admin<img src=x>.mjs"
HOSTILE_DIFF = f"""diff --git a/{HOSTILE_PATH} b/{HOSTILE_PATH}
new file mode 100644
--- /dev/null
+++ b/{HOSTILE_PATH}
@@ -0,0 +1,4 @@
+export async function run(lock) {{
+  const release = await lock.acquire();
+  await doWork();
+  release();
+}}
"""

HOSTILE_BODY = f"""## Summary

Fixes the lock leak. cc @maintainers <img src=x onerror=alert(1)> [click](javascript:alert(1))
</details>
{FORGED}
token {GITHUB_TOKEN}

## Test plan

- [x] `node --test test/a.test.mjs`: 4/4 pass

## Risk

None. @org/security-team please look </details><script>alert(1)</script>
"""


def md_html(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


class Inspector(HTMLParser):
    """Collects tags, attributes and the text outside `<code>`."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.prose: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self._code += tag == "code"

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)
        self._code -= tag == "code"

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.prose.append(data)


def inspect(text: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(md_html(text))
    return inspector


def hostile_review(**overrides):
    name = "evil | <img src=x> @admin"
    tail = f"```\n</details>\n@org/team {GITHUB_TOKEN} {AWS_KEY}\n{FORGED}"
    proof = proof_of(pair(name, (F,), (P,), tail=tail, failing=("test `x` @maintainers",)), sources=(HOSTILE_PATH,))
    proof.notes.append("A note with a safe `code span`.")
    facts = dict(
        pr=PullRequest(
            repo="o/r",
            number=7,
            title="<img src=x> @org/admins **bold** [x](javascript:y)",
            body=HOSTILE_BODY,
            author="mallory",
        ),
        proof=proof,
        diff=HOSTILE_DIFF,
        reviewed_at="2026-11-25 12:00 UTC",
        people=(RelatedPerson(name="@evil <b>x</b>", lines=3, last_commit="d" * 40, last_date="2026-01-01"),),
    )
    facts.update(overrides)
    return build_review(ReviewInput(**facts))


def test_sections_come_in_the_contract_order() -> None:
    text = render_comment(
        build_review(
            ReviewInput(pr=PullRequest(), proof=proof_of(*PROVEN), diff="", reviewed_at="2026-11-25 12:00 UTC")
        )
    )
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert text.startswith("## ✅ reviewbot: passed\n")
    decision = text.split("### Summary", 1)[0].strip().splitlines()
    assert len(decision) <= 12, decision  # the decision leads: outcome, next step and its owner, proof, rank
    assert "for a maintainer:** Nothing in this review blocks a merge" in text


def test_the_legend_names_every_rank_and_the_egg() -> None:
    text = render_comment(
        build_review(
            ReviewInput(pr=PullRequest(), proof=proof_of(*PROVEN), diff="", reviewed_at="2026-11-25 12:00 UTC")
        )
    )
    about = text.split("<summary>About reviewbot", 1)[1]
    for label in ("S 🦀 challenger crab (6)", "F 🧂 unranked krab (1)", "N/A 🌊 off-meta tidepool", "legendary 1%"):
        assert label in about


def test_hostile_text_stays_inert() -> None:
    review = hostile_review()
    assert review.findings and review.findings[0].path == HOSTILE_PATH  # the hostile path reaches the comment
    text = render_comment(review)
    page = inspect(text)
    assert not {"img", "script", "b"} & set(page.tags)
    assert not any(value and "javascript:" in value for _, value in page.attrs)
    assert page.tags.count("details") == page.tags.count("/details")
    mentions = re.findall(r"@[A-Za-z]", "".join(page.prose))
    assert mentions == [], mentions  # every @ outside code is defused with a zero-width space


def test_only_the_bots_marker_is_read_back() -> None:
    text = render_comment(hostile_review())
    assert text.count("<!-- reviewbot:review") == 1  # the forged ones were defused
    marker = parse_marker(text)
    assert marker is not None and marker.head == HEAD and marker.rank == hostile_review().rating.overall.tier.value


def test_secrets_are_redacted_everywhere() -> None:
    text = render_comment(hostile_review())
    unescaped = text.replace("\\", "")  # markdown escapes (`ghp\_…`) must not hide a token from the check
    assert GITHUB_TOKEN not in unescaped and AWS_KEY not in unescaped
    assert "[redacted]" in text


def test_a_secret_in_pr_prose_is_redacted_before_it_is_escaped() -> None:
    body = f"## Summary\nI used the token {GITHUB_TOKEN} to test `lock()` against the real API.\n"
    review = build_review(
        ReviewInput(
            pr=PullRequest(title=f"Fix lock ({GITHUB_TOKEN})", body=body),
            proof=proof_of(*PROVEN),
            diff="",
            reviewed_at="2026-11-25 12:00 UTC",
        )
    )
    text = render_comment(review).replace("\\", "")
    assert GITHUB_TOKEN not in text and GITHUB_TOKEN[4:] not in text
    assert "[redacted]" in text


def test_a_claim_the_bot_saw_fail_is_said_plainly() -> None:
    proof = proof_of(*PROVEN)
    proof.claims = [
        ClaimRun(
            command="node --test test/a.test.mjs",
            status=F,
            counts=TestCounts(passed=2, failed=2, source="node"),
            outcome=SandboxOutcome(exit_code=1, duration_s=0.4),
        ),
        ClaimRun(command="npm ci", skipped="needs network"),
    ]
    review = build_review(
        ReviewInput(pr=PullRequest(body=HOSTILE_BODY), proof=proof, diff="", reviewed_at="2026-11-25 12:00 UTC")
    )
    text = render_comment(review)
    assert review.outcome.kind.value == "needs changes"
    assert (
        "**Could not reproduce:** the PR says `node --test test/a.test.mjs` gives `4/4 pass`; "
        "on head it failed (2 passed, 2 failed)."
    ) in text
    assert "| `npm ci` | — | not run: needs network | ⏭️ not run |" in text
    assert "- [ ] The PR description's claimed results match what the bot saw" in text


def test_a_huge_review_is_trimmed_but_keeps_verdict_table_and_marker() -> None:
    long_tail = "\n".join(f"line {i} " + "x" * 400 for i in range(40))
    pairs = [
        pair(
            f"suite {i} " + "n" * 60,
            (F, F),
            (P, P),
            tail=long_tail,
            failing=tuple(f"test {j} " + "t" * 80 for j in range(12)),
        )
        for i in range(120)
    ]
    review = build_review(
        ReviewInput(pr=PullRequest(title="t"), proof=proof_of(*pairs), diff="", reviewed_at="2026-11-25 12:00 UTC")
    )
    text = render_comment(review)
    assert len(text.encode("utf-8")) <= MAX_COMMENT_BYTES
    assert text.startswith("## ✅ reviewbot: passed")
    assert "| suite | kind | base + PR tests | head |" in text
    assert "left out to fit GitHub's comment limit" in text
    assert parse_marker(text) == review.marker


def test_the_last_resort_cut_still_ends_with_the_marker() -> None:
    review = hostile_review()
    text = render_comment(review, max_bytes=2500)
    assert len(text.encode("utf-8")) <= 2500
    assert text.startswith("## ") and parse_marker(text) == review.marker


def test_history_keeps_the_last_eight_cycles_newest_last() -> None:
    old = [
        HistoryEntry(
            head=f"{i:012x}",
            at=f"2026-11-{i + 10} 10:00 UTC",
            verdict="weak",
            outcome="needs real behavior proof",
            rank="D",
        )
        for i in range(8)
    ]
    previous = Marker(head="0" * 40, verdict="weak", outcome="needs real behavior proof", rank="D", history=old)
    review = build_review(
        ReviewInput(
            pr=PullRequest(), proof=proof_of(*PROVEN), diff="", reviewed_at="2026-11-25 12:00 UTC", previous=previous
        )
    )
    text = render_comment(review)
    assert "Review history (last 8 cycles)" in text
    rows = re.findall(r"^\| (\d) \| `([0-9a-f]{12})` \|", text, re.MULTILINE)
    assert [n for n, _ in rows] == [str(i) for i in range(1, 9)]
    assert rows[-1][1] == HEAD[:12] and rows[0][1] == f"{1:012x}"


def test_quoted_contributor_prose_keeps_its_code_and_emphasis_and_nothing_else() -> None:
    body = "## Summary\n\n`locked()` left `<path>.lock` behind; **bold** @someone <b>x</b> ``a `b` c``\n"
    review = build_review(
        ReviewInput(pr=PullRequest(body=body), proof=proof_of(*PROVEN), diff="", reviewed_at="2026-11-25 12:00 UTC")
    )
    text = render_comment(review)
    assert "> `locked()` left `<path>.lock` behind; **bold** @\u200bsomeone &lt;b&gt;x&lt;/b&gt; ``a `b` c``" in text


def _inferred_review(config_text: str):
    proof = proof_of(*PROVEN)
    proof.config_source, proof.inferred_config = "inferred", config_text
    return build_review(ReviewInput(pr=PullRequest(), proof=proof, diff="", reviewed_at="2026-11-25 12:00 UTC"))


def _yaml_blocks(text: str) -> list[str]:
    return [match.group(2) for match in re.finditer(r"^(`{3,})yaml\n(.*?)\n\1$", text, re.MULTILINE | re.DOTALL)]


def test_the_inferred_config_is_a_snippet_that_parses_back() -> None:
    from reviewbot.proof.inference import config_yaml, infer_config
    from reviewbot.repo_config import parse_config

    files = {
        "pyproject.toml": b"[project]\nname='p'\nversion='1'\n[project.optional-dependencies]\ntest=['pytest']\n",
        "package.json": b'{"devDependencies": {"jest": "1"}}',
        "yarn.lock": b"# v1\n",
    }
    inferred = infer_config(files.get)
    assert inferred is not None
    text = render_comment(_inferred_review(config_yaml(inferred.config)))
    (block,) = _yaml_blocks(text)
    assert parse_config(block) == inferred.config  # ready to commit as .github/reviewbot.yml
    details = text.index("<summary>Review details</summary>")
    assert text.index("#### Config the bot inferred") > details
    assert "Config: `inferred`" in text
    assert (
        _yaml_blocks(
            render_comment(
                build_review(
                    ReviewInput(pr=PullRequest(), proof=proof_of(*PROVEN), diff="", reviewed_at="2026-11-25 12:00 UTC")
                )
            )
        )
        == []
    )


def test_a_hostile_inferred_config_stays_inside_its_block() -> None:
    # The command comes from the PR's manifests (a dependency group's strings): it must not end the block.
    hostile = f"setup:\n  run: \"pip install '```' </details> @org/admins <img src=x> {GITHUB_TOKEN}\"\n{FORGED}\n"
    text = render_comment(_inferred_review(hostile))
    (block,) = _yaml_blocks(text)
    assert "</details>" in block and "@org/admins" in block  # shown as code, not read as markup
    assert GITHUB_TOKEN not in text
    assert text.count("<!-- reviewbot:review") == 1
    page = inspect(text)
    assert "img" not in page.tags
    assert page.tags.count("details") == page.tags.count("/details")
    assert re.findall(r"@[A-Za-z]", "".join(page.prose)) == []


def test_the_inferred_config_says_why_it_was_inferred() -> None:
    config_text = "setup:\n  run: npm ci\n  network: true\nchanged_tests: auto\n"
    assert "There is no `.github/reviewbot.yml` on the base branch" in render_comment(_inferred_review(config_text))
    review = _inferred_review(config_text)
    review.proof.config_source = "inferred (config invalid)"
    assert "The base branch's `.github/reviewbot.yml` is invalid" in render_comment(review)


def test_base_and_head_that_failed_alike_show_one_log() -> None:
    from reviewbot.model import RunStatus, SandboxOutcome, SuiteResult, SuiteRun
    from reviewbot.review.comment import _alike

    def side(revision: str, tail: str) -> SuiteResult:
        run = SuiteRun(status=RunStatus.FAILED, outcome=SandboxOutcome(exit_code=1, log_tail=tail))
        return SuiteResult(suite="s", revision=revision, command="t", runs=[run])

    same = "FAILED test_x - AssertionError\n1 failed in {}s"
    assert _alike(side("head", same.format("0.12")), side("base", same.format("1.05")), 40)
    assert not _alike(side("head", same.format("0.1")), side("base", "FAILED test_y - KeyError\n1 failed in 0.1s"), 40)
