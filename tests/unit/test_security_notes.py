"""What deserves a security look before merge: a proof in, notes (and whether a person must read them) out."""

from __future__ import annotations

import pytest

from reviewbot.model import ChangedFiles, Proof, SandboxOutcome, SuitePair, SuiteResult, SuiteRun
from reviewbot.review.security import SecurityNote, security_notes
from tests.builders import PROVEN, F, P, T, pair, proof_of

WORKFLOWS = "Changes GitHub Actions workflows, which run with the repository's secrets once merged."
CONFIG = (
    "Edits the bot's own config; the proof used the base branch's version, and the new one "
    "decides what later reviews check."
)
MANIFESTS = (
    "Changes dependency manifests or lockfiles: new packages and install scripts run on "
    "every developer machine and in CI."
)
HOOKS = "Changes git hooks, attributes, submodules or package-manager settings that act outside the test run."


def changed(
    *sources: str,
    tests: tuple[str, ...] = ("test/lock.test.mjs",),
    deleted: tuple[str, ...] = (),
    manifests: tuple[str, ...] = (),
) -> Proof:
    proof = proof_of(*PROVEN, tests=tests, sources=("src/lock.mjs", *sources))
    proof.changed.deleted = list(deleted)
    proof.changed.manifests = list(manifests)
    return proof


def with_limits(*limits: str | None, side: str = "head") -> Proof:
    runs = [
        SuiteRun(status=F if limit else P, outcome=SandboxOutcome(exit_code=None if limit else 0, limit_hit=limit))
        for limit in limits
    ]
    base = SuiteResult(
        suite="s",
        revision="base",
        command="cmd",
        runs=runs if side == "base" else [SuiteRun(status=F, outcome=SandboxOutcome(exit_code=1))],
    )
    head = SuiteResult(
        suite="s",
        revision="head",
        command="cmd",
        runs=runs if side == "head" else [SuiteRun(status=P, outcome=SandboxOutcome(exit_code=0))],
    )
    return proof_of(SuitePair(name="lock", command="cmd", base=base, head=head))


def limit_note(names: str) -> SecurityNote:
    return SecurityNote(text=f"A run hit the sandbox's {names} limit and was stopped.")


@pytest.mark.parametrize(
    ("proof", "expected"),
    [
        pytest.param(proof_of(*PROVEN), [], id="clean-lock-pr"),
        pytest.param(proof_of(pair("lock", (T, T), (P, P))), [], id="base-hang-wall-clock-is-not-a-limit-note"),
        pytest.param(proof_of(), [], id="no-tests-nothing-else"),
        # workflows
        pytest.param(
            changed(".github/workflows/ci.yml"),
            [SecurityNote(text=WORKFLOWS, paths=[".github/workflows/ci.yml"], needs_human=True)],
            id="workflow-file",
        ),
        pytest.param(
            changed(".github/actions/setup/action.yml", ".github/workflows/release.yml"),
            [
                SecurityNote(
                    text=WORKFLOWS,
                    needs_human=True,
                    paths=[".github/actions/setup/action.yml", ".github/workflows/release.yml"],
                )
            ],
            id="composite-action-and-workflow-sorted",
        ),
        pytest.param(
            changed(deleted=(".github/workflows/guard.yml",)),
            [SecurityNote(text=WORKFLOWS, paths=[".github/workflows/guard.yml"], needs_human=True)],
            id="deleted-workflow",
        ),
        pytest.param(
            changed(".github/CODEOWNERS", ".github/dependabot.yml"), [], id="other-github-files-are-not-workflows"
        ),
        # the bot's own config
        pytest.param(
            changed(".github/reviewbot.yml"),
            [SecurityNote(text=CONFIG, paths=[".github/reviewbot.yml"], needs_human=True)],
            id="bot-config",
        ),
        # manifests
        pytest.param(
            changed("package.json", manifests=("package.json", "package-lock.json")),
            [SecurityNote(text=MANIFESTS, paths=["package.json", "package-lock.json"])],
            id="manifests-without-needs-human",
        ),
        # hooks and settings
        pytest.param(
            changed(".husky/pre-commit"), [SecurityNote(text=HOOKS, paths=[".husky/pre-commit"])], id="husky-hook"
        ),
        pytest.param(changed(".gitmodules"), [SecurityNote(text=HOOKS, paths=[".gitmodules"])], id="gitmodules"),
        pytest.param(changed("pkg/.npmrc"), [SecurityNote(text=HOOKS, paths=["pkg/.npmrc"])], id="nested-npmrc"),
        pytest.param(
            changed(".pre-commit-config.yaml", "web/.yarnrc.yml"),
            [SecurityNote(text=HOOKS, paths=[".pre-commit-config.yaml", "web/.yarnrc.yml"])],
            id="pre-commit-config-and-nested-yarnrc",
        ),
        pytest.param(
            changed(tests=(".githooks/test-pre-push",)),
            [SecurityNote(text=HOOKS, paths=[".githooks/test-pre-push"])],
            id="hook-classified-as-a-test-still-counts",
        ),
        pytest.param(changed("docs/npmrc.md", "src/husky.mjs"), [], id="lookalike-names-are-not-hooks"),
        # limits
        pytest.param(with_limits("memory"), [limit_note("memory")], id="memory-limit-on-head"),
        pytest.param(with_limits(None, "processes", side="base"), [limit_note("process")], id="process-limit-on-base"),
        pytest.param(
            with_limits("output", "cpu", "memory", "memory"),
            [limit_note("CPU-time, memory, output")],
            id="several-limits-one-note-deduplicated",
        ),
        pytest.param(with_limits("disk"), [limit_note("disk-space")], id="disk-quota-on-head"),
        pytest.param(with_limits("wall_clock"), [], id="wall-clock-is-not-listed"),
        # several at once, in a fixed order
        pytest.param(
            changed(".github/workflows/ci.yml", ".github/reviewbot.yml", ".npmrc", manifests=("package.json",)),
            [
                SecurityNote(text=WORKFLOWS, paths=[".github/workflows/ci.yml"], needs_human=True),
                SecurityNote(text=CONFIG, paths=[".github/reviewbot.yml"], needs_human=True),
                SecurityNote(text=MANIFESTS, paths=["package.json"]),
                SecurityNote(text=HOOKS, paths=[".npmrc"]),
            ],
            id="all-kinds-in-order",
        ),
    ],
)
def test_security_notes(proof: Proof, expected: list[SecurityNote]) -> None:
    assert security_notes(proof) == expected


def test_needs_human_only_for_workflows_and_config() -> None:
    proof = changed(
        ".github/workflows/ci.yml", ".github/reviewbot.yml", ".husky/pre-commit", manifests=("package.json",)
    )
    proof.suites = with_limits("memory").suites
    notes = security_notes(proof)
    assert [(n.text.split(" ")[0:2], n.needs_human) for n in notes] == [
        (["Changes", "GitHub"], True),
        (["Edits", "the"], True),
        (["Changes", "dependency"], False),
        (["Changes", "git"], False),
        (["A", "run"], False),
    ]


def test_changed_files_model_defaults_have_no_manifests() -> None:
    assert ChangedFiles(sources=["package.json"]).manifests == []
    assert security_notes(changed("package.json")) == []
